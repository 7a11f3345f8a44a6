package storetest

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

// The tests here run many inputs through a store and through the shared
// rules of internal/store (rules.go) and compare: an engine computing a rule
// in SQL of its own is held to the rule.

// testRoutingRule: every (event, subscription) pair gets the delivery
// store.Receives and store.NewDeliveryStatus say, and the jobs are the
// pending ones.
func testRoutingRule(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	scopes := [][2]string{{"", ""}, {"wf_1", ""}, {"", "cmp_1"}, {"wf_1", "cmp_1"}, {"wf_2", ""}}
	types := []string{"call_completed", "sms_sent"}
	var subs []store.Subscription
	for _, typ := range types {
		for i, sc := range scopes {
			for _, status := range []string{store.SubscriptionActive, store.SubscriptionDisabled} {
				sub := newSub(t, s, ws, fmt.Sprintf("https://example.com/%s/%d/%s", typ, i, status), typ,
					scoped(sc[0], sc[1]))
				if status == store.SubscriptionDisabled {
					sub = must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(),
						WorkspaceID: ws, ID: sub.ID, Status: status, Reason: "paused"}))
				}
				subs = append(subs, sub)
			}
		}
	}
	var events []store.NewEvent
	for _, typ := range types {
		for _, sc := range append(scopes, [2]string{"wf_2", "cmp_2"}) {
			events = append(events, newEvent(typ, sc[0], sc[1]))
		}
	}
	res := ingest(t, s, ws, events...)

	type pair struct{ event, sub string }
	want := map[pair]string{}
	var wantJobs []pair
	for _, e := range events {
		for i := range subs {
			if store.Receives(&subs[i], e.EventType, e.WorkflowID, e.CampaignID) {
				status := store.NewDeliveryStatus(&subs[i])
				want[pair{e.ID, subs[i].ID}] = status
				if status == store.DeliveryPending {
					wantJobs = append(wantJobs, pair{e.ID, subs[i].ID})
				}
			}
		}
	}
	got := map[pair]string{}
	for _, d := range must[[]store.Delivery](t)(s.ListDeliveries(ctx, store.ListDeliveriesParams{WorkspaceID: ws})) {
		p := pair{d.EventID, d.SubscriptionID}
		if _, dup := got[p]; dup {
			t.Errorf("two deliveries of event %s to %s", d.EventID, d.SubscriptionID)
		}
		got[p] = d.Status
	}
	for p, status := range want {
		if got[p] != status {
			t.Errorf("event %s to %s: delivery %q, the rule says %q", p.event, p.sub, got[p], status)
		}
	}
	for p, status := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("event %s to %s: delivery %q, the rule says none", p.event, p.sub, status)
		}
	}
	var gotJobs []pair
	for _, j := range res.Jobs {
		gotJobs = append(gotJobs, pair{j.Event.ID, j.Subscription.ID})
	}
	cmpPair := func(a, b pair) int { return cmp.Or(cmp.Compare(a.event, b.event), cmp.Compare(a.sub, b.sub)) }
	slices.SortFunc(gotJobs, cmpPair)
	slices.SortFunc(wantJobs, cmpPair)
	if !slices.Equal(gotJobs, wantJobs) {
		t.Errorf("jobs %v, the rule says %v", gotJobs, wantJobs)
	}
}

// testIdempotencyRule: requests repeating a key of the same call replay the
// first (store.BatchReplays), those repeating a stored key replay it, and
// only the others store their events.
func testIdempotencyRule(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws, other := newWorkspace(t, s), newWorkspace(t, s)
	newSub(t, s, ws, "https://example.com/a", "new_call")
	stored := ingestReq(t, s, store.IngestParams{WorkspaceID: ws, IdempotencyKey: "old",
		Events: []store.NewEvent{newEvent("new_call", "", "")}})
	keys := []struct{ ws, key string }{
		{ws, "a"}, {ws, ""}, {ws, "a"}, {ws, "old"}, {ws, "old"}, {other, "b"}, {other, "a"}, {ws, ""},
		{other, "b"}, {ws, "b"}, {ws, "a"},
	}
	reqs := make([]store.IngestParams, len(keys))
	for i, k := range keys {
		e := newEvent("new_call", "", "")
		reqs[i] = store.IngestParams{WorkspaceID: k.ws, IdempotencyKey: k.key, Events: []store.NewEvent{e},
			ResponseIDs: []string{e.ID}}
	}
	results := must[[]store.IngestResult](t)(s.Ingest(ctx, stamped(reqs)))
	if len(results) != len(reqs) {
		t.Fatalf("%d results for %d requests", len(results), len(reqs))
	}
	replays := store.BatchReplays(reqs)
	want := make([]store.IngestResult, len(reqs))
	for i, r := range reqs {
		switch j := replays[i]; {
		case j >= 0:
			want[i] = store.IngestResult{ResponseIDs: want[j].ResponseIDs, Replayed: true}
		case r.WorkspaceID == ws && r.IdempotencyKey == "old":
			want[i] = store.IngestResult{ResponseIDs: stored.ResponseIDs, Replayed: true}
		default:
			want[i] = store.IngestResult{ResponseIDs: r.ResponseIDs}
		}
	}
	for i, r := range reqs {
		got := results[i]
		if got.Replayed != want[i].Replayed || !slices.Equal(got.ResponseIDs, want[i].ResponseIDs) {
			t.Errorf("request %d (key %q): replayed %v with %v, the rule says %v with %v",
				i, r.IdempotencyKey, got.Replayed, got.ResponseIDs, want[i].Replayed, want[i].ResponseIDs)
		}
		if _, err := s.GetEvent(ctx, r.WorkspaceID, r.Events[0].ID); (err == nil) == want[i].Replayed {
			t.Errorf("request %d (key %q): event stored = %v, replayed = %v", i, r.IdempotencyKey, err == nil, want[i].Replayed)
		}
	}
}

