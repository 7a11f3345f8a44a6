package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

// documentedScopes reads the scope each /api operation names in the served
// OpenAPI document: "POST /api/v1/events" → "ingest".
func documentedScopes(t *testing.T, srv *server) map[string]string {
	t.Helper()
	r := srv.call("GET", "/openapi.json", "", "")
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	ops := map[string]string{}
	for path, item := range doc.Paths {
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op struct {
				Security []map[string][]string `json:"security"`
			}
			if err := json.Unmarshal(raw, &op); err != nil || len(op.Security) != 1 || len(op.Security[0]["bearerAuth"]) != 1 {
				t.Fatalf("%s %s: security %s, want one bearerAuth scope", method, path, raw)
			}
			ops[strings.ToUpper(method)+" "+path] = op.Security[0]["bearerAuth"][0]
		}
	}
	if len(ops) < 20 {
		t.Fatalf("only %d operations in openapi.json", len(ops))
	}
	return ops
}

// probe calls an operation with placeholder ids and an empty object body:
// enough for the server to decide on the scope before anything else.
func probe(srv *server, op, credential string) response {
	method, path, _ := strings.Cut(op, " ")
	body := ""
	if method == "POST" {
		body = "{}"
	}
	return srv.call(method, strings.ReplaceAll(path, "{id}", "x_unknown"), credential, body)
}

func newKey(t *testing.T, srv *server, key, body string) string {
	t.Helper()
	r := srv.call("POST", "/api/v1/api_keys", key, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("POST /api_keys %s: %d %s", body, r.Status, r.Body)
	}
	return r.json(t)["api_key"].(string)
}

func newSession(t *testing.T, srv *server, key, body string) map[string]any {
	t.Helper()
	r := srv.call("POST", "/api/v1/portal_sessions", key, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("POST /portal_sessions %s: %d %s", body, r.Status, r.Body)
	}
	return r.json(t)
}

