package delivery

import (
	"context"
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
	completes     atomic.Int32
	mu            sync.Mutex
	released      [][]string
	claimLimits   []int
}

func (s *countingStore) CompleteDeliveries(ctx context.Context, p store.CompleteParams) ([]store.DisabledSubscription, error) {
	s.completes.Add(1)
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

// run starts Run and returns a function that stops it and waits for it.
func (f *fixture) run(t *testing.T) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(waitTimeout):
				t.Error("Run did not return after its context ended")
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
	return l.inFlight, l.limit, len(l.queue)
}

// nextCompletion waits for a finished send's outcome (without Run, nothing
// else reads them).
func (d *Dispatcher) nextCompletion(t *testing.T) store.Completion {
	t.Helper()
	select {
	case c := <-d.completed:
		return c
	case <-time.After(waitTimeout):
		t.Fatal("no completion")
		return store.Completion{}
	}
}

func TestLaneKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"https://Hooks.Example.com/a?b=c", "https://hooks.example.com:443"},
		{"https://hooks.example.com:443/other", "https://hooks.example.com:443"},
		{"http://hooks.example.com/x", "http://hooks.example.com:80"},
		{"https://hooks.example.com:8443/x", "https://hooks.example.com:8443"},
		{"http://[::1]:9000/x", "http://::1:9000"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			d := New(nil, nil, Config{Owner: "me"})
			if got := d.target(tt.url).lane; got != tt.want {
				t.Errorf("lane of %q = %q, want %q", tt.url, got, tt.want)
			}
		})
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
		{name: "forbidden address fails at once", doer: &fakeTransport{err: forbiddenErr}, wantOK: true, wantStatus: store.DeliveryFailed, wantCalls: 1},
		{name: "deleted subscription skipped", doer: &fakeTransport{status: 200}, edit: func(j *store.Job) { j.Deleted = true },
			wantOK: true, wantStatus: store.DeliverySkipped},
		{name: "disabled subscription skipped", doer: &fakeTransport{status: 200}, edit: func(j *store.Job) { j.Subscription.Status = store.SubscriptionDisabled },
			wantOK: true, wantStatus: store.DeliverySkipped},
		{name: "lease too short is left alone", doer: &fakeTransport{status: 200}, leaseFor: 5 * time.Second, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs := &fakeObserver{}
			d := New(nil, tt.doer, Config{Owner: "me", RetrySchedule: schedule, Timeout: 5 * time.Second, RetryAfterCap: 2 * time.Hour, Observer: obs})
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
			c, ok := d.process(queued{job: *job, leaseUntil: before.Add(leaseFor)})
			after := time.Now()
			t.Logf("ok=%v %+v", ok, c)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if got := tt.doer.calls(); got != tt.wantCalls {
				t.Errorf("%d requests, want %d", got, tt.wantCalls)
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

func TestPerEndpointLimitHalvesOnFailureAndGrowsBack(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{PerEndpoint: 8, MaxInFlight: 64, RetrySchedule: []time.Duration{time.Hour}})
	const url = "https://slow.example.com/hook"
	f.subscribe(t, url)
	leaseUntil := time.Now().Add(time.Hour)
	f.d.Enqueue(f.ingest(t, 20, leaseUntil), leaseUntil)

	var calls []*call
	for range 8 {
		calls = append(calls, f.doer.next(t))
	}
	f.doer.none(t)
	if in, limit, q := f.d.laneState(url); in != 8 || limit != 8 || q != 12 {
		t.Fatalf("lane in flight %d, limit %d, queued %d; want 8, 8, 12", in, limit, q)
	}

	// Each failure halves the limit: 4, 2, 1, 1, … so nothing new starts
	// until the in-flight requests have drained below one.
	wantLimits := []int{4, 2, 1, 1, 1, 1, 1}
	for i, c := range calls[:7] {
		c.reply <- 500
		if got := f.d.nextCompletion(t); got.Status != store.DeliveryPending {
			t.Fatalf("completion %+v, want pending", got)
		}
		in, limit, _ := f.d.laneState(url)
		t.Logf("after failure %d: in flight %d, limit %d", i+1, in, limit)
		if limit != wantLimits[i] || in != 7-i {
			t.Fatalf("after failure %d: in flight %d, limit %d; want %d, %d", i+1, in, limit, 7-i, wantLimits[i])
		}
	}
	f.doer.none(t)
	calls[7].reply <- 500
	f.d.nextCompletion(t)
	c := f.doer.next(t) // the lane is idle: exactly one request goes out
	f.doer.none(t)

	// Successes grow the limit back by one each.
	c.reply <- 200
	if got := f.d.nextCompletion(t); got.Status != store.DeliverySucceeded {
		t.Fatalf("completion %+v, want succeeded", got)
	}
	a, b := f.doer.next(t), f.doer.next(t)
	f.doer.none(t)
	if in, limit, _ := f.d.laneState(url); in != 2 || limit != 2 {
		t.Fatalf("after a success: in flight %d, limit %d; want 2, 2", in, limit)
	}
	// Each success adds one slot, and the freed slot is reused too.
	for i, c := range []*call{a, b} {
		c.reply <- 200
		f.d.nextCompletion(t)
		if in, limit, _ := f.d.laneState(url); in != 3+i || limit != 3+i {
			t.Errorf("after success %d: in flight %d, limit %d; want %d, %d", i+2, in, limit, 3+i, 3+i)
		}
	}
	// 20 - 8 - 1 - 2 deliveries remain, some of them in flight.
	for range 9 {
		f.doer.next(t).reply <- 200
		f.d.nextCompletion(t)
	}
	f.doer.none(t)
}

func TestLanesTakeTurnsUnderGlobalLimit(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{PerEndpoint: 4, MaxInFlight: 2})
	const urlA, urlB = "https://a.example.com/hook", "https://b.example.com/hook"
	f.subscribe(t, urlA)
	leaseUntil := time.Now().Add(time.Hour)
	jobsA := f.ingest(t, 4, leaseUntil)
	f.subscribe(t, urlB)
	// From here each event goes to both subscriptions; keep B's jobs only.
	var jobsB []store.Job
	for _, j := range f.ingest(t, 4, leaseUntil) {
		if j.Subscription.WebhookURL == urlB {
			jobsB = append(jobsB, j)
		} else {
			jobsA = append(jobsA, j)
		}
	}
	// A's whole backlog is enqueued before B's: B must still get every
	// other slot rather than wait behind A.
	f.d.Enqueue(slices.Concat(jobsA, jobsB), leaseUntil)

	var order []string
	for range (len(jobsA) + len(jobsB)) / 2 {
		first, second := f.doer.next(t), f.doer.next(t)
		f.doer.none(t) // never more than MaxInFlight
		order = append(order, first.req.URL.Host[:1], second.req.URL.Host[:1])
		first.reply <- 200
		second.reply <- 200
		f.d.nextCompletion(t)
		f.d.nextCompletion(t)
	}
	t.Logf("send order %v", order)
	// While both have work, every pair of slots goes one to each lane.
	for i := 0; i < 2*len(jobsB); i += 2 {
		if order[i] == order[i+1] {
			t.Fatalf("slots %d and %d both went to %s while the other lane waited: %v", i, i+1, order[i], order)
		}
	}
}

