package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
	"github.com/revdesk/webhooks/webhook"
)

func TestDefaultGuardRefusesInternalDestinations(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "revdesk.db")
	srv := startServer(t, "rdk_guard_key", db, rcv.caFile(t)) // no --allow-private-networks
	for _, u := range []string{
		rcv.url("/loopback"),
		"https://localhost/h",
		"https://app.localhost/h",
		"https://169.254.169.254/latest/meta-data",
		"https://10.0.0.1/h",
		"https://[::1]/h",
		"https://[::ffff:127.0.0.1]/h",
		"https://2130706433/h",
		"https://0x7f.1/h",
		"https://0177.0.0.1/h",
		"https://127.1/h",
		"https://user:pass@example.com/h",
		"http://example.com/h",
		"ftp://example.com/h",
		"https://example.com/" + strings.Repeat("a", 2048),
	} {
		r := srv.do("POST", "/api/v1/webhook_subscriptions", `{"webhook_url":"`+u+`","event_type":"sms_sent"}`)
		if r.Status != http.StatusBadRequest || r.errorCode(t) != "invalid_webhook_url" {
			t.Errorf("%.60s: %d %s, want 400 invalid_webhook_url", u, r.Status, r.Body)
		}
	}
	if n := len(srv.do("GET", "/api/v1/webhook_subscriptions", "").json(t)["data"].([]any)); n != 0 {
		t.Errorf("%d refused subscriptions were stored", n)
	}
	if _, _, n := rcv.tally(nil, nil); n != 0 {
		t.Errorf("the loopback receiver got %d requests", n)
	}
}

func TestRateLimitPerKey(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--rate-limit", "5")
	_, other := workspaceCreate(t, e.db, "other") // before the burst: it takes a process start
	limited := 0
	var (
		retryAfter  string
		lastLimited time.Time
	)
	for range 30 {
		r := e.srv.do("GET", "/api/v1/webhook_subscriptions", "")
		if r.Status == http.StatusTooManyRequests {
			limited++
			retryAfter, lastLimited = r.Header.Get("Retry-After"), time.Now()
			if r.errorCode(t) != "rate_limited" {
				t.Errorf("429 code: %s", r.Body)
			}
		}
	}
	if limited == 0 {
		t.Fatal("30 requests at once with a limit of 5/s were never limited")
	}
	secs, err := strconv.Atoi(retryAfter)
	if err != nil || secs < 1 {
		t.Fatalf("Retry-After %q", retryAfter)
	}
	// Another key has its own budget.
	if r := e.srv.call("GET", "/api/v1/webhook_subscriptions", other, ""); r.Status != http.StatusOK {
		t.Errorf("another key was limited: %d", r.Status)
	}
	// A client that waits Retry-After is served: the key's budget is back
	// within that time of the last 429. A refused request spends no budget,
	// so polling does not delay the moment it waits for.
	testutil.Eventually(t, time.Duration(secs)*time.Second+10*time.Second, func() (bool, string) {
		r := e.srv.do("GET", "/api/v1/webhook_subscriptions", "")
		return r.Status == http.StatusOK, fmt.Sprintf("still %d", r.Status)
	})
	if waited := time.Since(lastLimited); waited > time.Duration(secs)*time.Second {
		t.Errorf("served again %s after the last 429, later than its Retry-After: %d", waited, secs)
	}
}

func TestKeyRevocation(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	created := e.srv.do("POST", "/api/v1/api_keys", "").json(t)
	key, id := created["api_key"].(string), created["id"].(string)
	if !strings.HasPrefix(key, "rdk_") {
		t.Fatalf("new key %q", key)
	}
	if r := e.srv.call("GET", "/api/v1/webhook_subscriptions", key, ""); r.Status != http.StatusOK {
		t.Fatalf("new key refused: %d", r.Status)
	}
	list := e.srv.do("GET", "/api/v1/api_keys", "")
	if strings.Contains(string(list.Body), key) {
		t.Error("key list shows a key")
	}
	_, otherKey := workspaceCreate(t, e.db, "other")
	if r := e.srv.call("DELETE", "/api/v1/api_keys/"+id, otherKey, ""); r.Status != http.StatusNotFound {
		t.Errorf("another workspace revoked a key: %d", r.Status)
	}
	if r := e.srv.do("DELETE", "/api/v1/api_keys/"+id, ""); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := e.srv.call("GET", "/api/v1/webhook_subscriptions", key, ""); r.Status != http.StatusUnauthorized {
		t.Errorf("revoked key still works: %d", r.Status)
	}
}

