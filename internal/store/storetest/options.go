package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

func multi(types ...string) subOpt {
	return func(p *store.CreateSubscriptionParams) { p.EventType, p.EventTypes = store.MultiType, types }
}

func withFilter(f string) subOpt {
	return func(p *store.CreateSubscriptionParams) { p.Filter = f }
}

// testOptions: multi-type subscriptions route every type they cover, are
// listed under each, keep their delivery options, and filters route on data.
func testOptions(t *testing.T, s store.Store) {
	ctx := t.Context()
	ws := newWorkspace(t, s)
	two := newSub(t, s, ws, "https://a.example/two", store.MultiType, multi("new_call", "sms_sent"))
	all := newSub(t, s, ws, "https://a.example/all", store.MultiType, multi(store.AllTypes))
	one := newSub(t, s, ws, "https://a.example/one", "new_call", withFilter(`data.n > 1`))
	never := newSub(t, s, ws, "https://a.example/never", "new_call", withFilter(`data.n > 2`))
	headers := []store.Header{{Name: "X-Team", Value: "blue"}, {Name: "X-Token", Value: "t0k", Secret: true}}
	opts := newSub(t, s, ws, "https://a.example/opts", "sms_sent", func(p *store.CreateSubscriptionParams) {
		p.Headers, p.ClientCert, p.ClientKey = headers, "CERT", "KEY"
	})

	got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, opts.ID))
	if !slices.Equal(got.Headers, headers) || got.ClientCert != "CERT" || got.ClientKey != "KEY" || got.EventTypes != nil {
		t.Fatalf("options read back as %+v", got)
	}
	got = must[store.Subscription](t)(s.GetSubscription(ctx, ws, two.ID))
	if got.EventType != store.MultiType || !slices.Equal(got.EventTypes, []string{"new_call", "sms_sent"}) {
		t.Fatalf("multi-type read back as %q %q", got.EventType, got.EventTypes)
	}

	for _, tc := range []struct {
		eventType string
		want      []string
	}{
		{"new_call", []string{two.ID, all.ID, one.ID}},
		{"sms_sent", []string{two.ID, all.ID, opts.ID}},
		{"contact_created", []string{all.ID}},
	} {
		res := ingest(t, s, ws, newEvent(tc.eventType, "", ""))
		var subs []string
		for _, j := range res.Jobs {
			subs = append(subs, j.Subscription.ID)
			if j.Delivery.EventType != tc.eventType {
				t.Fatalf("%s: delivery of type %q", tc.eventType, j.Delivery.EventType)
			}
		}
		slices.Sort(subs)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(subs, want) {
			t.Fatalf("%s routed to %v, want %v (never: %s)", tc.eventType, subs, want, never.ID)
		}
		list := must[[]store.Subscription](t)(s.ListSubscriptions(ctx, store.ListSubscriptionsParams{WorkspaceID: ws, EventType: tc.eventType}))
		var listed []string
		for _, sub := range list {
			listed = append(listed, sub.ID)
		}
		if tc.eventType == "new_call" {
			want = append(want, never.ID)
			slices.Sort(want)
		}
		if !slices.Equal(listed, want) {
			t.Fatalf("list of %s = %v, want %v", tc.eventType, listed, want)
		}
	}

	// One multi-type subscription per url and scope: a second is a conflict.
	_, err := s.CreateSubscription(ctx, store.CreateSubscriptionParams{Now: time.Now(), WorkspaceID: ws,
		WebhookURL: two.WebhookURL, EventType: store.MultiType, EventTypes: []string{"sms_failed"}})
	wantErr(t, "second multi-type subscription", err, store.ErrConflict)

	// PATCH turns a single-type subscription into a multi-type one and
	// changes or clears its options.
	types, empty, none := []string{"new_call", "contact_created"}, []store.Header{}, ""
	up := must[store.Subscription](t)(s.UpdateSubscription(ctx, store.UpdateSubscriptionParams{
		WorkspaceID: ws, ID: opts.ID, EventTypes: &types, Headers: &empty, ClientCert: &none, ClientKey: &none,
		Filter: new(`has(data.id)`), Now: time.Now()}))
	got = must[store.Subscription](t)(s.GetSubscription(ctx, ws, opts.ID))
	if got.EventType != store.MultiType || !slices.Equal(got.EventTypes, types) || len(got.Headers) != 0 ||
		got.ClientKey != "" || got.Filter != `has(data.id)` || up.Filter != got.Filter {
		t.Fatalf("after PATCH: %+v", got)
	}
}

// testSecretsRewriter: every subscription (deleted too) is listed with its
// stored fields, and a rewrite changes exactly the secret fields.
func testSecretsRewriter(t *testing.T, s store.Store) {
	rw, ok := s.(store.SecretsRewriter)
	if !ok {
		t.Skip("not a store.SecretsRewriter")
	}
	ctx := t.Context()
	ws := newWorkspace(t, s)
	a := newSub(t, s, ws, "https://r.example/a", "new_call", func(p *store.CreateSubscriptionParams) {
		p.SigningSecret, p.Filter = "s1", "has(data.id)"
		p.Headers = []store.Header{{Name: "X-T", Value: "v1", Secret: true}}
	})
	gone := newSub(t, s, ws, "https://r.example/gone", "new_call")
	if err := s.DeleteSubscription(ctx, ws, gone.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	all := must[[]store.Subscription](t)(rw.AllSubscriptions(ctx))
	found := map[string]store.Subscription{}
	for _, sub := range all {
		found[sub.ID] = sub
	}
	if _, ok := found[gone.ID]; !ok || found[a.ID].SigningSecret != "s1" {
		t.Fatalf("AllSubscriptions misses the deleted one or the secret: %+v", found)
	}
	was := found[a.ID]
	sub := was
	sub.Headers = []store.Header{{Name: "X-T", Value: "v2", Secret: true}}
	sub.SigningSecret, sub.PreviousSecret, sub.ClientKey = "s2", "p2", "k2"
	// A rewrite of a row changed since it was read is left out.
	stale := was
	stale.SigningSecret = "changed-meanwhile"
	staleNew := found[gone.ID]
	staleNew.SigningSecret = "must-not-land"
	if err := rw.RewriteSecrets(ctx, []store.SecretRewrite{{Old: was, New: sub}, {Old: stale, New: staleNew}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range must[[]store.Subscription](t)(rw.AllSubscriptions(ctx)) {
		if s.ID == gone.ID && s.SigningSecret == "must-not-land" {
			t.Fatal("a rewrite landed on a row that had changed")
		}
	}
	got := must[store.Subscription](t)(s.GetSubscription(ctx, ws, a.ID))
	if got.SigningSecret != "s2" || got.PreviousSecret != "p2" || got.Headers[0].Value != "v2" || got.ClientKey != "k2" ||
		got.Filter != "has(data.id)" || got.WebhookURL != a.WebhookURL {
		t.Fatalf("after rewrite: %+v", got)
	}
}
