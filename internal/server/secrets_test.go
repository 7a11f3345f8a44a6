package server

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revdesk/webhooks/internal/store/sqlite"
)

// TestSealSecretsKeys: PostgreSQL refuses to start without a key, the two
// key flags exclude each other, and SQLite gets a key file beside it.
func TestSealSecretsKeys(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name string
		cfg  Config
		says string
	}{
		{"postgres without key", Config{DB: "postgres://u@127.0.0.1/db"}, "PostgreSQL needs a secrets key"},
		{"both flags", Config{DB: "sqlite:x.db", SecretsKeys: []string{"k"}, SecretsKeyFile: "f"}, "not both"},
		{"bad key", Config{DB: "postgres://u@127.0.0.1/db", SecretsKeys: []string{"short"}}, "secrets key"},
	} {
		if _, err := sealSecrets(t.Context(), tc.cfg, nil, log); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.says)
		}
	}
	path := filepath.Join(t.TempDir(), "r.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := sealSecrets(t.Context(), Config{DB: "sqlite:" + path}, st, log); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + ".secrets-key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, fi)
	}
}
