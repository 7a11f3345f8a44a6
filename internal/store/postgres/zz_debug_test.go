package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/revdesk/webhooks/internal/store"
)

type tracer struct {
	t     *testing.T
	start time.Time
	sql   string
}

func (tr *tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	tr.start, tr.sql = time.Now(), d.SQL
	return ctx
}
func (tr *tracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	q := strings.Join(strings.Fields(tr.sql), " ")
	if len(q) > 70 {
		q = q[:70]
	}
	tr.t.Logf("%8v %s", time.Since(tr.start).Round(time.Microsecond), q)
}

func explain(t *testing.T, s *Store, q string, args ...any) {
	rows, err := s.pool.Query(context.Background(), "EXPLAIN (ANALYZE, BUFFERS) "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		rows.Scan(&line)
		t.Log(line)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
}

func TestZZExplain(t *testing.T) {
	dsn := freshSchema(t, testDSN(t))
	s := openAt(t, dsn)
	ws := setup(t, s, 10)
	ctx := context.Background()
	for range 20 {
		s.Ingest(ctx, []store.IngestParams{ingestRequest(ws, 100)})
	}
	s.pool.Exec(ctx, "ANALYZE")
	now := time.Now()
	explain(t, s, `SELECT id FROM deliveries WHERE status = 'pending' AND due_at <= $1
			ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED`, now, 100)
	var ids []string
	rows, _ := s.pool.Query(ctx, `SELECT id FROM deliveries ORDER BY due_at LIMIT 100`)
	for rows.Next() { var id string; rows.Scan(&id); ids = append(ids, id) }
	explain(t, s, `UPDATE deliveries d SET lease_owner = 'x' WHERE id = ANY($1)`, ids)
}

func TestZZTrace(t *testing.T) {
	dsn := freshSchema(t, testDSN(t))
	cfg, _ := pgxpool.ParseConfig(dsn)
	pool, _ := pgxpool.NewWithConfig(context.Background(), cfg)
	s := &Store{pool: pool}
	if err := s.migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ws := setup(t, s, 10)
	ctx := context.Background()
	for range 3 {
		s.Ingest(ctx, []store.IngestParams{ingestRequest(ws, 100)})
	}
	cfg.ConnConfig.Tracer = &tracer{t: t}
	pool2, _ := pgxpool.NewWithConfig(context.Background(), cfg)
	s = &Store{pool: pool2}
	for range 3 {
		t0 := time.Now()
		s.Ingest(ctx, []store.IngestParams{ingestRequest(ws, 100)})
		t.Logf("ingest total %v", time.Since(t0))
		t0 = time.Now()
		jobs, err := s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "bench", Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("claim total %v", time.Since(t0))
		cs := make([]store.Completion, len(jobs))
		for i, j := range jobs {
			cs[i] = store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: j.Subscription.ID, Owner: "bench",
				Status: store.DeliverySucceeded, Attempt: &store.Attempt{At: time.Now(), StatusCode: 200, Latency: time.Millisecond, ResponseBody: "ok"}}
		}
		t0 = time.Now()
		if err := s.CompleteDeliveries(ctx, cs); err != nil {
			t.Fatal(err)
		}
		t.Logf("complete total %v", time.Since(t0))
	}
}
