package limiter

import (
	"testing"
	"time"
)

// clock is a fake clock: tests move it by hand.
type clock struct{ now time.Time }

func (c *clock) advance(d time.Duration) time.Time { c.now = c.now.Add(d); return c.now }

func setup(t *testing.T, cfg Config) (*Endpoint, *clock) {
	t.Helper()
	c := cfg.WithDefaults()
	return NewEndpoint(&c), &clock{now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
}

// round sends as many requests as the endpoint allows, lets latency pass
// and finishes them all with outcome; it returns how many were sent.
func round(e *Endpoint, c *clock, latency time.Duration, outcome Outcome, retryAfter time.Duration) int {
	start := c.now
	n := 0
	for e.Allowed(c.now) {
		e.Start()
		n++
	}
	c.advance(latency)
	for range n {
		e.Done(c.now, Sample{Start: start, Latency: latency, Outcome: outcome, RetryAfter: retryAfter})
	}
	return n
}

// traffic keeps the endpoint busy for d as a dispatcher would: each answer
// comes latency after its request, and every answer is followed at once by
// as many new requests as the endpoint allows. Requests still out at the
// end are answered without new ones. It returns how many were sent.
func traffic(e *Endpoint, c *clock, d, latency time.Duration, outcome Outcome) int {
	end := c.now.Add(d)
	var out []time.Time // send times, answered in this order
	sent := 0
	fill := func() {
		for e.Allowed(c.now) {
			e.Start()
			out = append(out, c.now)
			sent++
		}
	}
	fill()
	for len(out) > 0 {
		if at := out[0].Add(latency); at.After(c.now) {
			c.now = at
		}
		e.Done(c.now, Sample{Start: out[0], Latency: latency, Outcome: outcome})
		out = out[1:]
		if c.now.Before(end) {
			fill()
		}
	}
	return sent
}

func TestGrowsWhileLatencyHolds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		latency time.Duration
	}{
		{"receiver at 50 ms", 50 * time.Millisecond},
		{"fast receiver", 300 * time.Microsecond},
		{"slow healthy receiver", 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, c := setup(t, Config{})
			if e.Limit() != 8 {
				t.Fatalf("initial limit %d, want 8", e.Limit())
			}
			// Slow start: the limit doubles per round trip.
			traffic(e, c, 4*tt.latency, tt.latency, Success)
			if e.Limit() < 8<<3 {
				t.Fatalf("limit %d after 4 round trips at %s, want at least %d", e.Limit(), tt.latency, 8<<3)
			}
		})
	}
}

// Past a cut the limit grows by a tenth per round trip (at least one): fast
// enough for a receiver that takes hundreds in flight, gentler than slow
// start, and one at a time at small limits.
func TestGrowthAfterACut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rounds   int // of slow start before the cut
		min, max float64
	}{
		{"large limit: a tenth per round trip", 5, 1.10 * 1.10 * 1.10 * 0.9, 1.10 * 1.10 * 1.10 * 1.15},
		{"small limit: one per round trip", 1, 1.2, 1.8}, // cut to about 5, then +1 a round trip
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, c := setup(t, Config{})
			const rtt = 50 * time.Millisecond
			traffic(e, c, time.Duration(tt.rounds)*rtt, rtt, Success)
			round(e, c, rtt, Overload, 0)
			cut := e.Limit()
			traffic(e, c, 3*rtt, rtt, Success)
			ratio := float64(e.Limit()) / float64(cut)
			t.Logf("limit %d after the cut, %d after 3 round trips", cut, e.Limit())
			if ratio < tt.min || ratio > tt.max {
				t.Fatalf("limit %d → %d in 3 round trips (×%.2f), want ×%.2f to ×%.2f", cut, e.Limit(), ratio, tt.min, tt.max)
			}
		})
	}
}

func TestCeiling(t *testing.T) {
	t.Parallel()
	e, c := setup(t, Config{Max: 40})
	traffic(e, c, time.Second, 10*time.Millisecond, Success)
	if e.Limit() != 40 {
		t.Fatalf("limit %d, want the ceiling 40", e.Limit())
	}
	if n := round(e, c, 10*time.Millisecond, Success, 0); n != 40 {
		t.Fatalf("%d requests in flight, want 40", n)
	}
}

func TestUnusedLimitDoesNotGrow(t *testing.T) {
	t.Parallel()
	e, c := setup(t, Config{})
	for range 100 {
		e.Start()
		c.advance(10 * time.Millisecond)
		e.Done(c.now, Sample{Start: c.now.Add(-10 * time.Millisecond), Latency: 10 * time.Millisecond})
	}
	if e.Limit() != 8 {
		t.Fatalf("limit %d after one request at a time, want it unchanged at 8", e.Limit())
	}
}

func TestShrinksWhenLatencyClimbs(t *testing.T) {
	t.Parallel()
	e, c := setup(t, Config{})
	traffic(e, c, 250*time.Millisecond, 50*time.Millisecond, Success)
	grown := e.Limit()
	traffic(e, c, 4*time.Second, 400*time.Millisecond, Success)
	if e.Limit() >= grown/2 {
		t.Fatalf("limit %d after latency climbed 50 → 400 ms, want well below %d", e.Limit(), grown)
	}
	// Healthy again: it grows again (additively now).
	low := e.Limit()
	traffic(e, c, 2*time.Second, 50*time.Millisecond, Success)
	if e.Limit() <= low+10 {
		t.Fatalf("limit %d after recovery, want well above %d", e.Limit(), low)
	}
}

