// Package delivery sends deliveries: it claims due work from the store (or is
// handed fresh work by ingest), sends each delivery through per-endpoint
// lanes with bounded concurrency, and records attempts and outcomes in
// batches.
package delivery

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/revdesk/webhooks/internal/limiter"
	"github.com/revdesk/webhooks/internal/ratelimit"
	"github.com/revdesk/webhooks/internal/store"
)

// DefaultMaxInFlight bounds delivery requests in flight in all. A slow
// request in flight costs goroutines and a connection's buffers, some
// 50 KiB here (as much again in a receiver on the same machine, as in
// revdesk bench): 1,536 stay near 80 MiB, and carry 7,500 deliveries/s to
// receivers answering in 200 ms, more than 2 cores send.
const DefaultMaxInFlight = 1536

// Config tunes a Dispatcher. Zero values take the defaults noted.
type Config struct {
	Owner         string          // lease owner name of this process (required)
	RetrySchedule []time.Duration // delays before each retry; empty: no retries
	Timeout       time.Duration   // per attempt; default 10 s
	Lease         time.Duration   // how long claimed work is held; default 2×Timeout+30 s
	// MaxInFlight bounds requests in flight in all, for memory and CPU
	// (per-endpoint limits follow the receivers, see package limiter);
	// default DefaultMaxInFlight.
	MaxInFlight int
	// Limits tune each endpoint's adaptive limit; Limits.Max is the
	// ceiling per endpoint (--max-per-endpoint).
	Limits        limiter.Config
	Capacity      int           // deliveries held in memory (queued, in flight or being recorded); default 65536
	LaneCapacity  int           // deliveries queued for one endpoint; default 16384
	ClaimBatch    int           // default 256
	PollInterval  time.Duration // fallback polling; default 500 ms
	RetryAfterCap time.Duration // longest Retry-After honoured; default 1 h
	// CompleteLinger is how long outcomes are gathered before they are
	// written in one transaction; default 10 ms.
	CompleteLinger time.Duration
	UserAgent      string
	// FailingAfter is the streak of failed attempts that makes a
	// subscription_failing event (--failing-after); 0 never.
	FailingAfter int
	// NoRecoveryReplay: automatic recovery does not replay what it missed.
	NoRecoveryReplay bool
	Logger           *slog.Logger
	Observer         Observer
	// Pacer paces subscriptions with a rate_limit; default one for a
	// process alone.
	Pacer *ratelimit.Pacer
	// Liveness, when set, says whether other processes still count this
	// one as alive; its leases hold only while they do.
	Liveness Liveness
}

// Liveness is this process's standing with the others (see package
// liveness): while Alive is false, another process may take over its
// leases at any moment.
type Liveness interface {
	Alive() bool
}

// Observer is told about each finished attempt (metrics).
type Observer interface {
	Attempted(subscriptionID string, a store.Attempt, status string)
}

// DefaultTimeout is the time limit of one attempt unless configured.
const DefaultTimeout = 10 * time.Second

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Lease <= 0 {
		c.Lease = 2*c.Timeout + 30*time.Second
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	c.Limits = c.Limits.WithDefaults()
	if c.Capacity <= 0 {
		c.Capacity = 65536
	}
	if c.LaneCapacity <= 0 {
		c.LaneCapacity = 16384
	}
	if c.ClaimBatch <= 0 {
		c.ClaimBatch = 256
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 500 * time.Millisecond
	}
	if c.CompleteLinger <= 0 {
		c.CompleteLinger = 10 * time.Millisecond
	}
	if c.RetryAfterCap <= 0 {
		c.RetryAfterCap = time.Hour
	}
	c.Limits.PauseMax = min(c.Limits.PauseMax, c.RetryAfterCap)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Pacer == nil {
		c.Pacer = ratelimit.New()
	}
}

