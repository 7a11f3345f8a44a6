package delivery

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/limiter"
	"github.com/revdesk/webhooks/internal/testutil"
)

func TestClaimTakesNoMoreThanCapacity(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{Capacity: 4, ClaimBatch: 100, PollInterval: 20 * time.Millisecond})
	f.subscribe(t, "https://a.example.com/hook")
	f.ingest(t, 10, time.Time{}) // unleased: Run must claim them
	stop := f.run(t)

	var calls []*call
	for range 4 {
		calls = append(calls, f.doer.next(t))
	}
	f.doer.none(t)
	f.st.mu.Lock()
	limits := slices.Clone(f.st.claimLimits)
	f.st.mu.Unlock()
	t.Logf("claim limits %v", limits)
	if len(limits) == 0 || limits[0] != 4 || slices.Max(limits) > 4 {
		t.Errorf("claim limits %v, want the first to ask for the room (4) and none for more", limits)
	}
	if f.d.HasRoom() {
		t.Error("HasRoom = true with capacity held")
	}
	// Room returning brings the rest in.
	for _, c := range calls {
		c.reply <- 200
	}
	for range 6 {
		f.doer.next(t).reply <- 200
	}
	stop()
	count, _, err := f.st.PendingStats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if count != 0 {
		t.Errorf("%d deliveries still pending, want all 10 sent and recorded", count)
	}
}

// TestClaimBacksOffWhenNothingFits: a claim whose work all goes back (the
// endpoint's queue is full) waits for the poll interval instead of claiming
// and handing back the rest of the backlog at once.
func TestClaimBacksOffWhenNothingFits(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{LaneCapacity: 1, Limits: limiter.Config{Max: 1}, ClaimBatch: 1, PollInterval: time.Hour})
	f.subscribe(t, "https://a.example.com/hook")
	f.ingest(t, 20, time.Time{}) // unleased: Run must claim them
	quit := make(chan struct{})
	t.Cleanup(func() { close(quit) }) // runs after the dispatcher's stop: cleanups run last in, first out
	f.run(t)
	// Claims of one: the first goes in flight, the second fills the queue,
	// the third goes back.
	inFlight := f.doer.next(t)
	testutil.Eventually(t, waitTimeout, func() (bool, string) {
		n := len(f.st.releasedIDs())
		return n == 1, fmt.Sprintf("%d handed back, want the third claim's 1", n)
	})
	// A claimer that did not back off would claim the next batch within
	// milliseconds (each claim is one SQLite statement); 100 ms cannot miss it.
	f.doer.none(t)
	f.st.mu.Lock()
	claims := len(f.st.claimLimits)
	f.st.mu.Unlock()
	if claims != 3 {
		t.Errorf("%d claims, want 3: two taken and the one that all went back", claims)
	}
	inFlight.reply <- 200
	// The queued delivery goes in flight next; answer it and any later one,
	// or the stop at cleanup would wait out its deadline on a request
	// nobody answers.
	go func() {
		for {
			select {
			case c := <-f.doer.started:
				c.reply <- 200
			case <-quit:
				return
			}
		}
	}()
}
