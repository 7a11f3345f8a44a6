// Package delivery sends deliveries: it claims due work from the store (or is
// handed fresh work by ingest), sends each delivery through per-endpoint
// lanes with bounded concurrency, and records attempts and outcomes in
// batches.
package delivery

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

// Config tunes a Dispatcher. Zero values take the defaults noted.
type Config struct {
	Owner         string          // lease owner name of this process (required)
	RetrySchedule []time.Duration // delays before each retry; empty: no retries
	Timeout       time.Duration   // per attempt; default 10 s
	Lease         time.Duration   // how long claimed work is held; default 2×Timeout+30 s
	MaxInFlight   int             // requests in flight in all; default 64
	PerEndpoint   int             // requests in flight to one endpoint; default 16
	Capacity      int             // deliveries held in memory (queued, in flight or being recorded); default 65536
	LaneCapacity  int             // deliveries queued for one endpoint; default 16384
	ClaimBatch    int             // default 256
	PollInterval  time.Duration   // fallback polling; default 500 ms
	RetryAfterCap time.Duration   // longest Retry-After honoured; default 1 h
	// CompleteLinger is how long outcomes are gathered before they are
	// written in one transaction; default 10 ms.
	CompleteLinger time.Duration
	UserAgent      string
	Logger         *slog.Logger
	Observer       Observer
}

// Observer is told about each finished attempt (metrics).
type Observer interface {
	Attempted(subscriptionID string, a store.Attempt, status string)
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 2*c.Timeout + 30*time.Second
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 64
	}
	if c.PerEndpoint <= 0 {
		c.PerEndpoint = 16
	}
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
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Dispatcher owns the deliveries leased to this process until they are
// completed or released.
type Dispatcher struct {
	store  store.Store
	client http.RoundTripper
	cfg    Config

	wake      chan struct{}
	completed chan store.Completion
	released  chan releaseReq

	mu       sync.Mutex
	lanes    map[string]*lane
	targets  map[string]target // parsed webhook URLs, see target
	ready    []*lane           // lanes with queued work and a free slot, in turn order
	held     int               // deliveries queued or in flight
	inFlight int
	draining bool
	sends    sync.WaitGroup
}

// lane holds one endpoint's queued deliveries. Its in-flight limit halves on
// failure and grows back on success, so a dead endpoint soon holds one slot.
type lane struct {
	key      string
	queue    []queued
	inFlight int
	limit    int
	isReady  bool
}

type queued struct {
	job        store.Job
	leaseUntil time.Time
	url        *url.URL // parsed job.Subscription.WebhookURL; nil if it does not parse
}

// target is a webhook URL parsed once: parsing costs more than building
// the rest of a request, and a few URLs take most deliveries.
type target struct {
	url  *url.URL
	lane string
}

// maxTargets bounds the parsed URLs kept; past it the cache starts over.
const maxTargets = 10000

// target returns the parsed form of a webhook URL. Caller holds mu.
func (d *Dispatcher) target(raw string) target {
	if t, ok := d.targets[raw]; ok {
		return t
	}
	if len(d.targets) >= maxTargets {
		clear(d.targets)
	}
	t := target{lane: raw}
	if u, err := url.Parse(raw); err == nil {
		t = target{url: u, lane: laneKey(u)}
	}
	d.targets[raw] = t
	return t
}

type releaseReq struct {
	ids   []string
	dueAt time.Time
}

// New makes a dispatcher; Run starts it.
func New(st store.Store, client http.RoundTripper, cfg Config) *Dispatcher {
	cfg.defaults()
	return &Dispatcher{
		store:     st,
		client:    client,
		cfg:       cfg,
		wake:      make(chan struct{}, 1),
		completed: make(chan store.Completion, cfg.Capacity),
		released:  make(chan releaseReq, 64),
		lanes:     map[string]*lane{},
		targets:   map[string]target{},
	}
}

// Wake makes the dispatcher look for due work now.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// HasRoom reports whether handed-off work would be taken now; ingest leases
// new deliveries to this process only then.
func (d *Dispatcher) HasRoom() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.draining && d.held < d.cfg.Capacity
}

// Lease is how long ingest should lease handed-off deliveries for.
func (d *Dispatcher) Lease() time.Duration { return d.cfg.Lease }

// Owner is the lease owner name of this dispatcher.
func (d *Dispatcher) Owner() string { return d.cfg.Owner }

