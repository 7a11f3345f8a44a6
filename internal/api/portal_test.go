package api

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPortalSessionInput: every bad field of POST /portal_sessions is a 400
// naming it; good input is stored as asked.
func TestPortalSessionInput(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{PublicURL: "https://hooks.example.com/"})
	for _, tt := range []struct {
		body, code, field string
	}{
		{`{"expires_in":0}`, "invalid_field", "expires_in"},
		{`{"expires_in":86401}`, "invalid_field", "expires_in"},
		{`{"event_types":["sms_sent","calls"]}`, "unknown_event_type", "event_types"},
		{`{"brand_color":"green"}`, "invalid_field", "brand_color"},
		{`{"brand_color":"#0a7c5"}`, "invalid_field", "brand_color"},
		{`{"brand_name":"` + strings.Repeat("a", 81) + `"}`, "invalid_field", "brand_name"},
		{`{"brand_name":"a\nb"}`, "invalid_field", "brand_name"},
	} {
		if e := f.request(t, "POST", "/api/v1/portal_sessions", tt.body).wantError(t, http.StatusBadRequest, tt.code); e.Field != tt.field {
			t.Errorf("%s: field %q, want %q", tt.body, e.Field, tt.field)
		}
	}
	f.request(t, "POST", "/api/v1/portal_sessions", `{"read_ony":true}`).wantError(t, http.StatusBadRequest, "invalid_json")

	r := f.request(t, "POST", "/api/v1/portal_sessions", `{"expires_in":600,"read_only":true,"event_types":["sms_sent","new_call","sms_sent"],"brand_color":"#0A7C59","brand_name":"Acme"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	s := r.object(t)
	token := s["token"].(string)
	if s["url"] != "https://hooks.example.com/portal#token="+token {
		t.Errorf("url %v: want --public-url, /portal and the token in the fragment", s["url"])
	}
	expires, err := time.Parse(time.RFC3339Nano, s["expires_at"].(string))
	if until := time.Until(expires); err != nil || until < 590*time.Second || until > 600*time.Second {
		t.Errorf("expires_at %v (%v): want 10 minutes from now", s["expires_at"], err)
	}
	current := f.request(t, "GET", "/api/v1/portal_sessions/current", "", "Authorization", "Bearer "+token).object(t)
	if current["read_only"] != true || current["brand_color"] != "#0A7C59" || current["brand_name"] != "Acme" ||
		len(current["event_types"].([]any)) != 2 || current["token"] != nil {
		t.Errorf("current = %v", current)
	}
	// Without --public-url the link names the host the request came to.
	plain := setup(t, Config{})
	if u := plain.request(t, "POST", "/api/v1/portal_sessions", "").object(t)["url"].(string); !strings.HasPrefix(u, "http://example.com/portal#token=rdp_") {
		t.Errorf("url without --public-url = %q", u)
	}
}

// TestAPIKeyScopesInput: POST /api_keys grants what it is asked within the
// caller's scopes, by default all but ingest.
func TestAPIKeyScopesInput(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{})
	for _, tt := range []struct {
		body   string
		status int
		want   string // the scopes granted, space-separated
	}{
		{"", http.StatusCreated, "api_keys read subscriptions:write"},
		{`{"scopes":["read","ingest","read"]}`, http.StatusCreated, "ingest read"},
		{`{"scopes":[]}`, http.StatusBadRequest, ""},
		{`{"scopes":["admin"]}`, http.StatusBadRequest, ""},
		{`{"scope":["read"]}`, http.StatusBadRequest, ""},
	} {
		r := f.request(t, "POST", "/api/v1/api_keys", tt.body)
		if r.status != tt.status {
			t.Errorf("%q: %d %s, want %d", tt.body, r.status, r.body, tt.status)
			continue
		}
		if tt.want == "" {
			continue
		}
		var got []string
		for _, sc := range r.object(t)["scopes"].([]any) {
			got = append(got, sc.(string))
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%q: scopes %q, want %s", tt.body, got, tt.want)
		}
	}
	// A key without ingest cannot grant it.
	weak := f.request(t, "POST", "/api/v1/api_keys", "").object(t)["api_key"].(string)
	f.request(t, "POST", "/api/v1/api_keys", `{"scopes":["ingest"]}`, "Authorization", "Bearer "+weak).wantError(t, http.StatusForbidden, "forbidden")
}
