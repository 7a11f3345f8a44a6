package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestOptionsInput: every delivery option is checked at create with a
// clear 400 naming its field, and what is accepted is shown back without
// its secrets.
func TestOptionsInput(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{})
	ca := testutil.NewCA(t)
	cert, key := ca.ClientCert(t, "revdesk-client", time.Now().Add(time.Hour))
	oldCert, oldKey := ca.ClientCert(t, "old", time.Now().Add(-time.Hour))
	_, otherKey := ca.ClientCert(t, "other", time.Now().Add(time.Hour))
	certBody := func(c, k string) string {
		return `{"certificate":` + jsonString(c) + `,"private_key":` + jsonString(k) + `}`
	}
	bad := []struct {
		name, body, code, field, says string
	}{
		{"both type fields", `"event_type":"sms_sent","event_types":["sms_sent"]`, "invalid_field", "event_types", "not both"},
		{"no type", `"headers":{}`, "missing_field", "event_type", "required"},
		{"empty types", `"event_types":[]`, "invalid_field", "event_types", "at least one"},
		{"unknown type", `"event_types":["sms_sent","nope"]`, "unknown_event_type", "event_types", `"nope"`},
		{"star and more", `"event_types":["*","sms_sent"]`, "invalid_field", "event_types", "every type"},
		{"repeated type", `"event_types":["sms_sent","sms_sent"]`, "invalid_field", "event_types", "twice"},
		{"Host header", `"event_type":"sms_sent","headers":{"Host":"x"}`, "invalid_field", "headers", "Host"},
		{"Content-Length", `"event_type":"sms_sent","headers":{"content-length":"1"}`, "invalid_field", "headers", "content-length"},
		{"hop-by-hop", `"event_type":"sms_sent","headers":{"Connection":"close"}`, "invalid_field", "headers", "Connection"},
		{"our header", `"event_type":"sms_sent","headers":{"X-Revdesk-Event-Type":"x"}`, "invalid_field", "headers", "own headers"},
		{"webhook header", `"event_type":"sms_sent","headers":{"webhook-signature":"x"}`, "invalid_field", "headers", "own headers"},
		{"bad name", `"event_type":"sms_sent","headers":{"X Bad":"x"}`, "invalid_field", "headers", "not a valid header name"},
		{"bad value", `"event_type":"sms_sent","headers":{"X-A":"a\r\nX-B: b"}`, "invalid_field", "headers", "cannot carry"},
		{"same name twice", `"event_type":"sms_sent","headers":{"X-A":"1","x-a":"2"}`, "invalid_json", "/headers/x-a", "differ only in case"},
		{"too large", `"event_type":"sms_sent","headers":{"X-A":"` + strings.Repeat("a", 9000) + `"}`, "invalid_field", "headers", "bytes"},
		{"filter syntax", `"event_type":"sms_sent","filter":"data.status =="`, "invalid_filter", "filter", "Syntax error"},
		{"filter not bool", `"event_type":"sms_sent","filter":"1 + 1"`, "invalid_filter", "filter", "not a bool"},
		{"filter unknown name", `"event_type":"sms_sent","filter":"status == 1"`, "invalid_filter", "filter", "undeclared"},
		{"cert garbage", `"event_type":"sms_sent","client_certificate":` + certBody("x", "y"), "invalid_field", "client_certificate", "client certificate"},
		{"cert and other key", `"event_type":"sms_sent","client_certificate":` + certBody(cert, otherKey), "invalid_field", "client_certificate", "client certificate"},
		{"expired cert", `"event_type":"sms_sent","client_certificate":` + certBody(oldCert, oldKey), "invalid_field", "client_certificate", "expired"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := f.request(t, "POST", "/api/v1/webhook_subscriptions", `{"webhook_url":"https://example.com/`+
				strings.ReplaceAll(tc.name, " ", "-")+`",`+tc.body+`}`).wantError(t, http.StatusBadRequest, tc.code)
			if e.Field != tc.field || !strings.Contains(e.Message, tc.says) {
				t.Fatalf("error %+v, want field %s saying %q", e, tc.field, tc.says)
			}
		})
	}

	t.Run("accepted and shown", func(t *testing.T) {
		t.Parallel()
		res := f.request(t, "POST", "/api/v1/webhook_subscriptions", `{"webhook_url":"https://example.com/ok",
			"event_types":["sms_sent","sms_failed"],"headers":{"X-Team":"blue","X-Token":{"value":"tok-secret","secret":true}},
			"filter":"data.status == \"delivered\"","client_certificate":`+certBody(cert, key)+`}`)
		if res.status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.status, res.body)
		}
		id := res.object(t)["id"].(string)
		got := f.request(t, "GET", "/api/v1/webhook_subscriptions/"+id, "")
		for _, secret := range []string{"tok-secret", "PRIVATE KEY", "BEGIN CERTIFICATE"} {
			if strings.Contains(string(got.body), secret) || strings.Contains(string(res.body), secret) {
				t.Fatalf("%q shown back: %s", secret, got.body)
			}
		}
		v := got.object(t)
		if _, ok := v["event_type"]; ok || len(v["event_types"].([]any)) != 2 || v["filter"] != `data.status == "delivered"` {
			t.Fatalf("view %s", got.body)
		}
		hs := v["headers"].(map[string]any)
		if hs["X-Team"] != "blue" || hs["X-Token"].(map[string]any)["secret"] != true {
			t.Fatalf("headers shown as %v", hs)
		}
		if c := v["client_certificate"].(map[string]any); c["subject"] != "CN=revdesk-client" || c["not_after"] == nil {
			t.Fatalf("certificate shown as %v", c)
		}
		// Listed under each of its types, not under others.
		for typ, want := range map[string]int{"sms_failed": 1, "sms_sent": 1, "new_call": 0} {
			if n := len(f.request(t, "GET", "/api/v1/webhook_subscriptions?event_type="+typ, "").object(t)["data"].([]any)); n != want {
				t.Fatalf("list of %s: %d, want %d", typ, n, want)
			}
		}
		// A test send of a multi-type subscription uses its first type.
		if r := f.request(t, "POST", "/api/v1/webhook_subscriptions/"+id+"/test", ""); r.status != http.StatusAccepted {
			t.Fatalf("test send: %d %s", r.status, r.body)
		}
		// PATCH clears options with null and checks what it sets.
		f.request(t, "PATCH", "/api/v1/webhook_subscriptions/"+id, `{"filter":"nope("}`).wantError(t, http.StatusBadRequest, "invalid_filter")
		up := f.request(t, "PATCH", "/api/v1/webhook_subscriptions/"+id, `{"headers":null,"filter":null,"client_certificate":null,"event_types":["*"]}`).object(t)
		if len(up["headers"].(map[string]any)) != 0 || up["filter"] != nil || up["client_certificate"] != nil || up["event_types"].([]any)[0] != "*" {
			t.Fatalf("after PATCH: %v", up)
		}
	})
}

// TestPortalSessionOneType: a session limited to some types cannot make a
// multi-type subscription (it could not see it afterwards).
func TestPortalSessionOneType(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{})
	r := f.request(t, "POST", "/api/v1/portal_sessions", `{"expires_in":600,"event_types":["sms_sent","sms_failed"]}`)
	token := r.object(t)["token"].(string)
	as := []string{"Authorization", "Bearer " + token}
	e := f.request(t, "POST", "/api/v1/webhook_subscriptions", `{"webhook_url":"https://example.com/p","event_types":["sms_sent"]}`, as...).
		wantError(t, http.StatusForbidden, "forbidden")
	if e.Field != "event_types" {
		t.Fatalf("error %+v", e)
	}
	id := f.request(t, "POST", "/api/v1/webhook_subscriptions", `{"webhook_url":"https://example.com/p","event_type":"sms_sent"}`, as...).object(t)["id"].(string)
	f.request(t, "PATCH", "/api/v1/webhook_subscriptions/"+id, `{"event_types":["sms_sent","sms_failed"]}`, as...).wantError(t, http.StatusForbidden, "forbidden")
}
