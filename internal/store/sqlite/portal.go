package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

// CreatePortalSession stores a session; the id is chosen by the caller, so a
// repeated id is a *store.ConflictError and an unknown workspace
// store.ErrNotFound.
func (s *Store) CreatePortalSession(ctx context.Context, p store.CreatePortalSessionParams) (store.PortalSession, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.PortalSession{}, err
	}
	now := fromNS(ns(p.Now))
	ps := store.PortalSession{ID: p.ID, WorkspaceID: p.WorkspaceID, Hash: p.Hash, Scopes: p.Scopes,
		EventTypes: p.EventTypes, BrandColor: p.BrandColor, BrandName: p.BrandName,
		ExpiresAt: fromNS(ns(p.ExpiresAt)), CreatedAt: now}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO portal_sessions (id, workspace_id, hash, scopes, event_types,
			brand_color, brand_name, expires_at, created_at) VALUES (?,?,?,?,?,?,?,?,?)`,
			p.ID, p.WorkspaceID, p.Hash, joinList(p.Scopes), joinList(p.EventTypes), p.BrandColor, p.BrandName,
			ns(p.ExpiresAt), ns(now))
		if errors.Is(translate(err), store.ErrConflict) {
			return &store.ConflictError{ExistingID: p.ID}
		}
		return err
	})
	if err != nil {
		return store.PortalSession{}, err
	}
	return ps, nil
}

func (s *Store) GetPortalSession(ctx context.Context, id string) (store.PortalSession, error) {
	var ps store.PortalSession
	var scopes, types string
	var expires, created int64
	var revoked sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT id, workspace_id, hash, scopes, event_types, brand_color, brand_name,
		expires_at, created_at, revoked_at FROM portal_sessions WHERE id = ?`, id).Scan(&ps.ID, &ps.WorkspaceID,
		&ps.Hash, &scopes, &types, &ps.BrandColor, &ps.BrandName, &expires, &created, &revoked)
	if err != nil {
		return ps, translate(err)
	}
	ps.Scopes, ps.EventTypes = splitList(scopes), splitList(types)
	ps.ExpiresAt, ps.CreatedAt, ps.RevokedAt = fromNS(expires), fromNS(created), fromNullNS(revoked)
	return ps, nil
}

func (s *Store) RevokePortalSession(ctx context.Context, workspaceID, id string, now time.Time) error {
	return s.revoke(ctx, "portal_sessions", workspaceID, id, now)
}
