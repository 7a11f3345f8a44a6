package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

// testNoTime: a time-stamping call without a time is an error, not a stamp
// of the zero time.
func testNoTime(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/a", "new_call")
	calls := map[string]error{}
	_, calls["CreateWorkspace"] = s.CreateWorkspace(ctx, store.CreateWorkspaceParams{Name: "no time"})
	_, calls["CreateSubscription"] = s.CreateSubscription(ctx, store.CreateSubscriptionParams{WorkspaceID: ws,
		WebhookURL: "https://example.com/b", EventType: "new_call"})
	_, calls["SetSubscriptionStatus"] = s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{
		WorkspaceID: ws, ID: sub.ID, Status: store.SubscriptionDisabled})
	calls["DeleteSubscription"] = s.DeleteSubscription(ctx, ws, sub.ID, time.Time{})
	_, calls["Ingest"] = s.Ingest(ctx, []store.IngestParams{{WorkspaceID: ws,
		Events: []store.NewEvent{newEvent("new_call", "", "")}}})
	_, calls["ClaimDeliveries"] = s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "o", Limit: 1})
	_, calls["TryLead"] = s.TryLead(ctx, store.LeadParams{Name: "n", Owner: "o"})
	_, calls["StartProbes"] = s.StartProbes(ctx, store.ProbeParams{})
	_, calls["CreateReplay"] = s.CreateReplay(ctx, store.CreateReplayParams{WorkspaceID: ws, SubscriptionID: sub.ID,
		Since: time.Now().Add(-time.Hour), Mode: store.ReplayMissed, By: store.ByAPI})
	_, calls["AdvanceReplays"] = s.AdvanceReplays(ctx, store.AdvanceReplaysParams{Page: 1})
	for name, err := range calls {
		wantErr(t, name+" without a time", err, store.ErrNoTime)
	}
	if got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID)); got.Status != store.SubscriptionActive {
		t.Errorf("a call without a time changed the subscription: %+v", got)
	}
}

// testValidation: statuses outside the rules are errors and change nothing.
func testValidation(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/a", "new_call")
	if _, err := s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{WorkspaceID: ws, ID: sub.ID,
		Status: "paused", Now: time.Now()}); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetSubscriptionStatus(paused): err = %v, want a validation error", err)
	}
	ingest(t, s, ws, newEvent("new_call", "", ""))
	now := time.Now().Add(time.Second)
	j := claim(t, s, "o", now, 1)[0]
	_, err := s.CompleteDeliveries(ctx, store.CompleteParams{Now: now, Completions: []store.Completion{
		{DeliveryID: j.Delivery.ID, SubscriptionID: sub.ID, Owner: "o", Status: "done", Attempt: attempt(now, 200, "")}}})
	if err == nil {
		t.Error("CompleteDeliveries(status done) succeeded")
	}
	if d, attempts := getDelivery(t, s, ws, j.Delivery.ID); d.Status != store.DeliveryPending || len(attempts) != 0 {
		t.Errorf("an invalid completion was applied: %+v, %d attempts", d, len(attempts))
	}
	if got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID)); got.Status != store.SubscriptionActive {
		t.Errorf("an invalid status was applied: %+v", got)
	}
}
