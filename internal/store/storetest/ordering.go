package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

func ptr[T any](v T) *T { return &v }

func testSubscriptionUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	sub := must[store.Subscription](t)(s.CreateSubscription(ctx, store.CreateSubscriptionParams{Now: time.Now(),
		WorkspaceID: ws, WebhookURL: "https://example.com/a", EventType: "sms_sent", SigningSecret: "whsec_x",
		RateLimit: 2.5, Ordered: true,
	}))
	if got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID)); got.RateLimit != 2.5 || !got.Ordered {
		t.Errorf("created with rate 2.5, ordered: got rate %v ordered %v", got.RateLimit, got.Ordered)
	}
	other := newSub(t, s, ws, "https://example.com/b", "sms_sent")

	steps := []struct {
		name string
		p    store.UpdateSubscriptionParams
		want func(*store.Subscription)
		err  error
	}{
		{"nothing", store.UpdateSubscriptionParams{}, func(*store.Subscription) {}, nil},
		{"url, scope, rate", store.UpdateSubscriptionParams{WebhookURL: ptr("https://example.com/c"),
			WorkflowID: ptr("wf_1"), CampaignID: ptr("cmp_1"), RateLimit: ptr(10.0), Ordered: ptr(false),
			StandardWebhooks: ptr(true)},
			func(w *store.Subscription) {
				w.WebhookURL, w.WorkflowID, w.CampaignID, w.RateLimit, w.Ordered, w.StandardWebhooks =
					"https://example.com/c", "wf_1", "cmp_1", 10, false, true
			}, nil},
		{"clear scope and rate", store.UpdateSubscriptionParams{WorkflowID: ptr(""), CampaignID: ptr(""),
			RateLimit: ptr(0.0)},
			func(w *store.Subscription) { w.WorkflowID, w.CampaignID, w.RateLimit = "", "", 0 }, nil},
		{"collides with another active", store.UpdateSubscriptionParams{WebhookURL: ptr(other.WebhookURL)},
			func(*store.Subscription) {}, store.ErrConflict},
	}
	want := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID))
	for _, st := range steps {
		p := st.p
		p.WorkspaceID, p.ID, p.Now = ws, sub.ID, time.Now()
		got, err := s.UpdateSubscription(ctx, p)
		if !errors.Is(err, st.err) {
			t.Fatalf("%s: err = %v, want %v", st.name, err, st.err)
		}
		var conflict *store.ConflictError
		if st.err != nil && (!errors.As(err, &conflict) || conflict.ExistingID != other.ID) {
			t.Errorf("%s: err = %v, want a conflict naming %s", st.name, err, other.ID)
		}
		st.want(&want)
		stored := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID))
		if err == nil && (!sameSub(got, want) || got.UpdatedAt.Before(want.UpdatedAt)) {
			t.Errorf("%s: returned\n %+v, want\n %+v", st.name, got, want)
		}
		if !sameSub(stored, want) {
			t.Errorf("%s: stored\n %+v, want\n %+v", st.name, stored, want)
		}
	}
	// A disabled subscription may take the identity of an active one
	// (enabling it later is the conflict).
	must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(),
		WorkspaceID: ws, ID: sub.ID, Status: store.SubscriptionDisabled}))
	if _, err := s.UpdateSubscription(ctx, store.UpdateSubscriptionParams{Now: time.Now(), WorkspaceID: ws, ID: sub.ID,
		WebhookURL: ptr(other.WebhookURL)}); err != nil {
		t.Errorf("disabled subscription to an active one's url: %v", err)
	}
	_, err := s.UpdateSubscription(ctx, store.UpdateSubscriptionParams{Now: time.Now(), WorkspaceID: newWorkspace(t, s), ID: sub.ID,
		RateLimit: ptr(1.0)})
	wantErr(t, "UpdateSubscription(another workspace)", err, store.ErrNotFound)
	_, err = s.UpdateSubscription(ctx, store.UpdateSubscriptionParams{Now: time.Now(), WorkspaceID: ws, ID: ids.New(ids.Subscription)})
	wantErr(t, "UpdateSubscription(unknown)", err, store.ErrNotFound)
}

// sameSub compares subscriptions but for their update time.
func sameSub(a, b store.Subscription) bool {
	a.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
	a.CreatedAt, b.CreatedAt = a.CreatedAt.UTC().Round(precision), b.CreatedAt.UTC().Round(precision)
	return a.ID == b.ID && a.WebhookURL == b.WebhookURL && a.EventType == b.EventType &&
		a.WorkflowID == b.WorkflowID && a.CampaignID == b.CampaignID && a.SigningSecret == b.SigningSecret &&
		a.StandardWebhooks == b.StandardWebhooks && a.RateLimit == b.RateLimit && a.Ordered == b.Ordered &&
		a.Status == b.Status
}

// about is an event about one resource (its data's id).
func about(eventType, resource string) store.NewEvent {
	e := newEvent(eventType, "", "")
	e.Data = []byte(`{"id": "` + resource + `", "status": "x"}`)
	return e
}