func TestCapacityHoldsBackWorkUntilRecorded(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{Capacity: 2, ClaimBatch: 8})
	f.subscribe(t, "https://a.example.com/hook")
	leaseUntil := time.Now().Add(time.Hour)
	jobs := f.ingest(t, 2, leaseUntil)
	if !f.d.HasRoom() {
		t.Fatal("HasRoom = false on an empty dispatcher")
	}
	f.d.Enqueue(jobs, leaseUntil)
	calls := []*call{f.doer.next(t), f.doer.next(t)}
	if f.d.HasRoom() {
		t.Fatal("HasRoom = true with capacity held")
	}
	// Outcomes not yet written still hold their room.
	for _, c := range calls {
		c.reply <- 200
	}
	cs := []store.Completion{f.d.nextCompletion(t), f.d.nextCompletion(t)}
	if f.d.HasRoom() {
		t.Fatal("HasRoom = true before the outcomes were recorded")
	}
	// Writing them frees the room.
	f.d.flush(t.Context(), cs, 1)
	if !f.d.HasRoom() {
		t.Fatal("HasRoom = false after the outcomes were recorded")
	}
	for _, j := range jobs {
		if d, _ := f.delivery(t, j.Delivery.ID); d.Status != store.DeliverySucceeded {
			t.Errorf("delivery %s is %s, want succeeded", j.Delivery.ID, d.Status)
		}
	}
}

