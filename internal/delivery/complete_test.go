package delivery

import (
	"fmt"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/store"
	"github.com/revdesk/webhooks/internal/testutil"
)

func TestCapacityHoldsBackWorkUntilRecorded(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{Capacity: 2, ClaimBatch: 8})
	f.subscribe(t, "https://a.example.com/hook")
	leaseUntil := time.Now().Add(time.Hour)
	jobs := f.ingest(t, 2, leaseUntil)
	if !f.d.HasRoom() {
		t.Fatal("HasRoom = false on an empty dispatcher")
	}
	f.d.Enqueue(jobs, leaseUntil)
	calls := []*call{f.doer.next(t), f.doer.next(t)}
	if f.d.HasRoom() {
		t.Fatal("HasRoom = true with capacity held")
	}
	// Outcomes not yet written still hold their room.
	for _, c := range calls {
		c.reply <- 200
	}
	cs := []store.Completion{f.d.nextCompletion(t), f.d.nextCompletion(t)}
	if f.d.HasRoom() {
		t.Fatal("HasRoom = true before the outcomes were recorded")
	}
	// Writing them frees the room.
	f.d.flush(t.Context(), cs)
	if !f.d.HasRoom() {
		t.Fatal("HasRoom = false after the outcomes were recorded")
	}
	for _, j := range jobs {
		if d, _ := f.delivery(t, j.Delivery.ID); d.Status != store.DeliverySucceeded {
			t.Errorf("delivery %s is %s, want succeeded", j.Delivery.ID, d.Status)
		}
	}
}

func TestRunRetriesRecordingOutcomes(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{RetrySchedule: []time.Duration{time.Hour}})
	f.st.failCompletes.Store(2)
	f.subscribe(t, "https://a.example.com/hook")
	jobs := f.ingest(t, 2, time.Time{})
	stop := f.run(t)
	f.doer.next(t).reply <- 200
	f.doer.next(t).reply <- 503
	testutil.Eventually(t, waitTimeout, func() (bool, string) {
		n := f.st.completes.Load()
		return n >= 3, fmt.Sprintf("CompleteDeliveries called %d times, want retries after 2 failures", n)
	})
	stop()
	statuses := map[string]int{}
	for _, j := range jobs {
		d, as := f.delivery(t, j.Delivery.ID)
		statuses[d.Status]++
		if len(as) != 1 {
			t.Errorf("delivery %s has %d attempts, want 1", j.Delivery.ID, len(as))
		}
		if d.Status == store.DeliveryPending && (d.NextAttemptAt == nil || time.Until(*d.NextAttemptAt) < 30*time.Minute) {
			t.Errorf("retry of %s due at %v, want about an hour from now", j.Delivery.ID, d.NextAttemptAt)
		}
	}
	if statuses[store.DeliverySucceeded] != 1 || statuses[store.DeliveryPending] != 1 {
		t.Errorf("statuses %v, want one succeeded and one pending", statuses)
	}
	f.obs.mu.Lock()
	defer f.obs.mu.Unlock()
	if len(f.obs.statuses) != 2 {
		t.Errorf("observer saw %v, want 2 attempts", f.obs.statuses)
	}
}
