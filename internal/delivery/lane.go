package delivery

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/revdesk/webhooks/internal/limiter"
	"github.com/revdesk/webhooks/internal/store"
)

// lane holds one endpoint's queued deliveries and its adaptive limit (see
// package limiter): the limit follows the receiver's latency and errors, and
// a 429 or 503 pauses the whole lane. A lane outlives its queue by
// laneIdleTTL, so an endpoint's limit and pause survive gaps in traffic.
type lane struct {
	key       string
	queue     []queued
	ep        *limiter.Endpoint
	isReady   bool
	idleSince time.Time   // when it last had nothing queued or in flight
	resume    *time.Timer // ends a pause; nil until the first one
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

// laneKey is scheme://host:port of a webhook URL.
func laneKey(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + host + ":" + port
}

// laneFor returns the lane of an endpoint, made on first use. Caller holds mu.
func (d *Dispatcher) laneFor(key string) *lane {
	l := d.lanes[key]
	if l == nil {
		l = &lane{key: key, ep: limiter.NewEndpoint(&d.cfg.Limits)}
		d.lanes[key] = l
	}
	return l
}

// push queues a delivery on its lane, or reports false when the lane is
// full. Caller holds mu.
func (d *Dispatcher) push(l *lane, q queued, now time.Time) bool {
	if len(l.queue) >= d.cfg.LaneCapacity {
		return false
	}
	l.queue = append(l.queue, q)
	if len(l.queue) == d.cfg.LaneCapacity {
		d.fullLanes++
	}
	d.held++
	d.markReady(l, now)
	return true
}

// markReady puts a lane in the turn order if it can send. Caller holds mu.
func (d *Dispatcher) markReady(l *lane, now time.Time) {
	if !l.isReady && len(l.queue) > 0 && l.ep.Allowed(now) {
		l.isReady = true
		d.ready = append(d.ready, l)
	}
}

// pump starts sends, one lane at a time in turn, while slots are free.
// Caller holds mu.
func (d *Dispatcher) pump(now time.Time) {
	for d.inFlight < d.cfg.MaxInFlight && len(d.ready) > 0 {
		l := d.ready[0]
		d.ready = d.ready[1:]
		l.isReady = false
		if len(l.queue) == d.cfg.LaneCapacity {
			d.fullLanes--
		}
		q := l.queue[0]
		l.queue[0] = queued{} // the backing array must not keep the job alive
		l.queue = l.queue[1:]
		l.ep.Start()
		d.inFlight++
		d.markReady(l, now)
		d.sends.Add(1)
		go d.send(l, q)
	}
	if len(d.ready) == 0 {
		d.ready = nil // let the backing array go
	}
}

// dropQueued takes every queued delivery out of the lanes and returns their
// ids (draining). Caller holds mu.
func (d *Dispatcher) dropQueued() []string {
	var ids []string
	for _, l := range d.lanes {
		for _, q := range l.queue {
			ids = append(ids, q.job.Delivery.ID)
		}
		d.held -= len(l.queue)
		l.queue = nil
	}
	d.ready = nil
	d.fullLanes = 0
	return ids
}

func (d *Dispatcher) send(l *lane, q queued) {
	defer d.sends.Done()
	c, s, ok := d.process(q)
	now := time.Now()
	d.mu.Lock()
	d.inFlight--
	if !ok {
		d.held--
	}
	if s == nil {
		l.ep.Abandon() // nothing reached the endpoint: no news of it
	} else if until := l.ep.Done(now, *s); !until.IsZero() {
		d.pause(l, until, now)
	}
	d.markReady(l, now)
	if len(l.queue) == 0 && l.ep.InFlight() == 0 {
		l.idleSince = now
	}
	d.sweepLanes(now)
	d.pump(now)
	d.mu.Unlock()
	if ok {
		// The delivery stays counted in held until its outcome is written,
		// so outcomes that the database cannot take fast enough hold back
		// new work (no claims, no handoffs) instead of piling up here.
		d.complete(c)
	}
}

// pause holds a lane's sends until until, when its queue takes its turn
// again. Queued deliveries whose lease would run out before then are handed
// back, due then, rather than left to expire here. Caller holds mu.
func (d *Dispatcher) pause(l *lane, until, now time.Time) {
	wait := until.Sub(now)
	if l.resume == nil {
		l.resume = time.AfterFunc(wait, func() { d.resumeLane(l) })
	} else {
		l.resume.Reset(wait)
	}
	if l.isReady {
		d.ready = slices.DeleteFunc(d.ready, func(r *lane) bool { return r == l })
		l.isReady = false
	}
	var back []string
	kept := l.queue[:0]
	for _, q := range l.queue {
		if !d.covers(q.leaseUntil, until) {
			back = append(back, q.job.Delivery.ID)
			continue
		}
		kept = append(kept, q)
	}
	if len(back) == 0 {
		return
	}
	if len(l.queue) == d.cfg.LaneCapacity {
		d.fullLanes--
	}
	clear(l.queue[len(kept):])
	l.queue = kept
	d.held -= len(back)
	d.queueRelease(releaseReq{ids: back, dueAt: until})
}

// covers reports whether a lease ending at leaseUntil leaves time to send
// after a pause ending at until (process refuses to send on less).
func (d *Dispatcher) covers(leaseUntil, until time.Time) bool {
	return !leaseUntil.Before(until.Add(d.cfg.Timeout + time.Second))
}

// outlasts reports whether the lane is paused past what a lease ending at
// leaseUntil covers, and until when. Caller holds mu.
func (d *Dispatcher) outlasts(l *lane, leaseUntil, now time.Time) (time.Time, bool) {
	until := l.ep.PausedUntil()
	return until, now.Before(until) && !d.covers(leaseUntil, until)
}

func (d *Dispatcher) resumeLane(l *lane) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if until := l.ep.PausedUntil(); now.Before(until) {
		l.resume.Reset(until.Sub(now)) // lengthened meanwhile
		return
	}
	d.markReady(l, now)
	d.pump(now)
}