func TestClaimTakesNoMoreThanCapacity(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{Capacity: 4, ClaimBatch: 100, PollInterval: 20 * time.Millisecond})
	f.subscribe(t, "https://a.example.com/hook")
	f.ingest(t, 10, time.Time{}) // unleased: Run must claim them
	stop := f.run(t)

	var calls []*call
	for range 4 {
		calls = append(calls, f.doer.next(t))
	}
	f.doer.none(t)
	f.st.mu.Lock()
	limits := slices.Clone(f.st.claimLimits)
	f.st.mu.Unlock()
	t.Logf("claim limits %v", limits)
	if len(limits) == 0 || limits[0] != 4 || slices.Max(limits) > 4 {
		t.Errorf("claim limits %v, want the first to ask for the room (4) and none for more", limits)
	}
	if f.d.HasRoom() {
		t.Error("HasRoom = true with capacity held")
	}
	// Room returning brings the rest in.
	for _, c := range calls {
		c.reply <- 200
	}
	for range 6 {
		f.doer.next(t).reply <- 200
	}
	stop()
	count, _, err := f.st.PendingStats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if count != 0 {
		t.Errorf("%d deliveries still pending, want all 10 sent and recorded", count)
	}
}

func TestEnqueueOverflowIsReleased(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{LaneCapacity: 2, PerEndpoint: 1})
	f.subscribe(t, "https://a.example.com/hook")
	leaseUntil := time.Now().Add(time.Hour)
	jobs := f.ingest(t, 5, leaseUntil)
	before := time.Now()
	f.d.Enqueue(jobs, leaseUntil)

	var r releaseReq
	select {
	case r = <-f.d.released:
	case <-time.After(waitTimeout):
		t.Fatal("nothing released")
	}
	var want []string
	for _, j := range jobs[2:] {
		want = append(want, j.Delivery.ID)
	}
	if !slices.Equal(r.ids, want) {
		t.Errorf("released %v, want the jobs past the lane's capacity %v", r.ids, want)
	}
	if r.dueAt.Before(before.Add(time.Second)) || r.dueAt.After(time.Now().Add(time.Second)) {
		t.Errorf("released due in %v, want about 1s", r.dueAt.Sub(before))
	}
	// The two that fit are sent, one at a time.
	f.doer.next(t).reply <- 200
	f.doer.next(t).reply <- 200
	f.doer.none(t)
}

func TestRunDrainsGracefully(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{PerEndpoint: 1})
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

	cancel()
	// Run waits for the request in flight.
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) with a request in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	if f.d.HasRoom() {
		t.Error("HasRoom = true while draining")
	}
	inFlight.reply <- 200
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after the last request finished")
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
	// Work handed over after the drain is released to the store at once
	// (the release loop has stopped), not held.
	late := f.ingest(t, 1, time.Now().Add(time.Hour))
	f.d.Enqueue(late, time.Now().Add(time.Hour))
	claimed, err = f.st.ClaimDeliveries(t.Context(), store.ClaimParams{Owner: "other", Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 1 || claimed[0].Delivery.ID != late[0].Delivery.ID {
		t.Errorf("work handed over after the drain was not released: claimable %v", claimed)
	}
}

func TestRunRetriesRecordingOutcomes(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{RetrySchedule: []time.Duration{time.Hour}})
	f.st.failCompletes.Store(2)
	f.subscribe(t, "https://a.example.com/hook")
	jobs := f.ingest(t, 2, time.Time{})
	stop := f.run(t)
	f.doer.next(t).reply <- 200
	f.doer.next(t).reply <- 503
	deadline := time.Now().Add(waitTimeout)
	for f.st.completes.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if n := f.st.completes.Load(); n < 3 {
		t.Fatalf("CompleteDeliveries called %d times, want retries after 2 failures", n)
	}
	statuses := map[string]int{}
	for _, j := range jobs {
		d, as := f.delivery(t, j.Delivery.ID)
		statuses[d.Status]++
		if len(as) != 1 {
			t.Errorf("delivery %s has %d attempts, want 1", j.Delivery.ID, len(as))
		}
		if d.Status == store.DeliveryPending && (d.NextAttemptAt == nil || time.Until(*d.NextAttemptAt) < 30*time.Minute) {
			t.Errorf("retry of %s due at %v, want about an hour from now", j.Delivery.ID, d.NextAttemptAt)
		}
	}
	if statuses[store.DeliverySucceeded] != 1 || statuses[store.DeliveryPending] != 1 {
		t.Errorf("statuses %v, want one succeeded and one pending", statuses)
	}
	f.obs.mu.Lock()
	defer f.obs.mu.Unlock()
	if len(f.obs.statuses) != 2 {
		t.Errorf("observer saw %v, want 2 attempts", f.obs.statuses)
	}
}