// subscriptionState reads what completions change in a subscription.
func subscriptionState(t *testing.T, s store.Store, ws, id string) store.SubscriptionState {
	t.Helper()
	sub := must[store.Subscription](t)(s.GetSubscription(t.Context(), ws, id))
	return store.StateOf(&sub)
}

func checkState(t *testing.T, what string, got, want store.SubscriptionState) {
	t.Helper()
	sameFailing := (got.FailingSince == nil) == (want.FailingSince == nil) &&
		(got.FailingSince == nil || sameTime(*got.FailingSince, *want.FailingSince))
	if got.Status != want.Status || got.DisabledReason != want.DisabledReason || !sameFailing ||
		got.Failures != want.Failures || got.Recovering != want.Recovering {
		t.Errorf("%s: %s %q failing since %v (%d failures, recovering %v), the rule says %s %q failing since %v (%d, %v)",
			what, got.Status, got.DisabledReason, got.FailingSince, got.Failures, got.Recovering,
			want.Status, want.DisabledReason, want.FailingSince, want.Failures, want.Recovering)
	}
}

// testCompletionFoldRule: random batches of completions (successes,
// failures, retries, skips, disable requests, lost leases, a delivery
// completed twice, attempt times out of order) leave every subscription in
// the state store.FoldCompletions and Apply give.
func testCompletionFoldRule(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	var subs []store.Subscription
	for i := range 4 {
		subs = append(subs, newSub(t, s, ws, fmt.Sprintf("https://example.com/%d", i), "new_call"))
	}
	rng := rand.New(rand.NewPCG(12, 7))
	t0 := time.Now().Add(time.Second)
	for round := range 12 {
		at := t0.Add(time.Duration(round) * time.Hour)
		// Some subscriptions change status between ingest and completion.
		for _, sub := range subs {
			if rng.IntN(4) == 0 {
				status := store.SubscriptionDisabled
				if subscriptionState(t, s, ws, sub.ID).Status == status {
					status = store.SubscriptionActive
				}
				must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(),
					WorkspaceID: ws, ID: sub.ID, Status: status, Reason: "by hand"}))
			}
		}
		var events []store.NewEvent
		for range 1 + rng.IntN(3) {
			events = append(events, newEvent("new_call", "", ""))
		}
		ingest(t, s, ws, events...)
		jobs := claim(t, s, "o", at, 100)
		before := map[string]store.SubscriptionState{}
		for _, sub := range subs {
			before[sub.ID] = subscriptionState(t, s, ws, sub.ID)
		}
		var cs []store.Completion
		for _, j := range jobs {
			c := store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: j.Subscription.ID, Owner: "o"}
			when := at.Add(time.Duration(rng.IntN(600)) * time.Second)
			switch rng.IntN(4) {
			case 0:
				c.Status, c.Attempt = store.DeliverySucceeded, attempt(when, 200, "")
			case 1:
				c.Status, c.Attempt = store.DeliveryFailed, attempt(when, 500, "http_status")
			case 2:
				next := when.Add(time.Minute)
				c.Status, c.Attempt, c.NextAttemptAt = store.DeliveryPending, attempt(when, 0, "timeout"), &next
			default:
				c.Status = store.DeliverySkipped
			}
			if rng.IntN(5) == 0 {
				c.DisableReason = fmt.Sprintf("gone in round %d", round)
			}
			if rng.IntN(8) == 0 {
				c.Owner = "someone else" // a lost lease: not applied
			}
			cs = append(cs, c)
		}
		if len(cs) > 1 && rng.IntN(2) == 0 {
			again := cs[rng.IntN(len(cs))]
			again.Status, again.Attempt = store.DeliverySucceeded, attempt(at.Add(11*time.Minute), 200, "")
			cs = append(cs, again)
		}
		var applied []store.Completion
		for _, c := range store.LastPerDelivery(cs) {
			if c.Owner == "o" {
				applied = append(applied, c)
			}
		}
		disabled := complete(t, s, cs...)
		want := maps.Clone(before)
		var wantDisabled []string
		for _, f := range store.FoldCompletions(applied) {
			var d bool
			want[f.SubscriptionID], d, _ = f.Apply(before[f.SubscriptionID])
			if d {
				wantDisabled = append(wantDisabled, f.SubscriptionID)
			}
		}
		var gotDisabled []string
		for _, d := range disabled {
			gotDisabled = append(gotDisabled, d.SubscriptionID)
			if d.WorkspaceID != ws || d.Reason != want[d.SubscriptionID].DisabledReason {
				t.Errorf("round %d: disabled %+v, the rule says reason %q", round, d, want[d.SubscriptionID].DisabledReason)
			}
		}
		slices.Sort(gotDisabled)
		slices.Sort(wantDisabled)
		if !slices.Equal(gotDisabled, wantDisabled) {
			t.Errorf("round %d: disabled %v, the rule says %v", round, gotDisabled, wantDisabled)
		}
		for _, sub := range subs {
			checkState(t, fmt.Sprintf("round %d, %s", round, sub.WebhookURL), subscriptionState(t, s, ws, sub.ID), want[sub.ID])
		}
		// What is left pending (lost leases, retries) is not claimed again
		// before the next round's time.
		for _, j := range claim(t, s, "o", at.Add(30*time.Minute), 100) {
			complete(t, s, store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: j.Subscription.ID, Owner: "o",
				Status: store.DeliverySkipped})
		}
	}
}

