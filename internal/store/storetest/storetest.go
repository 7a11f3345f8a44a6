// Package storetest is the conformance suite every store.Store
// implementation runs: the behaviour the rest of the service relies on,
// written once.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// Run runs the suite. open must return a fresh, empty, migrated store that
// it closes through t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Workspaces", testWorkspaces},
		{"APIKeys", testAPIKeys},
		{"SubscriptionCRUD", testSubscriptionCRUD},
		{"SubscriptionList", testSubscriptionList},
		{"SubscriptionConflict", testSubscriptionConflict},
		{"WorkspaceIsolation", testWorkspaceIsolation},
		{"IngestRouting", testIngestRouting},
		{"IngestJobContents", testIngestJobContents},
		{"IngestDerivedEvents", testIngestDerivedEvents},
		{"IngestIdempotency", testIngestIdempotency},
		{"IngestManyRequests", testIngestManyRequests},
		{"IngestAtomic", testIngestAtomic},
		{"IngestPreLeased", testIngestPreLeased},
		{"Claim", testClaim},
		{"ClaimConcurrent", testClaimConcurrent},
		{"ClaimDeletedAndDisabled", testClaimDeletedAndDisabled},
		{"CompleteSuccess", testCompleteSuccess},
		{"CompleteRetryAndFail", testCompleteRetryAndFail},
		{"CompleteStaleOwner", testCompleteStaleOwner},
		{"CompleteSkipped", testCompleteSkipped},
		{"CompleteDisables", testCompleteDisables},
		{"FailingSince", testFailingSince},
		{"Release", testRelease},
		{"Retry", testRetry},
		{"ListDeliveries", testListDeliveries},
		{"ListEvents", testListEvents},
		{"ReleaseAllLeases", testReleaseAllLeases},
		{"PendingStats", testPendingStats},
		{"DisableFailingSubscriptions", testDisableFailing},
		{"Prune", testPrune},
		{"PruneWaitsForPending", testPruneWaitsForPending},
		{"Partitions", testPartitions},
		{"TryLead", testTryLead},
		{"Clock", testClock},
		{"NoTime", testNoTime},
		{"Validation", testValidation},
		{"SubscriptionUpdate", testSubscriptionUpdate},
		{"OrderedHeads", testOrderedHeads},
		{"OrderedAcrossCalls", testOrderedAcrossCalls},
		{"OrderedDelete", testOrderedDelete},
		{"OrderedConcurrentIngest", testOrderedConcurrentIngest},
		{"Workers", testWorkers},
		{"RoutingRule", testRoutingRule},
		{"IdempotencyRule", testIdempotencyRule},
		{"CompletionFoldRule", testCompletionFoldRule},
		{"DisableFailingRule", testDisableFailingRule},
		{"APIKeyScopes", testAPIKeyScopes},
		{"PortalSessions", testPortalSessions},
		{"IngestTestEvent", testIngestTestEvent},
		{"ListEventTypes", testListEventTypes},
		{"FactsInTransaction", testFactsInTransaction},
		{"StreakFacts", testStreakFacts},
		{"Recovery", testRecovery},
		{"Replay", testReplay},
		{"Options", testOptions},
		{"SecretsRewriter", testSecretsRewriter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each test has a store of its own
			tc.fn(t, open(t))
		})
	}
}

// Times may lose precision in storage (PostgreSQL keeps microseconds).
const precision = time.Millisecond

func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d < precision && d > -precision
}

func checkTime(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %v", what, want)
	} else if !sameTime(*got, want) {
		t.Errorf("%s = %v, want %v", what, *got, want)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

var nameSeq sync.Mutex
var nameN int

func newWorkspace(t *testing.T, s store.Store) string {
	t.Helper()
	nameSeq.Lock()
	nameN++
	name := fmt.Sprintf("ws-%d", nameN)
	nameSeq.Unlock()
	return must[store.Workspace](t)(s.CreateWorkspace(t.Context(), store.CreateWorkspaceParams{Now: time.Now(), Name: name})).ID
}

type subOpt func(*store.CreateSubscriptionParams)

func scoped(workflow, campaign string) subOpt {
	return func(p *store.CreateSubscriptionParams) { p.WorkflowID, p.CampaignID = workflow, campaign }
}

func newSub(t *testing.T, s store.Store, ws, url, eventType string, opts ...subOpt) store.Subscription {
	t.Helper()
	p := store.CreateSubscriptionParams{Now: time.Now(), WorkspaceID: ws, WebhookURL: url, EventType: eventType}
	for _, o := range opts {
		o(&p)
	}
	return must[store.Subscription](t)(s.CreateSubscription(t.Context(), p))
}

func newEvent(eventType, workflow, campaign string) store.NewEvent {
	id := ids.New(ids.Event)
	return store.NewEvent{
		ID: id, EventType: eventType, WorkflowID: workflow, CampaignID: campaign,
		OccurredAt: time.Now().Add(-time.Minute),
		Data:       []byte(`{"id":"` + id + `", "n": 1.50, "s":"\u00e9"}`),
	}
}

// ingest stores one request of the given events and returns its result.
func ingest(t *testing.T, s store.Store, ws string, events ...store.NewEvent) store.IngestResult {
	t.Helper()
	return ingestReq(t, s, store.IngestParams{WorkspaceID: ws, Events: events})
}

func ingestReq(t *testing.T, s store.Store, p store.IngestParams) store.IngestResult {
	t.Helper()
	if p.ResponseIDs == nil {
		for _, e := range p.Events {
			if e.SourceEventID == "" {
				p.ResponseIDs = append(p.ResponseIDs, e.ID)
			}
		}
	}
	res := must[[]store.IngestResult](t)(s.Ingest(t.Context(), stamped([]store.IngestParams{p})))
	if len(res) != 1 {
		t.Fatalf("Ingest returned %d results for 1 request", len(res))
	}
	return res[0]
}

// stamped sets Now, where it is not set, on each request.
func stamped(reqs []store.IngestParams) []store.IngestParams {
	now := time.Now()
	for i := range reqs {
		if reqs[i].Now.IsZero() {
			reqs[i].Now = now
		}
	}
	return reqs
}

func claim(t *testing.T, s store.Store, owner string, now time.Time, limit int) []store.Job {
	t.Helper()
	return must[[]store.Job](t)(s.ClaimDeliveries(t.Context(), store.ClaimParams{
		Owner: owner, Now: now, LeaseUntil: now.Add(time.Minute), Limit: limit}))
}

// complete records completions now and returns what they disabled.
func complete(t *testing.T, s store.Store, cs ...store.Completion) []store.DisabledSubscription {
	t.Helper()
	disabled, err := s.CompleteDeliveries(t.Context(), store.CompleteParams{Now: time.Now(), Completions: cs})
	if err != nil {
		t.Fatal(err)
	}
	return disabled
}

// disableFailing runs DisableFailingSubscriptions at now.
func disableFailing(t *testing.T, s store.Store, before, now time.Time, reason string) []store.DisabledSubscription {
	t.Helper()
	return must[[]store.DisabledSubscription](t)(s.DisableFailingSubscriptions(t.Context(),
		store.DisableFailingParams{FailingBefore: before, Reason: reason, Now: now}))
}

// checkDisabled compares what a call returned as disabled with the wanted
// subscriptions (by id), each with reason and time.
func checkDisabled(t *testing.T, what string, got []store.DisabledSubscription, ws, reason string, at time.Time, want ...string) {
	t.Helper()
	var ids []string
	for _, d := range got {
		ids = append(ids, d.SubscriptionID)
		if d.WorkspaceID != ws || d.Reason != reason || !sameTime(d.At, at) {
			t.Errorf("%s: disabled %+v, want workspace %s, reason %q, at %v", what, d, ws, reason, at)
		}
	}
	slices.Sort(ids)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("%s: disabled %v, want %v", what, ids, want)
	}
}

func jobIDs(jobs []store.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Delivery.ID)
	}
	slices.Sort(out)
	return out
}

func getDelivery(t *testing.T, s store.Store, ws, id string) (store.Delivery, []store.Attempt) {
	t.Helper()
	d, as, err := s.GetDelivery(t.Context(), ws, id)
	if err != nil {
		t.Fatalf("GetDelivery(%s): %v", id, err)
	}
	return d, as
}

func attempt(at time.Time, code int, class string) *store.Attempt {
	a := &store.Attempt{At: at, StatusCode: code, Latency: 12 * time.Millisecond, ResponseBody: "resp"}
	if class != "" {
		a.ErrorClass, a.Error = class, class+" error"
	}
	return a
}

