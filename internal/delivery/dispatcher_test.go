package delivery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/limiter"
	"github.com/revdesk/webhooks/internal/store"
	"github.com/revdesk/webhooks/internal/store/sqlite"
)

// waitTimeout bounds every wait for something that should happen promptly;
// it is generous so a loaded machine does not fail the tests.
const waitTimeout = 10 * time.Second

// call is one request held by gateTransport until the test answers it.
type call struct {
	req   *http.Request
	reply chan int // the status code to answer with
}

// gateTransport holds every request until the test answers it, so tests decide
// exactly when each send finishes.
type gateTransport struct {
	started chan *call
}

func newGateTransport() *gateTransport { return &gateTransport{started: make(chan *call, 1024)} }

func (g *gateTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	c := &call{req: r, reply: make(chan int, 1)}
	g.started <- c
	select {
	case code := <-c.reply:
		return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
}

// deliveryID reads the delivery id header (set with its documented,
// non-canonical spelling, so Header.Get does not find it).
func deliveryID(r *http.Request) string {
	//lint:ignore SA1008 deliveries carry the documented, non-canonical spelling
	if v := r.Header[HeaderDeliveryID]; len(v) == 1 {
		return v[0]
	}
	return ""
}

// next waits for the next request to start.
func (g *gateTransport) next(t *testing.T) *call {
	t.Helper()
	select {
	case c := <-g.started:
		return c
	case <-time.After(waitTimeout):
		t.Fatal("no request started")
		return nil
	}
}

// none checks that no further request starts within a short while.
func (g *gateTransport) none(t *testing.T) {
	t.Helper()
	select {
	case c := <-g.started:
		t.Fatalf("unexpected request started: %s %s", deliveryID(c.req), c.req.URL)
	case <-time.After(100 * time.Millisecond):
	}
}

// aliveness is a fixed answer to Liveness.Alive.
type aliveness bool

func (a aliveness) Alive() bool { return bool(a) }

// fakeObserver records attempts.
type fakeObserver struct {
	mu       sync.Mutex
	statuses []string
}

func (o *fakeObserver) Attempted(_ string, _ store.Attempt, status string) {
	o.mu.Lock()
	o.statuses = append(o.statuses, status)
	o.mu.Unlock()
}

// countingStore is the real store with its dispatcher-facing calls counted
// and CompleteDeliveries failing the first failCompletes times.
type countingStore struct {
	store.Store
	failCompletes atomic.Int32
	hangCompletes atomic.Bool // CompleteDeliveries answers only when its context ends
	completes     atomic.Int32
	mu            sync.Mutex
	released      [][]string
	claimLimits   []int
}

func (s *countingStore) CompleteDeliveries(ctx context.Context, p store.CompleteParams) ([]store.DisabledSubscription, error) {
	s.completes.Add(1)
	if s.hangCompletes.Load() {
		<-ctx.Done()
		return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, ctx.Err())
	}
	if s.failCompletes.Add(-1) >= 0 {
		return nil, store.ErrUnavailable
	}
	return s.Store.CompleteDeliveries(ctx, p)
}

func (s *countingStore) ReleaseDeliveries(ctx context.Context, owner string, idList []string, dueAt time.Time) error {
	s.mu.Lock()
	s.released = append(s.released, slices.Clone(idList))
	s.mu.Unlock()
	return s.Store.ReleaseDeliveries(ctx, owner, idList, dueAt)
}

func (s *countingStore) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]store.Job, error) {
	s.mu.Lock()
	s.claimLimits = append(s.claimLimits, p.Limit)
	s.mu.Unlock()
	return s.Store.ClaimDeliveries(ctx, p)
}

func (s *countingStore) releasedIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Concat(s.released...)
}

// fixture is a dispatcher on a real SQLite store with one workspace.
type fixture struct {
	d     *Dispatcher
	st    *countingStore
	doer  *gateTransport
	obs   *fakeObserver
	ws    string
	owner string
}