// laneIdleTTL is how long an idle lane keeps its endpoint's limit.
const laneIdleTTL = 5 * time.Minute

// sweepLanes forgets lanes idle for laneIdleTTL, at most once a minute.
// Caller holds mu.
func (d *Dispatcher) sweepLanes(now time.Time) {
	if now.Before(d.nextSweep) {
		return
	}
	d.nextSweep = now.Add(time.Minute)
	for k, l := range d.lanes {
		if len(l.queue) == 0 && l.ep.Idle(now) && now.Sub(l.idleSince) > laneIdleTTL {
			delete(d.lanes, k)
		}
	}
}

// sample is what an attempt tells the endpoint's limiter; nil when the
// request never reached it (refused by the guard, not buildable).
func sample(r *result, now time.Time, retryAfterCap time.Duration) *limiter.Sample {
	a := &r.attempt
	s := &limiter.Sample{Start: a.At, Latency: a.Latency}
	switch code := a.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		s.Outcome = limiter.SlowDown
		s.RetryAfter, _ = retryAfter(r.header, now, retryAfterCap)
	case code >= 500:
		s.Outcome = limiter.Overload
	case code != 0:
	case a.ErrorClass != "" && !r.forbidden: // no response at all
		s.Outcome = limiter.Overload // timeouts, refused and reset connections
	default:
		return nil
	}
	return s
}

// EndpointState is an endpoint's state in this process: each process of a
// PostgreSQL deployment holds its own, for the deliveries it sends.
type EndpointState struct {
	Endpoint string // scheme://host:port
	limiter.State
	Queued int
}

// EndpointOf is the endpoint (scheme://host:port) a webhook URL is sent
// to, or "" when it does not parse.
func EndpointOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return laneKey(u)
}

// Endpoints is the state of every endpoint this process holds, busiest
// (in flight and queued) first.
func (d *Dispatcher) Endpoints() []EndpointState {
	now := time.Now()
	d.mu.Lock()
	out := make([]EndpointState, 0, len(d.lanes))
	for k, l := range d.lanes {
		out = append(out, EndpointState{Endpoint: k, State: l.ep.State(now), Queued: len(l.queue)})
	}
	d.mu.Unlock()
	slices.SortFunc(out, func(a, b EndpointState) int {
		if c := (b.InFlight + b.Queued) - (a.InFlight + a.Queued); c != 0 {
			return c
		}
		return strings.Compare(a.Endpoint, b.Endpoint)
	})
	return out
}

// EndpointStates is the state of the endpoints named, in that order; one
// this process holds nothing for is at its initial state.
func (d *Dispatcher) EndpointStates(endpoints []string) []EndpointState {
	now := time.Now()
	out := make([]EndpointState, len(endpoints))
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, k := range endpoints {
		out[i] = EndpointState{Endpoint: k, State: limiter.State{Limit: d.cfg.Limits.Initial}}
		if l := d.lanes[k]; l != nil {
			out[i].State, out[i].Queued = l.ep.State(now), len(l.queue)
		}
	}
	return out
}