func testWorkspaces(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now()
	ws := must[store.Workspace](t)(s.CreateWorkspace(ctx, store.CreateWorkspaceParams{Now: time.Now(), Name: "acme"}))
	if !ids.HasPrefix(ws.ID, ids.Workspace) || ws.Name != "acme" || ws.CreatedAt.Before(before.Add(-precision)) {
		t.Errorf("CreateWorkspace = %+v", ws)
	}
	got := must[store.Workspace](t)(s.GetWorkspace(ctx, ws.ID))
	if got.ID != ws.ID || got.Name != "acme" || !sameTime(got.CreatedAt, ws.CreatedAt) {
		t.Errorf("GetWorkspace = %+v, want %+v", got, ws)
	}
	_, err := s.GetWorkspace(ctx, ids.New(ids.Workspace))
	wantErr(t, "GetWorkspace(unknown)", err, store.ErrNotFound)

	_, err = s.CreateWorkspace(ctx, store.CreateWorkspaceParams{Now: time.Now(), Name: "acme"})
	var conflict *store.ConflictError
	if !errors.As(err, &conflict) || conflict.ExistingID != ws.ID || !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateWorkspace(taken name): err = %v, want a ConflictError naming %s", err, ws.ID)
	}

	ensured := must[store.Workspace](t)(s.EnsureWorkspace(ctx, store.CreateWorkspaceParams{Name: "acme", Now: time.Now()}))
	if ensured.ID != ws.ID {
		t.Errorf("EnsureWorkspace(existing) = %s, want %s", ensured.ID, ws.ID)
	}
	fresh := must[store.Workspace](t)(s.EnsureWorkspace(ctx, store.CreateWorkspaceParams{Name: "globex", Now: time.Now()}))
	if fresh.ID == ws.ID || fresh.Name != "globex" || !ids.HasPrefix(fresh.ID, ids.Workspace) {
		t.Errorf("EnsureWorkspace(new) = %+v", fresh)
	}
	if again := must[store.Workspace](t)(s.EnsureWorkspace(ctx, store.CreateWorkspaceParams{Name: "globex", Now: time.Now()})); again.ID != fresh.ID {
		t.Errorf("EnsureWorkspace twice gave %s then %s", fresh.ID, again.ID)
	}
	if n := must[int](t)(s.CountWorkspaces(ctx)); n != 2 {
		t.Errorf("CountWorkspaces = %d, want 2", n)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws, other := newWorkspace(t, s), newWorkspace(t, s)
	hash := []byte{0, 1, 2, 0xff, 0x80}
	k1 := must[store.APIKey](t)(s.CreateAPIKey(ctx, store.CreateAPIKeyParams{Now: time.Now(), ID: ids.New(ids.APIKey), WorkspaceID: ws, Hash: hash}))
	k2 := must[store.APIKey](t)(s.CreateAPIKey(ctx, store.CreateAPIKeyParams{Now: time.Now(), ID: ids.New(ids.APIKey), WorkspaceID: ws, Hash: []byte("h2")}))
	must[store.APIKey](t)(s.CreateAPIKey(ctx, store.CreateAPIKeyParams{Now: time.Now(), ID: ids.New(ids.APIKey), WorkspaceID: other, Hash: []byte("h3")}))

	got := must[store.APIKey](t)(s.GetAPIKey(ctx, k1.ID))
	if got.ID != k1.ID || got.WorkspaceID != ws || !bytes.Equal(got.Hash, hash) || got.RevokedAt != nil ||
		got.CreatedAt.IsZero() {
		t.Errorf("GetAPIKey = %+v", got)
	}
	_, err := s.GetAPIKey(ctx, ids.New(ids.APIKey))
	wantErr(t, "GetAPIKey(unknown)", err, store.ErrNotFound)
	_, err = s.CreateAPIKey(ctx, store.CreateAPIKeyParams{Now: time.Now(), ID: k1.ID, WorkspaceID: ws, Hash: []byte("x")})
	wantErr(t, "CreateAPIKey(same id)", err, store.ErrConflict)
	_, err = s.CreateAPIKey(ctx, store.CreateAPIKeyParams{Now: time.Now(), ID: ids.New(ids.APIKey), WorkspaceID: ids.New(ids.Workspace), Hash: []byte("x")})
	if err == nil {
		t.Error("CreateAPIKey(unknown workspace) succeeded")
	}

	keys := must[[]store.APIKey](t)(s.ListAPIKeys(ctx, ws))
	var listed []string
	for _, k := range keys {
		listed = append(listed, k.ID)
	}
	if want := []string{k1.ID, k2.ID}; !slices.Equal(listed, want) {
		t.Errorf("ListAPIKeys = %v, want %v", listed, want)
	}

	wantErr(t, "RevokeAPIKey(other workspace)", s.RevokeAPIKey(ctx, other, k1.ID, time.Now()), store.ErrNotFound)
	wantErr(t, "RevokeAPIKey(unknown)", s.RevokeAPIKey(ctx, ws, ids.New(ids.APIKey), time.Now()), store.ErrNotFound)
	if got := must[store.APIKey](t)(s.GetAPIKey(ctx, k1.ID)); got.RevokedAt != nil {
		t.Error("a failed revoke revoked the key")
	}
	if err := s.RevokeAPIKey(ctx, ws, k1.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	revoked := must[store.APIKey](t)(s.GetAPIKey(ctx, k1.ID))
	if revoked.RevokedAt == nil {
		t.Fatal("RevokedAt not set after RevokeAPIKey")
	}
	if got := must[store.APIKey](t)(s.GetAPIKey(ctx, k2.ID)); got.RevokedAt != nil {
		t.Error("revoking one key revoked another")
	}
}

func testSubscriptionCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	before := time.Now()
	sub := must[store.Subscription](t)(s.CreateSubscription(ctx, store.CreateSubscriptionParams{Now: time.Now(),
		WorkspaceID: ws, WebhookURL: "https://example.com/hook", EventType: "number_purchased",
		WorkflowID: "wf_1", CampaignID: "cmp_1", SigningSecret: "whsec_abc", StandardWebhooks: true,
	}))
	if !ids.HasPrefix(sub.ID, ids.Subscription) || sub.Status != store.SubscriptionActive ||
		sub.CreatedAt.Before(before.Add(-precision)) || sub.UpdatedAt.IsZero() {
		t.Errorf("CreateSubscription = %+v", sub)
	}
	got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID))
	want := store.Subscription{
		ID: sub.ID, WorkspaceID: ws, WebhookURL: "https://example.com/hook", EventType: "number_purchased",
		WorkflowID: "wf_1", CampaignID: "cmp_1", SigningSecret: "whsec_abc", StandardWebhooks: true,
		Status: store.SubscriptionActive, AutoRecover: true,
	}
	got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("GetSubscription =\n %+v, want\n %+v", got, want)
	}
	_, err := s.GetSubscription(ctx, ws, ids.New(ids.Subscription))
	wantErr(t, "GetSubscription(unknown)", err, store.ErrNotFound)

	disabled := must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(),
		WorkspaceID: ws, ID: sub.ID, Status: store.SubscriptionDisabled, Reason: "by user"}))
	if disabled.Status != store.SubscriptionDisabled || disabled.DisabledReason != "by user" {
		t.Errorf("after disable: %+v", disabled)
	}
	if got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID)); got.Status != store.SubscriptionDisabled {
		t.Errorf("disable not stored: status %q", got.Status)
	}
	enabled := must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(),
		WorkspaceID: ws, ID: sub.ID, Status: store.SubscriptionActive}))
	if enabled.Status != store.SubscriptionActive || enabled.DisabledReason != "" || enabled.FailingSince != nil {
		t.Errorf("after enable: %+v", enabled)
	}

	until := time.Now().Add(time.Hour)
	rotated := must[store.Subscription](t)(s.RotateSecret(ctx, store.RotateSecretParams{Now: time.Now(),
		WorkspaceID: ws, ID: sub.ID, NewSecret: "whsec_new", PreviousUntil: &until}))
	if rotated.SigningSecret != "whsec_new" || rotated.PreviousSecret != "whsec_abc" {
		t.Errorf("rotate with overlap: secret %q previous %q", rotated.SigningSecret, rotated.PreviousSecret)
	}
	checkTime(t, "PreviousUntil", rotated.PreviousUntil, until)
	got = must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID))
	if got.SigningSecret != "whsec_new" || got.PreviousSecret != "whsec_abc" || got.PreviousUntil == nil {
		t.Errorf("rotation not stored: %+v", got)
	}
	rotated = must[store.Subscription](t)(s.RotateSecret(ctx, store.RotateSecretParams{Now: time.Now(),
		WorkspaceID: ws, ID: sub.ID, NewSecret: "whsec_leaked_fix"}))
	if rotated.SigningSecret != "whsec_leaked_fix" || rotated.PreviousSecret != "" || rotated.PreviousUntil != nil {
		t.Errorf("immediate rotate: %+v", rotated)
	}

	if err := s.DeleteSubscription(ctx, ws, sub.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetSubscription(ctx, ws, sub.ID)
	wantErr(t, "GetSubscription(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteSubscription(deleted)", s.DeleteSubscription(ctx, ws, sub.ID, time.Now()), store.ErrNotFound)
	_, err = s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(), WorkspaceID: ws, ID: sub.ID, Status: store.SubscriptionActive})
	wantErr(t, "SetSubscriptionStatus(deleted)", err, store.ErrNotFound)
	_, err = s.RotateSecret(ctx, store.RotateSecretParams{Now: time.Now(), WorkspaceID: ws, ID: sub.ID, NewSecret: "x"})
	wantErr(t, "RotateSecret(deleted)", err, store.ErrNotFound)
	if subs := must[[]store.Subscription](t)(s.ListSubscriptions(ctx, store.ListSubscriptionsParams{WorkspaceID: ws})); len(subs) != 0 {
		t.Errorf("ListSubscriptions shows %d deleted subscriptions", len(subs))
	}
}

