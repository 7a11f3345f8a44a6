package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/revdesk/webhooks/internal/secrets"
	"github.com/revdesk/webhooks/internal/store"
)

// sealSecrets returns st wrapped so that subscription secrets are sealed
// at rest, after sealing what an older database holds in clear (and
// re-sealing what an older key sealed). The key comes from --secrets-key
// (repeatable: the first seals, the others only open), or
// --secrets-key-file; with neither, a SQLite database gets a key file
// beside it on first start, and PostgreSQL refuses to start: its processes
// run on several machines and must share one key given to each.
func sealSecrets(ctx context.Context, cfg Config, st store.Store, log *slog.Logger) (store.Store, error) {
	var keys *secrets.Keyring
	var err error
	switch {
	case len(cfg.SecretsKeys) > 0 && cfg.SecretsKeyFile != "":
		return nil, errors.New("give --secrets-key or --secrets-key-file, not both")
	case len(cfg.SecretsKeys) > 0:
		keys, err = secrets.ParseKeys(cfg.SecretsKeys...)
	case cfg.SecretsKeyFile != "":
		keys, err = secrets.LoadFile(cfg.SecretsKeyFile)
	default:
		path, ok := sqlitePath(cfg.DB)
		if !ok {
			return nil, errors.New("PostgreSQL needs a secrets key shared by every process: give --secrets-key (openssl rand -base64 32) or --secrets-key-file")
		}
		var created bool
		keys, created, err = secrets.LoadOrCreateFile(path + ".secrets-key")
		if created {
			log.Warn("created a secrets key file beside the database: back it up with the database, no secret can be read without it", "path", path+".secrets-key")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	if rw, ok := st.(store.SecretsRewriter); ok {
		n, err := secrets.Migrate(ctx, rw, keys)
		if err != nil {
			return nil, fmt.Errorf("sealing stored secrets: %w", err)
		}
		if n > 0 {
			log.Info("sealed the secrets of subscriptions with the current key", "subscriptions", n)
		}
	}
	return secrets.Wrap(st, keys), nil
}

// sqlitePath is the file of a SQLite database URL (as OpenStore reads it).
func sqlitePath(db string) (string, bool) {
	switch {
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return "", false
	case strings.HasPrefix(db, "sqlite:"):
		return strings.TrimPrefix(db, "sqlite:"), true
	}
	return db, true
}
