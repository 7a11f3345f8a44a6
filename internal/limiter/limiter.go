// Package limiter decides, for one receiving endpoint, how many requests may
// be in flight to it and when it must be left alone.
//
// The concurrency limit follows TCP congestion control: slow start, then
// additive increase / multiplicative decrease (AIMD, RFC 5681; the increase
// is a tenth of the limit per round trip once that is more than one), with the
// delay signal of TCP Vegas (Brakmo and Peterson, 1995) as used by Netflix's
// concurrency-limits: the limit grows while the smoothed latency stays near
// the endpoint's no-load latency (its recent minimum) and is cut when the
// latency climbs (in proportion, as their gradient limit), on timeouts,
// connection errors and 5xx. A 429 or 503 is
// the receiver asking us to slow down: the endpoint pauses (until
// Retry-After, capped, or for an exponentially growing time) and ramps up
// again from one request.
//
// Hand-written rather than taken from github.com/platinummonkey/go-concurrency-limits:
// that library has no notion of pausing an endpoint (half of what an
// endpoint's state is here), each of its limits carries its own mutex and
// metric sampler where the dispatcher already holds one lock over all its
// lanes, and its Vegas limit reads any sub-millisecond jitter of a fast
// receiver as queueing (there is no absolute slack), which would throttle
// exactly the receivers that are fast today.
//
// An Endpoint is not safe for concurrent use: its owner serialises calls
// (the dispatcher calls it under its own lock). Time is always passed in,
// so tests drive it with a fake clock.
package limiter

import (
	"math"
	"time"
)

// DefaultMax is the default ceiling of an endpoint's limit.
const DefaultMax = 1000

// Config tunes the endpoints made from it. Zero values take the defaults
// noted.
type Config struct {
	Initial int // limit of an endpoint never seen before; default 8
	Max     int // ceiling of the limit (--max-per-endpoint); default DefaultMax
	// Latency near the baseline is at most Tolerance×baseline+Slack: the
	// slack keeps the scheduling jitter of sub-millisecond receivers from
	// reading as queueing. Defaults 2 and 5 ms.
	Tolerance float64
	Slack     time.Duration
	// BaselineWindow is how long a minimum latency stays the baseline, so a
	// receiver that became slower for good is measured anew; default 30 s.
	BaselineWindow time.Duration
	// PauseBase is the first pause on a 429 or 503 without Retry-After,
	// doubled on each following one without a success in between; PauseMax
	// caps every pause, Retry-After included. Defaults 100 ms (a few round
	// trips of a typical receiver) and 1 min.
	PauseBase time.Duration
	PauseMax  time.Duration
}

// WithDefaults fills in the zero values.
func (c Config) WithDefaults() Config {
	if c.Initial <= 0 {
		c.Initial = 8
	}
	if c.Max <= 0 {
		c.Max = DefaultMax
	}
	c.Initial = min(c.Initial, c.Max)
	if c.Tolerance < 1 {
		c.Tolerance = 2
	}
	if c.Slack <= 0 {
		c.Slack = 5 * time.Millisecond
	}
	if c.BaselineWindow <= 0 {
		c.BaselineWindow = 30 * time.Second
	}
	if c.PauseBase <= 0 {
		c.PauseBase = 100 * time.Millisecond
	}
	if c.PauseMax <= 0 {
		c.PauseMax = time.Minute
	}
	return c
}

// Outcome is what an answer says about the endpoint's load.
type Outcome int

const (
	// Success: a 2xx, or an answer that says nothing about load (another
	// 4xx, a redirect).
	Success Outcome = iota
	// Overload: a timeout, a connection error or a 5xx other than 503.
	Overload
	// SlowDown: a 429 or a 503, the receiver asking for less.
	SlowDown
)

// Sample is one finished request.
type Sample struct {
	Start      time.Time // when it was sent
	Latency    time.Duration
	Outcome    Outcome
	RetryAfter time.Duration // with SlowDown: the receiver's Retry-After; 0 if none
}

// State is an endpoint's state for display.
type State struct {
	Limit       int
	InFlight    int
	Latency     time.Duration // smoothed
	Baseline    time.Duration // no-load estimate
	PausedUntil time.Time     // zero when not paused
}

// Endpoint is one endpoint's limit and pause.
type Endpoint struct {
	cfg      *Config
	limit    float64
	ssthresh float64 // slow start below it, additive increase above (RFC 5681)
	inFlight int
	srtt     time.Duration // smoothed latency, 1/8 weight as TCP's SRTT
	// The baseline is the least latency of this window and the previous one.
	minCur, minPrev time.Duration
	windowEnd       time.Time
	// lastCut: answers to requests sent before it belong to the window that
	// was already cut, so one overload cuts once (as TCP per round trip).
	lastCut     time.Time
	pausedUntil time.Time
	pauses      int // pauses since the last success
}

