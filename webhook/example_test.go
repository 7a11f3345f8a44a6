package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/revdesk/webhooks/webhook"
)

func ExampleVerify() {
	body := []byte(`{"triggerEvent":"number.purchased","createdAt":"2026-06-30T19:30:00.000Z","payload":{"id":4821,"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"…"}}`)
	// The X-revdesk-Signature-256 header RevDesk sent with this body.
	header := "84441c60ae60b2cf885b3aafe5fa8258fc14f4157e8648e5208ea99913043474"

	fmt.Println(webhook.Verify(body, header, "whsec_test"))
	fmt.Println(webhook.Verify(body, header, "wrong-secret"))
	fmt.Println(errors.Is(webhook.Verify(body, "no-secret-provided", "whsec_test"), webhook.ErrNoSecret))
	// Output:
	// <nil>
	// webhook: invalid signature
	// true
}

func ExampleParse() {
	body := []byte(`{"triggerEvent":"number.purchased","createdAt":"2026-06-30T19:30:00.000Z","payload":{"id":4821,"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"…"}}`)
	ev, err := webhook.Parse(webhook.EventNumberPurchased, body)
	if err != nil {
		log.Fatal(err)
	}
	n, err := ev.Number()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.TriggerEvent, ev.CreatedAt.Format("2006-01-02"), n.ID, n.PhoneNumber, n.Status)

	// Call and SMS events are flat: the body is the data.
	call, err := webhook.Parse(webhook.EventCallVoicemail, []byte(`{"id":"call_abc123","status":"VOICEMAIL","failure_category":"voicemail","duration_seconds":0}`))
	if err != nil {
		log.Fatal(err)
	}
	c, err := call.Call()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.ID, c.Status, c.FailureCategory)
	// Output:
	// number.purchased 2026-06-30 4821 +15551234567 ACTIVE
	// call_abc123 VOICEMAIL voicemail
}

func ExampleHandler() {
	const signingSecret = "whsec_test"
	mux := http.NewServeMux()
	mux.Handle("POST /hooks/revdesk", webhook.Handler(signingSecret, func(w http.ResponseWriter, r *http.Request, ev *webhook.Event) {
		// Deliveries are at-least-once: deduplicate on ev.DeliveryID.
		if ev.Type == webhook.EventNumberPurchased {
			n, err := ev.Number()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Println("start using", n.PhoneNumber, "delivery", ev.DeliveryID)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	body := `{"triggerEvent":"number.purchased","createdAt":"2026-06-30T19:30:00.000Z","payload":{"id":4821,"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"…"}}`
	send := func(signature string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/hooks/revdesk", strings.NewReader(body))
		req.Header.Set(webhook.HeaderEventType, webhook.EventNumberPurchased)
		req.Header.Set(webhook.HeaderDeliveryID, "dlv_123")
		req.Header.Set(webhook.HeaderSignature256, signature)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	mac := hmac.New(sha256.New, []byte(signingSecret))
	mac.Write([]byte(body))
	send(hex.EncodeToString(mac.Sum(nil))) // as RevDesk signs it
	send("forged")
	// Output:
	// start using +15551234567 delivery dlv_123
	// 204
	// 401
}

func ExampleVerifier() {
	v := webhook.Verifier{
		// During a rotation overlap, hold the new and the previous secret.
		Secrets: []string{"whsec_new", "whsec_old"},
		// Call and SMS deliveries are unsigned by the documentation; with
		// this, they must carry Standard Webhooks headers (the
		// subscription's "standard_webhooks": true).
		Require:   webhook.RequireSignature,
		Tolerance: 10 * time.Minute,
	}
	call := []byte(`{"id":"call_abc123","status":"VOICEMAIL"}`)
	_, err := v.VerifyRequest(webhook.EventCallVoicemail, call, http.Header{})
	fmt.Println(errors.Is(err, webhook.ErrMissingSignature))

	body := []byte(`{"triggerEvent":"number.purchased","createdAt":"2026-06-30T19:30:00.000Z","payload":{"id":4821}}`)
	mac := hmac.New(sha256.New, []byte("whsec_old")) // signed with the previous secret
	mac.Write(body)
	h := http.Header{}
	h.Set(webhook.HeaderSignature256, hex.EncodeToString(mac.Sum(nil)))
	authenticated, err := v.VerifyRequest(webhook.EventNumberPurchased, body, h)
	fmt.Println(authenticated, err)
	// Output:
	// true
	// true <nil>
}

func ExampleDeduplicator() {
	// RevDesk retries for about 33 hours by default: remember ids for 48.
	seen := webhook.NewDeduplicator(100_000, 48*time.Hour)
	handler := webhook.Handler("whsec_test", func(w http.ResponseWriter, r *http.Request, ev *webhook.Event) {
		if !seen.First(ev.DeliveryID) {
			w.WriteHeader(http.StatusOK) // already handled: acknowledge, do nothing
			return
		}
		if err := process(ev); err != nil {
			seen.Forget(ev.DeliveryID) // let the retry be processed
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	body := `{"id":"call_abc123","status":"VOICEMAIL"}`
	for range 2 { // the same delivery twice, as after a lost answer
		req := httptest.NewRequest(http.MethodPost, "/hooks/revdesk", strings.NewReader(body))
		req.Header.Set(webhook.HeaderEventType, webhook.EventCallVoicemail)
		req.Header.Set(webhook.HeaderDeliveryID, "dlv_123")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// processing dlv_123
	// 204
	// 200
}

func process(ev *webhook.Event) error {
	fmt.Println("processing", ev.DeliveryID)
	return nil
}

func ExampleRequire() {
	// A subscription created with "standard_webhooks": true: every
	// delivery, call and SMS ones included, must carry valid Standard
	// Webhooks headers, and none older than the tolerance is accepted.
	h := webhook.Handler("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", func(w http.ResponseWriter, r *http.Request, ev *webhook.Event) {
		w.WriteHeader(http.StatusNoContent)
	}, webhook.Require(webhook.RequireStandardWebhooks), webhook.WithTolerance(5*time.Minute))

	req := httptest.NewRequest(http.MethodPost, "/hooks/revdesk", strings.NewReader(`{"id":"call_abc123"}`))
	req.Header.Set(webhook.HeaderEventType, webhook.EventCallCompleted) // no webhook-* headers: forged or stripped
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	// Output:
	// 401 webhook: missing signature: webhook-id, webhook-timestamp and webhook-signature are required
}
