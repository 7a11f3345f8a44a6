package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// factRecorder is a store.FactEvents that records the facts it is given
// and turns each into a new_call event of the fact's workspace (so a
// watcher subscription to new_call gets a delivery per fact), or fails
// while failing is set.
type factRecorder struct {
	mu      sync.Mutex
	facts   []store.Fact
	failing bool
}

var errHook = errors.New("hook refused")

func (r *factRecorder) events(facts []store.Fact) ([]store.IngestParams, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing {
		return nil, errHook
	}
	var reqs []store.IngestParams
	for _, f := range facts {
		r.facts = append(r.facts, f)
		e := store.NewEvent{ID: ids.New(ids.Event), EventType: "new_call", OccurredAt: f.At,
			Data: []byte(fmt.Sprintf(`{"fact":%q,"subscription":%q}`, f.Kind, f.SubscriptionID))}
		reqs = append(reqs, store.IngestParams{WorkspaceID: f.WorkspaceID, Events: []store.NewEvent{e},
			ResponseIDs: []string{e.ID}, Now: f.At})
	}
	return reqs, nil
}

// take returns the kinds of the facts about sub since the last take.
func (r *factRecorder) take(sub string) []store.FactKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []store.FactKind
	var rest []store.Fact
	for _, f := range r.facts {
		if f.SubscriptionID == sub {
			out = append(out, f.Kind)
		} else {
			rest = append(rest, f)
		}
	}
	r.facts = rest
	return out
}

func setFail(r *factRecorder, v bool) {
	r.mu.Lock()
	r.failing = v
	r.mu.Unlock()
}

func checkFacts(t *testing.T, what string, got []store.FactKind, want ...store.FactKind) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: facts %v, want %v", what, got, want)
	}
}

// deliveriesOf counts a subscription's deliveries.
func deliveriesOf(t *testing.T, s store.Store, ws, sub string) int {
	t.Helper()
	return len(must[[]store.Delivery](t)(s.ListDeliveries(t.Context(), store.ListDeliveriesParams{
		WorkspaceID: ws, SubscriptionID: sub})))
}

// sendOne ingests one sms_sent event and claims its delivery to sub.
func sendOne(t *testing.T, s store.Store, ws, sub string) store.Job {
	t.Helper()
	ingest(t, s, ws, newEvent("sms_sent", "", ""))
	for _, j := range claim(t, s, "o", time.Now().Add(time.Second), 100) {
		if j.Subscription.ID == sub {
			return j
		}
	}
	t.Fatalf("no delivery to %s claimed", sub)
	return store.Job{}
}