// Enqueue takes jobs already leased to this dispatcher's owner.
func (d *Dispatcher) Enqueue(jobs []store.Job, leaseUntil time.Time) {
	var overflow []string
	d.mu.Lock()
	draining := d.draining
	for _, j := range jobs {
		if draining {
			overflow = append(overflow, j.Delivery.ID)
			continue
		}
		t := d.target(j.Subscription.WebhookURL)
		l := d.lanes[t.lane]
		if l == nil {
			l = &lane{key: t.lane, limit: d.cfg.PerEndpoint}
			d.lanes[t.lane] = l
		}
		if len(l.queue) >= d.cfg.LaneCapacity {
			overflow = append(overflow, j.Delivery.ID)
			continue
		}
		l.queue = append(l.queue, queued{job: j, leaseUntil: leaseUntil, url: t.url})
		d.held++
		d.markReady(l)
	}
	d.pump()
	d.mu.Unlock()
	switch {
	case len(overflow) == 0:
	case draining:
		// Shutting down: hand them back now, due at once, for whoever runs
		// next (the release loop may have stopped already).
		d.release(releaseReq{ids: overflow, dueAt: time.Now()})
	default:
		// The endpoint already has a full queue here: hand the rest back for
		// later, so they neither wait out a lease nor crowd other endpoints.
		d.released <- releaseReq{ids: overflow, dueAt: time.Now().Add(time.Second)}
	}
}

// laneKey is scheme://host:port of a webhook URL.
func laneKey(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + host + ":" + port
}

// markReady puts a lane in the turn order if it can send. Caller holds mu.
func (d *Dispatcher) markReady(l *lane) {
	if !l.isReady && len(l.queue) > 0 && l.inFlight < l.limit {
		l.isReady = true
		d.ready = append(d.ready, l)
	}
}

// pump starts sends, one lane at a time in turn, while slots are free.
// Caller holds mu.
func (d *Dispatcher) pump() {
	for d.inFlight < d.cfg.MaxInFlight && len(d.ready) > 0 {
		l := d.ready[0]
		d.ready = d.ready[1:]
		l.isReady = false
		q := l.queue[0]
		l.queue[0] = queued{} // the backing array must not keep the job alive
		l.queue = l.queue[1:]
		l.inFlight++
		d.inFlight++
		d.markReady(l)
		d.sends.Add(1)
		go d.send(l, q)
	}
	if len(d.ready) == 0 {
		d.ready = nil // let the backing array go
	}
}

func (d *Dispatcher) send(l *lane, q queued) {
	defer d.sends.Done()
	c, ok := d.process(q)
	d.mu.Lock()
	l.inFlight--
	d.inFlight--
	if !ok {
		d.held--
	}
	if ok {
		if c.Status == store.DeliveryPending || c.Status == store.DeliveryFailed {
			l.limit = max(1, l.limit/2)
		} else {
			l.limit = min(d.cfg.PerEndpoint, l.limit+1)
		}
	}
	d.markReady(l)
	if len(l.queue) == 0 && l.inFlight == 0 {
		delete(d.lanes, l.key)
	}
	d.pump()
	d.mu.Unlock()
	if ok {
		// The delivery stays counted in held until its outcome is written,
		// so outcomes that the database cannot take fast enough hold back
		// new work (no claims, no handoffs) instead of piling up here.
		d.completed <- c
	}
}

// recorded frees the room of n deliveries whose outcome was written (or
// given up), and wakes the claimer when that brings room back.
func (d *Dispatcher) recorded(n int) {
	d.mu.Lock()
	before := d.cfg.Capacity - d.held
	d.held -= n
	after := d.cfg.Capacity - d.held
	d.mu.Unlock()
	if before < d.claimThreshold() && after >= d.claimThreshold() {
		d.Wake()
	}
}

// process sends one delivery and decides its outcome. It reports false when
// the lease ran too short to send safely: the delivery is then left for
// whoever claims it after the lease ends.
func (d *Dispatcher) process(q queued) (store.Completion, bool) {
	job := &q.job
	c := store.Completion{DeliveryID: job.Delivery.ID, SubscriptionID: job.Subscription.ID, Owner: d.cfg.Owner}
	if job.Deleted || job.Subscription.Status != store.SubscriptionActive {
		c.Status = store.DeliverySkipped
		return c, true
	}
	if time.Until(q.leaseUntil) < d.cfg.Timeout+time.Second {
		return c, false
	}
	r := attempt(context.Background(), d.client, job, q.url, d.cfg.UserAgent, d.cfg.Timeout)
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
	if d.cfg.Observer != nil {
		d.cfg.Observer.Attempted(job.Subscription.ID, r.attempt, c.Status)
	}
	return c, true
}

// Run claims due work until ctx ends, then drains: sends in flight finish
// and are recorded, queued work is handed back.
func (d *Dispatcher) Run(ctx context.Context) error {
	var bg sync.WaitGroup
	flushCtx, stopFlush := context.WithCancel(context.Background())
	bg.Add(1)
	go func() { defer bg.Done(); d.completeLoop(flushCtx) }()
	bg.Add(1)
	go func() { defer bg.Done(); d.releaseLoop(flushCtx) }()

	d.claimLoop(ctx)

	d.mu.Lock()
	d.draining = true
	var back []string
	for _, l := range d.lanes {
		for _, q := range l.queue {
			back = append(back, q.job.Delivery.ID)
		}
		d.held -= len(l.queue)
		l.queue = nil
	}
	d.ready = nil
	d.mu.Unlock()
	if len(back) > 0 {
		d.released <- releaseReq{ids: back, dueAt: time.Now()}
	}
	d.sends.Wait()
	stopFlush()
	bg.Wait()
	return nil
}

