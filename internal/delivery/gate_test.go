package delivery

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

// limit sets a subscription's rate_limit.
func (f *fixture) limit(t *testing.T, sub store.Subscription, perSecond float64) {
	t.Helper()
	if _, err := f.st.UpdateSubscription(t.Context(), store.UpdateSubscriptionParams{WorkspaceID: f.ws, ID: sub.ID,
		RateLimit: &perSecond, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// TestPacedDeliveriesWaitOutsideTheLane: deliveries waiting for their
// subscription's rate do not hold back another subscription's deliveries to
// the same endpoint, and go out at their slots.
func TestPacedDeliveriesWaitOutsideTheLane(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{})
	f.limit(t, f.subscribe(t, "https://a.example.com/paced"), 5) // a slot every 200 ms
	f.subscribe(t, "https://a.example.com/free")
	leaseUntil := time.Now().Add(time.Hour)
	jobs := f.ingest(t, 3, leaseUntil)
	start := time.Now()
	f.d.Enqueue(jobs, leaseUntil)
	var order []string
	var pacedAt []time.Duration
	for range 6 {
		c := f.doer.next(t)
		order = append(order, c.req.URL.Path)
		if c.req.URL.Path == "/paced" {
			pacedAt = append(pacedAt, time.Since(start))
		}
		c.reply <- 200
	}
	if free := slices.Index(order, "/free"); slices.Contains(order[4:], "/free") || free < 0 {
		t.Errorf("request order %v: the free subscription's deliveries waited behind paced ones", order)
	}
	// Lower bounds only: a loaded machine can make them later, never earlier.
	for i, at := range pacedAt {
		if min := time.Duration(i) * 180 * time.Millisecond; at < min {
			t.Errorf("paced delivery %d sent after %v, before its slot at %v", i, at, min)
		}
	}
}

// TestFarSlotsAreHandedBack: a delivery whose slot is more than
// maxPaceHold away goes back to the store, due about at its slot, and the
// ones after it a slot apart.
func TestFarSlotsAreHandedBack(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{})
	f.limit(t, f.subscribe(t, "https://a.example.com/slow"), 1)
	leaseUntil := time.Now().Add(time.Hour)
	jobs := f.ingest(t, 8, leaseUntil)
	start := time.Now()
	f.d.Enqueue(jobs, leaseUntil)
	rs := f.d.queuedReleases()
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ids...)
	}
	// Slots at 0, 1, …, 7 s: up to 5 s is held, 6 s and 7 s go back.
	want := []string{jobs[6].Delivery.ID, jobs[7].Delivery.ID}
	if !slices.Equal(ids, want) {
		t.Fatalf("handed back %v, want the last two %v", ids, want)
	}
	for i, r := range rs {
		slot := start.Add(time.Duration(6+i) * time.Second)
		if d := r.dueAt.Sub(slot); d < -100*time.Millisecond || d > 500*time.Millisecond {
			t.Errorf("handed back due %v after start, want about %v", r.dueAt.Sub(start), slot.Sub(start))
		}
	}
	if c := f.doer.next(t); !strings.HasSuffix(c.req.URL.Path, "/slow") {
		t.Errorf("first request to %s", c.req.URL)
	} else {
		c.reply <- 200
	}
}
