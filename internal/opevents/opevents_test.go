package opevents_test

import (
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/opevents"
	"github.com/revdesk/webhooks/internal/store"
)

// Every fact becomes an event of its workspace whose data the catalog's
// schema accepts; an operational delivery failing for good makes none.
func TestEvents(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 30, 19, 30, 0, 0, time.UTC)
	sub := func(kind store.FactKind, ws string) store.Fact {
		return store.Fact{Kind: kind, WorkspaceID: ws, SubscriptionID: "whk_1", WebhookURL: "https://example.com/h",
			EventType: "number_purchased", At: at, Reason: "gone", By: store.ByAutomatic, Failures: 3, FailingSince: &at}
	}
	exhausted := sub(store.FactExhausted, "ws_a")
	exhausted.DeliveryID, exhausted.EventID, exhausted.DeliveryEventType, exhausted.Attempts = "dlv_1", "evt_1", "number_purchased", 8
	loop := exhausted
	loop.DeliveryEventType = "subscription_failing"
	facts := []store.Fact{sub(store.FactFailing, "ws_a"), sub(store.FactDisabled, "ws_b"), sub(store.FactEnabled, "ws_a"),
		sub(store.FactRecovered, "ws_a"), exhausted, loop}
	reqs, err := opevents.Events(facts)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 || reqs[0].WorkspaceID != "ws_a" || reqs[1].WorkspaceID != "ws_b" {
		t.Fatalf("requests %+v, want ws_a then ws_b", reqs)
	}
	var got []string
	for _, r := range reqs {
		for _, e := range r.Events {
			got = append(got, e.EventType)
			if err := catalog.Validate(e.EventType, e.Data); err != nil {
				t.Errorf("%s: %s: %v", e.EventType, e.Data, err)
			}
			if !e.OccurredAt.Equal(at) {
				t.Errorf("%s occurred at %v, want %v", e.EventType, e.OccurredAt, at)
			}
		}
	}
	want := []string{"subscription_failing", "subscription_enabled", "subscription_recovered", "delivery_exhausted", "subscription_disabled"}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("events %v, want %v", got, want)
			break
		}
	}
}
