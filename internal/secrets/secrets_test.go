package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/store"
	"github.com/revdesk/webhooks/internal/store/sqlite"
)

func keyOf(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, KeySize)) }

func TestKeyring(t *testing.T) {
	t.Parallel()
	oldRing, err := ParseKeys(keyOf(1))
	if err != nil {
		t.Fatal(err)
	}
	sealed := oldRing.Seal("whsec_abc")
	if strings.Contains(sealed, "whsec_abc") || !strings.HasPrefix(sealed, prefix) || oldRing.Seal("whsec_abc") == sealed {
		t.Fatalf("sealed %q: shows the secret or repeats its nonce", sealed)
	}
	if oldRing.Seal("") != "" {
		t.Fatal(`"" (no secret) should stay ""`)
	}
	// Rotation: the new key first, the old one still opens.
	rotated, _ := ParseKeys(keyOf(2), keyOf(1))
	for _, k := range []*Keyring{oldRing, rotated} {
		if got, err := k.Open(sealed); err != nil || got != "whsec_abc" {
			t.Fatalf("Open = %q, %v", got, err)
		}
	}
	if rotated.Current(sealed) || !oldRing.Current(sealed) || !rotated.Current(rotated.Seal("x")) {
		t.Fatal("Current should be true only under the first key")
	}
	newOnly, _ := ParseKeys(keyOf(2))
	if _, err := newOnly.Open(sealed); !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("Open without the old key = %v", err)
	}
	if got, _ := newOnly.Open("cleartext"); got != "cleartext" {
		t.Fatal("a value stored in clear should come back as it is")
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := oldRing.Open(tampered); !errors.Is(err, ErrKey) {
		t.Fatalf("tampered value opened: %v", err)
	}
	for _, bad := range []string{"", "!!!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := ParseKeys(bad); !errors.Is(err, ErrKey) {
			t.Errorf("ParseKeys(%q) = %v", bad, err)
		}
	}
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db.secrets-key")
	k1, created, err := LoadOrCreateFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	k2, created, err := LoadOrCreateFile(path)
	if err != nil || created {
		t.Fatalf("second start: created=%v %v", created, err)
	}
	if got, err := k2.Open(k1.Seal("s")); err != nil || got != "s" {
		t.Fatalf("the key read back differs: %q %v", got, err)
	}
	os.WriteFile(path, []byte("# comment\nnot base64\n"), 0o600)
	if _, _, err := LoadOrCreateFile(path); !errors.Is(err, ErrKey) {
		t.Fatalf("a damaged key file = %v", err)
	}
}

