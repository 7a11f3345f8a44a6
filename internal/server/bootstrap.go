package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/revdesk/webhooks/internal/api"
	"github.com/revdesk/webhooks/internal/apikey"
	"github.com/revdesk/webhooks/internal/store"
	"github.com/revdesk/webhooks/internal/store/postgres"
	"github.com/revdesk/webhooks/internal/store/sqlite"
)

// OpenStore opens the database named by a URL: sqlite:PATH (or a bare path)
// or postgres://….
func OpenStore(ctx context.Context, dbURL string) (store.Store, error) {
	switch {
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		return opened(postgres.Open(ctx, dbURL))
	case strings.HasPrefix(dbURL, "sqlite:"):
		return opened(sqlite.Open(ctx, strings.TrimPrefix(dbURL, "sqlite:")))
	case strings.Contains(dbURL, "://"):
		return nil, fmt.Errorf("unsupported database URL %q: use sqlite:PATH or postgres://…", dbURL)
	default:
		return opened(sqlite.Open(ctx, dbURL))
	}
}

// opened turns a driver's (*Store)(nil) on failure into a nil store.Store:
// a nil pointer in the interface would look like an open store to the
// cleanup of a failed start.
func opened[S store.Store](st S, err error) (store.Store, error) {
	if err != nil {
		return nil, err
	}
	return st, nil
}

// CreateWorkspace makes a workspace with a fresh API key.
func CreateWorkspace(ctx context.Context, st store.Store, name string) (store.Workspace, string, error) {
	ws, err := st.CreateWorkspace(ctx, store.CreateWorkspaceParams{Name: name, Now: time.Now()})
	if err != nil {
		return store.Workspace{}, "", err
	}
	key := apikey.New()
	id, hash := apikey.Hash(key)
	if _, err := st.CreateAPIKey(ctx, store.CreateAPIKeyParams{ID: id, WorkspaceID: ws.ID, Hash: hash, Scopes: api.AllScopes, Now: time.Now()}); err != nil {
		return store.Workspace{}, "", err
	}
	return ws, key, nil
}

// bootstrap makes REVDESK_API_KEY valid for the default workspace, or on an
// empty database creates that workspace and prints a fresh key once.
func bootstrap(ctx context.Context, st store.Store, key string, log *slog.Logger) error {
	if key != "" {
		ws, err := st.EnsureWorkspace(ctx, store.CreateWorkspaceParams{Name: DefaultWorkspace, Now: time.Now()})
		if err != nil {
			return err
		}
		id, hash := apikey.Hash(key)
		existing, err := st.GetAPIKey(ctx, id)
		switch {
		case err == nil && existing.WorkspaceID != ws.ID:
			return errors.New("REVDESK_API_KEY belongs to another workspace")
		case err == nil:
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		_, err = st.CreateAPIKey(ctx, store.CreateAPIKeyParams{ID: id, WorkspaceID: ws.ID, Hash: hash, Scopes: api.AllScopes, Now: time.Now()})
		if errors.Is(err, store.ErrConflict) {
			return nil // another process registered it first
		}
		return err
	}
	n, err := st.CountWorkspaces(ctx)
	if err != nil || n > 0 {
		return err
	}
	ws, newKey, err := CreateWorkspace(ctx, st, DefaultWorkspace)
	if err != nil {
		return err
	}
	// Printed, not logged: it is shown once, to the person starting the server.
	fmt.Fprintf(os.Stderr, "\nCreated workspace %s with API key (shown once):\n\n    %s\n\n", ws.ID, newKey)
	log.Info("created default workspace", "workspace_id", ws.ID)
	return nil
}