func TestPermanentlySlowerReceiverIsMeasuredAnew(t *testing.T) {
	t.Parallel()
	e, c := setup(t, Config{BaselineWindow: 10 * time.Second})
	traffic(e, c, 100*time.Millisecond, 20*time.Millisecond, Success)
	// Cut while 20 ms is the baseline, then two windows pass.
	traffic(e, c, 25*time.Second, 300*time.Millisecond, Success)
	low := e.Limit()
	traffic(e, c, 10*time.Second, 300*time.Millisecond, Success)
	if e.Limit() <= low+10 {
		t.Fatalf("limit %d at a steady 300 ms, want growth well above %d once 300 ms is the baseline", e.Limit(), low)
	}
}

func TestCutOncePerWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		outcome Outcome
		factor  float64
	}{
		{"overload halves", Overload, 0.5},
		{"slow-down restarts from one", SlowDown, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, c := setup(t, Config{})
			traffic(e, c, 30*time.Millisecond, 10*time.Millisecond, Success)
			before := e.Limit()
			if n := round(e, c, 10*time.Millisecond, tt.outcome, 0); n != before {
				t.Fatalf("%d in flight, want %d", n, before)
			}
			if want := max(1, int(float64(before)*tt.factor)); e.Limit() != want {
				t.Fatalf("limit %d after %d answers, want %d", e.Limit(), before, want)
			}
		})
	}
}

func TestSlowDownPausesTheEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter time.Duration
		wantPause  time.Duration
	}{
		{"Retry-After honoured", 3 * time.Second, 3 * time.Second},
		{"Retry-After capped", time.Hour, time.Minute},
		{"no Retry-After: first pause", 0, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, c := setup(t, Config{})
			traffic(e, c, 30*time.Millisecond, 10*time.Millisecond, Success)
			round(e, c, 10*time.Millisecond, SlowDown, tt.retryAfter)
			until := e.PausedUntil()
			if got := until.Sub(c.now); got != tt.wantPause {
				t.Fatalf("paused for %s, want %s", got, tt.wantPause)
			}
			if e.Allowed(c.now) || e.Allowed(until.Add(-time.Nanosecond)) {
				t.Fatal("a request is allowed during the pause")
			}
			if st := e.State(c.now); st.PausedUntil != until || st.Limit != 1 {
				t.Fatalf("state %+v, want paused until %s at limit 1", st, until)
			}
			c.now = until
			// Ramps up from one request: a handful, not the backlog.
			for i, want := range []int{1, 2} {
				if n := round(e, c, 10*time.Millisecond, Success, 0); n != want {
					t.Fatalf("%d requests in round %d after the pause, want %d", n, i+1, want)
				}
			}
		})
	}
}

func TestPauseGrowsExponentiallyUntilASuccess(t *testing.T) {
	t.Parallel()
	e, c := setup(t, Config{})
	for _, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond} {
		round(e, c, 10*time.Millisecond, SlowDown, 0)
		if got := e.PausedUntil().Sub(c.now); got != want {
			t.Fatalf("pause %s, want %s", got, want)
		}
		c.now = e.PausedUntil()
	}
	round(e, c, 10*time.Millisecond, Success, 0)
	round(e, c, 10*time.Millisecond, SlowDown, 0)
	if got := e.PausedUntil().Sub(c.now); got != 100*time.Millisecond {
		t.Fatalf("pause after a success %s, want 100ms again", got)
	}
}

// An answer sent before a pause can come back after a success reset the
// count of pauses.
func TestLateSlowDownAfterASuccess(t *testing.T) {
	t.Parallel()
	e, c := setup(t, Config{})
	sent := c.now
	e.Start()
	e.Start()
	e.Start()
	e.Done(c.advance(time.Millisecond), Sample{Start: sent, Outcome: SlowDown})
	e.Done(c.advance(time.Millisecond), Sample{Start: sent, Latency: 2 * time.Millisecond})
	e.Done(c.advance(time.Millisecond), Sample{Start: sent, Outcome: SlowDown})
	if got := e.PausedUntil().Sub(c.now); got != 100*time.Millisecond {
		t.Fatalf("pause %s, want the first pause, 100ms", got)
	}
}

func TestIdle(t *testing.T) {
	t.Parallel()
	e, c := setup(t, Config{})
	if !e.Idle(c.now) {
		t.Fatal("a new endpoint is not idle")
	}
	e.Start()
	if e.Idle(c.now) {
		t.Fatal("idle with a request in flight")
	}
	e.Done(c.advance(time.Millisecond), Sample{Start: c.now, Outcome: SlowDown, RetryAfter: time.Second})
	if e.Idle(c.now) {
		t.Fatal("idle while paused")
	}
	if !e.Idle(c.advance(time.Second)) {
		t.Fatal("not idle once the pause ended")
	}
}
