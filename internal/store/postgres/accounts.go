package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

func scanWorkspace(r pgx.Row) (store.Workspace, error) {
	var w store.Workspace
	err := r.Scan(&w.ID, &w.Name, &w.CreatedAt)
	return w, err
}

// CreateWorkspace fails with a *store.ConflictError when the name is taken:
// names are unique so that EnsureWorkspace has one answer.
func (s *Store) CreateWorkspace(ctx context.Context, p store.CreateWorkspaceParams) (store.Workspace, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.Workspace{}, err
	}
	w := store.Workspace{ID: ids.NewAt(ids.Workspace, p.Now), Name: p.Name, CreatedAt: timestamp(p.Now)}
	var id string
	err := s.pool.QueryRow(ctx, `
		INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO NOTHING RETURNING id`, w.ID, w.Name, w.CreatedAt).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		existing, err := s.workspaceByName(ctx, p.Name)
		if err != nil {
			return store.Workspace{}, err
		}
		return store.Workspace{}, &store.ConflictError{ExistingID: existing.ID}
	}
	if err != nil {
		return store.Workspace{}, translate(err)
	}
	return w, nil
}

func (s *Store) GetWorkspace(ctx context.Context, id string) (store.Workspace, error) {
	w, err := scanWorkspace(s.pool.QueryRow(ctx, `SELECT id, name, created_at FROM workspaces WHERE id = $1`, id))
	return w, translate(err)
}

func (s *Store) workspaceByName(ctx context.Context, name string) (store.Workspace, error) {
	w, err := scanWorkspace(s.pool.QueryRow(ctx, `SELECT id, name, created_at FROM workspaces WHERE name = $1`, name))
	return w, translate(err)
}

// EnsureWorkspace is safe when several processes start at once: the unique
// name lets exactly one insert win and the others read the winner.
func (s *Store) EnsureWorkspace(ctx context.Context, p store.CreateWorkspaceParams) (store.Workspace, error) {
	w, err := s.CreateWorkspace(ctx, p)
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		return s.GetWorkspace(ctx, conflict.ExistingID)
	}
	return w, err
}

func (s *Store) CountWorkspaces(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM workspaces`).Scan(&n)
	return n, translate(err)
}

const apiKeyColumns = `id, workspace_id, hash, scopes, created_at, revoked_at`

func scanAPIKey(r pgx.Row) (store.APIKey, error) {
	var k store.APIKey
	err := r.Scan(&k.ID, &k.WorkspaceID, &k.Hash, &k.Scopes, &k.CreatedAt, &k.RevokedAt)
	return k, err
}

func (s *Store) CreateAPIKey(ctx context.Context, p store.CreateAPIKeyParams) (store.APIKey, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.APIKey{}, err
	}
	k := store.APIKey{ID: p.ID, WorkspaceID: p.WorkspaceID, Hash: p.Hash, Scopes: p.Scopes, CreatedAt: timestamp(p.Now)}
	_, err := s.pool.Exec(ctx, `INSERT INTO api_keys (id, workspace_id, hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.WorkspaceID, k.Hash, list(k.Scopes), k.CreatedAt)
	if err = translate(err); errors.Is(err, store.ErrConflict) {
		return store.APIKey{}, &store.ConflictError{ExistingID: p.ID}
	}
	if err != nil {
		return store.APIKey{}, err
	}
	return k, nil
}

func (s *Store) GetAPIKey(ctx context.Context, id string) (store.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id))
	return k, translate(err)
}

func (s *Store) ListAPIKeys(ctx context.Context, workspaceID string) ([]store.APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE workspace_id = $1 ORDER BY created_at, id`, workspaceID)
	return rowsOf(rows, err, scanAPIKey)
}

// RevokeAPIKey keeps the first revocation time when called again.
func (s *Store) RevokeAPIKey(ctx context.Context, workspaceID, id string, now time.Time) error {
	return s.revoke(ctx, "api_keys", workspaceID, id, now)
}

// revoke sets revoked_at of a credential row (api_keys, portal_sessions)
// once: a second call keeps the first time.
func (s *Store) revoke(ctx context.Context, table, workspaceID, id string, now time.Time) error {
	if err := store.CheckNow(now); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE `+table+` SET revoked_at = coalesce(revoked_at, $3)
		WHERE workspace_id = $1 AND id = $2`, workspaceID, id, timestamp(now))
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