func setup(t *testing.T, cfg Config) *fixture {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "webhooks.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws, err := db.CreateWorkspace(t.Context(), store.CreateWorkspaceParams{Name: "test", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: &countingStore{Store: db}, doer: newGateTransport(), obs: &fakeObserver{}, ws: ws.ID, owner: "proc-" + t.Name()}
	cfg.Owner = f.owner
	cfg.Observer = f.obs
	cfg.Logger = slog.New(slog.NewTextHandler(tLogWriter{t}, nil))
	f.d = New(f.st, f.doer, cfg)
	// Requests a test left unanswered end with it.
	t.Cleanup(func() { f.d.abort(); f.d.sends.Wait() })
	return f
}

// tLogWriter sends the dispatcher's log to t.Log.
type tLogWriter struct{ t *testing.T }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// subscribe makes an active sms_sent subscription to url.
func (f *fixture) subscribe(t *testing.T, url string) store.Subscription {
	t.Helper()
	sub, err := f.st.CreateSubscription(t.Context(), store.CreateSubscriptionParams{WorkspaceID: f.ws, WebhookURL: url, EventType: "sms_sent", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// ingest stores n sms_sent events and returns the deliveries created, leased
// to the fixture's owner until leaseUntil, or unleased if it is zero.
func (f *fixture) ingest(t *testing.T, n int, leaseUntil time.Time) []store.Job {
	t.Helper()
	et, _ := catalog.Lookup("sms_sent")
	p := store.IngestParams{WorkspaceID: f.ws, Now: time.Now()}
	for range n {
		id := ids.New(ids.Event)
		p.Events = append(p.Events, store.NewEvent{ID: id, EventType: "sms_sent", OccurredAt: time.Now(), Data: et.Example})
		p.ResponseIDs = append(p.ResponseIDs, id)
	}
	if !leaseUntil.IsZero() {
		p.LeaseOwner, p.LeaseUntil = f.owner, leaseUntil
	}
	res, err := f.st.Ingest(t.Context(), []store.IngestParams{p})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].Jobs
}

// run starts Run and returns a function that shuts it down and waits for it.
func (f *fixture) run(t *testing.T) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			defer cancel()
			shutCtx, cancelShut := context.WithTimeout(context.Background(), waitTimeout)
			defer cancelShut()
			if err := f.d.Shutdown(shutCtx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (f *fixture) delivery(t *testing.T, id string) (store.Delivery, []store.Attempt) {
	t.Helper()
	d, as, err := f.st.GetDelivery(t.Context(), f.ws, id)
	if err != nil {
		t.Fatal(err)
	}
	return d, as
}

// laneState reads a lane's in-flight count and limit.
func (d *Dispatcher) laneState(url string) (inFlight, limit, queued int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.lanes[d.target(url).lane]
	if l == nil {
		return 0, 0, 0
	}
	return l.ep.InFlight(), l.ep.Limit(), len(l.queue)
}

// nextCompletion waits for a finished send's outcome (without Run, nothing
// else takes them).
func (d *Dispatcher) nextCompletion(t *testing.T) store.Completion {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		d.outcomesMu.Lock()
		if len(d.outcomes) > 0 {
			c := d.outcomes[0]
			d.outcomes = d.outcomes[1:]
			d.outcomesMu.Unlock()
			return c
		}
		d.outcomesMu.Unlock()
		select {
		case <-d.outcomeSignal:
		case <-deadline:
			t.Fatal("no completion")
			return store.Completion{}
		}
	}
}

func TestProcessOutcome(t *testing.T) {
	t.Parallel()
	schedule := []time.Duration{time.Minute, time.Hour}
	tests := []struct {
		name       string
		doer       *fakeTransport
		attempts   int // attempts made before this one
		edit       func(*store.Job)
		leaseFor   time.Duration
		wantOK     bool
		wantStatus string
		// wantNext is the expected retry delay (±20 % jitter allowed unless exact).
		wantNext  time.Duration
		exactNext bool
		wantCalls int
		disable   bool
		notAlive  bool // the process is no longer counted as alive
	}{
		{name: "success", doer: &fakeTransport{status: 200}, wantOK: true, wantStatus: store.DeliverySucceeded, wantCalls: 1},
		{name: "500 retries on schedule", doer: &fakeTransport{status: 500}, wantOK: true, wantStatus: store.DeliveryPending, wantNext: time.Minute, wantCalls: 1},
		{name: "second retry uses second delay", doer: &fakeTransport{status: 500}, attempts: 1, wantOK: true, wantStatus: store.DeliveryPending, wantNext: time.Hour, wantCalls: 1},
		{name: "schedule exhausted", doer: &fakeTransport{status: 500}, attempts: 2, wantOK: true, wantStatus: store.DeliveryFailed, wantCalls: 1},
		{name: "network error retries", doer: &fakeTransport{err: errConnRefused}, wantOK: true, wantStatus: store.DeliveryPending, wantNext: time.Minute, wantCalls: 1},
		{name: "redirect retries", doer: &fakeTransport{status: 302}, wantOK: true, wantStatus: store.DeliveryPending, wantNext: time.Minute, wantCalls: 1},
		{name: "429 with longer Retry-After waits for it", doer: &fakeTransport{status: 429, header: http.Header{"Retry-After": {"600"}}},
			wantOK: true, wantStatus: store.DeliveryPending, wantNext: 10 * time.Minute, exactNext: true, wantCalls: 1},
		{name: "503 with shorter Retry-After keeps the schedule", doer: &fakeTransport{status: 503, header: http.Header{"Retry-After": {"1"}}},
			wantOK: true, wantStatus: store.DeliveryPending, wantNext: time.Minute, wantCalls: 1},
		{name: "Retry-After is capped", doer: &fakeTransport{status: 503, header: http.Header{"Retry-After": {"999999"}}},
			wantOK: true, wantStatus: store.DeliveryPending, wantNext: 2 * time.Hour, exactNext: true, wantCalls: 1},
		{name: "Retry-After ignored on 500", doer: &fakeTransport{status: 500, header: http.Header{"Retry-After": {"3600"}}},
			wantOK: true, wantStatus: store.DeliveryPending, wantNext: time.Minute, wantCalls: 1},
		{name: "410 fails and disables", doer: &fakeTransport{status: 410}, wantOK: true, wantStatus: store.DeliveryFailed, wantCalls: 1, disable: true},
		{name: "forbidden address fails at once", doer: &fakeTransport{err: errForbidden}, wantOK: true, wantStatus: store.DeliveryFailed, wantCalls: 1},
		{name: "deleted subscription skipped", doer: &fakeTransport{status: 200}, edit: func(j *store.Job) { j.Deleted = true },
			wantOK: true, wantStatus: store.DeliverySkipped},
		{name: "disabled subscription skipped", doer: &fakeTransport{status: 200}, edit: func(j *store.Job) { j.Subscription.Status = store.SubscriptionDisabled },
			wantOK: true, wantStatus: store.DeliverySkipped},
		{name: "lease too short is left alone", doer: &fakeTransport{status: 200}, leaseFor: 5 * time.Second, wantOK: false},
		{name: "not alive hands it back", doer: &fakeTransport{status: 200}, notAlive: true, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs := &fakeObserver{}
			cfg := Config{Owner: "me", RetrySchedule: schedule, Timeout: 5 * time.Second, RetryAfterCap: 2 * time.Hour, Observer: obs}
			if tt.notAlive {
				cfg.Liveness = aliveness(false)
			}
			d := New(nil, tt.doer, cfg)
			job := testJob(t, "sms_sent")
			job.Delivery.Attempts = tt.attempts
			if tt.edit != nil {
				tt.edit(job)
			}
			leaseFor := tt.leaseFor
			if leaseFor == 0 {
				leaseFor = time.Minute
			}
			before := time.Now()
			c, _, ok := d.process(queued{job: *job, leaseUntil: before.Add(leaseFor)})
			after := time.Now()
			t.Logf("ok=%v %+v", ok, c)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if got := tt.doer.calls(); got != tt.wantCalls {
				t.Errorf("%d requests, want %d", got, tt.wantCalls)
			}
			if released := len(d.queuedReleases()); released != map[bool]int{false: 0, true: 1}[tt.notAlive] {
				t.Errorf("%d releases queued", released)
			}
			if !ok {
				return
			}
			if c.Status != tt.wantStatus || c.DeliveryID != job.Delivery.ID || c.SubscriptionID != job.Subscription.ID || c.Owner != "me" {
				t.Errorf("completion %+v, want status %s for %s/%s by me", c, tt.wantStatus, job.Delivery.ID, job.Subscription.ID)
			}
			if (c.Attempt != nil) != (tt.wantCalls > 0) {
				t.Errorf("attempt %+v with %d requests", c.Attempt, tt.wantCalls)
			}
			if (c.DisableReason != "") != tt.disable {
				t.Errorf("disable reason %q, want one: %v", c.DisableReason, tt.disable)
			}
			switch {
			case tt.wantNext == 0:
				if c.NextAttemptAt != nil {
					t.Errorf("next attempt at %v for a final outcome", c.NextAttemptAt)
				}
			case c.NextAttemptAt == nil:
				t.Errorf("no next attempt, want one after %v", tt.wantNext)
			default:
				lo, hi := before.Add(tt.wantNext-tt.wantNext/5), after.Add(tt.wantNext+tt.wantNext/5)
				if tt.exactNext {
					lo, hi = before.Add(tt.wantNext), after.Add(tt.wantNext)
				}
				if c.NextAttemptAt.Before(lo) || c.NextAttemptAt.After(hi) {
					t.Errorf("next attempt in %v, want about %v", c.NextAttemptAt.Sub(before), tt.wantNext)
				}
			}
			obs.mu.Lock()
			defer obs.mu.Unlock()
			if want := tt.wantCalls; len(obs.statuses) != want || (want == 1 && obs.statuses[0] != c.Status) {
				t.Errorf("observer saw %v, want %d attempt(s) with status %s", obs.statuses, want, c.Status)
			}
		})
	}
}

func TestShutdownDrainsGracefully(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{Limits: limiter.Config{Max: 1}})
	f.subscribe(t, "https://a.example.com/hook")
	leaseUntil := time.Now().Add(time.Hour)
	jobs := f.ingest(t, 5, leaseUntil)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.d.Run(ctx) }()
	f.d.Enqueue(jobs, leaseUntil)
	inFlight := f.doer.next(t)
	sent := deliveryID(inFlight.req)

	shutDone := make(chan error, 1)
	go func() { shutDone <- f.d.Shutdown(context.Background()) }()
	// Shutdown waits for the request in flight. Returning early would take
	// no time at all (nothing else is left to wait for), so this wait
	// cannot miss it.
	select {
	case err := <-shutDone:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	if f.d.HasRoom() {
		t.Error("HasRoom = true while draining")
	}
	inFlight.reply <- 200
	for _, c := range []chan error{shutDone, done} {
		select {
		case err := <-c:
			if err != nil {
				t.Fatalf("Shutdown or Run: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Fatal("the drain did not end after the last request finished")
		}
	}
	f.doer.none(t) // queued work is not sent while draining

	// The request in flight is recorded …
	if d, as := f.delivery(t, sent); d.Status != store.DeliverySucceeded || len(as) != 1 {
		t.Errorf("sent delivery is %s with %d attempts, want succeeded with 1", d.Status, len(as))
	}
	// … and the queued ones are handed back, due now, for anyone to claim.
	var queued []string
	for _, j := range jobs {
		if j.Delivery.ID != sent {
			queued = append(queued, j.Delivery.ID)
		}
	}
	released := f.st.releasedIDs()
	slices.Sort(released)
	slices.Sort(queued)
	if !slices.Equal(released, queued) {
		t.Errorf("released %v, want the queued %v", released, queued)
	}
	claimed, err := f.st.ClaimDeliveries(t.Context(), store.ClaimParams{Owner: "other", Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range claimed {
		got = append(got, j.Delivery.ID)
		if j.Delivery.Attempts != 0 {
			t.Errorf("released delivery %s has %d attempts, want 0", j.Delivery.ID, j.Delivery.Attempts)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, queued) {
		t.Errorf("another process could claim %v, want %v", got, queued)
	}
	// Work handed over after the drain is not taken, and Enqueue does not
	// wait: it is left to its lease (the server retires the owner, handing
	// back whatever is still leased to it).
	late := f.ingest(t, 1, time.Now().Add(time.Hour))
	f.d.Enqueue(late, time.Now().Add(time.Hour))
	f.doer.none(t)
}