// Dispatcher owns the deliveries leased to this process until they are
// completed or released.
type Dispatcher struct {
	store  store.Store
	client http.RoundTripper
	cfg    Config

	wake          chan struct{}
	releaseSignal chan struct{} // something was added to releases
	outcomeSignal chan struct{} // outcomes has its first or a full batch

	// claimCtx ends when claiming stops (Shutdown, or the end of Run's
	// context); abortCtx when nothing more may wait: Run's context ended or
	// Shutdown's deadline passed. Requests and writes run under abortCtx.
	claimCtx, abortCtx context.Context
	stopClaims, abort  context.CancelFunc
	started            atomic.Bool
	done               chan struct{} // closed when Run returns

	outcomesMu sync.Mutex
	outcomes   []store.Completion // finished sends waiting to be written

	mu        sync.Mutex
	lanes     map[string]*lane
	targets   map[string]target // parsed webhook URLs, see target
	ready     []*lane           // lanes with queued work and a free slot, in turn order
	fullLanes int               // lanes holding LaneCapacity queued deliveries
	held      int               // deliveries queued or in flight
	inFlight  int
	nextSweep time.Time // of idle lanes, see sweepLanes
	draining  bool
	releases  []releaseReq // waiting for the release loop
	sends     sync.WaitGroup
	// The rate gate (gate.go).
	pacing        map[*paced]struct{}
	releasedUntil map[string]time.Time
}

// New makes a dispatcher; Run starts it.
func New(st store.Store, client http.RoundTripper, cfg Config) *Dispatcher {
	cfg.defaults()
	d := &Dispatcher{
		store:         st,
		client:        client,
		cfg:           cfg,
		wake:          make(chan struct{}, 1),
		releaseSignal: make(chan struct{}, 1),
		outcomeSignal: make(chan struct{}, 1),
		done:          make(chan struct{}),
		lanes:         map[string]*lane{},
		targets:       map[string]target{},
	}
	d.abortCtx, d.abort = context.WithCancel(context.Background())
	d.claimCtx, d.stopClaims = context.WithCancel(d.abortCtx)
	return d
}

// Wake makes the dispatcher look for due work now.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// HasRoom reports whether handed-off work would be taken now; ingest leases
// new deliveries to this process only then. While an endpoint's queue is
// full, handed-off work for it would be released at once (two writes for
// nothing), so ingest then leaves new deliveries to the claimer.
func (d *Dispatcher) HasRoom() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.draining && d.held < d.cfg.Capacity && d.fullLanes == 0
}

// Lease is how long ingest should lease handed-off deliveries for.
func (d *Dispatcher) Lease() time.Duration { return d.cfg.Lease }

// Owner is the lease owner name of this dispatcher.
func (d *Dispatcher) Owner() string { return d.cfg.Owner }

// Enqueue takes jobs already leased to this dispatcher's owner. It never
// waits on the database: what does not fit is handed back by the release
// loop.
func (d *Dispatcher) Enqueue(jobs []store.Job, leaseUntil time.Time) {
	d.enqueue(jobs, leaseUntil)
}

// enqueue is Enqueue; it returns how many jobs were taken (not handed back).
func (d *Dispatcher) enqueue(jobs []store.Job, leaseUntil time.Time) int {
	var overflow []string
	var paused map[time.Time][]string // by the end of their endpoint's pause
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, j := range jobs {
		if d.draining {
			overflow = append(overflow, j.Delivery.ID)
			continue
		}
		t := d.target(j.Subscription.WebhookURL)
		if d.pace(j, leaseUntil, t, now) {
			continue
		}
		l := d.laneFor(t.lane)
		if until, ok := d.outlasts(l, leaseUntil, now); ok {
			if paused == nil {
				paused = map[time.Time][]string{}
			}
			paused[until] = append(paused[until], j.Delivery.ID)
			continue
		}
		if !d.push(l, queued{job: j, leaseUntil: leaseUntil, url: t.url}, now) {
			overflow = append(overflow, j.Delivery.ID)
		}
	}
	for until, ids := range paused {
		d.queueRelease(releaseReq{ids: ids, dueAt: until})
	}
	d.pump(now)
	switch {
	case len(overflow) == 0:
	case d.draining:
		// Shutting down: hand them back due at once, for whoever runs next.
		d.queueRelease(releaseReq{ids: overflow, dueAt: time.Now()})
	default:
		// The endpoint already has a full queue here: hand the rest back for
		// later, so they neither wait out a lease nor crowd other endpoints.
		d.queueRelease(releaseReq{ids: overflow, dueAt: time.Now().Add(time.Second)})
	}
	return len(jobs) - len(overflow)
}

