package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/webhook"
)

const (
	secret         = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	nonASCIISecret = "sécret-ключ-🔑"
	numberBody     = `{"triggerEvent":"number.purchased","createdAt":"2026-06-30T19:30:00.000Z","payload":{"id":4821,"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"…"}}`
	callBody       = `{
"id": "call_abc123",
"from_number": "+15551234567",
"to_number": "+15557654321",
"direction": "outbound",
"duration_seconds": 0,
"status": "VOICEMAIL",
"failure_code": "voicemail_reached",
"failure_category": "voicemail",
"disconnection_reason": null,
"created_at": "2026-06-30T19:30:00.000Z"
}`
)

// sign is the documented scheme, written out independently of the SDK.
func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return hex.EncodeToString(mac.Sum(nil))
}

// standardHeaders builds Standard Webhooks headers signed with each key.
func standardHeaders(t *testing.T, id string, ts time.Time, body string, keys ...[]byte) http.Header {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	var sigs []string
	for _, k := range keys {
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(id + "." + stamp + "." + body))
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", stamp)
	h.Set("webhook-signature", strings.Join(sigs, " "))
	return h
}

func whsecKey(t *testing.T, s string) []byte {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestVerify(t *testing.T) {
	t.Parallel()
	good := sign(secret, numberBody)
	tests := []struct {
		name, body, header, secret string
		want                       error
	}{
		{"valid", numberBody, good, secret, nil},
		{"valid non-ASCII secret", numberBody, sign(nonASCIISecret, numberBody), nonASCIISecret, nil},
		// computed with node: crypto.createHmac("sha256", "sécret-ключ-🔑").update(numberBody).digest("hex")
		{"node vector", numberBody, "aa63b045193bb327b0d72220af9a716cb0da0dd55d177e42bf8c41f94481d189", nonASCIISecret, nil},
		{"upper-case hex", numberBody, strings.ToUpper(good), secret, nil},
		{"surrounding space", numberBody, " " + good + " ", secret, nil},
		{"no-secret-provided", numberBody, "no-secret-provided", secret, webhook.ErrNoSecret},
		{"missing", numberBody, "", secret, webhook.ErrMissingSignature},
		{"wrong secret", numberBody, good, "whsec_other", webhook.ErrInvalidSignature},
		{"body changed", numberBody + " ", good, secret, webhook.ErrInvalidSignature},
		{"truncated signature", numberBody, good[:62], secret, webhook.ErrInvalidSignature},
		{"not hex", numberBody, strings.Repeat("z", 64), secret, webhook.ErrInvalidSignature},
		{"receiver without secret", numberBody, sign("", numberBody), "", webhook.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := webhook.Verify([]byte(tt.body), tt.header, tt.secret)
			t.Logf("Verify = %v", err)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyStandard(t *testing.T) {
	t.Parallel()
	now := time.Unix(1782847800, 0)
	key := whsecKey(t, secret)
	oldKey := []byte("old-secret")
	tests := []struct {
		name      string
		headers   http.Header
		body      string
		secret    string
		tolerance time.Duration
		want      error
	}{
		{"valid", standardHeaders(t, "dlv_1", now, callBody, key), callBody, secret, 0, nil},
		{"valid non-whsec secret", standardHeaders(t, "dlv_1", now, callBody, []byte(nonASCIISecret)), callBody, nonASCIISecret, 0, nil},
		{"rotation: new secret second", standardHeaders(t, "dlv_1", now, callBody, oldKey, key), callBody, secret, 0, nil},
		{"rotation: old secret first", standardHeaders(t, "dlv_1", now, callBody, oldKey, key), callBody, "old-secret", 0, nil},
		{"within tolerance past", standardHeaders(t, "dlv_1", now.Add(-4*time.Minute), callBody, key), callBody, secret, 0, nil},
		{"within tolerance future", standardHeaders(t, "dlv_1", now.Add(4*time.Minute), callBody, key), callBody, secret, 0, nil},
		{"stale", standardHeaders(t, "dlv_1", now.Add(-6*time.Minute), callBody, key), callBody, secret, 0, webhook.ErrTimestampTooOld},
		{"future", standardHeaders(t, "dlv_1", now.Add(6*time.Minute), callBody, key), callBody, secret, 0, webhook.ErrTimestampTooNew},
		{"custom tolerance", standardHeaders(t, "dlv_1", now.Add(-6*time.Minute), callBody, key), callBody, secret, 10 * time.Minute, nil},
		{"wrong secret", standardHeaders(t, "dlv_1", now, callBody, key), callBody, "whsec_b3RoZXI=", 0, webhook.ErrInvalidSignature},
		{"body changed", standardHeaders(t, "dlv_1", now, callBody, key), callBody + "x", secret, 0, webhook.ErrInvalidSignature},
		{"id changed", func() http.Header {
			h := standardHeaders(t, "dlv_1", now, callBody, key)
			h.Set("webhook-id", "dlv_2")
			return h
		}(), callBody, secret, 0, webhook.ErrInvalidSignature},
		{"timestamp changed", func() http.Header {
			h := standardHeaders(t, "dlv_1", now, callBody, key)
			h.Set("webhook-timestamp", strconv.FormatInt(now.Unix()+1, 10))
			return h
		}(), callBody, secret, 0, webhook.ErrInvalidSignature},
		{"malformed timestamp", func() http.Header {
			h := standardHeaders(t, "dlv_1", now, callBody, key)
			h.Set("webhook-timestamp", "yesterday")
			return h
		}(), callBody, secret, 0, webhook.ErrInvalidSignature},
		{"other versions ignored", func() http.Header {
			h := standardHeaders(t, "dlv_1", now, callBody, key)
			h.Set("webhook-signature", "v1a,abc v2,"+strings.TrimPrefix(h.Get("webhook-signature"), "v1,"))
			return h
		}(), callBody, secret, 0, webhook.ErrInvalidSignature},
		{"missing headers", http.Header{}, callBody, secret, 0, webhook.ErrMissingSignature},
		{"receiver without secret", standardHeaders(t, "dlv_1", now, callBody, []byte("")), callBody, "", 0, webhook.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := webhook.VerifyStandard([]byte(tt.body), tt.headers, tt.secret, tt.tolerance, now)
			t.Logf("VerifyStandard = %v", err)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestVerifyStandardSpecVector is the example of the Standard Webhooks
// specification, checked at its own time.
func TestVerifyStandardSpecVector(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	err := webhook.VerifyStandard([]byte(`{"test": 2432232314}`), h, secret, 0, time.Unix(1614265330, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := webhook.VerifyStandard([]byte(`{"test": 2432232314}`), h, secret, 0, time.Time{}); !errors.Is(err, webhook.ErrTimestampTooOld) {
		t.Errorf("zero now must mean time.Now: got %v", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	body := []byte(strings.Repeat("x", 400))
	header := sign(secret, string(body))
	b.ReportAllocs()
	for b.Loop() {
		if err := webhook.Verify(body, header, secret); err != nil {
			b.Fatal(err)
		}
	}
}