func orderedSub(t *testing.T, s store.Store, ws, url, eventType string) store.Subscription {
	t.Helper()
	return must[store.Subscription](t)(s.CreateSubscription(t.Context(), store.CreateSubscriptionParams{Now: time.Now(),
		WorkspaceID: ws, WebhookURL: url, EventType: eventType, Ordered: true}))
}

// done completes a job with status (a retry due now when pending).
func done(t *testing.T, s store.Store, owner string, j store.Job, status string) {
	t.Helper()
	c := store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: j.Subscription.ID, Owner: owner,
		OrderKey: j.Delivery.OrderKey, Status: status, Attempt: attempt(time.Now(), 500, "http_5xx")}
	if status == store.DeliveryPending {
		c.NextAttemptAt = ptr(time.Now())
	} else if status == store.DeliverySucceeded {
		c.Attempt = attempt(time.Now(), 200, "")
	}
	complete(t, s, c)
}

// claimOnly claims (far enough ahead that every retry is due, before any
// test lease ends) and checks that exactly want came back.
func claimOnly(t *testing.T, s store.Store, owner, what string, want ...store.Job) []store.Job {
	t.Helper()
	got := claim(t, s, owner, time.Now().Add(time.Second), 100)
	if !slices.Equal(jobIDs(got), jobIDs(want)) {
		t.Fatalf("%s: claimed %v, want %v", what, jobIDs(got), jobIDs(want))
	}
	return got
}

func testOrderedHeads(t *testing.T, s store.Store) {
	ws := newWorkspace(t, s)
	const url = "https://example.com/sms"
	sent := orderedSub(t, s, ws, url, "sms_sent")
	orderedSub(t, s, ws, url, "sms_delivered")
	orderedSub(t, s, ws, "https://example.com/other", "sms_delivered")
	plain := newSub(t, s, ws, "https://example.com/plain", "sms_sent")
	now := time.Now()

	// One call: m1's sms_sent (ordered and plain), its sms_delivered to the
	// same url (same key) and to another url (another key), and m2's sms_sent.
	evs := []store.NewEvent{about("sms_sent", "m1"), about("sms_delivered", "m1"), about("sms_sent", "m2")}
	res := ingestReq(t, s, store.IngestParams{WorkspaceID: ws, Events: evs, LeaseOwner: "a",
		LeaseUntil: now.Add(time.Minute)})
	byEvent := map[string][]store.Job{}
	keys := map[string]bool{}
	for _, j := range res.Jobs {
		byEvent[j.Event.ID] = append(byEvent[j.Event.ID], j)
		if (j.Subscription.ID == plain.ID) != (j.Delivery.OrderKey == "") {
			t.Errorf("delivery to %s has order key %q", j.Subscription.WebhookURL, j.Delivery.OrderKey)
		}
		keys[j.Delivery.OrderKey] = true
	}
	if len(res.Jobs) != 5 || len(byEvent[evs[0].ID]) != 2 || len(byEvent[evs[1].ID]) != 1 ||
		len(byEvent[evs[2].ID]) != 2 || len(keys) != 4 {
		t.Fatalf("handed off %d jobs with %d keys; want m1 sent ×2, m1 delivered to the other url, m2 sent ×2",
			len(res.Jobs), len(keys))
	}
	head := byEvent[evs[0].ID][0]
	if head.Subscription.ID != sent.ID {
		head = byEvent[evs[0].ID][1]
	}
	d, _ := getDelivery(t, s, ws, head.Delivery.ID)
	if d.OrderKey != head.Delivery.OrderKey || d.OrderKey == "" {
		t.Errorf("stored order key %q, job's %q", d.OrderKey, head.Delivery.OrderKey)
	}
	// The parked one (m1 sms_delivered to url) is not claimable while the
	// head is pending, neither while leased nor while waiting for a retry.
	claimOnly(t, s, "b", "while the heads are leased")
	done(t, s, "a", head, store.DeliveryPending)
	again := claimOnly(t, s, "b", "after the head failed once", head)
	// A new event of the key while the head is held is parked too.
	late := ingestReq(t, s, store.IngestParams{WorkspaceID: ws, Events: []store.NewEvent{about("sms_sent", "m1")},
		LeaseOwner: "a", LeaseUntil: now.Add(time.Minute)})
	for _, j := range late.Jobs {
		if j.Subscription.ID != plain.ID {
			t.Errorf("a later event of a busy key was handed off: %+v", j.Delivery)
		}
	}
	done(t, s, "b", again[0], store.DeliverySucceeded)
	next := claim(t, s, "b", time.Now().Add(time.Second), 100)
	if len(next) != 1 || next[0].Event.ID != evs[1].ID {
		t.Fatalf("after the head succeeded: claimed %v, want the m1 sms_delivered delivery", jobIDs(next))
	}
	done(t, s, "b", next[0], store.DeliveryFailed)
	last := claim(t, s, "b", time.Now().Add(time.Second), 100)
	if len(last) != 1 || last[0].Event.ID != late.ResponseIDs[0] {
		t.Fatalf("after a final failure: claimed %v, want the late m1 sms_sent", jobIDs(last))
	}
	done(t, s, "b", last[0], store.DeliverySucceeded)
	claimOnly(t, s, "b", "with every key done")
}

