package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/revdesk/webhooks/internal/apikey"
	"github.com/revdesk/webhooks/internal/catalog"
)

// smsSent is a valid sms_sent event, from the catalog's example.
func smsSent(t *testing.T) string {
	t.Helper()
	et, ok := catalog.Lookup("sms_sent")
	if !ok {
		t.Fatal("sms_sent is not in the catalog")
	}
	return `{"event_type":"sms_sent","data":` + string(et.Example) + `}`
}

// TestStrictJSON: input a lenient decoder would let through is refused
// with invalid_json naming the offending member, and nothing is stored.
func TestStrictJSON(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{})
	tests := []struct {
		name  string
		body  string
		field string
	}{
		{"unknown field", `{"webhook_url":"https://example.com/a","event_type":"sms_sent","webhook_uri":"x"}`, "/webhook_uri"},
		{"duplicate key", `{"webhook_url":"https://example.com/a","event_type":"sms_sent","event_type":"sms_failed"}`, "/event_type"},
		{"keys differing only in case", `{"webhook_url":"https://example.com/a","event_type":"sms_sent","Event_Type":"sms_failed"}`, ""},
		{"wrong type", `{"webhook_url":"https://example.com/a","event_type":7}`, "/event_type"},
		{"trailing data", `{"webhook_url":"https://example.com/a","event_type":"sms_sent"} {}`, ""},
		{"truncated", `{"webhook_url":"https://example.com/a"`, ""},
		{"not an object", `["https://example.com/a"]`, ""},
		{"invalid UTF-8", "{\"webhook_url\":\"https://example.com/\xff\",\"event_type\":\"sms_sent\"}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := f.request(t, "POST", "/api/v1/webhook_subscriptions", tt.body).wantError(t, http.StatusBadRequest, "invalid_json")
			if tt.field != "" && e.Field != tt.field {
				t.Errorf("field %q, want %q", e.Field, tt.field)
			}
		})
	}
	t.Run("nothing stored", func(t *testing.T) {
		// Not parallel: it runs after the parallel subtests above are done.
		if n := len(f.request(t, "GET", "/api/v1/webhook_subscriptions", "").object(t)["data"].([]any)); n != 0 {
			t.Errorf("%d subscriptions stored from refused input", n)
		}
	})
}

// TestIngestInput: the event body's own rules, on one event and on a batch
// (where the field names the event).
func TestIngestInput(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{})
	good := smsSent(t)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"one event", good, http.StatusAccepted, "", ""},
		{"a batch", "[" + good + "," + good + "]", http.StatusAccepted, "", ""},
		{"no event_type", `{"data":{}}`, http.StatusBadRequest, "missing_field", "event_type"},
		{"data not an object", `{"event_type":"sms_sent","data":[1]}`, http.StatusBadRequest, "invalid_data", "data"},
		{"bad occurred_at", `{"event_type":"sms_sent","occurred_at":"yesterday","data":{}}`, http.StatusBadRequest, "invalid_field", "occurred_at"},
		{"unknown field in a batch", "[" + good + `,{"event_type":"sms_sent","data":{},"extra":1}]`, http.StatusBadRequest, "invalid_json", "/1/extra"},
		{"missing field in a batch", "[" + good + `,{"data":{}}]`, http.StatusBadRequest, "missing_field", "/1/event_type"},
		{"empty batch", `[]`, http.StatusBadRequest, "invalid_batch", ""},
		{"unknown type", `{"event_type":"fax_sent","data":{}}`, http.StatusBadRequest, "unknown_event_type", "event_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := f.request(t, "POST", "/api/v1/events", tt.body)
			if tt.code == "" {
				if r.status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
				return
			}
			if e := r.wantError(t, tt.status, tt.code); e.Field != tt.field {
				t.Errorf("field %q, want %q", e.Field, tt.field)
			}
		})
	}
}

// TestContentType: a body declared as anything but JSON is refused; no
// Content-Type at all is read as JSON.
func TestContentType(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{})
	body := `{"webhook_url":"https://example.com/ct","event_type":"sms_sent"}`
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/json; charset"} {
		f.request(t, "POST", "/api/v1/webhook_subscriptions", body, "Content-Type", ct).wantError(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
	}
	if r := f.request(t, "POST", "/api/v1/events", smsSent(t), "Content-Type", "application/cloudevents+json"); r.status != http.StatusAccepted {
		t.Errorf("a +json type: %d %s", r.status, r.body)
	}
	if r := f.request(t, "POST", "/api/v1/webhook_subscriptions", body, "Content-Type", ""); r.status != http.StatusCreated {
		t.Errorf("no Content-Type: %d %s", r.status, r.body)
	}
}