func testSubscriptionList(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	var all, calls []string
	for i := range 7 {
		typ := "new_call"
		if i%3 == 0 {
			typ = "sms_sent"
		}
		sub := newSub(t, s, ws, fmt.Sprintf("https://example.com/%d", i), typ)
		all = append(all, sub.ID)
		if typ == "new_call" {
			calls = append(calls, sub.ID)
		}
	}
	newSub(t, s, newWorkspace(t, s), "https://example.com/other", "new_call")
	slices.Sort(all)
	slices.Sort(calls)

	pageAll := func(p store.ListSubscriptionsParams) []string {
		t.Helper()
		var got []string
		for range 10 {
			page := must[[]store.Subscription](t)(s.ListSubscriptions(ctx, p))
			if len(page) > p.Limit {
				t.Fatalf("page of %d exceeds limit %d", len(page), p.Limit)
			}
			for _, sub := range page {
				got = append(got, sub.ID)
			}
			if len(page) < p.Limit {
				return got
			}
			p.After = page[len(page)-1].ID
		}
		t.Fatal("paging does not end")
		return nil
	}
	if got := pageAll(store.ListSubscriptionsParams{WorkspaceID: ws, Limit: 3}); !slices.Equal(got, all) {
		t.Errorf("paged list = %v, want %v", got, all)
	}
	if got := pageAll(store.ListSubscriptionsParams{WorkspaceID: ws, EventType: "new_call", Limit: 2}); !slices.Equal(got, calls) {
		t.Errorf("filtered by type = %v, want %v", got, calls)
	}
	must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(),
		WorkspaceID: ws, ID: calls[1], Status: store.SubscriptionDisabled, Reason: "r"}))
	if got := pageAll(store.ListSubscriptionsParams{WorkspaceID: ws, Status: store.SubscriptionDisabled, Limit: 5}); !slices.Equal(got, calls[1:2]) {
		t.Errorf("filtered by status disabled = %v, want %v", got, calls[1:2])
	}
	active := pageAll(store.ListSubscriptionsParams{WorkspaceID: ws, EventType: "new_call", Status: store.SubscriptionActive, Limit: 5})
	if want := slices.Delete(slices.Clone(calls), 1, 2); !slices.Equal(active, want) {
		t.Errorf("filtered by type and active = %v, want %v", active, want)
	}
}

func testSubscriptionConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	const url = "https://example.com/hook"
	orig := newSub(t, s, ws, url, "new_call", scoped("wf_1", ""))

	wantConflict := func(what string, err error, existing string) {
		t.Helper()
		var c *store.ConflictError
		if !errors.As(err, &c) || !errors.Is(err, store.ErrConflict) || c.ExistingID != existing {
			t.Errorf("%s: err = %v, want a ConflictError naming %s", what, err, existing)
		}
	}
	_, err := s.CreateSubscription(ctx, store.CreateSubscriptionParams{Now: time.Now(), WorkspaceID: ws, WebhookURL: url,
		EventType: "new_call", WorkflowID: "wf_1", SigningSecret: "different secrets do not matter"})
	wantConflict("identical", err, orig.ID)

	// Anything that differs is a different subscription.
	newSub(t, s, ws, url, "new_call")
	newSub(t, s, ws, url, "new_call", scoped("wf_2", ""))
	newSub(t, s, ws, url, "new_call", scoped("wf_1", "cmp_1"))
	newSub(t, s, ws, url+"/2", "new_call", scoped("wf_1", ""))
	newSub(t, s, ws, url, "call_completed", scoped("wf_1", ""))
	newSub(t, s, newWorkspace(t, s), url, "new_call", scoped("wf_1", ""))

	// A disabled one does not conflict, but enabling it again would.
	must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(),
		WorkspaceID: ws, ID: orig.ID, Status: store.SubscriptionDisabled, Reason: "r"}))
	twin := newSub(t, s, ws, url, "new_call", scoped("wf_1", ""))
	_, err = s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(), WorkspaceID: ws, ID: orig.ID, Status: store.SubscriptionActive})
	wantConflict("enabling next to an active twin", err, twin.ID)
	if got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, orig.ID)); got.Status != store.SubscriptionDisabled {
		t.Errorf("conflicting enable changed status to %q", got.Status)
	}

	// A deleted one does not conflict either.
	if err := s.DeleteSubscription(ctx, ws, twin.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	newSub(t, s, ws, url, "new_call", scoped("wf_1", ""))
}

func testWorkspaceIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newWorkspace(t, s), newWorkspace(t, s)
	sub := newSub(t, s, a, "https://example.com/a", "new_call")
	ev := newEvent("new_call", "", "")
	res := ingest(t, s, a, ev)
	if len(res.Jobs) != 1 {
		t.Fatalf("got %d jobs, want 1", len(res.Jobs))
	}
	dlv := res.Jobs[0].Delivery.ID
	now := time.Now()

	_, err := s.GetSubscription(ctx, b, sub.ID)
	wantErr(t, "GetSubscription", err, store.ErrNotFound)
	_, err = s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(), WorkspaceID: b, ID: sub.ID, Status: store.SubscriptionDisabled})
	wantErr(t, "SetSubscriptionStatus", err, store.ErrNotFound)
	_, err = s.RotateSecret(ctx, store.RotateSecretParams{Now: time.Now(), WorkspaceID: b, ID: sub.ID, NewSecret: "x"})
	wantErr(t, "RotateSecret", err, store.ErrNotFound)
	wantErr(t, "DeleteSubscription", s.DeleteSubscription(ctx, b, sub.ID, time.Now()), store.ErrNotFound)
	_, err = s.GetEvent(ctx, b, ev.ID)
	wantErr(t, "GetEvent", err, store.ErrNotFound)
	_, _, err = s.GetDelivery(ctx, b, dlv)
	wantErr(t, "GetDelivery", err, store.ErrNotFound)
	_, err = s.RetryDelivery(ctx, b, dlv, now)
	wantErr(t, "RetryDelivery", err, store.ErrNotFound)
	_, err = s.RetryFailed(ctx, store.RetryFailedParams{WorkspaceID: b, SubscriptionID: sub.ID, Now: now})
	wantErr(t, "RetryFailed", err, store.ErrNotFound)

	if l := must[[]store.Subscription](t)(s.ListSubscriptions(ctx, store.ListSubscriptionsParams{WorkspaceID: b})); len(l) != 0 {
		t.Errorf("ListSubscriptions(b) = %d rows", len(l))
	}
	if l := must[[]store.Event](t)(s.ListEvents(ctx, store.ListEventsParams{WorkspaceID: b})); len(l) != 0 {
		t.Errorf("ListEvents(b) = %d rows", len(l))
	}
	for _, p := range []store.ListDeliveriesParams{{WorkspaceID: b}, {WorkspaceID: b, SubscriptionID: sub.ID}, {WorkspaceID: b, EventID: ev.ID}} {
		if l := must[[]store.Delivery](t)(s.ListDeliveries(ctx, p)); len(l) != 0 {
			t.Errorf("ListDeliveries(%+v) = %d rows", p, len(l))
		}
	}
	// And nothing b tried changed a's data.
	got := must[store.Subscription](t)(s.GetSubscription(ctx, a, sub.ID))
	if got.Status != store.SubscriptionActive || got.SigningSecret != "" {
		t.Errorf("b changed a's subscription: %+v", got)
	}
	if d, _ := getDelivery(t, s, a, dlv); d.Status != store.DeliveryPending {
		t.Errorf("a's delivery is %q", d.Status)
	}
}