// setup opens a SQLite store in a temporary directory.
func setup(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secrets.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

const (
	signing   = "whsec_c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw"
	rotated   = "whsec_cm90YXRlZC1zZWNyZXQtbm90LWluLWNsZWFy"
	headerVal = "header-token-never-in-clear"
	clientKey = "-----BEGIN PRIVATE KEY-----client-key-never-in-clear"
)

func create(t *testing.T, st store.Store) store.Subscription {
	t.Helper()
	ctx := t.Context()
	ws, err := st.CreateWorkspace(ctx, store.CreateWorkspaceParams{Name: t.Name() + time.Now().String(), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := st.CreateSubscription(ctx, store.CreateSubscriptionParams{WorkspaceID: ws.ID, WebhookURL: "https://example.com/h",
		EventType: "number_purchased", SigningSecret: signing, ClientCert: "CERT", ClientKey: clientKey,
		Headers: []store.Header{{Name: "X-Plain", Value: "plain"}, {Name: "X-Token", Value: headerVal, Secret: true}}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour)
	sub, err = st.RotateSecret(ctx, store.RotateSecretParams{WorkspaceID: ws.ID, ID: sub.ID, NewSecret: rotated, PreviousUntil: &until, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// fileHolds reports whether the database file or its WAL holds s.
func fileHolds(t *testing.T, path, s string) bool {
	t.Helper()
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// TestAtRest: through the wrapper every secret reaches the database sealed
// (the file and its WAL hold none of them) and comes back in clear.
func TestAtRest(t *testing.T) {
	t.Parallel()
	raw, path := setup(t)
	keys, _ := ParseKeys(keyOf(7))
	st := Wrap(raw, keys)
	sub := create(t, st)
	if sub.SigningSecret != rotated || sub.PreviousSecret != signing || sub.ClientKey != clientKey || sub.Headers[1].Value != headerVal {
		t.Fatalf("the wrapper returned %+v", sub)
	}
	got, err := st.GetSubscription(t.Context(), sub.WorkspaceID, sub.ID)
	if err != nil || got.SigningSecret != rotated || got.Headers[1].Value != headerVal || got.Headers[0].Value != "plain" {
		t.Fatalf("read back %+v, %v", got, err)
	}
	res, err := st.Ingest(t.Context(), []store.IngestParams{{WorkspaceID: sub.WorkspaceID, Now: time.Now(),
		Events: []store.NewEvent{{ID: "evt_1", EventType: "number_purchased", OccurredAt: time.Now(), Data: []byte(`{}`)}}}})
	if err != nil || len(res[0].Jobs) != 1 || res[0].Jobs[0].Subscription.SigningSecret != rotated {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	for _, s := range []string{signing, rotated, headerVal, clientKey} {
		if fileHolds(t, path, s) {
			t.Errorf("the database file holds %q in clear", s)
		}
	}
	// The raw store sees sealed values only.
	stored, _ := raw.GetSubscription(t.Context(), sub.WorkspaceID, sub.ID)
	if !strings.HasPrefix(stored.SigningSecret, prefix) || !strings.HasPrefix(stored.Headers[1].Value, prefix) || stored.Headers[0].Value != "plain" {
		t.Fatalf("stored %+v", stored)
	}
	// The check itself can fail: written without the wrapper, they show.
	create(t, raw)
	if !fileHolds(t, path, signing) && !fileHolds(t, path, headerVal) {
		t.Fatal("secrets written in clear should be found in the file")
	}
}

// TestMigrate: clear secrets of an older database are sealed on start,
// and after a rotation everything is re-sealed under the new key, after
// which the old key is no longer needed.
func TestMigrate(t *testing.T) {
	t.Parallel()
	raw, _ := setup(t)
	sub := create(t, raw) // in clear, as before encryption
	k1, _ := ParseKeys(keyOf(1))
	ctx := context.Background()
	if n, err := Migrate(ctx, raw, k1); err != nil || n != 1 {
		t.Fatalf("Migrate = %d, %v; want 1 rewritten", n, err)
	}
	if n, _ := Migrate(ctx, raw, k1); n != 0 {
		t.Fatalf("a second Migrate rewrote %d", n)
	}
	stored, _ := raw.GetSubscription(ctx, sub.WorkspaceID, sub.ID)
	if !k1.Current(stored.SigningSecret) || !k1.Current(stored.PreviousSecret) || !k1.Current(stored.ClientKey) || !k1.Current(stored.Headers[1].Value) {
		t.Fatalf("not all sealed: %+v", stored)
	}
	k2, _ := ParseKeys(keyOf(2), keyOf(1))
	if n, err := Migrate(ctx, raw, k2); err != nil || n != 1 {
		t.Fatalf("rotation Migrate = %d, %v", n, err)
	}
	only2, _ := ParseKeys(keyOf(2))
	got, err := Wrap(raw, only2).GetSubscription(ctx, sub.WorkspaceID, sub.ID)
	if err != nil || got.SigningSecret != rotated || got.ClientKey != clientKey || got.Headers[1].Value != headerVal {
		t.Fatalf("after rotation, the new key alone reads %+v, %v", got, err)
	}
	// A key missing from the ring stops the migration, changing nothing.
	if _, err := Migrate(ctx, raw, k1); !errors.Is(err, ErrKey) {
		t.Fatalf("Migrate without the sealing key = %v", err)
	}
}
