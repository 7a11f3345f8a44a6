package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// CreateWorkspace creates a workspace. Names are unique, so EnsureWorkspace
// has one answer; a taken name is a *store.ConflictError.
func (s *Store) CreateWorkspace(ctx context.Context, p store.CreateWorkspaceParams) (store.Workspace, error) {
	var ws store.Workspace
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		ws, err = createWorkspace(ctx, tx, p)
		return err
	})
	return ws, err
}

func createWorkspace(ctx context.Context, tx *sql.Tx, p store.CreateWorkspaceParams) (store.Workspace, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.Workspace{}, err
	}
	var existing string
	err := tx.QueryRowContext(ctx, `SELECT id FROM workspaces WHERE name = ?`, p.Name).Scan(&existing)
	if err == nil {
		return store.Workspace{}, &store.ConflictError{ExistingID: existing}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Workspace{}, err
	}
	now := p.Now
	ws := store.Workspace{ID: ids.NewAt(ids.Workspace, now), Name: p.Name, CreatedAt: fromNS(ns(now))}
	_, err = tx.ExecContext(ctx, `INSERT INTO workspaces (id, name, created_at) VALUES (?,?,?)`,
		ws.ID, ws.Name, ns(now))
	return ws, err
}

func (s *Store) GetWorkspace(ctx context.Context, id string) (store.Workspace, error) {
	return scanWorkspace(s.r.QueryRowContext(ctx, `SELECT id, name, created_at FROM workspaces WHERE id = ?`, id))
}

func (s *Store) EnsureWorkspace(ctx context.Context, p store.CreateWorkspaceParams) (store.Workspace, error) {
	var ws store.Workspace
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		ws, err = scanWorkspace(tx.QueryRowContext(ctx,
			`SELECT id, name, created_at FROM workspaces WHERE name = ?`, p.Name))
		if errors.Is(err, store.ErrNotFound) {
			ws, err = createWorkspace(ctx, tx, p)
		}
		return err
	})
	return ws, err
}

func scanWorkspace(row *sql.Row) (store.Workspace, error) {
	var ws store.Workspace
	var created int64
	if err := row.Scan(&ws.ID, &ws.Name, &created); err != nil {
		return ws, translate(err)
	}
	ws.CreatedAt = fromNS(created)
	return ws, nil
}

func (s *Store) CountWorkspaces(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM workspaces`).Scan(&n)
	return n, translate(err)
}

// CreateAPIKey stores a key; the id is chosen by the caller, so a repeated
// id is a *store.ConflictError and an unknown workspace store.ErrNotFound.
func (s *Store) CreateAPIKey(ctx context.Context, p store.CreateAPIKeyParams) (store.APIKey, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.APIKey{}, err
	}
	now := p.Now
	k := store.APIKey{ID: p.ID, WorkspaceID: p.WorkspaceID, Hash: p.Hash, Scopes: p.Scopes, CreatedAt: fromNS(ns(now))}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, workspace_id, hash, scopes, created_at) VALUES (?,?,?,?,?)`,
			p.ID, p.WorkspaceID, p.Hash, joinList(p.Scopes), ns(now))
		if errors.Is(translate(err), store.ErrConflict) {
			return &store.ConflictError{ExistingID: p.ID}
		}
		return err
	})
	return k, err
}

const apiKeyColumns = `id, workspace_id, hash, scopes, created_at, revoked_at`

func (s *Store) GetAPIKey(ctx context.Context, id string) (store.APIKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`, id)
	if err != nil {
		return store.APIKey{}, translate(err)
	}
	keys, err := scanAPIKeys(rows)
	if err != nil {
		return store.APIKey{}, err
	}
	if len(keys) == 0 {
		return store.APIKey{}, store.ErrNotFound
	}
	return keys[0], nil
}

func (s *Store) ListAPIKeys(ctx context.Context, workspaceID string) ([]store.APIKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE workspace_id = ?
		ORDER BY created_at, id`, workspaceID)
	if err != nil {
		return nil, translate(err)
	}
	return scanAPIKeys(rows)
}

func scanAPIKeys(rows *sql.Rows) ([]store.APIKey, error) {
	defer rows.Close()
	var keys []store.APIKey
	for rows.Next() {
		var k store.APIKey
		var created int64
		var revoked sql.NullInt64
		var scopes string
		if err := rows.Scan(&k.ID, &k.WorkspaceID, &k.Hash, &scopes, &created, &revoked); err != nil {
			return nil, translate(err)
		}
		k.Scopes, k.CreatedAt, k.RevokedAt = splitList(scopes), fromNS(created), fromNullNS(revoked)
		keys = append(keys, k)
	}
	return keys, translate(rows.Err())
}

// RevokeAPIKey marks a key revoked; revoking it again keeps the first time.
func (s *Store) RevokeAPIKey(ctx context.Context, workspaceID, id string, now time.Time) error {
	return s.revoke(ctx, "api_keys", workspaceID, id, now)
}

// revoke sets revoked_at of a credential row (api_keys, portal_sessions)
// once: a second call keeps the first time.
func (s *Store) revoke(ctx context.Context, table, workspaceID, id string, now time.Time) error {
	if err := store.CheckNow(now); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE `+table+` SET revoked_at = coalesce(revoked_at, ?)
			WHERE id = ? AND workspace_id = ?`, ns(now), id, workspaceID)
		return expectOne(res, err)
	})
}

// expectOne turns "no row changed" into store.ErrNotFound.
func expectOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