func testIngestRouting(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	const typ = "call_completed"
	unscoped := newSub(t, s, ws, "https://example.com/all", typ)
	byWorkflow := newSub(t, s, ws, "https://example.com/wf", typ, scoped("wf_1", ""))
	byCampaign := newSub(t, s, ws, "https://example.com/cmp", typ, scoped("", "cmp_1"))
	byBoth := newSub(t, s, ws, "https://example.com/both", typ, scoped("wf_1", "cmp_1"))
	second := newSub(t, s, ws, "https://example.org/all", typ) // fan-out: another url
	otherType := newSub(t, s, ws, "https://example.com/sms", "sms_sent")
	disabled := newSub(t, s, ws, "https://example.com/disabled", typ)
	must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(),
		WorkspaceID: ws, ID: disabled.ID, Status: store.SubscriptionDisabled, Reason: "r"}))
	deleted := newSub(t, s, ws, "https://example.com/deleted", typ)
	if err := s.DeleteSubscription(ctx, ws, deleted.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	elsewhere := newSub(t, s, newWorkspace(t, s), "https://example.com/all", typ)

	plain := newEvent(typ, "", "")
	wf1 := newEvent(typ, "wf_1", "")
	cmp1 := newEvent(typ, "", "cmp_1")
	both := newEvent(typ, "wf_1", "cmp_1")
	wf2 := newEvent(typ, "wf_2", "cmp_2")
	res := ingest(t, s, ws, plain, wf1, cmp1, both, wf2)

	got := map[string][]string{}
	for _, j := range res.Jobs {
		got[j.Event.ID] = append(got[j.Event.ID], j.Subscription.ID)
		if j.Delivery.EventID != j.Event.ID || j.Delivery.SubscriptionID != j.Subscription.ID {
			t.Errorf("job mixes delivery %+v with event %s and subscription %s", j.Delivery, j.Event.ID, j.Subscription.ID)
		}
	}
	want := map[string][]string{
		plain.ID: {unscoped.ID, second.ID},
		wf1.ID:   {unscoped.ID, byWorkflow.ID, second.ID},
		cmp1.ID:  {unscoped.ID, byCampaign.ID, second.ID},
		both.ID:  {unscoped.ID, byWorkflow.ID, byCampaign.ID, byBoth.ID, second.ID},
		wf2.ID:   {unscoped.ID, second.ID},
	}
	for ev, subs := range want {
		slices.Sort(subs)
		g := got[ev]
		slices.Sort(g)
		if !slices.Equal(g, subs) {
			t.Errorf("event %s went to %v, want %v", ev, g, subs)
		}
	}
	if len(got) != len(want) {
		t.Errorf("jobs for %d events, want %d", len(got), len(want))
	}

	// Stored as returned: the active ones pending, the disabled one's
	// recorded as skipped, nothing for the deleted one or other types.
	count := func(p store.ListDeliveriesParams) map[string]int {
		t.Helper()
		m := map[string]int{}
		for _, d := range must[[]store.Delivery](t)(s.ListDeliveries(ctx, p)) {
			m[d.Status]++
		}
		return m
	}
	if c := count(store.ListDeliveriesParams{WorkspaceID: ws, SubscriptionID: byBoth.ID}); c[store.DeliveryPending] != 1 || len(c) != 1 {
		t.Errorf("deliveries of the doubly scoped subscription: %v", c)
	}
	if c := count(store.ListDeliveriesParams{WorkspaceID: ws, SubscriptionID: disabled.ID}); c[store.DeliverySkipped] != 5 || len(c) != 1 {
		t.Errorf("deliveries of the disabled subscription: %v, want 5 skipped", c)
	}
	for _, sub := range []store.Subscription{deleted, otherType} {
		if c := count(store.ListDeliveriesParams{WorkspaceID: ws, SubscriptionID: sub.ID}); len(c) != 0 {
			t.Errorf("deliveries of %s: %v, want none", sub.WebhookURL, c)
		}
	}
	if c := count(store.ListDeliveriesParams{WorkspaceID: ws}); c[store.DeliveryPending] != len(res.Jobs) {
		t.Errorf("pending deliveries stored: %d, jobs returned: %d", c[store.DeliveryPending], len(res.Jobs))
	}
	if c := count(store.ListDeliveriesParams{WorkspaceID: elsewhere.WorkspaceID}); len(c) != 0 {
		t.Errorf("another workspace's subscription got deliveries: %v", c)
	}
	// Skipped deliveries are never claimed.
	jobs := claim(t, s, "o", time.Now().Add(time.Second), 100)
	if len(jobs) != len(res.Jobs) {
		t.Errorf("claimed %d, want the %d pending", len(jobs), len(res.Jobs))
	}
}

func testIngestJobContents(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/hook", "number_purchased", func(p *store.CreateSubscriptionParams) {
		p.SigningSecret, p.StandardWebhooks = "whsec_x", true
	})
	ev := newEvent("number_purchased", "wf_9", "")
	// Bytes a JSON re-encoder would change: spacing, escapes, number spelling, key order.
	ev.Data = []byte("{\"z\" : 1.0e2,\n\t\"a\":\"\\u00e9\\/\", \"n\":null}")
	ev.OccurredAt = time.Date(2026, 6, 30, 19, 30, 0, 123_000_000, time.UTC)
	before := time.Now()
	res := ingest(t, s, ws, ev)
	if res.Replayed || !slices.Equal(res.ResponseIDs, []string{ev.ID}) || len(res.Jobs) != 1 {
		t.Fatalf("Ingest = %+v", res)
	}
	check := func(where string, j store.Job) {
		t.Helper()
		d := j.Delivery
		if !ids.HasPrefix(d.ID, ids.Delivery) || d.WorkspaceID != ws || d.EventID != ev.ID || d.SubscriptionID != sub.ID ||
			d.EventType != "number_purchased" || d.Status != store.DeliveryPending || d.Attempts != 0 {
			t.Errorf("%s: delivery %+v", where, d)
		}
		if d.NextAttemptAt == nil || d.NextAttemptAt.After(time.Now().Add(precision)) {
			t.Errorf("%s: delivery not due now: %v", where, d.NextAttemptAt)
		}
		e := j.Event
		if e.ID != ev.ID || e.WorkspaceID != ws || e.EventType != "number_purchased" || e.WorkflowID != "wf_9" ||
			e.CampaignID != "" || !sameTime(e.OccurredAt, ev.OccurredAt) || !bytes.Equal(e.Data, ev.Data) ||
			e.CreatedAt.Before(before.Add(-precision)) {
			t.Errorf("%s: event %+v (data %q)", where, e, e.Data)
		}
		s := j.Subscription
		if s.ID != sub.ID || s.WebhookURL != sub.WebhookURL || s.SigningSecret != "whsec_x" || !s.StandardWebhooks ||
			s.Status != store.SubscriptionActive || j.Deleted {
			t.Errorf("%s: subscription %+v deleted=%v", where, s, j.Deleted)
		}
	}
	check("ingest", res.Jobs[0])
	jobs := claim(t, s, "o", time.Now().Add(time.Second), 10)
	if len(jobs) != 1 || jobs[0].Delivery.ID != res.Jobs[0].Delivery.ID {
		t.Fatalf("claimed %v, want %s", jobIDs(jobs), res.Jobs[0].Delivery.ID)
	}
	check("claim", jobs[0])
	got := must[store.Event](t)(s.GetEvent(ctx, ws, ev.ID))
	if !bytes.Equal(got.Data, ev.Data) || !sameTime(got.OccurredAt, ev.OccurredAt) || got.WorkflowID != "wf_9" {
		t.Errorf("GetEvent = %+v (data %q)", got, got.Data)
	}
	_, err := s.GetEvent(ctx, ws, ids.New(ids.Event))
	wantErr(t, "GetEvent(unknown)", err, store.ErrNotFound)
}

func testIngestDerivedEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	completed := newSub(t, s, ws, "https://example.com/c", "call_completed")
	noAnswer := newSub(t, s, ws, "https://example.com/n", "call_no_answer")
	newSub(t, s, ws, "https://example.com/b", "call_busy")
	src := newEvent("call_completed", "", "")
	derived := newEvent("call_no_answer", "", "")
	derived.Data, derived.SourceEventID = src.Data, src.ID
	res := ingest(t, s, ws, src, derived)
	if !slices.Equal(res.ResponseIDs, []string{src.ID}) {
		t.Errorf("ResponseIDs = %v, want only the sent event", res.ResponseIDs)
	}
	bySub := map[string]string{}
	for _, j := range res.Jobs {
		bySub[j.Subscription.ID] = j.Event.ID
	}
	if len(res.Jobs) != 2 || bySub[completed.ID] != src.ID || bySub[noAnswer.ID] != derived.ID {
		t.Errorf("jobs by subscription = %v", bySub)
	}
	got := must[store.Event](t)(s.GetEvent(ctx, ws, derived.ID))
	if got.SourceEventID != src.ID || got.EventType != "call_no_answer" || !bytes.Equal(got.Data, src.Data) {
		t.Errorf("derived event = %+v", got)
	}
	if got := must[store.Event](t)(s.GetEvent(ctx, ws, src.ID)); got.SourceEventID != "" {
		t.Errorf("source event has SourceEventID %q", got.SourceEventID)
	}
}

func testIngestIdempotency(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws, other := newWorkspace(t, s), newWorkspace(t, s)
	newSub(t, s, ws, "https://example.com/a", "new_call")
	newSub(t, s, other, "https://example.com/a", "new_call")

	first := newEvent("new_call", "", "")
	res := ingestReq(t, s, store.IngestParams{WorkspaceID: ws, IdempotencyKey: "k1", Events: []store.NewEvent{first}})
	if res.Replayed || len(res.Jobs) != 1 {
		t.Fatalf("first ingest = %+v", res)
	}
	retry := newEvent("new_call", "", "")
	again := ingestReq(t, s, store.IngestParams{WorkspaceID: ws, IdempotencyKey: "k1", Events: []store.NewEvent{retry}})
	if !again.Replayed || !slices.Equal(again.ResponseIDs, []string{first.ID}) || len(again.Jobs) != 0 {
		t.Errorf("replay = %+v, want Replayed with %s and no jobs", again, first.ID)
	}
	_, err := s.GetEvent(ctx, ws, retry.ID)
	wantErr(t, "GetEvent(replayed request's event)", err, store.ErrNotFound)
	if l := must[[]store.Delivery](t)(s.ListDeliveries(ctx, store.ListDeliveriesParams{WorkspaceID: ws})); len(l) != 1 {
		t.Errorf("%d deliveries after a replay, want 1", len(l))
	}

	// The key is per workspace.
	elsewhere := newEvent("new_call", "", "")
	res = ingestReq(t, s, store.IngestParams{WorkspaceID: other, IdempotencyKey: "k1", Events: []store.NewEvent{elsewhere}})
	if res.Replayed || !slices.Equal(res.ResponseIDs, []string{elsewhere.ID}) || len(res.Jobs) != 1 {
		t.Errorf("same key in another workspace = %+v", res)
	}

	// Two requests with one key in the same call: the second replays the first.
	e1, e2 := newEvent("new_call", "", ""), newEvent("new_call", "", "")
	results := must[[]store.IngestResult](t)(s.Ingest(ctx, stamped([]store.IngestParams{
		{WorkspaceID: ws, IdempotencyKey: "k2", Events: []store.NewEvent{e1}, ResponseIDs: []string{e1.ID}},
		{WorkspaceID: ws, IdempotencyKey: "k2", Events: []store.NewEvent{e2}, ResponseIDs: []string{e2.ID}},
	})))
	if len(results) != 2 || results[0].Replayed || !results[1].Replayed ||
		!slices.Equal(results[1].ResponseIDs, []string{e1.ID}) || len(results[1].Jobs) != 0 {
		t.Errorf("same key twice in one call = %+v", results)
	}
	_, err = s.GetEvent(ctx, ws, e2.ID)
	wantErr(t, "GetEvent(second of a same-key pair)", err, store.ErrNotFound)
}

func testIngestManyRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newWorkspace(t, s), newWorkspace(t, s)
	subA := newSub(t, s, a, "https://example.com/a", "new_call")
	subB := newSub(t, s, b, "https://example.com/b", "new_call")
	a1, a2, b1 := newEvent("new_call", "", ""), newEvent("new_call", "", ""), newEvent("new_call", "", "")
	results := must[[]store.IngestResult](t)(s.Ingest(ctx, stamped([]store.IngestParams{
		{WorkspaceID: a, Events: []store.NewEvent{a1, a2}, ResponseIDs: []string{a1.ID, a2.ID}},
		{WorkspaceID: b, Events: []store.NewEvent{b1}, ResponseIDs: []string{b1.ID}},
		{WorkspaceID: a, IdempotencyKey: "k"},
	})))
	if len(results) != 3 {
		t.Fatalf("%d results for 3 requests", len(results))
	}
	if !slices.Equal(results[0].ResponseIDs, []string{a1.ID, a2.ID}) || len(results[0].Jobs) != 2 {
		t.Errorf("request 0: %+v", results[0])
	}
	for _, j := range results[0].Jobs {
		if j.Subscription.ID != subA.ID || j.Delivery.WorkspaceID != a {
			t.Errorf("request 0 job: %+v", j.Delivery)
		}
	}
	if !slices.Equal(results[1].ResponseIDs, []string{b1.ID}) || len(results[1].Jobs) != 1 ||
		results[1].Jobs[0].Subscription.ID != subB.ID || results[1].Jobs[0].Event.ID != b1.ID {
		t.Errorf("request 1: %+v", results[1])
	}
	if results[2].Replayed || len(results[2].Jobs) != 0 {
		t.Errorf("request 2 (no events): %+v", results[2])
	}
	if _, err := s.GetEvent(ctx, b, b1.ID); err != nil {
		t.Errorf("GetEvent(b1): %v", err)
	}
}

func testIngestAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	newSub(t, s, ws, "https://example.com/a", "new_call")
	dup := newEvent("new_call", "", "")
	ingest(t, s, ws, dup)
	fresh := newEvent("new_call", "", "")
	_, err := s.Ingest(ctx, stamped([]store.IngestParams{
		{WorkspaceID: ws, Events: []store.NewEvent{fresh}, IdempotencyKey: "k"},
		{WorkspaceID: ws, Events: []store.NewEvent{dup}},
	}))
	wantErr(t, "Ingest(repeated event id)", err, store.ErrConflict)
	_, err = s.GetEvent(ctx, ws, fresh.ID)
	wantErr(t, "GetEvent(event of a failed call)", err, store.ErrNotFound)
	if l := must[[]store.Delivery](t)(s.ListDeliveries(ctx, store.ListDeliveriesParams{WorkspaceID: ws})); len(l) != 1 {
		t.Errorf("%d deliveries after a failed call, want 1", len(l))
	}
	// The failed call's idempotency key was not kept either.
	res := ingestReq(t, s, store.IngestParams{WorkspaceID: ws, IdempotencyKey: "k", Events: []store.NewEvent{fresh}})
	if res.Replayed || len(res.Jobs) != 1 {
		t.Errorf("ingest after a failed call = %+v", res)
	}
}

func testIngestPreLeased(t *testing.T, s store.Store) {
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/a", "new_call")
	now := time.Now()
	res := ingestReq(t, s, store.IngestParams{WorkspaceID: ws, Events: []store.NewEvent{
		newEvent("new_call", "", ""), newEvent("new_call", "", "")},
		LeaseOwner: "ingester", LeaseUntil: now.Add(time.Minute)})
	unleased := ingest(t, s, ws, newEvent("new_call", "", ""))
	if len(res.Jobs) != 2 || len(unleased.Jobs) != 1 {
		t.Fatalf("jobs: %d leased, %d unleased", len(res.Jobs), len(unleased.Jobs))
	}
	if got := jobIDs(claim(t, s, "other", now.Add(time.Second), 10)); !slices.Equal(got, jobIDs(unleased.Jobs)) {
		t.Errorf("claim during the ingest lease = %v, want only %v", got, jobIDs(unleased.Jobs))
	}
	// The ingesting owner completes one without claiming it.
	complete(t, s, store.Completion{DeliveryID: res.Jobs[0].Delivery.ID, SubscriptionID: sub.ID, Owner: "ingester",
		Attempt: attempt(now, 200, ""), Status: store.DeliverySucceeded})
	if d, _ := getDelivery(t, s, ws, res.Jobs[0].Delivery.ID); d.Status != store.DeliverySucceeded {
		t.Errorf("completion by the ingest lease owner: status %q", d.Status)
	}
	// The other lapses and is claimable again (as is the one "other" held).
	want := jobIDs([]store.Job{res.Jobs[1], unleased.Jobs[0]})
	if got := jobIDs(claim(t, s, "other", now.Add(2*time.Minute), 10)); !slices.Equal(got, want) {
		t.Errorf("claim after the ingest lease = %v, want %v", got, want)
	}
}

func testClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/a", "new_call")
	var events []store.NewEvent
	for range 5 {
		events = append(events, newEvent("new_call", "", ""))
	}
	res := ingest(t, s, ws, events...)
	now := time.Now().Add(time.Second)

	// Push one into the future: not due, so not claimed.
	later := res.Jobs[4].Delivery.ID
	if got := claim(t, s, "setup", now, 5); len(got) != 5 {
		t.Fatalf("setup claim got %d", len(got))
	}
	var cs []store.Completion
	for _, j := range res.Jobs {
		c := store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: sub.ID, Owner: "setup", Status: store.DeliveryPending}
		if j.Delivery.ID == later {
			next := now.Add(time.Hour)
			c.NextAttemptAt = &next
		} else {
			c.NextAttemptAt = &now
		}
		cs = append(cs, c)
	}
	complete(t, s, cs...)

	seen := map[string]bool{}
	for i, want := range []int{2, 2, 0} {
		jobs := must[[]store.Job](t)(s.ClaimDeliveries(ctx, store.ClaimParams{
			Owner: fmt.Sprint("owner", i), Now: now, LeaseUntil: now.Add(time.Minute), Limit: 2}))
		if len(jobs) != want {
			t.Errorf("claim %d: %d jobs, want %d", i, len(jobs), want)
		}
		for _, j := range jobs {
			if seen[j.Delivery.ID] {
				t.Errorf("claim %d: %s claimed twice under a live lease", i, j.Delivery.ID)
			}
			if j.Delivery.ID == later {
				t.Errorf("claim %d: got a delivery not yet due", i)
			}
			if j.Event.ID != j.Delivery.EventID || len(j.Event.Data) == 0 || j.Subscription.ID != sub.ID {
				t.Errorf("claim %d: job without its event or subscription: %+v", i, j)
			}
			seen[j.Delivery.ID] = true
		}
	}
	if len(seen) != 4 {
		t.Errorf("claimed %d distinct deliveries, want 4", len(seen))
	}
	// Once due, the later one is claimable; once the leases lapse, so are the rest.
	if got := claim(t, s, "x", now.Add(2*time.Minute), 10); len(got) != 4 {
		t.Errorf("claim after leases expired: %d, want 4", len(got))
	}
	if got := jobIDs(claim(t, s, "y", now.Add(2*time.Hour), 10)); !slices.Contains(got, later) {
		t.Errorf("claim after its time: %v lacks %s", got, later)
	}
	if got := must[[]store.Job](t)(s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "z", Now: now.Add(3 * time.Hour), LeaseUntil: now.Add(4 * time.Hour), Limit: 0})); len(got) != 0 {
		t.Errorf("claim with limit 0 returned %d", len(got))
	}
}

