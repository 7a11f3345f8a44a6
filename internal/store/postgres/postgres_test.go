package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
	"github.com/revdesk/webhooks/internal/store/storetest"
	"github.com/revdesk/webhooks/internal/testutil"
)

const dsnEnv = "REVDESK_TEST_POSTGRES"

// testDSN returns the server to test against, skipping when there is none.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skipf("PostgreSQL tests need a server: set %s, e.g. %s='postgres://postgres@127.0.0.1:5432/test?sslmode=disable'",
			dsnEnv, dsnEnv)
	}
	return dsn
}

// withParams returns dsn (a URL) with the given query parameters set.
func withParams(tb testing.TB, dsn string, params map[string]string) string {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("%s must be a postgres:// URL", dsnEnv)
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// withHost returns dsn pointing at another host:port.
func withHost(tb testing.TB, dsn, hostPort string) string {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	u.Host = hostPort
	return u.String()
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// freshSchema creates an empty schema, dropped when the test ends, and
// returns dsn with it as search_path.
func freshSchema(tb testing.TB, dsn string) string {
	tb.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	schema := randomName("rdtest_")
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	_ = admin.Close(ctx)
	tb.Cleanup(func() {
		admin, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("connect to drop schema: %v", err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema: %v", err)
		}
	})
	return withParams(tb, dsn, map[string]string{"search_path": schema})
}

func openAt(tb testing.TB, dsn string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// openFresh opens a store on a new, empty schema.
func openFresh(tb testing.TB) *Store {
	tb.Helper()
	return openAt(tb, freshSchema(tb, testDSN(tb)))
}

// TestConformance runs the shared suite, each test on a schema of its own.
func TestConformance(t *testing.T) {
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openAt(t, freshSchema(t, dsn)) })
}

// TestConcurrentOpen starts several stores on one empty schema at once, as
// several processes starting together would: the advisory lock makes them
// migrate in turn.
func TestConcurrentOpen(t *testing.T) {
	dsn := freshSchema(t, testDSN(t))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openAt(t, dsn)
	var n, distinct int
	if err := s.pool.QueryRow(context.Background(),
		`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&n, &distinct); err != nil {
		t.Fatalf("version table not in the schema of search_path: %v", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if n != distinct || distinct != len(files) {
		t.Fatalf("%d migrations applied %d times in all, want each of %d once", distinct, n, len(files))
	}
}

// TestMissingSchema: a search_path naming no existing schema is refused
// rather than migrating into some other schema.
func TestMissingSchema(t *testing.T) {
	dsn := withParams(t, testDSN(t), map[string]string{"search_path": randomName("rdmissing_")})
	if s, err := Open(context.Background(), dsn); err == nil {
		_ = s.Close()
		t.Fatal("Open succeeded without the schema")
	}
}

func setup(t testing.TB, s *Store, subs int) store.Workspace {
	t.Helper()
	ctx := context.Background()
	ws, err := s.CreateWorkspace(ctx, store.CreateWorkspaceParams{Now: time.Now(), Name: randomName("ws")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range subs {
		if _, err := s.CreateSubscription(ctx, store.CreateSubscriptionParams{Now: time.Now(), WorkspaceID: ws.ID,
			WebhookURL: fmt.Sprintf("https://example.com/hook/%d", i), EventType: "call_completed"}); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

func ingestRequest(ws store.Workspace, events int) store.IngestParams {
	req := store.IngestParams{WorkspaceID: ws.ID, Now: time.Now()}
	for range events {
		id := ids.New(ids.Event)
		req.Events = append(req.Events, store.NewEvent{ID: id, EventType: "call_completed",
			OccurredAt: time.Now(), Data: []byte(`{"id":"c1","status":"COMPLETED"}`)})
		req.ResponseIDs = append(req.ResponseIDs, id)
	}
	return req
}

// TestDataByteExact: event data comes back with the bytes it was given,
// which jsonb would not keep.
func TestDataByteExact(t *testing.T) {
	s := openFresh(t)
	ws := setup(t, s, 1)
	data := []byte(`{"z":1, "a":1.50,"dup":"\u00e9","big":12345678901234567890,"n":null}`)
	req := ingestRequest(ws, 1)
	req.Events[0].Data = data
	res, err := s.Ingest(context.Background(), []store.IngestParams{req})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res[0].Jobs[0].Event.Data); got != string(data) {
		t.Fatalf("job data %s", got)
	}
	e, err := s.GetEvent(context.Background(), ws.ID, req.Events[0].ID)
	if err != nil || string(e.Data) != string(data) {
		t.Fatalf("stored data %s, %v", e.Data, err)
	}
}

// TestClaimSkipLocked: stores claiming at once never get the same delivery.
func TestClaimSkipLocked(t *testing.T) {
	dsn := freshSchema(t, testDSN(t))
	s := openAt(t, dsn)
	ws := setup(t, s, 10)
	ctx := context.Background()
	if _, err := s.Ingest(ctx, []store.IngestParams{ingestRequest(ws, 100)}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		claimer := openAt(t, dsn)
		owner := fmt.Sprint("worker", w)
		wg.Go(func() {
			for {
				jobs, err := claimer.ClaimDeliveries(ctx, store.ClaimParams{Owner: owner, Now: time.Now(),
					LeaseUntil: time.Now().Add(time.Minute), Limit: 37})
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					if prev, dup := seen[j.Delivery.ID]; dup {
						t.Errorf("%s claimed by %s and %s", j.Delivery.ID, prev, owner)
					}
					seen[j.Delivery.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 1000 {
		t.Fatalf("claimed %d deliveries, want 1000", len(seen))
	}
}

// TestConcurrentIdempotentIngest: racing ingests with one key store once.
func TestConcurrentIdempotentIngest(t *testing.T) {
	s := openFresh(t)
	ws := setup(t, s, 1)
	var wg sync.WaitGroup
	results := make(chan store.IngestResult, 8)
	for range 8 {
		wg.Go(func() {
			req := ingestRequest(ws, 1)
			req.IdempotencyKey = "same"
			res, err := s.Ingest(context.Background(), []store.IngestParams{req})
			if err != nil {
				t.Error(err)
				return
			}
			results <- res[0]
		})
	}
	wg.Wait()
	close(results)
	fresh, ids := 0, map[string]bool{}
	for r := range results {
		if !r.Replayed {
			fresh++
		}
		ids[r.ResponseIDs[0]] = true
	}
	if fresh != 1 || len(ids) != 1 {
		t.Fatalf("%d fresh ingests, %d distinct ids; want 1 and 1", fresh, len(ids))
	}
	events, err := s.ListEvents(context.Background(), store.ListEventsParams{WorkspaceID: ws.ID})
	if err != nil || len(events) != 1 {
		t.Fatalf("%d events stored, %v", len(events), err)
	}
}

// proxy is a TCP relay to the database that the test can cut, as if the
// server went down, and restore on the same address.
type proxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start() {
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
			go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
		}
	}()
}

// stop refuses new connections and breaks the open ones.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func proxied(t *testing.T) (*proxy, string) {
	dsn := freshSchema(t, testDSN(t))
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	return p, withParams(t, withHost(t, dsn, p.addr), map[string]string{"connect_timeout": "2"})
}

// TestUnavailable: with the server unreachable every kind of operation fails
// with store.ErrUnavailable, and the pool recovers once it is back.
func TestUnavailable(t *testing.T) {
	p, dsn := proxied(t)
	s := openAt(t, dsn)
	ws := setup(t, s, 1)

	p.stop()
	ops := map[string]func(ctx context.Context) error{
		"ping": s.Ping,
		"create workspace": func(ctx context.Context) error {
			_, err := s.CreateWorkspace(ctx, store.CreateWorkspaceParams{Now: time.Now(), Name: randomName("ws")})
			return err
		},
		"ingest": func(ctx context.Context) error {
			_, err := s.Ingest(ctx, []store.IngestParams{ingestRequest(ws, 3)})
			return err
		},
		"claim": func(ctx context.Context) error {
			_, err := s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "o", Now: time.Now(),
				LeaseUntil: time.Now().Add(time.Minute), Limit: 10})
			return err
		},
		"get subscription": func(ctx context.Context) error {
			_, err := s.GetSubscription(ctx, ws.ID, "whk_x")
			return err
		},
	}
	for name, op := range ops {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := op(ctx)
		cancel()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with the server down: %v, want ErrUnavailable", name, err)
		}
	}
	// A request whose deadline passes while the server does not answer.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("ping with deadline, server down: %v, want ErrUnavailable", err)
	}

	p.start()
	testutil.Eventually(t, 15*time.Second, func() (bool, string) {
		_, err := s.Ingest(context.Background(), []store.IngestParams{ingestRequest(ws, 3)})
		return err == nil, fmt.Sprintf("ingest after restart: %v", err)
	})
}

// TestTerminatedBackends: killing the store's sessions from another
// connection (as a server restart or failover does) yields ErrUnavailable,
// if anything, and the pool recovers.
func TestTerminatedBackends(t *testing.T) {
	app := randomName("rdapp_")
	dsn := withParams(t, freshSchema(t, testDSN(t)), map[string]string{"application_name": app})
	s := openAt(t, dsn)
	ws := setup(t, s, 1)
	ctx := context.Background()

	// Hold several connections so several die.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { _ = s.Ping(ctx) })
	}
	wg.Wait()
	admin, err := pgx.Connect(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
		FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no backend to terminate")
	}
	failures := 0
	testutil.Eventually(t, 15*time.Second, func() (bool, string) {
		_, err := s.Ingest(ctx, []store.IngestParams{ingestRequest(ws, 1)})
		if err != nil {
			failures++
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("after terminate: %v, want ErrUnavailable", err)
			}
		}
		return err == nil, fmt.Sprintf("ingest after terminate: %v", err)
	})
	t.Logf("%d backends terminated, %d failed operations before recovery", killed, failures)
}

// TestListenReconnects: a listener survives the server going away and
// coming back, and is woken by Notify from another store.
func TestListenReconnects(t *testing.T) {
	p, dsn := proxied(t)
	listener := openAt(t, dsn)
	notifier := openAt(t, strings.Replace(dsn, p.addr, p.target, 1))

	ctx, cancel := context.WithCancel(context.Background())
	wakes := make(chan struct{}, 100)
	done := make(chan error, 1)
	go func() {
		done <- listener.Listen(ctx, func() {
			select {
			case wakes <- struct{}{}:
			default:
			}
		})
	}()
	awaitWake := func(what string) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-wakes:
				return
			case <-tick.C:
				if err := notifier.Notify(context.Background()); err != nil {
					t.Fatal(err)
				}
			case <-deadline:
				t.Fatalf("%s: no wake-up", what)
			}
		}
	}
	drain := func() {
		for {
			select {
			case <-wakes:
			default:
				return
			}
		}
	}
	awaitWake("first connection")
	drain()
	awaitWake("notify")

	p.stop()
	// A notification read off the old connection just before it closed may
	// still be on its way to wakes; give it time to land so drain removes
	// it, and the wake awaited below can only come from a new connection.
	time.Sleep(300 * time.Millisecond)
	drain()
	p.start()
	awaitWake("after restart")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Listen returned %v at the end of its context", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Listen did not return when its context ended")
	}
}

// roundTrips counts the statements and batches a connection sends: each is
// one round trip.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestRoundTrips pins the number of round trips of the hot path, whatever
// the batch size: the throughput targets depend on it.
func TestRoundTrips(t *testing.T) {
	s := openFresh(t)
	ws := setup(t, s, 10)
	ctx := context.Background()
	rt := &roundTrips{}
	cfg := s.pool.Config()
	cfg.ConnConfig.Tracer = rt
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	traced := &Store{pool: pool, channel: s.channel}
	count := func(what string, max int64, f func() error) {
		t.Helper()
		rt.n.Store(0)
		if err := f(); err != nil {
			t.Fatal(err)
		}
		if n := rt.n.Load(); n > max {
			t.Errorf("%s: %d round trips, want at most %d", what, n, max)
		}
	}
	var jobs []store.Job
	count("ingest of 100 events × 10 subscriptions", 4, func() error {
		_, err := traced.Ingest(ctx, []store.IngestParams{ingestRequest(ws, 100)})
		return err
	})
	count("ingest with an idempotency key, replaying another", 6, func() error {
		first, second := ingestRequest(ws, 100), ingestRequest(ws, 1)
		first.IdempotencyKey, second.IdempotencyKey = "k", "k"
		if _, err := traced.Ingest(ctx, []store.IngestParams{first}); err != nil {
			return err
		}
		rt.n.Store(0)
		_, err := traced.Ingest(ctx, []store.IngestParams{second, ingestRequest(ws, 100)})
		return err
	})
	count("claim of 100", 1, func() error {
		var err error
		jobs, err = traced.ClaimDeliveries(ctx, store.ClaimParams{Owner: "o", Now: time.Now(),
			LeaseUntil: time.Now().Add(time.Minute), Limit: 100})
		return err
	})
	if len(jobs) != 100 {
		t.Fatalf("claimed %d", len(jobs))
	}
	// The batch begins the transaction the facts' events join (their
	// absence here: the store has no OnFacts): the commit is the second.
	count("completion of 100", 2, func() error {
		cs := make([]store.Completion, len(jobs))
		for i, j := range jobs {
			cs[i] = store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: j.Subscription.ID, Owner: "o",
				Status: store.DeliveryFailed, Attempt: &store.Attempt{At: time.Now(), StatusCode: 500}}
		}
		_, err := traced.CompleteDeliveries(ctx, store.CompleteParams{Now: time.Now(), Completions: cs})
		return err
	})
}

// BenchmarkIngest stores 100 events routed to 10 subscriptions each per
// operation (1,000 deliveries).
func BenchmarkIngest(b *testing.B) {
	s := openFresh(b)
	ws := setup(b, s, 10)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		req := ingestRequest(ws, 100)
		b.StartTimer()
		res, err := s.Ingest(ctx, []store.IngestParams{req})
		if err != nil {
			b.Fatal(err)
		}
		if len(res[0].Jobs) != 1000 {
			b.Fatalf("%d jobs", len(res[0].Jobs))
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkClaimComplete claims 100 deliveries and completes them as
// succeeded per operation; refilling the queue is not timed.
func BenchmarkClaimComplete(b *testing.B) {
	s := openFresh(b)
	ws := setup(b, s, 10)
	ctx := context.Background()
	pending, done := 0, 0
	for b.Loop() {
		if pending < 100 {
			b.StopTimer()
			if _, err := s.Ingest(ctx, []store.IngestParams{ingestRequest(ws, 100)}); err != nil {
				b.Fatal(err)
			}
			pending += 1000
			b.StartTimer()
		}
		jobs, err := s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "bench", Now: time.Now(),
			LeaseUntil: time.Now().Add(time.Minute), Limit: 100})
		if err != nil {
			b.Fatal(err)
		}
		cs := make([]store.Completion, len(jobs))
		for i, j := range jobs {
			cs[i] = store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: j.Subscription.ID, Owner: "bench",
				Status: store.DeliverySucceeded, Attempt: &store.Attempt{At: time.Now(), StatusCode: 200,
					Latency: time.Millisecond, ResponseBody: "ok"}}
		}
		if _, err := s.CompleteDeliveries(ctx, store.CompleteParams{Now: time.Now(), Completions: cs}); err != nil {
			b.Fatal(err)
		}
		pending -= len(jobs)
		done += len(jobs)
	}
	b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "deliveries/s")
}