// testDisableFailingRule: DisableFailingSubscriptions disables exactly the
// subscriptions store.FailingTooLong names.
func testDisableFailingRule(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	now := time.Now()
	cutoff := now.Add(-24 * time.Hour)
	type setup struct {
		failingAt time.Duration // before now; 0: not failing
		disabled  bool
	}
	setups := []setup{{48 * time.Hour, false}, {48 * time.Hour, true}, {time.Hour, false}, {0, false}, {0, true},
		{24*time.Hour + time.Second, false}, {24*time.Hour - time.Second, false}}
	var subs []store.Subscription
	for i := range setups {
		subs = append(subs, newSub(t, s, ws, fmt.Sprintf("https://example.com/%d", i), "new_call"))
	}
	ingest(t, s, ws, newEvent("new_call", "", ""))
	var cs []store.Completion
	for _, j := range claim(t, s, "o", now.Add(time.Second), 100) {
		i := slices.IndexFunc(subs, func(sub store.Subscription) bool { return sub.ID == j.Subscription.ID })
		c := store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: j.Subscription.ID, Owner: "o",
			Status: store.DeliverySucceeded, Attempt: attempt(now, 200, "")}
		if d := setups[i].failingAt; d > 0 {
			c.Status, c.Attempt = store.DeliveryFailed, attempt(now.Add(-d), 500, "http_status")
		}
		cs = append(cs, c)
	}
	complete(t, s, cs...)
	before := map[string]store.SubscriptionState{}
	for i, sub := range subs {
		if setups[i].disabled {
			must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(),
				WorkspaceID: ws, ID: sub.ID, Status: store.SubscriptionDisabled, Reason: "by hand"}))
		}
		before[sub.ID] = subscriptionState(t, s, ws, sub.ID)
	}
	// A deleted subscription, failing long, is left alone.
	deleted := newSub(t, s, ws, "https://example.com/deleted", "new_call")
	ingest(t, s, ws, newEvent("new_call", "", ""))
	for _, j := range claim(t, s, "o", now.Add(2*time.Second), 100) {
		c := store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: j.Subscription.ID, Owner: "o",
			Status: store.DeliverySkipped}
		if j.Subscription.ID == deleted.ID {
			c.Status, c.Attempt = store.DeliveryFailed, attempt(now.Add(-48*time.Hour), 500, "http_status")
		}
		complete(t, s, c)
	}
	if err := s.DeleteSubscription(ctx, ws, deleted.ID, time.Now()); err != nil {
		t.Fatal(err)
	}

	disabled := disableFailing(t, s, cutoff, now, "failing for a day")
	var want []string
	for _, sub := range subs {
		state := before[sub.ID]
		if store.FailingTooLong(state, cutoff) {
			// Disabled for failing, with automatic recovery on by default.
			state.Status, state.DisabledReason, state.Recovering = store.SubscriptionDisabled, "failing for a day", true
			want = append(want, sub.ID)
		}
		checkState(t, sub.WebhookURL, subscriptionState(t, s, ws, sub.ID), state)
	}
	checkDisabled(t, "DisableFailingSubscriptions", disabled, ws, "failing for a day", now, want...)
}