func testClaimConcurrent(t *testing.T, s store.Store) {
	ws := newWorkspace(t, s)
	for i := range 4 {
		newSub(t, s, ws, fmt.Sprintf("https://example.com/%d", i), "new_call")
	}
	var events []store.NewEvent
	for range 50 {
		events = append(events, newEvent("new_call", "", ""))
	}
	total := len(ingest(t, s, ws, events...).Jobs)
	now := time.Now().Add(time.Second)
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for {
				jobs, err := s.ClaimDeliveries(context.Background(), store.ClaimParams{
					Owner: fmt.Sprint("w", w), Now: now, LeaseUntil: now.Add(time.Minute), Limit: 7})
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					got[j.Delivery.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != total {
		t.Errorf("claimed %d distinct deliveries of %d", len(got), total)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}

func testClaimDeletedAndDisabled(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	gone := newSub(t, s, ws, "https://example.com/gone", "new_call")
	off := newSub(t, s, ws, "https://example.com/off", "sms_sent")
	now := time.Now()
	held := ingestReq(t, s, store.IngestParams{WorkspaceID: ws, Events: []store.NewEvent{newEvent("new_call", "", "")},
		LeaseOwner: "dead", LeaseUntil: now.Add(time.Minute)})
	free := ingest(t, s, ws, newEvent("new_call", "", ""), newEvent("sms_sent", "", ""))
	if len(held.Jobs) != 1 || len(free.Jobs) != 2 {
		t.Fatalf("jobs: %d held, %d free", len(held.Jobs), len(free.Jobs))
	}
	var freeGone, freeOff string
	for _, j := range free.Jobs {
		if j.Subscription.ID == gone.ID {
			freeGone = j.Delivery.ID
		} else {
			freeOff = j.Delivery.ID
		}
	}
	if err := s.DeleteSubscription(ctx, ws, gone.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(),
		WorkspaceID: ws, ID: off.ID, Status: store.SubscriptionDisabled, Reason: "paused"}))

	// A pending delivery nobody held is skipped by the delete itself.
	if d, _ := getDelivery(t, s, ws, freeGone); d.Status != store.DeliverySkipped || d.NextAttemptAt != nil {
		t.Errorf("unheld delivery of a deleted subscription: status %q next %v", d.Status, d.NextAttemptAt)
	}
	jobs := claim(t, s, "new", now.Add(2*time.Minute), 10)
	byID := map[string]store.Job{}
	for _, j := range jobs {
		byID[j.Delivery.ID] = j
	}
	if len(jobs) != 2 {
		t.Fatalf("claimed %v, want the held one (lease lapsed) and the disabled one", jobIDs(jobs))
	}
	if j, ok := byID[held.Jobs[0].Delivery.ID]; !ok || !j.Deleted || j.Subscription.ID != gone.ID {
		t.Errorf("held delivery of the deleted subscription: found %v, job %+v", ok, j)
	}
	if j, ok := byID[freeOff]; !ok || j.Deleted || j.Subscription.Status != store.SubscriptionDisabled ||
		j.Subscription.DisabledReason != "paused" {
		t.Errorf("delivery of the disabled subscription: found %v, job %+v", ok, j)
	}
}

func testCompleteSuccess(t *testing.T, s store.Store) {
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/a", "new_call")
	ingest(t, s, ws, newEvent("new_call", "", ""))
	now := time.Now().Add(time.Second)
	jobs := must[[]store.Job](t)(s.ClaimDeliveries(t.Context(), store.ClaimParams{
		Owner: "o", Now: now, LeaseUntil: now.Add(time.Hour), Limit: 1}))
	if len(jobs) != 1 {
		t.Fatalf("claimed %d", len(jobs))
	}
	id := jobs[0].Delivery.ID
	a := &store.Attempt{At: now, StatusCode: 204, Latency: 1500 * time.Microsecond, ResponseBody: "ok\x00\xff"}
	complete(t, s, store.Completion{DeliveryID: id, SubscriptionID: sub.ID, Owner: "o", Attempt: a, Status: store.DeliverySucceeded})

	d, attempts := getDelivery(t, s, ws, id)
	if d.Status != store.DeliverySucceeded || d.Attempts != 1 || d.NextAttemptAt != nil || d.LastError != "" {
		t.Errorf("delivery after success: %+v", d)
	}
	if len(attempts) != 1 {
		t.Fatalf("%d attempts, want 1", len(attempts))
	}
	got := attempts[0]
	if got.DeliveryID != id || got.Number != 1 || got.StatusCode != 204 || got.Latency.Round(time.Microsecond) != a.Latency ||
		got.ErrorClass != "" || got.Error != "" || got.ResponseBody != a.ResponseBody || !sameTime(got.At, now) ||
		!ids.HasPrefix(got.ID, ids.Attempt) {
		t.Errorf("attempt = %+v", got)
	}
	if got := claim(t, s, "p", now.Add(48*time.Hour), 10); len(got) != 0 {
		t.Errorf("a succeeded delivery was claimed again")
	}
}

func testCompleteRetryAndFail(t *testing.T, s store.Store) {
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/a", "new_call")
	ingest(t, s, ws, newEvent("new_call", "", ""))
	t0 := time.Now().Add(time.Second)
	// Long leases: the delivery comes back only if completion clears them.
	claimLong := func(owner string, now time.Time) []store.Job {
		t.Helper()
		return must[[]store.Job](t)(s.ClaimDeliveries(t.Context(), store.ClaimParams{
			Owner: owner, Now: now, LeaseUntil: now.Add(100 * time.Hour), Limit: 10}))
	}
	jobs := claimLong("o1", t0)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d", len(jobs))
	}
	id := jobs[0].Delivery.ID
	next := t0.Add(time.Hour)
	complete(t, s, store.Completion{DeliveryID: id, SubscriptionID: sub.ID, Owner: "o1",
		Attempt: attempt(t0, 500, "http_status"), Status: store.DeliveryPending, NextAttemptAt: &next})
	d, _ := getDelivery(t, s, ws, id)
	if d.Status != store.DeliveryPending || d.Attempts != 1 || d.LastError == "" {
		t.Errorf("after a failed attempt: %+v", d)
	}
	checkTime(t, "NextAttemptAt", d.NextAttemptAt, next)
	if got := claimLong("o2", t0.Add(30*time.Minute)); len(got) != 0 {
		t.Errorf("claimed before its next attempt time")
	}
	t1 := t0.Add(2 * time.Hour)
	jobs = claimLong("o2", t1)
	if len(jobs) != 1 || jobs[0].Delivery.Attempts != 1 {
		t.Fatalf("claim at the retry time = %+v", jobs)
	}
	complete(t, s, store.Completion{DeliveryID: id, SubscriptionID: sub.ID, Owner: "o2",
		Attempt: attempt(t1, 0, "timeout"), Status: store.DeliveryFailed})
	d, attempts := getDelivery(t, s, ws, id)
	if d.Status != store.DeliveryFailed || d.Attempts != 2 || d.NextAttemptAt != nil || d.LastError == "" {
		t.Errorf("after the last attempt: %+v", d)
	}
	if len(attempts) != 2 || attempts[0].Number != 1 || attempts[1].Number != 2 ||
		attempts[0].StatusCode != 500 || attempts[1].ErrorClass != "timeout" || !sameTime(attempts[1].At, t1) {
		t.Errorf("attempts = %+v", attempts)
	}
	if got := claimLong("o3", t1.Add(48*time.Hour)); len(got) != 0 {
		t.Errorf("a failed delivery was claimed again")
	}
}

func testCompleteStaleOwner(t *testing.T, s store.Store) {
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/a", "new_call")
	ingest(t, s, ws, newEvent("new_call", "", ""))
	now := time.Now().Add(time.Second)
	id := claim(t, s, "old", now, 1)[0].Delivery.ID
	// The lease lapses and another owner takes the delivery.
	if got := claim(t, s, "new", now.Add(2*time.Minute), 1); len(got) != 1 {
		t.Fatalf("reclaim got %d", len(got))
	}
	complete(t, s, store.Completion{DeliveryID: id, SubscriptionID: sub.ID, Owner: "old",
		Attempt: attempt(now, 200, ""), Status: store.DeliverySucceeded})
	d, attempts := getDelivery(t, s, ws, id)
	if d.Status != store.DeliveryPending || d.Attempts != 0 || len(attempts) != 0 {
		t.Errorf("a stale owner's completion was applied: %+v, %d attempts", d, len(attempts))
	}
	complete(t, s, store.Completion{DeliveryID: id, SubscriptionID: sub.ID, Owner: "new",
		Attempt: attempt(now, 200, ""), Status: store.DeliverySucceeded})
	if d, _ := getDelivery(t, s, ws, id); d.Status != store.DeliverySucceeded {
		t.Errorf("the owner's completion was not applied: %+v", d)
	}
}

func testCompleteSkipped(t *testing.T, s store.Store) {
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/a", "new_call")
	ingest(t, s, ws, newEvent("new_call", "", ""))
	id := claim(t, s, "o", time.Now().Add(time.Second), 1)[0].Delivery.ID
	complete(t, s, store.Completion{DeliveryID: id, SubscriptionID: sub.ID, Owner: "o", Status: store.DeliverySkipped})
	d, attempts := getDelivery(t, s, ws, id)
	if d.Status != store.DeliverySkipped || d.Attempts != 0 || d.NextAttemptAt != nil || len(attempts) != 0 {
		t.Errorf("skipped: %+v, %d attempts", d, len(attempts))
	}
}

func testCompleteDisables(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/a", "new_call")
	bystander := newSub(t, s, ws, "https://example.com/b", "new_call")
	ingest(t, s, ws, newEvent("new_call", "", ""))
	now := time.Now().Add(time.Second)
	var cs []store.Completion
	for _, j := range claim(t, s, "o", now, 10) {
		c := store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: j.Subscription.ID, Owner: "o",
			Attempt: attempt(now, 200, ""), Status: store.DeliverySucceeded}
		if j.Subscription.ID == sub.ID {
			c.Attempt, c.Status, c.DisableReason = attempt(now, 410, "gone"), store.DeliveryFailed, "endpoint returned 410 Gone"
		}
		cs = append(cs, c)
	}
	if len(cs) != 2 {
		t.Fatalf("claimed %d, want 2", len(cs))
	}
	at := time.Now()
	disabled := must[[]store.DisabledSubscription](t)(s.CompleteDeliveries(ctx, store.CompleteParams{Now: at, Completions: cs}))
	checkDisabled(t, "CompleteDeliveries", disabled, ws, "endpoint returned 410 Gone", at, sub.ID)
	got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID))
	if got.Status != store.SubscriptionDisabled || got.DisabledReason != "endpoint returned 410 Gone" {
		t.Errorf("after DisableReason: %+v", got)
	}
	if got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, bystander.ID)); got.Status != store.SubscriptionActive {
		t.Errorf("another subscription was disabled: %+v", got)
	}
}

