package delivery

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/limiter"
	"github.com/revdesk/webhooks/internal/store"
)

// shutdownWithin shuts the dispatcher down with the given deadline and
// checks that Shutdown and Run return promptly after it, with the
// deadline's error.
func shutdownWithin(t *testing.T, f *fixture, runDone <-chan error, deadline time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	shutDone := make(chan error, 1)
	go func() { shutDone <- f.d.Shutdown(ctx) }()
	for _, c := range []<-chan error{shutDone, runDone} {
		select {
		case err := <-c:
			if c == shutDone && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Shutdown: %v, want the deadline's error", err)
			}
		case <-time.After(waitTimeout):
			t.Fatal("the drain went past its deadline")
		}
	}
	t.Logf("stopped %v after Shutdown began (deadline %v)", time.Since(start), deadline)
}

func startRun(t *testing.T, f *fixture) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f.d.Run(t.Context()) }()
	return done
}

// TestShutdownDeadlineCutsRequests: a receiver that never answers cannot
// hold the drain past its deadline; the request cut short is not counted as
// an attempt (its delivery stays pending, untried, for whoever comes next).
func TestShutdownDeadlineCutsRequests(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{Timeout: time.Hour, Lease: 2 * time.Hour})
	f.subscribe(t, "https://a.example.com/hook")
	leaseUntil := time.Now().Add(2 * time.Hour)
	jobs := f.ingest(t, 1, leaseUntil)
	runDone := startRun(t, f)
	f.d.Enqueue(jobs, leaseUntil)
	f.doer.next(t) // never answered
	shutdownWithin(t, f, runDone, 200*time.Millisecond)
	if d, as := f.delivery(t, jobs[0].Delivery.ID); d.Status != store.DeliveryPending || d.Attempts != 0 || len(as) != 0 {
		t.Errorf("delivery cut short is %s with %d attempts, want pending with none", d.Status, d.Attempts)
	}
	f.obs.mu.Lock()
	defer f.obs.mu.Unlock()
	if len(f.obs.statuses) != 0 {
		t.Errorf("observer saw %v for a request cut short", f.obs.statuses)
	}
}

// TestShutdownWithHungDatabase: outcomes the database does not take, more
// of them than the dispatcher's capacity (one handoff may exceed it), hold
// neither the sends nor the drain past its deadline.
func TestShutdownWithHungDatabase(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{Capacity: 2, Limits: limiter.Config{Max: 16}})
	f.st.hangCompletes.Store(true)
	f.subscribe(t, "https://a.example.com/hook")
	leaseUntil := time.Now().Add(time.Hour)
	jobs := f.ingest(t, 10, leaseUntil)
	runDone := startRun(t, f)
	f.d.Enqueue(jobs, leaseUntil) // five times the capacity
	for range jobs {
		f.doer.next(t).reply <- 200
	}
	shutdownWithin(t, f, runDone, 300*time.Millisecond)
	if n := f.st.completes.Load(); n == 0 {
		t.Error("no outcome was offered to the database")
	}
}