func (d *Dispatcher) claimLoop(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	backoff := d.cfg.PollInterval
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
		full, err := d.claim(ctx)
		wait := d.cfg.PollInterval
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			d.cfg.Logger.Warn("claiming deliveries failed", "err", err, "retry_in", backoff)
			wait, backoff = backoff, min(backoff*2, 30*time.Second)
		case full:
			wait, backoff = 0, d.cfg.PollInterval // more is waiting
		default:
			backoff = d.cfg.PollInterval
		}
		timer.Reset(wait)
	}
}

// claimThreshold is the least room worth a claim query.
func (d *Dispatcher) claimThreshold() int {
	return max(1, min(d.cfg.ClaimBatch, d.cfg.Capacity)/4)
}

// claim leases as much due work as there is room for; it reports whether it
// got all it asked for.
func (d *Dispatcher) claim(ctx context.Context) (bool, error) {
	d.mu.Lock()
	room := d.cfg.Capacity - d.held
	d.mu.Unlock()
	if room < d.claimThreshold() {
		return false, nil // a finishing send wakes us when room returns
	}
	limit := min(room, d.cfg.ClaimBatch)
	now := time.Now()
	leaseUntil := now.Add(d.cfg.Lease)
	jobs, err := d.store.ClaimDeliveries(ctx, store.ClaimParams{Owner: d.cfg.Owner, Now: now, LeaseUntil: leaseUntil, Limit: limit})
	if err != nil {
		return false, err
	}
	d.Enqueue(jobs, leaseUntil)
	return len(jobs) == limit, nil
}

// completeLoop records finished sends in batches: what finishes within
// CompleteLinger of the first, or while the previous batch is written, goes
// into one transaction.
func (d *Dispatcher) completeLoop(ctx context.Context) {
	const maxBatch = 512
	batch := make([]store.Completion, 0, maxBatch)
	for {
		select {
		case c := <-d.completed:
			batch = append(batch, c)
		case <-ctx.Done():
			// Drain: sends have finished, so everything is in the channel.
			for {
				select {
				case c := <-d.completed:
					batch = append(batch, c)
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				d.flush(context.Background(), batch, 5)
			}
			return
		}
		// Gather a little longer: fewer, larger transactions (on SQLite each
		// is an fsync) at the cost of the log trailing by a few ms.
		linger := time.After(d.cfg.CompleteLinger)
	gather:
		for len(batch) < maxBatch {
			select {
			case c := <-d.completed:
				batch = append(batch, c)
			case <-linger:
				break gather
			case <-ctx.Done():
				break gather
			}
		}
		d.flush(ctx, batch, 0)
		batch = batch[:0]
	}
}

// flush writes a batch, retrying while the database is unavailable: the
// outcome of a sent delivery is kept until it is recorded or, with tries
// exhausted at shutdown, left to the lease (the delivery is sent again).
func (d *Dispatcher) flush(ctx context.Context, batch []store.Completion, tries int) {
	backoff := 100 * time.Millisecond
	defer d.recorded(len(batch))
	for i := 0; tries == 0 || i < tries; i++ {
		_, err := d.store.CompleteDeliveries(context.WithoutCancel(ctx), store.CompleteParams{Now: time.Now(), Completions: batch})
		if err == nil {
			return
		}
		d.cfg.Logger.Warn("recording delivery outcomes failed", "err", err, "count", len(batch))
		if errors.Is(ctx.Err(), context.Canceled) && tries == 0 {
			tries = i + 5 // shutting down: a few more tries, then give up
		}
		time.Sleep(backoff)
		backoff = min(backoff*2, 5*time.Second)
	}
	d.cfg.Logger.Error("gave up recording delivery outcomes; they will be sent again after their lease", "count", len(batch))
}

func (d *Dispatcher) releaseLoop(ctx context.Context) {
	for {
		select {
		case r := <-d.released:
			d.release(r)
		case <-ctx.Done():
			for {
				select {
				case r := <-d.released:
					d.release(r)
				default:
					return
				}
			}
		}
	}
}

func (d *Dispatcher) release(r releaseReq) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.store.ReleaseDeliveries(ctx, d.cfg.Owner, r.ids, r.dueAt); err != nil {
		d.cfg.Logger.Warn("handing deliveries back failed; their lease will expire", "err", err, "count", len(r.ids))
	}
}