// testFactsInTransaction: every fact's events are written, and routed, in
// the transaction of the fact; a hook that fails rolls the fact back.
func testFactsInTransaction(t *testing.T, s store.Store) {
	ctx := t.Context()
	rec := &factRecorder{}
	s.OnFacts(rec.events)
	ws := newWorkspace(t, s)
	watcher := newSub(t, s, ws, "https://example.com/ops", "new_call")
	sub := newSub(t, s, ws, "https://example.com/gone", "sms_sent")
	gone := func() store.Completion {
		j := sendOne(t, s, ws, sub.ID)
		return store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: sub.ID, Owner: "o",
			Status: store.DeliveryFailed, Attempt: attempt(time.Now(), 410, "gone"), DisableReason: "410"}
	}

	// A failing hook: neither the disabling nor the attempt is stored.
	setFail(rec, true)
	c := gone()
	if _, err := s.CompleteDeliveries(ctx, store.CompleteParams{Now: time.Now(), Completions: []store.Completion{c}}); !errors.Is(err, errHook) {
		t.Fatalf("CompleteDeliveries with a failing hook: %v", err)
	}
	if got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID)); got.Status != store.SubscriptionActive {
		t.Errorf("the disabling survived its hook's failure: %+v", got)
	}
	setFail(rec, false)
	complete(t, s, c)
	checkFacts(t, "410", rec.take(sub.ID), store.FactDisabled, store.FactExhausted)
	if got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID)); got.DisabledKind != store.DisabledGone || got.Recovering() {
		t.Errorf("after 410: %+v", got)
	}
	if n := deliveriesOf(t, s, ws, watcher.ID); n != 2 {
		t.Errorf("the facts' events made %d deliveries to the watcher, want 2", n)
	}

	// By hand, naming who.
	p := store.SetSubscriptionStatusParams{WorkspaceID: ws, ID: sub.ID, Status: store.SubscriptionActive, By: store.ByDashboard,
		Now: time.Now()}
	must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, p))
	must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, p)) // no change, no fact
	p.Status, p.Reason, p.By = store.SubscriptionDisabled, "paused", store.ByAPI
	setFail(rec, true)
	_, err := s.SetSubscriptionStatus(ctx, p)
	wantErr(t, "SetSubscriptionStatus with a failing hook", err, errHook)
	setFail(rec, false)
	must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, p))
	rec.mu.Lock()
	var by []string
	for _, f := range rec.facts {
		by = append(by, string(f.Kind)+" by "+f.By)
	}
	rec.mu.Unlock()
	if want := []string{"enabled by dashboard", "disabled by api"}; !slices.Equal(by, want) {
		t.Errorf("status facts %v, want %v", by, want)
	}
	rec.take(sub.ID)
	if got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID)); got.DisabledKind != store.DisabledManual {
		t.Errorf("disabled by hand: kind %q", got.DisabledKind)
	}

	// Failing too long.
	p.Status, p.By = store.SubscriptionActive, store.ByAPI
	must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, p))
	rec.take(sub.ID)
	j := sendOne(t, s, ws, sub.ID)
	complete(t, s, store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: sub.ID, Owner: "o",
		Status: store.DeliveryFailed, Attempt: attempt(time.Now().Add(-2*time.Hour), 500, "http_status")})
	rec.take(sub.ID)
	setFail(rec, true)
	_, err = s.DisableFailingSubscriptions(ctx, store.DisableFailingParams{FailingBefore: time.Now().Add(-time.Hour),
		Reason: "failing", Now: time.Now(), FirstProbeAt: time.Now()})
	wantErr(t, "DisableFailingSubscriptions with a failing hook", err, errHook)
	setFail(rec, false)
	disableFailing(t, s, time.Now().Add(-time.Hour), time.Now(), "failing")
	checkFacts(t, "failing too long", rec.take(sub.ID), store.FactDisabled)
	if got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID)); !got.Recovering() {
		t.Errorf("disabled for failing, not recovering: %+v", got)
	}
}

// testStreakFacts: failing once per streak at FailingAfter, recovered when
// a success ends it, exhausted per delivery failed for good.
func testStreakFacts(t *testing.T, s store.Store) {
	ctx := t.Context()
	rec := &factRecorder{}
	s.OnFacts(rec.events)
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/flaky", "sms_sent")
	outcome := func(status string, code int) {
		t.Helper()
		j := sendOne(t, s, ws, sub.ID)
		c := store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: sub.ID, Owner: "o", Status: status,
			Attempt: attempt(time.Now(), code, "")}
		if code != 200 {
			c.Attempt = attempt(time.Now(), code, "http_status")
		}
		if _, err := s.CompleteDeliveries(ctx, store.CompleteParams{Now: time.Now(), Completions: []store.Completion{c},
			FailingAfter: 2}); err != nil {
			t.Fatal(err)
		}
	}
	outcome(store.DeliveryFailed, 500)
	checkFacts(t, "first failure", rec.take(sub.ID), store.FactExhausted)
	outcome(store.DeliveryFailed, 500)
	checkFacts(t, "second failure", rec.take(sub.ID), store.FactFailing, store.FactExhausted)
	outcome(store.DeliveryFailed, 503)
	checkFacts(t, "third failure", rec.take(sub.ID), store.FactExhausted)
	if got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID)); got.Failures != 3 {
		t.Errorf("failures %d, want 3", got.Failures)
	}
	outcome(store.DeliverySucceeded, 200)
	checkFacts(t, "success", rec.take(sub.ID), store.FactRecovered)
	outcome(store.DeliverySucceeded, 200)
	checkFacts(t, "another success", rec.take(sub.ID))
}

