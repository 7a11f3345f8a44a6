package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestReserveSpacing(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	tests := []struct {
		name  string
		rate  float64
		share int
		at    []time.Duration // reserve times, from t0
		want  []time.Duration // waits
	}{
		{"one process, 10/s", 10, 1, []time.Duration{0, 0, 0, 0}, []time.Duration{0, 100 * ms, 200 * ms, 300 * ms}},
		{"two processes halve it", 10, 2, []time.Duration{0, 0, 0}, []time.Duration{0, 200 * ms, 400 * ms}},
		{"slots pass while idle, no burst builds", 10, 1, []time.Duration{0, time.Second, time.Second},
			[]time.Duration{0, 0, 100 * ms}},
		{"fractional rate", 0.5, 1, []time.Duration{0, 0}, []time.Duration{0, 2 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := New()
			p.SetShare(tc.share)
			for i, at := range tc.at {
				wait, _ := p.Reserve("whk_1", tc.rate, t0.Add(at))
				if d := wait - tc.want[i]; d > ms || d < -ms {
					t.Errorf("reserve %d at +%v: wait %v, want %v", i, at, wait, tc.want[i])
				}
			}
		})
	}
}

func TestReserveIsPerSubscriptionAndFollowsChanges(t *testing.T) {
	t.Parallel()
	p := New()
	now := time.Now()
	p.Reserve("whk_a", 1, now)
	if wait, _ := p.Reserve("whk_b", 1, now); wait != 0 {
		t.Errorf("another subscription waits %v behind the first", wait)
	}
	// Cancelling gives the slot back to the next caller.
	wait, cancel := p.Reserve("whk_a", 1, now)
	cancel()
	if again, _ := p.Reserve("whk_a", 1, now); again > wait {
		t.Errorf("after a cancel the next waits %v, more than the cancelled %v", again, wait)
	}
	// A raised limit (PATCH) applies to the next slot.
	q := New()
	q.Reserve("whk_c", 1, now)
	if wait, _ := q.Reserve("whk_c", 100, now); wait > 20*time.Millisecond {
		t.Errorf("after raising the rate to 100/s the next waits %v", wait)
	}
}

type fakeCounter struct {
	n   chan int
	err error
}

func (c *fakeCounter) LiveWorkers(ctx context.Context, _ time.Time) (int, error) {
	select {
	case n := <-c.n:
		return n, c.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func TestPeersSetsShare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		count int
		err   error
		want  int
	}{
		{"three processes", 3, nil, 3},
		{"none recorded yet counts as one", 0, nil, 1},
		{"a failed count keeps the share", 5, errors.New("down"), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := New()
			p.SetShare(2)
			c := &fakeCounter{n: make(chan int), err: tc.err}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error)
			go func() { done <- (&Peers{Counter: c, Pacer: p, Interval: time.Millisecond}).Run(ctx) }()
			c.n <- tc.count // the first count
			c.n <- tc.count // the second begins only once the first was applied
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := p.Share(); got != tc.want {
				t.Errorf("share = %d, want %d", got, tc.want)
			}
		})
	}
}
