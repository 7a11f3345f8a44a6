package delivery

import (
	"slices"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/limiter"
)

// queuedReleases takes what waits for the release loop (without Run,
// nothing else does).
func (d *Dispatcher) queuedReleases() []releaseReq {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.releases
	d.releases = nil
	return r
}

func TestEnqueueOverflowIsReleased(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{LaneCapacity: 2, Limits: limiter.Config{Max: 1}})
	f.subscribe(t, "https://a.example.com/hook")
	leaseUntil := time.Now().Add(time.Hour)
	jobs := f.ingest(t, 5, leaseUntil)
	before := time.Now()
	f.d.Enqueue(jobs, leaseUntil)

	rs := f.d.queuedReleases()
	if len(rs) != 1 {
		t.Fatalf("%d releases queued, want 1", len(rs))
	}
	r := rs[0]
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

// TestEnqueueNeverWaitsForRelease: overflow is queued for the release loop,
// so Enqueue returns even when that loop does not run (ingest's goroutine
// must never wait on the database through it).
func TestEnqueueNeverWaitsForRelease(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{LaneCapacity: 1, Limits: limiter.Config{Max: 1}})
	f.subscribe(t, "https://a.example.com/hook")
	leaseUntil := time.Now().Add(time.Hour)
	const handoffs = 200 // more than any channel buffer the loop could have
	jobs := f.ingest(t, 2*handoffs, leaseUntil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range handoffs {
			f.d.Enqueue(jobs[2*i:2*i+2], leaseUntil)
		}
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("Enqueue blocked with the release loop not running")
	}
	if n := len(f.d.queuedReleases()); n != handoffs {
		t.Errorf("%d releases queued, want one per handoff (%d)", n, handoffs)
	}
}

// TestHasRoomRespectsLaneCapacity: with an endpoint's queue full, ingest is
// told not to lease (what it handed off would be released at once), and
// told again once the queue has room.
func TestHasRoomRespectsLaneCapacity(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{LaneCapacity: 2, Limits: limiter.Config{Max: 1}})
	f.subscribe(t, "https://a.example.com/hook")
	leaseUntil := time.Now().Add(time.Hour)
	f.d.Enqueue(f.ingest(t, 1, leaseUntil), leaseUntil)
	first := f.doer.next(t) // in flight: the queue is empty again
	f.d.Enqueue(f.ingest(t, 1, leaseUntil), leaseUntil)
	if !f.d.HasRoom() {
		t.Fatal("HasRoom = false with one of two queue slots used")
	}
	f.d.Enqueue(f.ingest(t, 1, leaseUntil), leaseUntil)
	if f.d.HasRoom() {
		t.Fatal("HasRoom = true with an endpoint's queue full")
	}
	first.reply <- 200 // the next one starts: the queue has a free slot
	f.d.nextCompletion(t)
	second := f.doer.next(t)
	if !f.d.HasRoom() {
		t.Fatal("HasRoom = false after the full queue moved on")
	}
	if rs := f.d.queuedReleases(); len(rs) != 0 {
		t.Errorf("released %v, want nothing (every handoff fitted)", rs)
	}
	second.reply <- 200
	f.d.nextCompletion(t)
	f.doer.next(t).reply <- 200
	f.d.nextCompletion(t)
}
