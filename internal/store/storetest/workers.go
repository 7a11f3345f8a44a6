package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

func testWorkers(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	newSub(t, s, ws, "https://example.com/a", "new_call")
	now := time.Now()
	renew := func(owner string, until time.Time, want bool) {
		t.Helper()
		if got := must[bool](t)(s.RenewWorker(ctx, owner, until)); got != want {
			t.Errorf("RenewWorker(%s) = %v, want %v", owner, got, want)
		}
	}
	reap := func(at time.Time, want int) {
		t.Helper()
		if got := must[int](t)(s.ReapWorkers(ctx, at)); got != want {
			t.Errorf("ReapWorkers at +%v handed back %d, want %d", at.Sub(now), got, want)
		}
	}
	renew("a", now.Add(5*time.Second), false) // first record
	renew("a", now.Add(5*time.Second), true)
	renew("b", now.Add(time.Hour), false)
	leased := func(owner string, n int) []store.Job {
		var events []store.NewEvent
		for range n {
			events = append(events, newEvent("new_call", "", ""))
		}
		return ingestReq(t, s, store.IngestParams{WorkspaceID: ws, Events: events,
			LeaseOwner: owner, LeaseUntil: now.Add(time.Hour)}).Jobs
	}
	ofA, ofB := leased("a", 2), leased("b", 1)
	if got := claim(t, s, "c", now.Add(time.Second), 10); len(got) != 0 {
		t.Fatalf("claimed %v while every delivery is leased", jobIDs(got))
	}

	reap(now.Add(time.Second), 0) // a is alive until +5s
	reap(now.Add(10*time.Second), 2)
	if got := jobIDs(claim(t, s, "c", now.Add(10*time.Second), 10)); !slices.Equal(got, jobIDs(ofA)) {
		t.Errorf("claim after a died = %v, want a's deliveries %v", got, jobIDs(ofA))
	}
	reap(now.Add(10*time.Second), 0) // a's record went with its leases
	renew("a", now.Add(15*time.Second), false)

	if got := must[int](t)(s.RetireWorker(ctx, "b")); got != 1 {
		t.Errorf("RetireWorker(b) handed back %d, want 1", got)
	}
	if got := jobIDs(claim(t, s, "c", now.Add(10*time.Second), 10)); !slices.Equal(got, jobIDs(ofB)) {
		t.Errorf("claim after b retired = %v, want b's delivery %v", got, jobIDs(ofB))
	}
	renew("b", now.Add(time.Hour), false)
	if got := must[int](t)(s.RetireWorker(ctx, "nobody")); got != 0 {
		t.Errorf("RetireWorker of an unknown owner handed back %d", got)
	}
}
