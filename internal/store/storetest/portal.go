package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

func testAPIKeyScopes(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	made := map[string][]string{}
	for _, scopes := range [][]string{{"read"}, {"ingest", "read", "subscriptions:write"}, nil} {
		k := must[store.APIKey](t)(s.CreateAPIKey(ctx, store.CreateAPIKeyParams{ID: ids.New(ids.APIKey), WorkspaceID: ws, Hash: []byte("h"), Scopes: scopes, Now: time.Now()}))
		got := must[store.APIKey](t)(s.GetAPIKey(ctx, k.ID))
		if !slices.Equal(got.Scopes, scopes) || !slices.Equal(k.Scopes, scopes) {
			t.Errorf("scopes %q stored as %q (create returned %q)", scopes, got.Scopes, k.Scopes)
		}
		made[k.ID] = scopes
	}
	for _, k := range must[[]store.APIKey](t)(s.ListAPIKeys(ctx, ws)) {
		if !slices.Equal(k.Scopes, made[k.ID]) {
			t.Errorf("listed key %s with scopes %q, want %q", k.ID, k.Scopes, made[k.ID])
		}
	}
}

func testPortalSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws, other := newWorkspace(t, s), newWorkspace(t, s)
	expires := time.Now().Add(time.Hour)
	p := store.CreatePortalSessionParams{ID: "pts_" + ids.New(ids.APIKey), WorkspaceID: ws, Hash: []byte{0, 0xff, 1},
		Scopes: []string{"read"}, EventTypes: []string{"sms_sent", "new_call"}, BrandColor: "#0a7c59", BrandName: "Acme",
		ExpiresAt: expires, Now: time.Now()}
	created := must[store.PortalSession](t)(s.CreatePortalSession(ctx, p))
	got := must[store.PortalSession](t)(s.GetPortalSession(ctx, p.ID))
	for _, ps := range []store.PortalSession{created, got} {
		if ps.ID != p.ID || ps.WorkspaceID != ws || !bytes.Equal(ps.Hash, p.Hash) || !slices.Equal(ps.Scopes, p.Scopes) ||
			!slices.Equal(ps.EventTypes, p.EventTypes) || ps.BrandColor != p.BrandColor || ps.BrandName != p.BrandName ||
			!sameTime(ps.ExpiresAt, expires) || ps.CreatedAt.IsZero() || ps.RevokedAt != nil {
			t.Errorf("session = %+v, want the fields of %+v", ps, p)
		}
	}
	plain := p
	plain.ID, plain.EventTypes, plain.BrandColor, plain.BrandName = "pts_"+ids.New(ids.APIKey), nil, "", ""
	must[store.PortalSession](t)(s.CreatePortalSession(ctx, plain))
	if got := must[store.PortalSession](t)(s.GetPortalSession(ctx, plain.ID)); len(got.EventTypes) != 0 {
		t.Errorf("a session without event types reads back %q", got.EventTypes)
	}

	_, err := s.CreatePortalSession(ctx, p)
	wantErr(t, "CreatePortalSession(same id)", err, store.ErrConflict)
	unknownWS := p
	unknownWS.ID, unknownWS.WorkspaceID = "pts_"+ids.New(ids.APIKey), ids.New(ids.Workspace)
	if _, err := s.CreatePortalSession(ctx, unknownWS); err == nil {
		t.Error("CreatePortalSession(unknown workspace) succeeded")
	}
	_, err = s.GetPortalSession(ctx, "pts_unknown")
	wantErr(t, "GetPortalSession(unknown)", err, store.ErrNotFound)

	wantErr(t, "RevokePortalSession(other workspace)", s.RevokePortalSession(ctx, other, p.ID, time.Now()), store.ErrNotFound)
	wantErr(t, "RevokePortalSession(unknown)", s.RevokePortalSession(ctx, ws, "pts_unknown", time.Now()), store.ErrNotFound)
	if err := s.RevokePortalSession(ctx, ws, p.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	first := must[store.PortalSession](t)(s.GetPortalSession(ctx, p.ID)).RevokedAt
	if first == nil {
		t.Fatal("RevokedAt not set after RevokePortalSession")
	}
	if err := s.RevokePortalSession(ctx, ws, p.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if again := must[store.PortalSession](t)(s.GetPortalSession(ctx, p.ID)).RevokedAt; again == nil || !again.Equal(*first) {
		t.Errorf("revoking again moved RevokedAt from %v to %v", first, again)
	}
	if got := must[store.PortalSession](t)(s.GetPortalSession(ctx, plain.ID)); got.RevokedAt != nil {
		t.Error("revoking one session revoked another")
	}

	// Retention removes sessions expired before its cutoff, no others.
	later := p
	later.ID, later.ExpiresAt = "pts_"+ids.New(ids.APIKey), expires.Add(2*time.Hour)
	must[store.PortalSession](t)(s.CreatePortalSession(ctx, later))
	must[store.PruneResult](t)(s.Prune(ctx, expires.Add(time.Hour)))
	for id, kept := range map[string]bool{p.ID: false, plain.ID: false, later.ID: true} {
		if _, err := s.GetPortalSession(ctx, id); (err == nil) != kept {
			t.Errorf("after Prune, GetPortalSession(%s) = %v, want kept=%v", id, err, kept)
		}
	}
}

// testIngestTestEvent: a test event reaches only the subscription it names,
// even one whose scope it does not carry, is flagged on the event (also when
// claimed later) and stays out of the event log.
func testIngestTestEvent(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	const typ = "number_purchased"
	target := newSub(t, s, ws, "https://example.com/target", typ, scoped("wf_1", ""))
	sibling := newSub(t, s, ws, "https://example.com/sibling", typ)
	elsewhere := newSub(t, s, newWorkspace(t, s), "https://example.com/target", typ)

	normal := newEvent(typ, "", "")
	ingest(t, s, ws, normal)
	test := newEvent(typ, "", "")
	test.TestSubscriptionID = target.ID
	res := ingest(t, s, ws, test)
	if len(res.Jobs) != 1 || res.Jobs[0].Subscription.ID != target.ID || !res.Jobs[0].Event.Test {
		t.Fatalf("test event jobs = %+v, want one, to %s, flagged test", res.Jobs, target.ID)
	}
	for _, sub := range []store.Subscription{sibling, elsewhere} {
		for _, d := range must[[]store.Delivery](t)(s.ListDeliveries(ctx, store.ListDeliveriesParams{WorkspaceID: sub.WorkspaceID, SubscriptionID: sub.ID})) {
			if d.EventID == test.ID {
				t.Errorf("subscription %s got the test event", sub.WebhookURL)
			}
		}
	}
	if ds := must[[]store.Delivery](t)(s.ListDeliveries(ctx, store.ListDeliveriesParams{WorkspaceID: ws, SubscriptionID: target.ID})); len(ds) != 1 || ds[0].EventID != test.ID {
		t.Errorf("target's delivery log = %+v, want the test delivery only", ds)
	}
	if ev := must[store.Event](t)(s.GetEvent(ctx, ws, test.ID)); !ev.Test {
		t.Error("stored test event is not flagged test")
	}
	if ev := must[store.Event](t)(s.GetEvent(ctx, ws, normal.ID)); ev.Test {
		t.Error("an ordinary event is flagged test")
	}
	var listed []string
	for _, e := range must[[]store.Event](t)(s.ListEvents(ctx, store.ListEventsParams{WorkspaceID: ws})) {
		listed = append(listed, e.ID)
	}
	if !slices.Equal(listed, []string{normal.ID}) {
		t.Errorf("event log = %v, want only %s (no test event)", listed, normal.ID)
	}
	var claimedTest bool
	for _, j := range claim(t, s, "o", time.Now().Add(time.Second), 10) {
		if j.Event.ID == test.ID {
			claimedTest = j.Event.Test
		}
	}
	if !claimedTest {
		t.Error("the claimed test delivery's event is not flagged test")
	}
}

// testListEventTypes: the EventTypes filter of the three lists.
func testListEventTypes(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	types := []string{"new_call", "sms_sent", "contact_created"}
	for _, typ := range types {
		newSub(t, s, ws, "https://example.com/"+typ, typ)
		ingest(t, s, ws, newEvent(typ, "", ""))
	}
	only := []string{"sms_sent", "contact_created"}
	check := func(what string, got []string, wantAll bool) {
		t.Helper()
		slices.Sort(got)
		want := slices.Sorted(slices.Values(only))
		if wantAll {
			want = slices.Sorted(slices.Values(types))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: types %v, want %v", what, got, want)
		}
	}
	for _, filter := range [][]string{nil, only} {
		var subs, events, deliveries []string
		for _, x := range must[[]store.Subscription](t)(s.ListSubscriptions(ctx, store.ListSubscriptionsParams{WorkspaceID: ws, EventTypes: filter})) {
			subs = append(subs, x.EventType)
		}
		for _, x := range must[[]store.Event](t)(s.ListEvents(ctx, store.ListEventsParams{WorkspaceID: ws, EventTypes: filter})) {
			events = append(events, x.EventType)
		}
		for _, x := range must[[]store.Delivery](t)(s.ListDeliveries(ctx, store.ListDeliveriesParams{WorkspaceID: ws, EventTypes: filter})) {
			deliveries = append(deliveries, x.EventType)
		}
		check("subscriptions", subs, filter == nil)
		check("events", events, filter == nil)
		check("deliveries", deliveries, filter == nil)
	}
	// Both filters together: the single type must be among the list.
	got := must[[]store.Subscription](t)(s.ListSubscriptions(ctx, store.ListSubscriptionsParams{WorkspaceID: ws, EventType: "new_call", EventTypes: only}))
	if len(got) != 0 {
		t.Errorf("event_type outside EventTypes listed %d subscriptions", len(got))
	}
}