// TestPagination walks a list page by page and checks the parameters'
// bounds.
func TestPagination(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{})
	const subs = 5
	var want []string
	for i := range subs {
		want = append(want, f.subscribe(t, "sms_sent", "/page/"+strconv.Itoa(i)))
	}
	for range 3 {
		if r := f.request(t, "POST", "/api/v1/events", smsSent(t)); r.status != http.StatusAccepted {
			t.Fatalf("ingest: %d %s", r.status, r.body)
		}
	}

	t.Run("pages", func(t *testing.T) {
		t.Parallel()
		var got []string
		after := ""
		for page := 0; ; page++ {
			if page > subs {
				t.Fatalf("more pages than subscriptions; got %v", got)
			}
			v := f.request(t, "GET", "/api/v1/webhook_subscriptions?limit=2&after="+after, "").object(t)
			data := v["data"].([]any)
			for _, row := range data {
				got = append(got, row.(map[string]any)["id"].(string))
			}
			next, hasNext := v["next_after"].(string)
			if v["has_more"] != hasNext {
				t.Fatalf("has_more %v with next_after %q", v["has_more"], next)
			}
			if !hasNext {
				break
			}
			if len(data) != 2 || next != got[len(got)-1] {
				t.Fatalf("a page with more to follow holds %d rows, next_after %q; want 2 ending with it", len(data), next)
			}
			after = next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("paged through %v, want %v in creation order", got, want)
		}
	})
	t.Run("default limit holds all", func(t *testing.T) {
		t.Parallel()
		v := f.request(t, "GET", "/api/v1/webhook_subscriptions", "").object(t)
		if n := len(v["data"].([]any)); n != subs || v["has_more"] != false {
			t.Errorf("%d rows, has_more %v; want %d, false", n, v["has_more"], subs)
		}
	})
	t.Run("order", func(t *testing.T) {
		t.Parallel()
		ids := func(order string) []string {
			var out []string
			for _, row := range f.request(t, "GET", "/api/v1/events?order="+order, "").object(t)["data"].([]any) {
				out = append(out, row.(map[string]any)["id"].(string))
			}
			return out
		}
		asc, desc := ids("asc"), ids("desc")
		if len(asc) != 3 || len(desc) != 3 || asc[0] != desc[2] || asc[2] != desc[0] {
			t.Errorf("order=desc gave %v, the reverse of order=asc %v expected", desc, asc)
		}
	})
	bad := []struct {
		target, code, field string
	}{
		{"/api/v1/webhook_subscriptions?limit=0", "invalid_parameter", "limit"},
		{"/api/v1/webhook_subscriptions?limit=101", "invalid_parameter", "limit"},
		{"/api/v1/webhook_subscriptions?limit=ten", "invalid_parameter", "limit"},
		{"/api/v1/events?order=sideways", "invalid_parameter", "order"},
		{"/api/v1/webhook_subscriptions?order=desc", "unknown_parameter", "order"}, // subscriptions have one order
		{"/api/v1/deliveries?status=lost", "invalid_parameter", "status"},
		{"/api/v1/deliveries?subscripton_id=whk_1", "unknown_parameter", "subscripton_id"},
	}
	for _, tt := range bad {
		t.Run(tt.target, func(t *testing.T) {
			t.Parallel()
			if e := f.request(t, "GET", tt.target, "").wantError(t, http.StatusBadRequest, tt.code); e.Field != tt.field {
				t.Errorf("field %q, want %q", e.Field, tt.field)
			}
		})
	}
}

