package postgres

import (
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// partitionsMigration is the version that partitions history.
const partitionsMigration = 10

// TestMigrationToPartitions builds the schema as it was before history was
// partitioned, fills it (final and pending deliveries, attempts, an
// event kept only by its delivery), migrates, and checks that every row is
// there, now in the first partition, and that the service works on it:
// reads, claims and completions of the old rows, ingest of new ones,
// retention of the old partition once its work is done.
func TestMigrationToPartitions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := freshSchema(t, testDSN(t))
	before := previousVersion(t)
	pool := openPool(t, dsn)
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, before); err != nil {
		t.Fatal(err)
	}

	// Yesterday's history: 300 events with a delivery each, every third
	// pending, the others final with an attempt.
	old := time.Now().UTC().Add(-24 * time.Hour)
	var evIDs, dlvIDs, statuses []string
	for i := range 300 {
		at := old.Add(time.Duration(i) * time.Second)
		evIDs, dlvIDs = append(evIDs, ids.NewAt(ids.Event, at)), append(dlvIDs, ids.NewAt(ids.Delivery, at))
		statuses = append(statuses, []string{store.DeliveryPending, store.DeliverySucceeded, store.DeliveryFailed}[i%3])
	}
	ws, sub := ids.New(ids.Workspace), ids.New(ids.Subscription)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO workspaces (id, name, created_at) VALUES ($1, 'old', $2)`, []any{ws, old}},
		{`INSERT INTO subscriptions (id, workspace_id, webhook_url, event_type, status, created_at, updated_at)
			VALUES ($1, $2, 'https://example.com/old', 'new_call', 'active', $3, $3)`, []any{sub, ws, old}},
		{`INSERT INTO events (id, workspace_id, event_type, occurred_at, data, created_at)
			SELECT e, $2, 'new_call', $3, '{"n":1}', $3 FROM unnest($1::text[]) AS e`, []any{evIDs, ws, old}},
		{`INSERT INTO deliveries (id, workspace_id, event_id, subscription_id, event_type, status, attempts,
				next_attempt_at, created_at, updated_at)
			SELECT d, $3, e, $4, 'new_call', s, CASE WHEN s = 'pending' THEN 0 ELSE 1 END,
				CASE WHEN s = 'pending' THEN $5::timestamptz END, $5, $5
			FROM unnest($1::text[], $2::text[], $6::text[]) AS u(d, e, s)`, []any{dlvIDs, evIDs, ws, sub, old, statuses}},
		{`INSERT INTO delivery_queue (delivery_id, next_attempt_at, created_at)
			SELECT id, $1, created_at FROM deliveries WHERE status = 'pending'`, []any{old}},
		{`INSERT INTO attempts (delivery_id, number, id, at, status_code, latency_ns, response_body)
			SELECT id, 1, 'att_' || id, $1, 200, 1000, 'ok' FROM deliveries WHERE status <> 'pending'`, []any{old}},
	} {
		if _, err := pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("filling the schema of version %d: %v", before, err)
		}
	}

	s := openAt(t, dsn) // migrates
	var partitioned int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_partitioned_table
		WHERE partrelid IN (to_regclass('events'), to_regclass('deliveries'), to_regclass('attempts'))`).Scan(&partitioned); err != nil || partitioned != 3 {
		t.Fatalf("partitioned tables after migrating: %d, %v; want 3", partitioned, err)
	}
	for _, c := range []struct {
		table string
		want  []string
	}{
		{"events_first", evIDs},
		{"deliveries_first", dlvIDs},
	} {
		var got []string
		if err := pool.QueryRow(ctx, `SELECT array_agg(id ORDER BY id) FROM `+c.table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s holds %d ids, want the %d from before", c.table, len(got), len(c.want))
		}
	}
	var attempts int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM attempts_first`).Scan(&attempts); err != nil || attempts != 200 {
		t.Errorf("attempts_first holds %d rows (%v), want 200", attempts, err)
	}

	// Reads of old rows.
	d, as, err := s.GetDelivery(ctx, ws, dlvIDs[1])
	if err != nil || d.Status != store.DeliverySucceeded || len(as) != 1 {
		t.Errorf("GetDelivery(old) = %+v, %d attempts, %v", d, len(as), err)
	}
	if list, err := s.ListDeliveries(ctx, store.ListDeliveriesParams{WorkspaceID: ws, Status: store.DeliveryFailed, Limit: 500}); err != nil || len(list) != 100 {
		t.Errorf("ListDeliveries(failed) = %d, %v; want 100", len(list), err)
	}
	// New partitions, then new history beside the old: tomorrow's, as the
	// first partition spans up to the migration day's midnight.
	cut := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	now := cut.Add(time.Hour)
	m := store.PartitionParams{Now: now, Interval: 24 * time.Hour, Ahead: 24 * time.Hour}
	if _, err := s.EnsurePartitions(ctx, m); err != nil {
		t.Fatal(err)
	}
	res, err := s.Ingest(ctx, []store.IngestParams{{WorkspaceID: ws, Now: now, ResponseIDs: []string{"x"},
		Events: []store.NewEvent{{ID: ids.NewAt(ids.Event, now), EventType: "new_call", OccurredAt: now, Data: []byte(`{}`)}}}})
	if err != nil || len(res[0].Jobs) != 1 {
		t.Fatalf("Ingest after migrating = %+v, %v", res, err)
	}
	// The old pending deliveries are claimed with their events, and done.
	jobs, err := s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "o", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 1000})
	if err != nil || len(jobs) != 101 {
		t.Fatalf("claimed %d pending deliveries (%v), want the 100 old and the new one", len(jobs), err)
	}
	// Retention waits for them, then drops the old partition.
	if r, err := s.Prune(ctx, cut); err != nil || r.Blocked != 1 || r.Partitions != 0 {
		t.Errorf("Prune with the old work pending = %+v, %v; want the first partition blocked", r, err)
	}
	var cs []store.Completion
	for _, j := range jobs {
		if j.Event == nil || len(j.Event.Data) == 0 {
			t.Fatalf("claimed job without its event: %+v", j)
		}
		cs = append(cs, store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: sub, Owner: "o",
			Status: store.DeliverySucceeded, Attempt: &store.Attempt{At: now, StatusCode: 200}})
	}
	if _, err := s.CompleteDeliveries(ctx, store.CompleteParams{Now: now, Completions: cs}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Prune(ctx, cut); err != nil || r.Partitions != 1 || r.Blocked != 0 {
		t.Errorf("Prune once the old work is done = %+v, %v; want the first partition dropped", r, err)
	}
	if _, _, err := s.GetDelivery(ctx, ws, dlvIDs[1]); err == nil {
		t.Error("old delivery still there after its partition was dropped")
	}
	if _, _, err := s.GetDelivery(ctx, ws, res[0].Jobs[0].Delivery.ID); err != nil {
		t.Errorf("new delivery gone with the old partition: %v", err)
	}
}

// previousVersion is the newest migration before partitionsMigration.
func previousVersion(t *testing.T) int64 {
	t.Helper()
	entries, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var prev int64
	for _, e := range entries {
		v, err := goose.NumericComponent(e)
		if err != nil {
			t.Fatal(err)
		}
		if v < partitionsMigration {
			prev = max(prev, v)
		}
	}
	return prev
}

func openPool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