func TestBodyLimitsAndContentType(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--max-ingest-body", "2048")
	big := `{"event_type":"sms_sent","data":{"id":"` + strings.Repeat("x", 4096) + `"}}`
	if r := e.srv.do("POST", "/api/v1/events", big); r.Status != http.StatusRequestEntityTooLarge || r.errorCode(t) != "body_too_large" {
		t.Errorf("oversized ingest: %d %s", r.Status, r.Body)
	}
	// Chunked: no Content-Length to refuse up front.
	req, _ := http.NewRequest("POST", e.srv.base+"/api/v1/events", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+e.srv.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized chunked ingest: %d", resp.StatusCode)
	}
	hugeSub := `{"webhook_url":"https://example.com/` + strings.Repeat("a", 1<<20) + `","event_type":"sms_sent"}`
	if r := e.srv.do("POST", "/api/v1/webhook_subscriptions", hugeSub); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB subscription body: %d", r.Status)
	}
	if r := e.srv.do("POST", "/api/v1/events", `{}`, "Content-Type", "text/plain"); r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d", r.Status)
	}
	if n := len(e.srv.do("GET", "/api/v1/events", "").json(t)["data"].([]any)); n != 0 {
		t.Errorf("refused bodies stored %d events", n)
	}
}

// TestStandardWebhooksAndRotation checks the opt-in Standard Webhooks
// headers with the public SDK, and both rotation modes.
func TestStandardWebhooksAndRotation(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	const first = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	if r := e.srv.do("POST", "/api/v1/webhook_subscriptions", `{"webhook_url":"`+e.rcv.url("/x")+`","event_type":"number_purchased","standard_webhooks":true,"signing_secret":""}`); r.Status != http.StatusBadRequest {
		t.Errorf("standard_webhooks without a secret: %d", r.Status)
	}
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/std") + `","event_type":"number_purchased","standard_webhooks":true,"signing_secret":"` + first + `"}`)
	send := func(n int) delivery {
		e.srv.ingest(`{"event_type":"number_purchased","data":` + numberRecord + `}`)
		return e.rcv.waitFor("/std", n, 10*time.Second)[n-1]
	}
	d := send(1)
	if err := webhook.VerifyStandard(d.Body, d.Header, first, 5*time.Minute, time.Now()); err != nil {
		t.Errorf("Standard Webhooks verification: %v", err)
	}
	if d.Header.Get("webhook-id") != d.Header.Get("X-revdesk-Delivery-Id") {
		t.Errorf("webhook-id %q is not the delivery id", d.Header.Get("webhook-id"))
	}
	if err := webhook.Verify(d.Body, d.Header.Get("X-revdesk-Signature-256"), first); err != nil {
		t.Errorf("documented signature: %v", err)
	}
	// A replayed delivery is refused once its timestamp is stale.
	if err := webhook.VerifyStandard(d.Body, d.Header, first, 5*time.Minute, time.Now().Add(10*time.Minute)); err == nil {
		t.Error("a 10-minute-old delivery verified")
	}

	r := e.srv.do("POST", "/api/v1/webhook_subscriptions/"+sub+"/rotate_secret", `{"overlap_seconds":3600}`)
	rotated := r.json(t)
	second, _ := rotated["signing_secret"].(string)
	takesOver, _ := time.Parse(time.RFC3339Nano, rotated["new_secret_active_at"].(string))
	if r.Status != http.StatusOK || second == "" || second == first || time.Until(takesOver) < 50*time.Minute {
		t.Fatalf("overlap rotation: %d %s", r.Status, r.Body)
	}
	d = send(2)
	if err := webhook.Verify(d.Body, d.Header.Get("X-revdesk-Signature-256"), first); err != nil {
		t.Errorf("during the overlap the documented header should still use the previous secret: %v", err)
	}
	for _, s := range []string{first, second} {
		if err := webhook.VerifyStandard(d.Body, d.Header, s, 5*time.Minute, time.Now()); err != nil {
			t.Errorf("during the overlap the Standard Webhooks header should carry both signatures: %v", err)
		}
	}
	if n := len(strings.Fields(d.Header.Get("webhook-signature"))); n != 2 {
		t.Errorf("%d signatures during the overlap, want 2", n)
	}

	r = e.srv.do("POST", "/api/v1/webhook_subscriptions/"+sub+"/rotate_secret", `{"mode":"immediate"}`)
	third, _ := r.json(t)["signing_secret"].(string)
	d = send(3)
	if err := webhook.Verify(d.Body, d.Header.Get("X-revdesk-Signature-256"), third); err != nil {
		t.Errorf("after an immediate rotation: %v", err)
	}
	if err := webhook.VerifyStandard(d.Body, d.Header, second, 5*time.Minute, time.Now()); err == nil {
		t.Error("the replaced secret still verifies after an immediate rotation")
	}
	if bytes.Contains(e.srv.do("GET", "/api/v1/webhook_subscriptions/"+sub, "").Body, []byte(third)) {
		t.Error("GET shows the secret")
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	const secret = "whsec_c2VjcmV0LW5ldmVyLWxvZ2dlZC0xMjM0NTY3ODkw"
	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/s") + `","event_type":"number_purchased","signing_secret":"` + secret + `"}`)
	e.srv.ingest(`{"event_type":"number_purchased","data":` + numberRecord + `}`)
	e.rcv.waitFor("/s", 1, 10*time.Second)
	e.srv.stop()
	logs := e.srv.logs()
	for _, s := range []string{secret, e.srv.key} {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains a secret %q", s[:10])
		}
	}
}