func testFailingSince(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/a", "new_call")
	t0 := time.Now().Add(time.Second)
	// round delivers one event, claims it and completes it with the given outcome.
	round := func(at time.Time, ok bool) {
		t.Helper()
		ingest(t, s, ws, newEvent("new_call", "", ""))
		jobs := claim(t, s, "o", at, 10)
		if len(jobs) != 1 {
			t.Fatalf("claimed %d", len(jobs))
		}
		c := store.Completion{DeliveryID: jobs[0].Delivery.ID, SubscriptionID: sub.ID, Owner: "o", Status: store.DeliverySucceeded,
			Attempt: attempt(at, 200, "")}
		if !ok {
			c.Status, c.Attempt = store.DeliveryFailed, attempt(at, 500, "http_status")
		}
		complete(t, s, c)
	}
	failingSince := func() *time.Time {
		t.Helper()
		return must[store.Subscription](t)(s.GetSubscription(ctx, ws, sub.ID)).FailingSince
	}
	if f := failingSince(); f != nil {
		t.Errorf("new subscription FailingSince = %v", f)
	}
	round(t0, false)
	checkTime(t, "FailingSince after the first failure", failingSince(), t0)
	round(t0.Add(time.Hour), false)
	checkTime(t, "FailingSince after a second failure", failingSince(), t0)
	round(t0.Add(2*time.Hour), true)
	if f := failingSince(); f != nil {
		t.Errorf("FailingSince after a success = %v, want nil", f)
	}
	round(t0.Add(3*time.Hour), false)
	checkTime(t, "FailingSince of a new streak", failingSince(), t0.Add(3*time.Hour))

	// Within one batch, the streak starts after the last success.
	ingest(t, s, ws, newEvent("new_call", "", ""), newEvent("new_call", "", ""), newEvent("new_call", "", ""),
		newEvent("new_call", "", ""))
	jobs := claim(t, s, "o", t0.Add(4*time.Hour), 10)
	if len(jobs) != 4 {
		t.Fatalf("claimed %d", len(jobs))
	}
	outcome := func(j store.Job, at time.Time, ok bool) store.Completion {
		c := store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: sub.ID, Owner: "o",
			Status: store.DeliveryFailed, Attempt: attempt(at, 500, "http_status")}
		if ok {
			c.Status, c.Attempt = store.DeliverySucceeded, attempt(at, 200, "")
		}
		return c
	}
	ta := t0.Add(4 * time.Hour)
	complete(t, s,
		outcome(jobs[0], ta, false),
		outcome(jobs[1], ta.Add(time.Minute), true),
		outcome(jobs[2], ta.Add(2*time.Minute), false),
		outcome(jobs[3], ta.Add(3*time.Minute), false),
	)
	checkTime(t, "FailingSince after failure, success, failures in one batch", failingSince(), ta.Add(2*time.Minute))

	// Enabling again starts over.
	must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(), WorkspaceID: ws, ID: sub.ID, Status: store.SubscriptionDisabled}))
	must[store.Subscription](t)(s.SetSubscriptionStatus(ctx, store.SetSubscriptionStatusParams{Now: time.Now(), WorkspaceID: ws, ID: sub.ID, Status: store.SubscriptionActive}))
	if f := failingSince(); f != nil {
		t.Errorf("FailingSince after re-enabling = %v, want nil", f)
	}
}

func testRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	newSub(t, s, ws, "https://example.com/a", "new_call")
	ingest(t, s, ws, newEvent("new_call", "", ""), newEvent("new_call", "", ""))
	now := time.Now().Add(time.Second)
	jobs := must[[]store.Job](t)(s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "a", Now: now, LeaseUntil: now.Add(time.Hour), Limit: 10}))
	if len(jobs) != 2 {
		t.Fatalf("claimed %d", len(jobs))
	}
	first, second := jobs[0].Delivery.ID, jobs[1].Delivery.ID

	if err := s.ReleaseDeliveries(ctx, "b", []string{first, second}, now); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, "c", now, 10); len(got) != 0 {
		t.Errorf("release by a non-owner freed %d deliveries", len(got))
	}
	later := now.Add(10 * time.Minute)
	if err := s.ReleaseDeliveries(ctx, "a", []string{first}, now); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseDeliveries(ctx, "a", []string{second}, later); err != nil {
		t.Fatal(err)
	}
	d, attempts := getDelivery(t, s, ws, first)
	if d.Status != store.DeliveryPending || d.Attempts != 0 || len(attempts) != 0 {
		t.Errorf("released delivery: %+v", d)
	}
	checkTime(t, "NextAttemptAt of a delivery released for later", func() *time.Time {
		d, _ := getDelivery(t, s, ws, second)
		return d.NextAttemptAt
	}(), later)
	got := must[[]store.Job](t)(s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "c", Now: now, LeaseUntil: now.Add(time.Hour), Limit: 10}))
	if !slices.Equal(jobIDs(got), []string{first}) {
		t.Errorf("claim after release = %v, want %s", jobIDs(got), first)
	}
	if got := jobIDs(claim(t, s, "c", later, 10)); !slices.Equal(got, []string{second}) {
		t.Errorf("claim at the later due time = %v, want %s", got, second)
	}
}

func testRetry(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/a", "new_call")
	ingest(t, s, ws, newEvent("new_call", "", ""), newEvent("new_call", "", ""), newEvent("new_call", "", ""))
	now := time.Now().Add(time.Second)
	jobs := claim(t, s, "o", now, 10)
	if len(jobs) != 3 {
		t.Fatalf("claimed %d", len(jobs))
	}
	var failed []string
	var cs []store.Completion
	for i, j := range jobs {
		c := store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: sub.ID, Owner: "o",
			Attempt: attempt(now, 500, "http_status"), Status: store.DeliveryFailed}
		if i == 2 {
			c.Attempt, c.Status = attempt(now, 200, ""), store.DeliverySucceeded
		} else {
			failed = append(failed, j.Delivery.ID)
		}
		cs = append(cs, c)
	}
	complete(t, s, cs...)

	at := now.Add(time.Minute)
	d := must[store.Delivery](t)(s.RetryDelivery(ctx, ws, failed[0], at))
	if d.ID != failed[0] || d.Status != store.DeliveryPending || d.Attempts != 1 {
		t.Errorf("RetryDelivery = %+v", d)
	}
	checkTime(t, "NextAttemptAt after RetryDelivery", d.NextAttemptAt, at)
	if got := jobIDs(claim(t, s, "p", at, 10)); !slices.Equal(got, failed[:1]) {
		t.Errorf("claim after RetryDelivery = %v, want %v", got, failed[:1])
	}
	_, err := s.RetryDelivery(ctx, ws, ids.New(ids.Delivery), at)
	wantErr(t, "RetryDelivery(unknown)", err, store.ErrNotFound)

	// RetryFailed takes the remaining failed one only, and only if recent enough.
	if n := must[int](t)(s.RetryFailed(ctx, store.RetryFailedParams{WorkspaceID: ws, SubscriptionID: sub.ID,
		Since: time.Now().Add(time.Hour), Now: at})); n != 0 {
		t.Errorf("RetryFailed since the future = %d, want 0", n)
	}
	if n := must[int](t)(s.RetryFailed(ctx, store.RetryFailedParams{WorkspaceID: ws, SubscriptionID: sub.ID,
		Since: now.Add(-time.Hour), Now: at})); n != 1 {
		t.Errorf("RetryFailed = %d, want 1", n)
	}
	if got := jobIDs(claim(t, s, "q", at, 10)); !slices.Equal(got, failed[1:]) {
		t.Errorf("claim after RetryFailed = %v, want %v", got, failed[1:])
	}
	_, err = s.RetryFailed(ctx, store.RetryFailedParams{WorkspaceID: ws, SubscriptionID: ids.New(ids.Subscription), Now: at})
	wantErr(t, "RetryFailed(unknown subscription)", err, store.ErrNotFound)
}