// TestScopesAllowExactlyTheirRoutes calls every documented operation with a
// key of each single scope and with portal session tokens: each credential
// gets 403 exactly on the operations outside its scope.
func TestScopesAllowExactlyTheirRoutes(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	ops := documentedScopes(t, e.srv)
	names := make([]string, 0, len(ops))
	for op := range ops {
		names = append(names, op)
	}
	sort.Strings(names)

	type credential struct {
		name, token string
		allowed     func(op, scope string) bool
	}
	var creds []credential
	for _, scope := range []string{"api_keys", "ingest", "read", "subscriptions:write"} {
		creds = append(creds, credential{"key with " + scope, newKey(t, e.srv, e.srv.key, `{"scopes":["`+scope+`"]}`),
			func(_, s string) bool { return s == scope }})
	}
	// Sessions: read and subscriptions:write, but they mint no sessions and
	// revoke none but themselves (the probe names another id).
	notForSessions := func(op string) bool {
		return strings.Contains(op, "/portal_sessions") && op != "GET /api/v1/portal_sessions/current"
	}
	creds = append(creds,
		credential{"portal session", newSession(t, e.srv, e.srv.key, `{}`)["token"].(string),
			func(op, s string) bool { return (s == "read" || s == "subscriptions:write") && !notForSessions(op) }},
		credential{"read-only portal session", newSession(t, e.srv, e.srv.key, `{"read_only":true}`)["token"].(string),
			func(_, s string) bool { return s == "read" }},
	)
	for _, c := range creds {
		for _, op := range names {
			r := probe(e.srv, op, c.token)
			allowed := c.allowed(op, ops[op])
			switch {
			case r.Status == http.StatusUnauthorized:
				t.Errorf("%s, %s: 401 %s", c.name, op, r.Body)
			case allowed && r.Status == http.StatusForbidden:
				t.Errorf("%s, %s (scope %s): 403, want it allowed: %s", c.name, op, ops[op], r.Body)
			case !allowed && r.Status != http.StatusForbidden:
				t.Errorf("%s, %s (scope %s): %d, want 403", c.name, op, ops[op], r.Status)
			case !allowed && r.errorCode(t) != "forbidden":
				t.Errorf("%s, %s: 403 with code %q", c.name, op, r.errorCode(t))
			}
		}
	}

	// Key creation: the default is everything but ingest, and a key grants
	// no scope it lacks.
	created := e.srv.do("POST", "/api/v1/api_keys", "").json(t)
	if got := created["scopes"]; !slices.Equal(toStrings(got), []string{"api_keys", "read", "subscriptions:write"}) {
		t.Errorf("default scopes = %v", got)
	}
	if r := e.srv.call("POST", "/api/v1/events", created["api_key"].(string), `{}`); r.Status != http.StatusForbidden {
		t.Errorf("a default key ingests: %d", r.Status)
	}
	if r := e.srv.call("POST", "/api/v1/api_keys", created["api_key"].(string), `{"scopes":["ingest"]}`); r.Status != http.StatusForbidden {
		t.Errorf("a key without ingest granted ingest: %d %s", r.Status, r.Body)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestPortalSessionsStayInTheirWorkspace: a session sees and changes only its
// own workspace's data, within its event types; revoked and expired tokens
// stop at once; no token or key ever reaches the log.
func TestPortalSessionsStayInTheirWorkspace(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	srv := e.srv
	_, otherKey := workspaceCreate(t, e.db, "other")
	otherSub := must201(t, srv.call("POST", "/api/v1/webhook_subscriptions", otherKey, `{"webhook_url":"`+e.rcv.url("/other")+`","event_type":"sms_sent"}`))["id"].(string)
	otherEvent := srv.call("POST", "/api/v1/events", otherKey, `{"event_type":"sms_sent","data":`+smsData+`}`).json(t)["id"].(string)
	otherSession := newSession(t, srv, otherKey, `{}`)
	mySMS, _ := srv.subscribe(`{"webhook_url":"` + e.rcv.url("/mine") + `","event_type":"sms_sent"}`)
	myNumber, _ := srv.subscribe(`{"webhook_url":"` + e.rcv.url("/number") + `","event_type":"number_purchased"}`)

	session := newSession(t, srv, srv.key, `{"event_types":["sms_sent"]}`)
	token := session["token"].(string)
	var otherDelivery string
	testutil.Eventually(t, 10*time.Second, func() (bool, string) {
		d := srv.call("GET", "/api/v1/deliveries?event_id="+otherEvent, otherKey, "").json(t)["data"].([]any)
		if len(d) > 0 {
			otherDelivery = d[0].(map[string]any)["id"].(string)
		}
		return otherDelivery != "", "no delivery of the other workspace's event yet"
	})

	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/v1/webhook_subscriptions/" + otherSub, ""},
		{"POST", "/api/v1/webhook_subscriptions/" + otherSub + "/test", "{}"},
		{"POST", "/api/v1/webhook_subscriptions/" + otherSub + "/disable", ""},
		{"DELETE", "/api/v1/webhook_subscriptions/" + otherSub, ""},
		{"GET", "/api/v1/events/" + otherEvent, ""},
		{"GET", "/api/v1/deliveries/" + otherDelivery, ""},
		{"POST", "/api/v1/deliveries/" + otherDelivery + "/retry", ""},
		// Within the workspace, outside the session's event types.
		{"GET", "/api/v1/webhook_subscriptions/" + myNumber, ""},
		{"POST", "/api/v1/webhook_subscriptions/" + myNumber + "/rotate_secret", ""},
	} {
		if r := srv.call(tc.method, tc.path, token, tc.body); r.Status != http.StatusNotFound {
			t.Errorf("session: %s %s = %d %s, want 404", tc.method, tc.path, r.Status, r.Body)
		}
	}
	if r := srv.call("DELETE", "/api/v1/portal_sessions/"+otherSession["id"].(string), srv.key, ""); r.Status != http.StatusNotFound {
		t.Errorf("revoking another workspace's session: %d, want 404", r.Status)
	}
	lists := map[string]string{"/api/v1/webhook_subscriptions": mySMS, "/api/v1/events": "", "/api/v1/deliveries": ""}
	for path, want := range lists {
		for _, item := range srv.call("GET", path, token, "").json(t)["data"].([]any) {
			m := item.(map[string]any)
			if m["event_type"] != "sms_sent" || m["id"] == otherSub || m["id"] == otherEvent || m["id"] == otherDelivery {
				t.Errorf("session lists %s: %v", path, m)
			}
			if want != "" && m["id"] != want {
				t.Errorf("session lists %s: %v, want only %s", path, m["id"], want)
			}
		}
	}
	if r := srv.call("POST", "/api/v1/webhook_subscriptions", token, `{"webhook_url":"`+e.rcv.url("/n2")+`","event_type":"number_released"}`); r.Status != http.StatusForbidden {
		t.Errorf("session subscribing outside its event types: %d", r.Status)
	}
	types := srv.call("GET", "/api/v1/event_types", token, "").json(t)["data"].([]any)
	if len(types) != 1 || types[0].(map[string]any)["name"] != "sms_sent" {
		t.Errorf("session's catalog holds %d types", len(types))
	}
	if r := srv.call("POST", "/api/v1/webhook_subscriptions/"+mySMS+"/test", token, ""); r.Status != http.StatusAccepted {
		t.Errorf("session test send: %d %s", r.Status, r.Body)
	}

	// Revoked and expired tokens stop at once.
	if r := srv.call("DELETE", "/api/v1/portal_sessions/"+session["id"].(string), srv.key, ""); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	// A session may end itself (the dashboard's sign-out).
	self := newSession(t, srv, srv.key, `{}`)
	if r := srv.call("DELETE", "/api/v1/portal_sessions/"+self["id"].(string), self["token"].(string), ""); r.Status != http.StatusNoContent {
		t.Errorf("a session revoking itself: %d %s", r.Status, r.Body)
	}
	if r := srv.call("GET", "/api/v1/event_types", self["token"].(string), ""); r.Status != http.StatusUnauthorized {
		t.Errorf("a session that revoked itself still answers %d", r.Status)
	}
	short := newSession(t, srv, srv.key, `{"expires_in":1}`)
	testutil.Eventually(t, 5*time.Second, func() (bool, string) {
		r := srv.call("GET", "/api/v1/webhook_subscriptions", short["token"].(string), "")
		return r.Status == http.StatusUnauthorized, "the one-second session still answers " + http.StatusText(r.Status)
	})
	for _, tok := range []string{token, short["token"].(string)} {
		if r := srv.call("GET", "/api/v1/webhook_subscriptions", tok, ""); r.Status != http.StatusUnauthorized || r.errorCode(t) != "session_expired" {
			t.Errorf("ended session: %d %s, want 401 session_expired", r.Status, r.Body)
		}
	}

	logs := srv.logs()
	for name, secret := range map[string]string{"session token": token, "other session token": otherSession["token"].(string),
		"short session token": short["token"].(string), "API key": srv.key, "other API key": otherKey} {
		if strings.Contains(logs, secret) {
			t.Errorf("the server log holds the %s", name)
		}
	}
	if !strings.Contains(logs, "/api/v1/portal_sessions") {
		t.Error("the log shows no request: the check above proves nothing")
	}
}

// TestTestEventReachesOneSubscription: signed as usual, marked, once, and no
// other subscription of the type (in any workspace) gets it.
func TestTestEventReachesOneSubscription(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	target, created := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/target") + `","event_type":"number_purchased"}`)
	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/sibling") + `","event_type":"number_purchased"}`)
	r := e.srv.do("POST", "/api/v1/webhook_subscriptions/"+target+"/test", "")
	if r.Status != http.StatusAccepted {
		t.Fatalf("test: %d %s", r.Status, r.Body)
	}
	sent := r.json(t)
	got := e.rcv.waitFor("/target", 1, 10*time.Second)[0]
	if got.Header.Get("X-revdesk-Test") != "true" || got.Header.Get("X-revdesk-Delivery-Id") != sent["delivery_id"] {
		t.Errorf("test delivery headers: %v", got.Header)
	}
	if want := sign(created["signing_secret"].(string), got.Body); got.Header.Get("X-revdesk-Signature-256") != want {
		t.Errorf("test delivery signature %q, want %q", got.Header.Get("X-revdesk-Signature-256"), want)
	}
	// Deliveries are stored with their event in one transaction, so the
	// sibling's would be listed by now.
	for _, d := range e.srv.do("GET", "/api/v1/deliveries?event_id="+sent["event_id"].(string), "").json(t)["data"].([]any) {
		if d.(map[string]any)["subscription_id"] != target {
			t.Errorf("the test event was also delivered to %v", d.(map[string]any)["subscription_id"])
		}
	}
	for _, ev := range e.srv.do("GET", "/api/v1/events", "").json(t)["data"].([]any) {
		if ev.(map[string]any)["id"] == sent["event_id"] {
			t.Error("the test event is in the event log")
		}
	}
	if ev := e.srv.do("GET", "/api/v1/events/"+sent["event_id"].(string), "").json(t); ev["test"] != true {
		t.Errorf("GET the test event: %v", ev)
	}
}

const smsData = `{"id":"msg_1","phone_number":"+15557654321","from_number":"+15551234567","direction":"outbound","status":"sent","contact_token":"c","provider_id":"p","error_message":null,"channel":"sms","created_at":"2026-06-30T19:30:00.000Z"}`

func must201(t *testing.T, r response) map[string]any {
	t.Helper()
	if r.Status != http.StatusCreated {
		t.Fatalf("%d %s, want 201", r.Status, r.Body)
	}
	return r.json(t)
}