func testOrderedAcrossCalls(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	sub := orderedSub(t, s, ws, "https://example.com/calls", "call_completed")
	// Separate unleased ingests of one call, then another call: only the
	// first of each key is claimable, and they go in acceptance order.
	var first []store.Job
	for range 3 {
		first = append(first, ingest(t, s, ws, about("call_completed", "c1")).Jobs...)
	}
	other := ingest(t, s, ws, about("call_completed", "c2")).Jobs
	if len(first) != 1 || len(other) != 1 {
		t.Fatalf("unleased ingest returned %d and %d jobs, want the heads only", len(first), len(other))
	}
	got := claimOnly(t, s, "a", "heads", first[0], other[0])
	for _, j := range got {
		done(t, s, "a", j, store.DeliverySucceeded)
	}
	second := claim(t, s, "a", time.Now().Add(time.Second), 100)
	if len(second) != 1 || !(second[0].Delivery.ID > first[0].Delivery.ID) {
		t.Fatalf("second of c1: %v", jobIDs(second))
	}
	// A dead holder's lease lapses: the head is claimed again by another
	// owner, still alone.
	lapsed := must[[]store.Job](t)(s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "b",
		Now: time.Now().Add(2 * time.Minute), LeaseUntil: time.Now().Add(3 * time.Minute), Limit: 10}))
	if !slices.Equal(jobIDs(lapsed), jobIDs(second)) {
		t.Fatalf("after the lease lapsed: claimed %v, want %v", jobIDs(lapsed), jobIDs(second))
	}
	// Retrying a finally failed delivery of the key parks it behind the
	// current head.
	done(t, s, "b", lapsed[0], store.DeliveryFailed)
	third := claim(t, s, "a", time.Now().Add(time.Second), 100)
	if _, err := s.RetryDelivery(ctx, ws, lapsed[0].Delivery.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	claimOnly(t, s, "a", "while c1's third is held, the retried one waits")
	done(t, s, "a", third[0], store.DeliverySucceeded)
	retried := claimOnly(t, s, "a", "the retried one after the third", lapsed[0])
	// RetryFailed parks too: fail it, retry all, one at a time.
	done(t, s, "a", retried[0], store.DeliveryFailed)
	if n := must[int](t)(s.RetryFailed(ctx, store.RetryFailedParams{WorkspaceID: ws, SubscriptionID: sub.ID,
		Since: time.Now().Add(-time.Hour), Now: time.Now()})); n != 1 {
		t.Errorf("RetryFailed = %d, want 1", n)
	}
	claimOnly(t, s, "a", "after RetryFailed", lapsed[0])
}

func testOrderedDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	const url = "https://example.com/n"
	a := orderedSub(t, s, ws, url, "number_purchased")
	orderedSub(t, s, ws, url, "number_released")
	heads := ingest(t, s, ws, about("number_purchased", "n1")).Jobs
	ingest(t, s, ws, about("number_released", "n1"))
	// Deleting the head's subscription skips the head and lets the key's
	// next delivery (of the other subscription) go.
	if err := s.DeleteSubscription(ctx, ws, a.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if d, _ := getDelivery(t, s, ws, heads[0].Delivery.ID); d.Status != store.DeliverySkipped {
		t.Errorf("head of a deleted subscription: %s", d.Status)
	}
	got := claim(t, s, "a", time.Now().Add(time.Second), 10)
	if len(got) != 1 || got[0].Event.EventType != "number_released" {
		t.Fatalf("after deleting the head's subscription: claimed %v", jobIDs(got))
	}
	if n, _, err := s.PendingStats(ctx); err != nil || n != 1 {
		t.Errorf("PendingStats = %d, %v; want 1", n, err)
	}
}

// testOrderedConcurrentIngest: ingests of one key racing (in several
// processes on PostgreSQL) hand off one head between them.
func testOrderedConcurrentIngest(t *testing.T, s store.Store) {
	ws := newWorkspace(t, s)
	orderedSub(t, s, ws, "https://example.com/race", "call_completed")
	const n = 8
	handed := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			res, err := s.Ingest(t.Context(), stamped([]store.IngestParams{{WorkspaceID: ws,
				Events: []store.NewEvent{about("call_completed", "race")}, LeaseOwner: "a",
				LeaseUntil: time.Now().Add(time.Minute)}}))
			if err != nil {
				t.Error(err)
				return
			}
			handed <- len(res[0].Jobs)
		})
	}
	wg.Wait()
	close(handed)
	total := 0
	for k := range handed {
		total += k
	}
	if total != 1 {
		t.Errorf("%d concurrent ingests of one key handed off %d heads, want 1", n, total)
	}
}