// TestAuthentication: every /api route needs a valid, unrevoked key of the
// workspace whose data it reads; the health routes need none.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{})
	sub := f.subscribe(t, "sms_sent", "/auth")
	_, otherKey := f.workspace(t, "other")
	revoked := f.request(t, "POST", "/api/v1/api_keys", "").object(t)
	if r := f.request(t, "DELETE", "/api/v1/api_keys/"+revoked["id"].(string), ""); r.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	tests := []struct {
		name   string
		header string
	}{
		{"no header", ""},
		{"empty bearer", "Bearer "},
		{"another scheme", "Basic " + f.key},
		{"lower-case scheme", "bearer " + f.key},
		{"unknown key", "Bearer " + apikey.New()},
		{"revoked key", "Bearer " + revoked["api_key"].(string)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, route := range []struct{ method, target string }{
				{"GET", "/api/v1/webhook_subscriptions"},
				{"GET", "/api/v1/webhook_subscriptions/" + sub},
				{"POST", "/api/v1/events"},
				{"GET", "/api/v1/api_keys"},
			} {
				f.request(t, route.method, route.target, "", "Authorization", tt.header).wantError(t, http.StatusUnauthorized, "unauthorized")
			}
		})
	}
	t.Run("another workspace's key", func(t *testing.T) {
		t.Parallel()
		f.request(t, "GET", "/api/v1/webhook_subscriptions/"+sub, "", "Authorization", "Bearer "+otherKey).wantError(t, http.StatusNotFound, "not_found")
	})
	t.Run("health needs no key", func(t *testing.T) {
		t.Parallel()
		for _, target := range []string{"/healthz", "/readyz"} {
			if r := f.request(t, "GET", target, "", "Authorization", ""); r.status != http.StatusOK {
				t.Errorf("%s: %d %s", target, r.status, r.body)
			}
		}
	})
}

// TestRateLimit: past its burst a key is answered 429 with Retry-After,
// and another key keeps its own budget.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{RateLimit: 0.5, RateBurst: 2}) // one token every 2 s: none comes back mid-test
	_, otherKey := f.workspace(t, "other")
	for i := range 2 {
		if r := f.request(t, "GET", "/api/v1/event_types", ""); r.status != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i+1, r.status, r.body)
		}
	}
	r := f.request(t, "GET", "/api/v1/event_types", "")
	r.wantError(t, http.StatusTooManyRequests, "rate_limited")
	if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 || secs > 2 {
		t.Errorf("Retry-After %q, want 1 or 2 seconds", r.header.Get("Retry-After"))
	}
	if r := f.request(t, "GET", "/api/v1/event_types", "", "Authorization", "Bearer "+otherKey); r.status != http.StatusOK {
		t.Errorf("another key was limited: %d %s", r.status, r.body)
	}
}

// TestBodyLimits: the API's bodies and the ingest bodies have limits of
// their own, enforced whether or not the client declares a length.
func TestBodyLimits(t *testing.T) {
	t.Parallel()
	const maxBody, maxIngest = 256, 4096
	f := setup(t, Config{MaxBody: maxBody, MaxIngestBody: maxIngest})
	pad := func(n int) string { return strings.Repeat(" ", n) } // whitespace: valid JSON of any size
	sub := `{"webhook_url":"https://example.com/limits","event_type":"sms_sent"}`
	tests := []struct {
		name, target, body string
		chunked            bool
		status             int
	}{
		{"subscription within the limit", "/api/v1/webhook_subscriptions", sub + pad(maxBody-len(sub)), false, http.StatusCreated},
		{"subscription over the limit", "/api/v1/webhook_subscriptions", sub + pad(maxBody), false, http.StatusRequestEntityTooLarge},
		{"subscription over the limit, chunked", "/api/v1/webhook_subscriptions", sub + pad(maxBody), true, http.StatusRequestEntityTooLarge},
		{"ingest over the API limit, within its own", "/api/v1/events", smsSent(t) + pad(2*maxBody), false, http.StatusAccepted},
		{"ingest over its limit", "/api/v1/events", smsSent(t) + pad(maxIngest), false, http.StatusRequestEntityTooLarge},
		{"ingest over its limit, chunked", "/api/v1/events", smsSent(t) + pad(maxIngest), true, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(context.Background(), "POST", tt.target, strings.NewReader(tt.body))
			if tt.chunked {
				req.ContentLength = -1
			}
			req.Header.Set("Authorization", "Bearer "+f.key)
			rec := httptest.NewRecorder()
			f.srv.ServeHTTP(rec, req)
			r := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
			if tt.status != http.StatusRequestEntityTooLarge {
				if r.status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
				return
			}
			limit := map[string]string{"/api/v1/webhook_subscriptions": "256 bytes", "/api/v1/events": "4096 bytes"}[tt.target]
			if e := r.wantError(t, tt.status, "body_too_large"); !strings.HasSuffix(e.Message, limit) {
				t.Errorf("message %q does not name the limit of %s", e.Message, limit)
			}
		})
	}
}