func testListDeliveries(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	s1 := newSub(t, s, ws, "https://example.com/1", "new_call")
	s2 := newSub(t, s, ws, "https://example.com/2", "new_call")
	e1, e2, e3 := newEvent("new_call", "", ""), newEvent("new_call", "", ""), newEvent("new_call", "", "")
	res := ingest(t, s, ws, e1, e2, e3)
	now := time.Now().Add(time.Second)
	done := claim(t, s, "o", now, 1)[0]
	complete(t, s, store.Completion{DeliveryID: done.Delivery.ID, SubscriptionID: done.Subscription.ID, Owner: "o",
		Attempt: attempt(now, 200, ""), Status: store.DeliverySucceeded})

	var all []string
	for _, j := range res.Jobs {
		all = append(all, j.Delivery.ID)
	}
	slices.Sort(all)
	list := func(p store.ListDeliveriesParams) []string {
		t.Helper()
		p.WorkspaceID = ws
		var out []string
		for _, d := range must[[]store.Delivery](t)(s.ListDeliveries(ctx, p)) {
			out = append(out, d.ID)
		}
		return out
	}
	filter := func(keep func(store.Job) bool) []string {
		var out []string
		for _, j := range res.Jobs {
			if keep(j) {
				out = append(out, j.Delivery.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name string
		p    store.ListDeliveriesParams
		want []string
	}{
		{"all", store.ListDeliveriesParams{}, all},
		{"subscription", store.ListDeliveriesParams{SubscriptionID: s2.ID}, filter(func(j store.Job) bool { return j.Subscription.ID == s2.ID })},
		{"event", store.ListDeliveriesParams{EventID: e2.ID}, filter(func(j store.Job) bool { return j.Event.ID == e2.ID })},
		{"succeeded", store.ListDeliveriesParams{Status: store.DeliverySucceeded}, []string{done.Delivery.ID}},
		{"subscription+event", store.ListDeliveriesParams{SubscriptionID: s1.ID, EventID: e3.ID},
			filter(func(j store.Job) bool { return j.Subscription.ID == s1.ID && j.Event.ID == e3.ID })},
		{"first page", store.ListDeliveriesParams{Limit: 4}, all[:4]},
		{"second page", store.ListDeliveriesParams{Limit: 4, After: all[3]}, all[4:]},
		{"after the last", store.ListDeliveriesParams{After: all[5]}, nil},
		{"newest first", store.ListDeliveriesParams{Newest: true, Limit: 4}, reversed(all)[:4]},
		{"newest first, second page", store.ListDeliveriesParams{Newest: true, Limit: 4, After: all[2]}, reversed(all[:2])},
		{"newest first, by status", store.ListDeliveriesParams{Newest: true, Status: store.DeliverySucceeded}, []string{done.Delivery.ID}},
	} {
		if got := list(tc.p); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func testListEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	var all, calls []string
	var events []store.NewEvent
	for i := range 5 {
		typ := "new_call"
		if i%2 == 1 {
			typ = "sms_sent"
		}
		e := newEvent(typ, "", "")
		events = append(events, e)
		all = append(all, e.ID)
		if typ == "new_call" {
			calls = append(calls, e.ID)
		}
	}
	ingest(t, s, ws, events...)
	ingest(t, s, newWorkspace(t, s), newEvent("new_call", "", ""))
	slices.Sort(all)
	slices.Sort(calls)
	list := func(p store.ListEventsParams) []string {
		t.Helper()
		p.WorkspaceID = ws
		var out []string
		for _, e := range must[[]store.Event](t)(s.ListEvents(ctx, p)) {
			out = append(out, e.ID)
			if len(e.Data) == 0 {
				t.Errorf("listed event %s without data", e.ID)
			}
		}
		return out
	}
	if got := list(store.ListEventsParams{}); !slices.Equal(got, all) {
		t.Errorf("all = %v, want %v", got, all)
	}
	if got := list(store.ListEventsParams{Limit: 2, After: all[1]}); !slices.Equal(got, all[2:4]) {
		t.Errorf("page = %v, want %v", got, all[2:4])
	}
	if got := list(store.ListEventsParams{EventType: "new_call"}); !slices.Equal(got, calls) {
		t.Errorf("by type = %v, want %v", got, calls)
	}
	if got := list(store.ListEventsParams{Newest: true}); !slices.Equal(got, reversed(all)) {
		t.Errorf("newest first = %v, want %v", got, reversed(all))
	}
	if got := list(store.ListEventsParams{Newest: true, Limit: 2, After: all[3]}); !slices.Equal(got, reversed(all[1:3])) {
		t.Errorf("newest first, page after %s = %v, want %v", all[3], got, reversed(all[1:3]))
	}
}

// reversed returns a reversed copy.
func reversed(ids []string) []string {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

func testPendingStats(t *testing.T, s store.Store) {
	ctx := t.Context()
	stats := func() (int, *time.Time) {
		t.Helper()
		n, oldest, err := s.PendingStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n, oldest
	}
	if n, oldest := stats(); n != 0 || oldest != nil {
		t.Errorf("PendingStats on an empty store = %d, %v", n, oldest)
	}
	ws := newWorkspace(t, s)
	sub := newSub(t, s, ws, "https://example.com/a", "new_call")
	first := ingest(t, s, ws, newEvent("new_call", "", "")).Jobs[0].Delivery
	time.Sleep(5 * time.Millisecond)
	ingest(t, s, ws, newEvent("new_call", "", ""), newEvent("new_call", "", ""))
	n, oldest := stats()
	if n != 3 {
		t.Errorf("pending = %d, want 3", n)
	}
	checkTime(t, "oldest pending", oldest, first.CreatedAt)
	now := time.Now().Add(time.Second)
	for _, j := range claim(t, s, "o", now, 10) {
		if j.Delivery.ID == first.ID {
			complete(t, s, store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: sub.ID, Owner: "o",
				Attempt: attempt(now, 200, ""), Status: store.DeliverySucceeded})
		}
	}
	n, oldest = stats()
	if n != 2 || oldest == nil || !oldest.After(first.CreatedAt) {
		t.Errorf("after one success: pending %d, oldest %v (first was %v)", n, oldest, first.CreatedAt)
	}
}

func testDisableFailing(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	old := newSub(t, s, ws, "https://example.com/old", "new_call")
	recent := newSub(t, s, ws, "https://example.com/recent", "new_call")
	healthy := newSub(t, s, ws, "https://example.com/healthy", "new_call")
	ingest(t, s, ws, newEvent("new_call", "", ""))
	now := time.Now()
	var cs []store.Completion
	for _, j := range claim(t, s, "o", now.Add(time.Second), 10) {
		c := store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: j.Subscription.ID, Owner: "o", Status: store.DeliveryFailed}
		switch j.Subscription.ID {
		case old.ID:
			c.Attempt = attempt(now.Add(-6*24*time.Hour), 500, "http_status")
		case recent.ID:
			c.Attempt = attempt(now.Add(-time.Hour), 500, "http_status")
		default:
			c.Attempt, c.Status = attempt(now, 200, ""), store.DeliverySucceeded
		}
		cs = append(cs, c)
	}
	complete(t, s, cs...)
	disabled := disableFailing(t, s, now.Add(-5*24*time.Hour), now, "failing for 5 days")
	checkDisabled(t, "DisableFailingSubscriptions", disabled, ws, "failing for 5 days", now, old.ID)
	for _, tc := range []struct {
		sub    store.Subscription
		status string
	}{{old, store.SubscriptionDisabled}, {recent, store.SubscriptionActive}, {healthy, store.SubscriptionActive}} {
		got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, tc.sub.ID))
		if got.Status != tc.status {
			t.Errorf("%s: status %q, want %q", tc.sub.WebhookURL, got.Status, tc.status)
		}
		if tc.status == store.SubscriptionDisabled && got.DisabledReason != "failing for 5 days" {
			t.Errorf("%s: reason %q", tc.sub.WebhookURL, got.DisabledReason)
		}
	}
	if d := disableFailing(t, s, now.Add(-5*24*time.Hour), now, "again"); len(d) != 0 {
		t.Errorf("second DisableFailingSubscriptions = %+v, want none", d)
	}
}

func testTryLead(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	lead := func(name, owner string, until time.Time) bool {
		t.Helper()
		return must[bool](t)(s.TryLead(ctx, store.LeadParams{Name: name, Owner: owner, Now: now, Until: until}))
	}
	steps := []struct {
		name, owner string
		until       time.Time
		want        bool
	}{
		{"pruner", "a", now.Add(time.Minute), true},     // free: taken
		{"pruner", "b", now.Add(time.Minute), false},    // held by a
		{"pruner", "a", now.Add(2 * time.Minute), true}, // renewal
		{"pruner", "b", now.Add(time.Minute), false},    // still held
		{"other", "b", now.Add(time.Minute), true},      // names are independent
		{"pruner", "a", now.Add(-time.Second), true},    // a lets it lapse
		{"pruner", "b", now.Add(time.Minute), true},     // expired: taken over
		{"pruner", "a", now.Add(time.Minute), false},    // a lost it
	}
	for i, st := range steps {
		if got := lead(st.name, st.owner, st.until); got != st.want {
			t.Errorf("step %d: TryLead(%s, %s) = %v, want %v", i, st.name, st.owner, got, st.want)
		}
	}
}

// testReleaseAllLeases runs for stores that are a store.SingleProcess: every
// lease is handed back, due as before, and only leased work is touched.
func testReleaseAllLeases(t *testing.T, s store.Store) {
	r, ok := s.(store.SingleProcess)
	if !ok {
		t.Skip("not a store.SingleProcess")
	}
	ws := newWorkspace(t, s)
	newSub(t, s, ws, "https://example.com/a", "new_call")
	ingest(t, s, ws, newEvent("new_call", "", ""), newEvent("new_call", "", ""))
	now := time.Now().Add(time.Second)
	held := must[[]store.Job](t)(s.ClaimDeliveries(t.Context(), store.ClaimParams{
		Owner: "dead", Now: now, LeaseUntil: now.Add(time.Hour), Limit: 1}))
	if len(held) != 1 {
		t.Fatalf("claimed %d, want 1", len(held))
	}
	if n := must[int](t)(r.ReleaseAllLeases(t.Context())); n != 1 {
		t.Errorf("ReleaseAllLeases = %d, want 1", n)
	}
	if got := claim(t, s, "new", now, 10); len(got) != 2 {
		t.Errorf("claimed %d after releasing all leases, want both", len(got))
	}
	if n := must[int](t)(r.ReleaseAllLeases(t.Context())); n != 2 {
		t.Errorf("ReleaseAllLeases of the new claims = %d, want 2", n)
	}
}
