package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

func (s *Store) CreatePortalSession(ctx context.Context, p store.CreatePortalSessionParams) (store.PortalSession, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.PortalSession{}, err
	}
	ps := store.PortalSession{ID: p.ID, WorkspaceID: p.WorkspaceID, Hash: p.Hash, Scopes: p.Scopes,
		EventTypes: p.EventTypes, BrandColor: p.BrandColor, BrandName: p.BrandName,
		ExpiresAt: p.ExpiresAt.UTC().Truncate(time.Microsecond), CreatedAt: timestamp(p.Now)}
	_, err := s.pool.Exec(ctx, `INSERT INTO portal_sessions (id, workspace_id, hash, scopes, event_types,
		brand_color, brand_name, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		ps.ID, ps.WorkspaceID, ps.Hash, list(ps.Scopes), list(ps.EventTypes), ps.BrandColor, ps.BrandName,
		ps.ExpiresAt, ps.CreatedAt)
	if err = translate(err); errors.Is(err, store.ErrConflict) {
		return store.PortalSession{}, &store.ConflictError{ExistingID: p.ID}
	}
	if err != nil {
		return store.PortalSession{}, err
	}
	return ps, nil
}

func (s *Store) GetPortalSession(ctx context.Context, id string) (store.PortalSession, error) {
	var ps store.PortalSession
	err := s.pool.QueryRow(ctx, `SELECT id, workspace_id, hash, scopes, event_types, brand_color, brand_name,
		expires_at, created_at, revoked_at FROM portal_sessions WHERE id = $1`, id).Scan(&ps.ID, &ps.WorkspaceID,
		&ps.Hash, &ps.Scopes, &ps.EventTypes, &ps.BrandColor, &ps.BrandName, &ps.ExpiresAt, &ps.CreatedAt, &ps.RevokedAt)
	return ps, translate(err)
}

// RevokePortalSession keeps the first revocation time when called again.
func (s *Store) RevokePortalSession(ctx context.Context, workspaceID, id string, now time.Time) error {
	return s.revoke(ctx, "portal_sessions", workspaceID, id, now)
}