// NewEndpoint makes an endpoint's state; cfg has its defaults applied and
// is shared, not copied.
func NewEndpoint(cfg *Config) *Endpoint {
	return &Endpoint{cfg: cfg, limit: float64(cfg.Initial), ssthresh: float64(cfg.Max)}
}

// Limit is the current concurrency limit.
func (e *Endpoint) Limit() int { return max(1, int(e.limit)) }

// InFlight is the number of requests started and not done.
func (e *Endpoint) InFlight() int { return e.inFlight }

// PausedUntil is when a pause ends; zero or past when not paused.
func (e *Endpoint) PausedUntil() time.Time { return e.pausedUntil }

// Allowed reports whether one more request may start now.
func (e *Endpoint) Allowed(now time.Time) bool {
	return e.inFlight < e.Limit() && !now.Before(e.pausedUntil)
}

// Start counts a request as sent.
func (e *Endpoint) Start() { e.inFlight++ }

// Abandon uncounts a started request that never reached the endpoint.
func (e *Endpoint) Abandon() { e.inFlight-- }

// Idle reports whether the endpoint holds nothing worth keeping at now: no
// request in flight and no pause.
func (e *Endpoint) Idle(now time.Time) bool {
	return e.inFlight == 0 && !now.Before(e.pausedUntil)
}

// Done records a finished request at now. It returns the end of a pause
// that this answer started or lengthened, or the zero time.
func (e *Endpoint) Done(now time.Time, s Sample) time.Time {
	used := e.inFlight // in flight while it ran, itself included
	e.inFlight--
	switch s.Outcome {
	case SlowDown:
		return e.slowDown(now, s)
	case Overload:
		// A timeout's latency is the timeout, not the receiver's: it is
		// kept out of the latency estimates.
		e.cut(now, s.Start, 0.5)
		return time.Time{}
	}
	e.pauses = 0
	e.observe(now, s.Latency)
	if s.Start.Before(e.lastCut) {
		// Sent before the last cut: its window is judged already, and
		// growing on it would undo the cut (TCP's fast recovery).
		return time.Time{}
	}
	if near := time.Duration(e.cfg.Tolerance*float64(e.baseline())) + e.cfg.Slack; e.srtt > near {
		// Latency climbs: queueing at the receiver. Cut in proportion, as
		// Netflix's gradient limit does, by 10 % to half.
		e.cut(now, s.Start, min(0.9, max(0.5, float64(near)/float64(e.srtt))))
		return time.Time{}
	}
	// Grow only a limit in use, or an idle endpoint's would drift upwards.
	if float64(used) >= e.limit/2 {
		if e.limit < e.ssthresh {
			e.limit++ // slow start: doubles per round trip
		} else {
			// A tenth more per round trip, at least one (TCP's one alone):
			// one more per round trip would take a receiver at 50 ms a
			// minute to go from 100 to 1,000, and more than one at small
			// limits overshoots a receiver that sheds above a few.
			e.limit += max(1, e.limit/10) / e.limit
		}
		e.limit = math.Min(e.limit, float64(e.cfg.Max))
	}
	return time.Time{}
}

// slowDown pauses the endpoint and restarts it from one request, slow
// starting up to half of what it had.
func (e *Endpoint) slowDown(now time.Time, s Sample) time.Time {
	if !s.Start.Before(e.lastCut) { // the first such answer of this window
		e.pauses++
		e.ssthresh = math.Max(1, e.limit/2)
		e.limit = 1
		e.lastCut = now
	}
	d := s.RetryAfter
	if d <= 0 {
		d = e.cfg.PauseBase << min(max(e.pauses-1, 0), 16)
	}
	until := now.Add(min(d, e.cfg.PauseMax))
	if !until.After(e.pausedUntil) {
		return time.Time{}
	}
	e.pausedUntil = until
	return until
}

// cut lowers the limit by factor, once per window of requests.
func (e *Endpoint) cut(now, sent time.Time, factor float64) {
	if sent.Before(e.lastCut) {
		return
	}
	e.limit = math.Max(1, e.limit*factor)
	e.ssthresh = e.limit
	e.lastCut = now
}

func (e *Endpoint) observe(now time.Time, lat time.Duration) {
	if e.srtt == 0 {
		e.srtt = lat
	} else {
		e.srtt += (lat - e.srtt) / 8
	}
	if now.After(e.windowEnd) {
		e.minPrev, e.minCur = e.minCur, lat
		e.windowEnd = now.Add(e.cfg.BaselineWindow)
	} else if lat < e.minCur {
		e.minCur = lat
	}
}

func (e *Endpoint) baseline() time.Duration {
	if e.minPrev > 0 && e.minPrev < e.minCur {
		return e.minPrev
	}
	return e.minCur
}

// State is the endpoint's state at now.
func (e *Endpoint) State(now time.Time) State {
	st := State{Limit: e.Limit(), InFlight: e.inFlight, Latency: e.srtt, Baseline: e.baseline()}
	if now.Before(e.pausedUntil) {
		st.PausedUntil = e.pausedUntil
	}
	return st
}
