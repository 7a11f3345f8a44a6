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
