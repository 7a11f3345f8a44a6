package postgres

import (
	"slices"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

// A key stored before scopes existed (no scopes written) keeps every scope.
func TestKeyFromBeforeScopes(t *testing.T) {
	t.Parallel()
	s := openFresh(t)
	ws, err := s.CreateWorkspace(t.Context(), store.CreateWorkspaceParams{Name: "old", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO api_keys (id, workspace_id, hash, created_at) VALUES ('key_old', $1, '\x00', now())`, ws.ID); err != nil {
		t.Fatal(err)
	}
	k, err := s.GetAPIKey(t.Context(), "key_old")
	if want := []string{"api_keys", "ingest", "read", "subscriptions:write"}; err != nil || !slices.Equal(k.Scopes, want) {
		t.Errorf("old key's scopes = %q, %v; want %q", k.Scopes, err, want)
	}
}