// testRecovery: a subscription disabled for failing is probed with the
// oldest delivery it missed; the probe's success re-enables it and starts a
// replay of the rest, sent one at a time in order.
func testRecovery(t *testing.T, s store.Store) {
	ctx := t.Context()
	rec := &factRecorder{}
	s.OnFacts(rec.events)
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/down", "sms_sent")
	now := time.Now()
	first := sendOne(t, s, ws, sub.ID)
	complete(t, s, store.Completion{DeliveryID: first.Delivery.ID, SubscriptionID: sub.ID, Owner: "o",
		Status: store.DeliveryFailed, Attempt: attempt(now.Add(-2*time.Hour), 500, "http_status")})
	disableFailing(t, s, now.Add(-time.Hour), now, "failing")
	var missed []string
	for range 3 {
		res := ingest(t, s, ws, newEvent("sms_sent", "", ""))
		if len(res.Jobs) != 0 {
			t.Fatal("a disabled subscription got a pending delivery")
		}
		missed = append(missed, res.ResponseIDs[0])
	}
	probe := func(at time.Time) int {
		return must[int](t)(s.StartProbes(ctx, store.ProbeParams{Now: at, Schedule: []time.Duration{time.Minute, 2 * time.Minute}}))
	}
	// DisableFailingParams.FirstProbeAt was zero here: due at once.
	if n := probe(now); n != 1 {
		t.Fatalf("StartProbes started %d probes, want 1", n)
	}
	if n := probe(now); n != 0 {
		t.Errorf("a second StartProbes at once started %d", n)
	}
	jobs := claim(t, s, "o", now.Add(time.Second), 100)
	if len(jobs) != 1 || jobs[0].Delivery.ID != first.Delivery.ID || jobs[0].Subscription.ProbeDeliveryID != first.Delivery.ID {
		t.Fatalf("claimed %v as the probe, want the failed delivery %s", jobs, first.Delivery.ID)
	}
	got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID))
	if got.Probes != 1 || got.NextProbeAt == nil || got.NextProbeAt.Before(now.Add(119*time.Second)) {
		t.Errorf("after the first probe: probes %d, next %v (want now + 2m)", got.Probes, got.NextProbeAt)
	}
	// A failed probe is skipped again (no retry) and probed again later.
	f := store.Completion{DeliveryID: first.Delivery.ID, SubscriptionID: sub.ID, Owner: "o",
		Status: store.DeliveryPending, Attempt: attempt(now, 503, "http_status")}
	store.FinishProbe(&f)
	complete(t, s, f)
	if n := probe(now.Add(3 * time.Minute)); n != 1 {
		t.Fatalf("second probe: %d started", n)
	}
	jobs = claim(t, s, "o", now.Add(4*time.Minute), 100)
	if len(jobs) != 1 || jobs[0].Delivery.ID != first.Delivery.ID {
		t.Fatalf("second probe claimed %v", jobs)
	}
	rec.take(sub.ID)
	complete(t, s, store.Completion{DeliveryID: first.Delivery.ID, SubscriptionID: sub.ID, Owner: "o",
		Status: store.DeliverySucceeded, Attempt: attempt(now, 200, "")})
	checkFacts(t, "probe succeeded", rec.take(sub.ID), store.FactEnabled)
	got = must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID))
	if got.Status != store.SubscriptionActive || got.DisabledKind != "" || got.NextProbeAt != nil || got.ProbeDeliveryID != "" {
		t.Errorf("after recovery: %+v", got)
	}
	// The replay: the three skipped events, one at a time, in order.
	if n := must[int](t)(s.AdvanceReplays(ctx, store.AdvanceReplaysParams{Now: time.Now(), Page: 2})); n != 2 {
		t.Errorf("first page made %d deliveries, want 2", n)
	}
	must[int](t)(s.AdvanceReplays(ctx, store.AdvanceReplaysParams{Now: time.Now(), Page: 2}))
	var sent []string
	for range 4 {
		jobs := claim(t, s, "o", time.Now().Add(5*time.Minute), 100)
		if len(jobs) > 1 {
			t.Fatalf("replay deliveries claimed %d at once, want 1 at a time", len(jobs))
		}
		if len(jobs) == 0 {
			break
		}
		j := jobs[0]
		if j.Delivery.ReplayID == "" {
			t.Errorf("replay delivery %s names no replay", j.Delivery.ID)
		}
		sent = append(sent, j.Event.ID)
		complete(t, s, store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: sub.ID, Owner: "o",
			OrderKey: j.Delivery.OrderKey, Status: store.DeliverySucceeded, Attempt: attempt(time.Now(), 200, "")})
	}
	if !slices.Equal(sent, missed) {
		t.Errorf("recovery replayed %v, want %v in order", sent, missed)
	}
}

