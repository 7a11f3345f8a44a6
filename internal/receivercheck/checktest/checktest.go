// Package checktest holds webhook receivers written as customers write
// them, one correct and three broken, for the tests of the receiver check.
// Each answers 401 to what it refuses and 200 to what it accepts.
package checktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/revdesk/webhooks/webhook"
)

// Secret is the signing secret every receiver here holds.
const Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// Correct verifies the raw body in constant time, requires a signature on
// signed types (and on every type when it uses Standard Webhooks), refuses
// stale and future timestamps, and acknowledges repeats of a delivery.
func Correct(standard bool) http.HandlerFunc {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var err error
		switch {
		case standard:
			err = webhook.VerifyStandard(body, r.Header, Secret, 0, time.Time{})
		case webhook.Signed(r.Header.Get(webhook.HeaderEventType)):
			err = webhook.Verify(body, r.Header.Get(webhook.HeaderSignature256), Secret)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		id := r.Header.Get(webhook.HeaderDeliveryID)
		if seen[id] {
			_, _ = io.WriteString(w, "already processed")
			return
		}
		seen[id] = true
	}
}

// AcceptsEverything is the receiver that never checks.
func AcceptsEverything(w http.ResponseWriter, r *http.Request) {}

// IgnoresTimestamp checks the Standard Webhooks signature with == over the
// headers it received, but never looks at how old the timestamp is.
func IgnoresTimestamp(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key, _ := base64.StdEncoding.DecodeString(Secret[len("whsec_"):])
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "."))
	mac.Write(body)
	if r.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		w.WriteHeader(http.StatusUnauthorized)
	}
}

// Reserialises verifies the documented signature over the body parsed and
// encoded again instead of the bytes received.
func Reserialises(w http.ResponseWriter, r *http.Request) {
	var v any
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	again, _ := json.Marshal(v)
	mac := hmac.New(sha256.New, []byte(Secret))
	mac.Write(again)
	if r.Header.Get(webhook.HeaderSignature256) != hex.EncodeToString(mac.Sum(nil)) {
		w.WriteHeader(http.StatusUnauthorized)
	}
}
