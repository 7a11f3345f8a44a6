package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// testClock runs every time-stamping method on a fixed clock years away
// from now and checks each stamp is the time given: a driver reading its own
// clock anywhere fails here.
func testClock(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := time.Date(2031, 2, 3, 4, 5, 6, 789_012_000, time.UTC)
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	stamp := func(what string, got, want time.Time) {
		t.Helper()
		if !sameTime(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	stampPtr := func(what string, got *time.Time, want time.Time) {
		t.Helper()
		checkTime(t, what, got, want)
	}

	ws := must[store.Workspace](t)(s.CreateWorkspace(ctx, store.CreateWorkspaceParams{Name: "clock", Now: at(0)}))
	stamp("Workspace.CreatedAt", ws.CreatedAt, at(0))
	stamp("GetWorkspace.CreatedAt", must[store.Workspace](t)(s.GetWorkspace(ctx, ws.ID)).CreatedAt, at(0))
	ensured := must[store.Workspace](t)(s.EnsureWorkspace(ctx, store.CreateWorkspaceParams{Name: "clock 2", Now: at(0)}))
	stamp("EnsureWorkspace.CreatedAt", ensured.CreatedAt, at(0))

	key := must[store.APIKey](t)(s.CreateAPIKey(ctx, store.CreateAPIKeyParams{ID: ids.New(ids.APIKey),
		WorkspaceID: ws.ID, Hash: []byte("h"), Now: at(0)}))
	stamp("APIKey.CreatedAt", key.CreatedAt, at(0))
	if err := s.RevokeAPIKey(ctx, ws.ID, key.ID, at(1)); err != nil {
		t.Fatal(err)
	}
	key = must[store.APIKey](t)(s.GetAPIKey(ctx, key.ID))
	stamp("GetAPIKey.CreatedAt", key.CreatedAt, at(0))
	stampPtr("APIKey.RevokedAt", key.RevokedAt, at(1))

	newSubAt := func(url string) store.Subscription {
		t.Helper()
		return must[store.Subscription](t)(s.CreateSubscription(ctx, store.CreateSubscriptionParams{
			WorkspaceID: ws.ID, WebhookURL: url, EventType: "new_call", Now: at(0)}))
	}
	a, d := newSubAt("https://example.com/a"), newSubAt("https://example.com/d")
	stamp("Subscription.CreatedAt", a.CreatedAt, at(0))
	stamp("Subscription.UpdatedAt", a.UpdatedAt, at(0))
	checkSub := func(what string, want time.Time) store.Subscription {
		t.Helper()
		sub := must[store.Subscription](t)(s.GetSubscription(ctx, ws.ID, a.ID))
		stamp(what+": CreatedAt", sub.CreatedAt, at(0))
		stamp(what+": UpdatedAt", sub.UpdatedAt, want)
		return sub
	}
	checkSub("created", at(0))
	setStatus := func(status string, n int) {
		t.Helper()
		must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{
			WorkspaceID: ws.ID, ID: a.ID, Status: status, Reason: "by hand", Now: at(n)}))
		checkSub(fmt.Sprintf("set %s", status), at(n))
	}
	setStatus(store.SubscriptionDisabled, 1)
	setStatus(store.SubscriptionActive, 2)
	must[store.Subscription](t)(s.RotateSecret(ctx, store.RotateSecretParams{WorkspaceID: ws.ID, ID: a.ID,
		NewSecret: "whsec_2", Now: at(3)}))
	checkSub("rotated", at(3))

	ev := newEvent("new_call", "", "")
	res := must[[]store.IngestResult](t)(s.Ingest(ctx, []store.IngestParams{{WorkspaceID: ws.ID,
		Events: []store.NewEvent{ev}, ResponseIDs: []string{ev.ID}, Now: at(4)}}))
	stamp("GetEvent.CreatedAt", must[store.Event](t)(s.GetEvent(ctx, ws.ID, ev.ID)).CreatedAt, at(4))
	var delivery, deleted string
	for _, j := range res[0].Jobs {
		stamp("Job.Event.CreatedAt", j.Event.CreatedAt, at(4))
		stamp("Job.Delivery.CreatedAt", j.Delivery.CreatedAt, at(4))
		stampPtr("Job.Delivery.NextAttemptAt", j.Delivery.NextAttemptAt, at(4))
		if j.Subscription.ID == a.ID {
			delivery = j.Delivery.ID
		} else {
			deleted = j.Delivery.ID
		}
	}
	checkDelivery := func(what, id string, updated time.Time, next *time.Time) store.Delivery {
		t.Helper()
		dl, _ := getDelivery(t, s, ws.ID, id)
		stamp(what+": CreatedAt", dl.CreatedAt, at(4))
		stamp(what+": UpdatedAt", dl.UpdatedAt, updated)
		if next != nil {
			stampPtr(what+": NextAttemptAt", dl.NextAttemptAt, *next)
		}
		return dl
	}
	ptr := func(t time.Time) *time.Time { return &t }
	checkDelivery("ingested", delivery, at(4), ptr(at(4)))

	// Deleting skips the pending delivery nobody holds, at the given time.
	if err := s.DeleteSubscription(ctx, ws.ID, d.ID, at(5)); err != nil {
		t.Fatal(err)
	}
	if dl := checkDelivery("skipped by delete", deleted, at(5), nil); dl.Status != store.DeliverySkipped {
		t.Errorf("delivery of a deleted subscription: %q", dl.Status)
	}

	completeAt := func(n int, c store.Completion) []store.DisabledSubscription {
		t.Helper()
		if got := claim(t, s, "o", at(n), 10); len(got) != 1 || got[0].Delivery.ID != delivery {
			t.Fatalf("claim at %v: %v, want %s", at(n), jobIDs(got), delivery)
		}
		c.DeliveryID, c.SubscriptionID, c.Owner = delivery, a.ID, "o"
		return must[[]store.DisabledSubscription](t)(s.CompleteDeliveries(ctx, store.CompleteParams{Now: at(n),
			Completions: []store.Completion{c}}))
	}
	// A retry without a time of its own is due at the completion's time, and
	// an attempt without one is stamped with it.
	completeAt(6, store.Completion{Status: store.DeliveryPending, Attempt: &store.Attempt{StatusCode: 500}})
	checkDelivery("retry recorded", delivery, at(6), ptr(at(6)))
	if _, attempts := getDelivery(t, s, ws.ID, delivery); len(attempts) != 1 {
		t.Errorf("%d attempts, want 1", len(attempts))
	} else {
		stamp("Attempt.At", attempts[0].At, at(6))
	}
	stampPtr("FailingSince", checkSub("failing", at(3)).FailingSince, at(6))

	must[store.Delivery](t)(s.RetryDelivery(ctx, ws.ID, delivery, at(7)))
	checkDelivery("retried by hand", delivery, at(7), ptr(at(7)))

	disabled := completeAt(8, store.Completion{Status: store.DeliveryFailed, DisableReason: "gone",
		Attempt: &store.Attempt{At: at(8), StatusCode: 410}})
	checkDisabled(t, "CompleteDeliveries", disabled, ws.ID, "gone", at(8), a.ID)
	checkSub("disabled by a completion", at(8))
	checkDelivery("failed", delivery, at(8), nil)

	if n := must[int](t)(s.RetryFailed(ctx, store.RetryFailedParams{WorkspaceID: ws.ID, SubscriptionID: a.ID,
		Since: at(0), Now: at(9)})); n != 1 {
		t.Errorf("RetryFailed = %d, want 1", n)
	}
	checkDelivery("failed ones retried", delivery, at(9), ptr(at(9)))

	setStatus(store.SubscriptionActive, 10)
	completeAt(10, store.Completion{Status: store.DeliveryFailed, Attempt: &store.Attempt{At: at(10), StatusCode: 500}})
	disabled = disableFailing(t, s, at(11), at(12), "failing")
	checkDisabled(t, "DisableFailingSubscriptions", disabled, ws.ID, "failing", at(12), a.ID)
	checkSub("disabled for failing", at(12))

	// Leadership expires by the clock given.
	lead := func(owner string, now time.Time) bool {
		t.Helper()
		return must[bool](t)(s.TryLead(ctx, store.LeadParams{Name: "clock", Owner: owner, Now: now, Until: at(13)}))
	}
	if !lead("x", at(12)) || lead("y", at(13).Add(-time.Second)) || !lead("y", at(13)) {
		t.Error("TryLead does not follow the given clock")
	}

	// A replay is stamped, and makes its deliveries, at the times given.
	setStatus(store.SubscriptionActive, 14)
	r := must[store.Replay](t)(s.CreateReplay(ctx, store.CreateReplayParams{WorkspaceID: ws.ID,
		SubscriptionID: a.ID, Since: at(0), Mode: store.ReplayMissed, By: store.ByAPI, Now: at(14)}))
	stamp("Replay.CreatedAt", r.CreatedAt, at(14))
	if n := must[int](t)(s.AdvanceReplays(ctx, store.AdvanceReplaysParams{Now: at(15), Page: 10})); n != 1 {
		t.Fatalf("AdvanceReplays made %d deliveries, want 1", n)
	}
	jobs := claim(t, s, "o", at(15), 10)
	if len(jobs) != 1 || jobs[0].Delivery.ReplayID != r.ID {
		t.Fatalf("claim after the replay: %v", jobIDs(jobs))
	}
	stamp("replayed Delivery.CreatedAt", jobs[0].Delivery.CreatedAt, at(15))
}