// process sends one delivery and decides its outcome. It reports false when
// it did not send: the lease ran too short to send safely (the delivery is
// left for whoever claims it after the lease ends), this process is no
// longer counted as alive (it is handed back), or the drain's deadline cut
// the request short. The sample is what the attempt says of the endpoint,
// nil when no request reached it.
func (d *Dispatcher) process(q queued) (store.Completion, *limiter.Sample, bool) {
	job := &q.job
	c := store.Completion{DeliveryID: job.Delivery.ID, SubscriptionID: job.Subscription.ID, Owner: d.cfg.Owner,
		OrderKey: job.Delivery.OrderKey}
	// A disabled subscription's deliveries are skipped, but for the probe
	// of automatic recovery.
	probe := !job.Deleted && job.Subscription.Recovering() && job.Subscription.ProbeDeliveryID == job.Delivery.ID
	if job.Deleted || (job.Subscription.Status != store.SubscriptionActive && !probe) {
		c.Status = store.DeliverySkipped
		return c, nil, true
	}
	// Another process may take the delivery over once the lease ends, or
	// at any moment once this one is no longer counted as alive: send only
	// if the attempt can finish before either.
	if time.Until(q.leaseUntil) < d.cfg.Timeout+time.Second {
		return c, nil, false
	}
	if d.cfg.Liveness != nil && !d.cfg.Liveness.Alive() {
		// Renewals are failing (the database is slow or away): hand it back
		// for when it answers again rather than hold it to the lease's end.
		d.mu.Lock()
		d.queueRelease(releaseReq{ids: []string{job.Delivery.ID}, dueAt: time.Now()})
		d.mu.Unlock()
		return c, nil, false
	}
	r := attempt(d.abortCtx, d.client, job, q.url, d.cfg.UserAgent, d.cfg.Timeout)
	if d.abortCtx.Err() != nil {
		return c, nil, false // cut short by the shutdown's deadline: not an attempt of the endpoint's
	}
	// A copy: pointing into r would keep the response headers alive until
	// the outcome is written.
	a := r.attempt
	c.Attempt = &a
	now := time.Now()
	switch {
	case r.attempt.ErrorClass == "":
		c.Status = store.DeliverySucceeded
	case r.attempt.ErrorClass == ClassGone:
		c.Status = store.DeliveryFailed
		c.DisableReason = "the endpoint answered 410 Gone"
	case r.forbidden:
		c.Status = store.DeliveryFailed
	case r.attempt.Number <= len(d.cfg.RetrySchedule):
		next := now.Add(jitter(d.cfg.RetrySchedule[r.attempt.Number-1]))
		if code := r.attempt.StatusCode; code == 429 || code == 503 {
			if wait, ok := retryAfter(r.header, now, d.cfg.RetryAfterCap); ok && now.Add(wait).After(next) {
				next = now.Add(wait)
			}
		}
		c.Status = store.DeliveryPending
		c.NextAttemptAt = &next
	default:
		c.Status = store.DeliveryFailed
	}
	if probe {
		store.FinishProbe(&c)
	}
	if d.cfg.Observer != nil {
		d.cfg.Observer.Attempted(job.Subscription.ID, r.attempt, c.Status)
	}
	return c, sample(&r, now, d.cfg.Limits.PauseMax), true
}

// Run claims and sends due work until Shutdown is called or ctx ends, then
// drains: queued work is handed back, sends in flight finish and their
// outcomes are written. After the end of ctx nothing waits: requests in
// flight are canceled and what is not written is left to the leases.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.started.Store(true)
	defer close(d.done)
	defer d.abort()
	defer context.AfterFunc(ctx, d.abort)()

	sendsDone := make(chan struct{})
	var bg sync.WaitGroup
	bg.Go(func() { d.completeLoop(sendsDone) })
	bg.Go(func() { d.releaseLoop(sendsDone) })

	d.claimLoop(d.claimCtx)

	d.mu.Lock()
	d.draining = true
	if back := append(d.dropQueued(), d.dropPaced()...); len(back) > 0 {
		d.queueRelease(releaseReq{ids: back, dueAt: time.Now()})
	}
	d.mu.Unlock()
	d.sends.Wait()
	close(sendsDone)
	bg.Wait()
	return nil
}

// Shutdown stops claiming and waits for Run to drain (see Run). When ctx
// ends first, the drain is cut short as if Run's context had ended, and
// Shutdown returns ctx's error once Run has returned.
func (d *Dispatcher) Shutdown(ctx context.Context) error {
	d.stopClaims()
	select {
	case <-d.done:
		return nil
	case <-ctx.Done():
	}
	d.abort()
	if d.started.Load() {
		<-d.done // prompt: nothing waits once aborted
	}
	return ctx.Err()
}
