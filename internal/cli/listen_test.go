package cli

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testserver"
	"github.com/revdesk/webhooks/webhook"
)

const listenSecret = "s3cret"

var numberBody = []byte(`{"triggerEvent":"number.purchased","createdAt":"2026-06-30T19:30:00.000Z","payload":{"id":4821,"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"…"}}`)

func hexHMAC(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// standardHeaders signs body as Standard Webhooks does, with a plain
// (non-whsec_) secret used as UTF-8 bytes.
func standardHeaders(secret string, body []byte, at time.Time) map[string]string {
	id, ts := "dlv_1", strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return map[string]string{
		webhook.HeaderWebhookID:        id,
		webhook.HeaderWebhookTimestamp: ts,
		webhook.HeaderWebhookSignature: "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)),
	}
}

func TestListenVerifies(t *testing.T) {
	t.Parallel()
	callBody := []byte(`{"id":"call_abc123","status":"BUSY"}`)
	one, rotating := []string{listenSecret}, []string{listenSecret, "old-secret"}
	tests := []struct {
		name      string
		secrets   []string
		eventType string
		body      []byte
		header    map[string]string // set with Header.Set, which canonicalizes the names
		want      int
		wantOut   string
	}{
		{"valid signature", one, "number_purchased", numberBody,
			map[string]string{webhook.HeaderSignature256: hexHMAC(listenSecret, numberBody)}, 200, "signature    valid"},
		{"wrong secret", one, "number_purchased", numberBody,
			map[string]string{webhook.HeaderSignature256: hexHMAC("other", numberBody)}, 401, "INVALID"},
		{"tampered body", one, "number_purchased", append(bytes.Clone(numberBody), ' '),
			map[string]string{webhook.HeaderSignature256: hexHMAC(listenSecret, numberBody)}, 401, "INVALID"},
		{"missing signature on a signed type", one, "number_released", numberBody, nil, 401, "is missing"},
		{"subscription without secret", one, "number_purchased", numberBody,
			map[string]string{webhook.HeaderSignature256: webhook.NoSecret}, 200, "no signing secret"},
		{"no --secret", nil, "number_purchased", numberBody,
			map[string]string{webhook.HeaderSignature256: hexHMAC(listenSecret, numberBody)}, 200, "not checked"},
		{"unsigned family", one, "call_busy", callBody, nil, 200, "call_busy is delivered unsigned"},
		{"standard webhooks valid", one, "call_busy", callBody, standardHeaders(listenSecret, callBody, time.Now()), 200, "standard     valid"},
		{"standard webhooks replayed", one, "call_busy", callBody, standardHeaders(listenSecret, callBody, time.Now().Add(-time.Hour)), 401, "timestamp too old"},
		{"standard webhooks wrong secret", one, "call_busy", callBody, standardHeaders("other", callBody, time.Now()), 401, "INVALID"},
		{"rotation: the old secret of two", rotating, "number_purchased", numberBody,
			map[string]string{webhook.HeaderSignature256: hexHMAC("old-secret", numberBody)}, 200, "signature    valid (X-revdesk-Signature-256, secret 2 of 2)"},
		{"rotation: standard webhooks with the new secret", rotating, "sms_sent", callBody, standardHeaders(listenSecret, callBody, time.Now()), 200, "secret 1 of 2)"},
		{"rotation: neither secret", rotating, "number_purchased", numberBody,
			map[string]string{webhook.HeaderSignature256: hexHMAC("other", numberBody)}, 401, "INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out testserver.Buffer
			l := &listener{secrets: tt.secrets, out: &out, client: http.DefaultClient}
			req := httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			req.Header.Set(webhook.HeaderEventType, tt.eventType)
			req.Header.Set(webhook.HeaderDeliveryID, "dlv_test")
			rec := httptest.NewRecorder()
			l.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("answered %d, want %d", rec.Code, tt.want)
			}
			got := out.String()
			for _, want := range []string{tt.wantOut, tt.eventType, "dlv_test", "answered     " + strconv.Itoa(tt.want)} {
				if !strings.Contains(got, want) {
					t.Errorf("output lacks %q:\n%s", want, got)
				}
			}
		})
	}
}

func TestListenForwards(t *testing.T) {
	t.Parallel()
	type received struct {
		header http.Header
		body   []byte
	}
	got := make(chan received, 2)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r.Header.Clone(), b}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(target.Close)
	var out testserver.Buffer
	l := &listener{secrets: []string{listenSecret}, forwardTo: target.URL + "/app/hooks", out: &out, client: target.Client()}

	send := func(signature string) int {
		req := httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(numberBody))
		req.Header.Set(webhook.HeaderEventType, "number_purchased")
		req.Header.Set(webhook.HeaderSignature256, signature)
		rec := httptest.NewRecorder()
		l.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := send(hexHMAC(listenSecret, numberBody)); code != http.StatusOK {
		t.Fatalf("answered %d", code)
	}
	r := <-got
	if !bytes.Equal(r.body, numberBody) {
		t.Errorf("forwarded body %s", r.body)
	}
	if err := webhook.Verify(r.body, r.header.Get(webhook.HeaderSignature256), listenSecret); err != nil {
		t.Errorf("forwarded delivery does not verify: %v", err)
	}
	if !strings.Contains(out.String(), "answered 202 Accepted") {
		t.Errorf("forward result not shown:\n%s", out.String())
	}
	if code := send(hexHMAC("forged", numberBody)); code != http.StatusUnauthorized {
		t.Fatalf("forged delivery answered %d", code)
	}
	select {
	case r := <-got:
		t.Errorf("a forged delivery was forwarded: %s", r.body)
	default:
	}
}
