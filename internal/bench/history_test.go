package bench

import (
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/server"
	"github.com/revdesk/webhooks/internal/store"
)

// TestFillHistory: the history written is what it says (that many
// deliveries over the workspaces, every status, attempts with them) and
// the service reads it.
func TestFillHistory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := server.OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	subs, err := historySubscriptions(ctx, st, now.Add(-historySpan))
	if err != nil {
		t.Fatal(err)
	}
	const n = 4000
	res, err := fillHistory(ctx, st, subs, n, now, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deliveries != n || res.DatabaseBytes <= 0 || len(res.Queries) != 4 {
		t.Errorf("result = %+v, want %d deliveries, a size, 4 queries", res, n)
	}
	total, statuses := 0, map[string]int{}
	for _, list := range subs {
		ds, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{WorkspaceID: list[0].WorkspaceID})
		if err != nil {
			t.Fatal(err)
		}
		total += len(ds)
		for _, d := range ds {
			statuses[d.Status]++
			if d.CreatedAt.Before(now.Add(-historySpan)) || d.CreatedAt.After(now) {
				t.Fatalf("delivery %s created at %v, outside the week before %v", d.ID, d.CreatedAt, now)
			}
		}
	}
	if total != n {
		t.Errorf("%d deliveries listed, want %d", total, n)
	}
	for _, status := range []string{store.DeliverySucceeded, store.DeliveryFailed, store.DeliverySkipped, store.DeliveryPending} {
		if statuses[status] == 0 {
			t.Errorf("no %s deliveries in %v", status, statuses)
		}
	}
	// A failed delivery has its three attempts, the first inline on SQLite.
	failed, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{WorkspaceID: subs[0][0].WorkspaceID,
		Status: store.DeliveryFailed, Limit: 1})
	if err != nil || len(failed) != 1 {
		t.Fatalf("failed deliveries: %v, %v", failed, err)
	}
	if _, as, err := st.GetDelivery(ctx, failed[0].WorkspaceID, failed[0].ID); err != nil || len(as) != 3 {
		t.Errorf("failed delivery's attempts = %d, %v; want 3", len(as), err)
	}
}
