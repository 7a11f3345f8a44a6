package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

func pragma(t *testing.T, db *sql.DB, name string) int64 {
	t.Helper()
	var v int64
	if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVacuumAfterPrune: a new file is incremental, and pruning a day of
// history gives its pages back: the file shrinks to about what is kept.
func TestVacuumAfterPrune(t *testing.T) {
	t.Parallel()
	s := open(t)
	if mode := pragma(t, s.w, "auto_vacuum"); mode != autoVacuumIncremental {
		t.Fatalf("auto_vacuum of a new file = %d, want %d (incremental)", mode, autoVacuumIncremental)
	}
	ctx := t.Context()
	day := time.Now().Add(-48 * time.Hour)
	ws, err := s.CreateWorkspace(ctx, store.CreateWorkspaceParams{Name: "v", Now: day})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSubscription(ctx, store.CreateSubscriptionParams{WorkspaceID: ws.ID, Now: day,
		WebhookURL: "https://example.com/v", EventType: "new_call"}); err != nil {
		t.Fatal(err)
	}
	data := []byte(`{"pad":"` + strings.Repeat("x", 2000) + `"}`)
	for range 20 {
		var evs []store.NewEvent
		for range 200 {
			evs = append(evs, store.NewEvent{ID: ids.NewAt(ids.Event, day), EventType: "new_call", OccurredAt: day, Data: data})
		}
		res, err := s.Ingest(ctx, []store.IngestParams{{WorkspaceID: ws.ID, Events: evs, Now: day, ResponseIDs: []string{"x"}}})
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "o", Now: day, LeaseUntil: day.Add(time.Minute), Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var cs []store.Completion
		for _, j := range jobs {
			cs = append(cs, store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: j.Subscription.ID, Owner: "o",
				Status: store.DeliverySucceeded, Attempt: &store.Attempt{At: day, StatusCode: 200}})
		}
		if len(cs) != len(res[0].Jobs) {
			t.Fatalf("claimed %d of %d", len(cs), len(res[0].Jobs))
		}
		if _, err := s.CompleteDeliveries(ctx, store.CompleteParams{Now: day, Completions: cs}); err != nil {
			t.Fatal(err)
		}
	}
	full := pragma(t, s.w, "page_count")
	if _, err := s.Prune(ctx, day.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	after, free := pragma(t, s.w, "page_count"), pragma(t, s.w, "freelist_count")
	if after > full/4 || free > vacuumSlack {
		t.Errorf("after pruning everything: %d pages (%d free), from %d; want at most a quarter, %d free",
			after, free, full, vacuumSlack)
	}
}

// TestConvertToIncremental: a small file made without auto_vacuum is
// converted when opened, keeping its rows.
func TestConvertToIncremental(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE kept (n INTEGER); INSERT INTO kept VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if mode := pragma(t, db, "auto_vacuum"); mode != 0 {
		t.Fatalf("setup: auto_vacuum = %d, want 0", mode)
	}
	db.Close()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if mode := pragma(t, s.w, "auto_vacuum"); mode != autoVacuumIncremental || !s.incremental {
		t.Errorf("auto_vacuum after open = %d (incremental %v), want %d", mode, s.incremental, autoVacuumIncremental)
	}
	var n int
	if err := s.w.QueryRowContext(t.Context(), `SELECT count(*) FROM kept`).Scan(&n); err != nil || n != 1 {
		t.Errorf("rows kept = %d (%v), want 1", n, err)
	}
}