// testReplay: a replay's window and modes, paged, with its counts.
func testReplay(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/r", "sms_sent")
	since := time.Now().Add(-time.Second)
	var all []string
	for i, status := range []string{store.DeliverySucceeded, store.DeliveryFailed, store.DeliverySucceeded, store.DeliveryFailed} {
		j := sendOne(t, s, ws, sub.ID)
		all = append(all, j.Event.ID)
		complete(t, s, store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: sub.ID, Owner: "o", Status: status,
			Attempt: attempt(time.Now(), 200+300*(i%2), "")})
	}
	until := time.Now()
	after := sendOne(t, s, ws, sub.ID) // after the window: never replayed
	complete(t, s, store.Completion{DeliveryID: after.Delivery.ID, SubscriptionID: sub.ID, Owner: "o",
		Status: store.DeliveryFailed, Attempt: attempt(time.Now(), 500, "http_status")})
	for _, tt := range []struct {
		mode string
		want []string
	}{
		{store.ReplayMissed, []string{all[1], all[3]}},
		{store.ReplayAll, all},
	} {
		r := must[store.Replay](t)(s.CreateReplay(ctx, store.CreateReplayParams{WorkspaceID: ws, SubscriptionID: sub.ID,
			Since: since, Until: &until, Mode: tt.mode, By: store.ByAPI, Now: time.Now()}))
		for range 10 {
			if must[int](t)(s.AdvanceReplays(ctx, store.AdvanceReplaysParams{Now: time.Now(), Page: 1})) == 0 {
				break
			}
		}
		got := must[store.Replay](t)(s.GetReplay(ctx, ws, r.ID))
		if !got.Done || got.Queued != len(tt.want) || got.Counts[store.DeliveryPending] != len(tt.want) {
			t.Errorf("%s: replay %+v, want done with %d pending", tt.mode, got, len(tt.want))
		}
		var sent []string
		for {
			jobs := claim(t, s, "o", time.Now().Add(time.Hour), 100)
			if len(jobs) == 0 {
				break
			}
			for _, j := range jobs {
				sent = append(sent, j.Event.ID)
				complete(t, s, store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: sub.ID, Owner: "o",
					OrderKey: j.Delivery.OrderKey, Status: store.DeliverySucceeded, Attempt: attempt(time.Now(), 200, "")})
			}
		}
		if !slices.Equal(sent, tt.want) {
			t.Errorf("%s: replayed %v, want %v", tt.mode, sent, tt.want)
		}
		if got := must[store.Replay](t)(s.GetReplay(ctx, ws, r.ID)); got.Counts[store.DeliverySucceeded] != len(tt.want) {
			t.Errorf("%s: counts %v after the sends", tt.mode, got.Counts)
		}
	}
	_, err := s.GetReplay(ctx, newWorkspace(t, s), "rpl_x")
	wantErr(t, "GetReplay of another workspace", err, store.ErrNotFound)
	must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{WorkspaceID: ws, ID: sub.ID,
		Status: store.SubscriptionDisabled, Now: time.Now()}))
	_, err = s.CreateReplay(ctx, store.CreateReplayParams{WorkspaceID: ws, SubscriptionID: sub.ID, Since: since,
		Mode: store.ReplayMissed, Now: time.Now()})
	wantErr(t, "CreateReplay of a disabled subscription", err, store.ErrNotActive)
}
