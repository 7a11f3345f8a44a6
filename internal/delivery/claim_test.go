package delivery

import (
	"slices"
	"testing"
	"time"
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
