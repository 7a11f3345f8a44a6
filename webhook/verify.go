// Package webhook is the receiver SDK for RevDesk webhooks: it verifies
// deliveries (the documented X-revdesk-Signature-256 header and, when the
// subscription opted in, the Standard Webhooks headers), unwraps both body
// shapes and decodes each event family into a typed struct.
//
// Call and SMS events are delivered flat and unsigned by the documentation;
// every other event is enveloped ({"triggerEvent","createdAt","payload"}) and
// HMAC-signed. To authenticate call and SMS deliveries, create the
// subscription with "standard_webhooks": true (which signs every family) and
// tell the receiver to insist: Require(RequireSignature) or
// Require(RequireStandardWebhooks). Deduplicate on the X-revdesk-Delivery-Id
// header (Deduplicator): delivery is at-least-once.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers RevDesk sets on every delivery (HeaderSignature256 only on signed
// event types).
const (
	HeaderSignature256   = "X-revdesk-Signature-256"
	HeaderEventType      = "X-revdesk-Event-Type"
	HeaderEventID        = "X-revdesk-Event-Id"
	HeaderDeliveryID     = "X-revdesk-Delivery-Id"
	HeaderSubscriptionID = "X-revdesk-Subscription-Id"
	// HeaderSourceEventID is on deliveries of derived disposition events
	// (call_no_answer, call_voicemail, call_busy, call_failed) only: the
	// call_completed event they came from.
	HeaderSourceEventID = "X-revdesk-Source-Event-Id"
	// HeaderTest is "true" on deliveries of "send test event" (POST
	// /api/v1/webhook_subscriptions/{id}/test), absent otherwise.
	HeaderTest = "X-revdesk-Test"
)

// Standard Webhooks headers, sent when the subscription was created with
// "standard_webhooks": true.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// NoSecret is the X-revdesk-Signature-256 value of a subscription created
// without a signing secret.
const NoSecret = "no-secret-provided"

// DefaultTolerance is how far webhook-timestamp may be from now when
// VerifyStandard is given no tolerance (the Standard Webhooks default).
const DefaultTolerance = 5 * time.Minute

var (
	// ErrNoSecret: the delivery is from a subscription without a secret, so
	// it carries no signature and cannot be authenticated.
	ErrNoSecret = errors.New("webhook: subscription has no signing secret")
	// ErrMissingSignature: the signature header(s) are absent.
	ErrMissingSignature = errors.New("webhook: missing signature")
	// ErrInvalidSignature: no signature matches the body and secret.
	ErrInvalidSignature = errors.New("webhook: invalid signature")
	// ErrTimestampTooOld: webhook-timestamp is older than the tolerance (a replay?).
	ErrTimestampTooOld = errors.New("webhook: timestamp too old")
	// ErrTimestampTooNew: webhook-timestamp is further in the future than the tolerance.
	ErrTimestampTooNew = errors.New("webhook: timestamp too new")
)

// Verify checks the X-revdesk-Signature-256 header value against body: the
// lowercase hex HMAC-SHA256 of the raw body keyed with the UTF-8 bytes of
// secret, compared in constant time. Pass the body exactly as received.
func Verify(body []byte, header, secret string) error {
	header = strings.TrimSpace(header)
	switch {
	case header == "":
		return ErrMissingSignature
	case header == NoSecret:
		return ErrNoSecret
	case secret == "":
		return fmt.Errorf("%w: no secret configured on the receiver", ErrInvalidSignature)
	}
	got, err := hex.DecodeString(header)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: not a hex HMAC-SHA256", ErrInvalidSignature)
	}
	if !hmac.Equal(got, sum([]byte(secret), body)) {
		return ErrInvalidSignature
	}
	return nil
}

// VerifyStandard checks the Standard Webhooks headers: webhook-timestamp
// within tolerance of now (DefaultTolerance if tolerance <= 0; time.Now if
// now is zero), and at least one "v1," signature in webhook-signature (there
// are two during a secret rotation) matching HMAC-SHA256 of
// "id.timestamp.body". The key is the base64-decoded part of a whsec_
// secret, otherwise the secret's UTF-8 bytes.
func VerifyStandard(body []byte, headers http.Header, secret string, tolerance time.Duration, now time.Time) error {
	id, ts, sigs := headers.Get(HeaderWebhookID), headers.Get(HeaderWebhookTimestamp), headers.Get(HeaderWebhookSignature)
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("%w: webhook-id, webhook-timestamp and webhook-signature are required", ErrMissingSignature)
	}
	if secret == "" {
		return fmt.Errorf("%w: no secret configured on the receiver", ErrInvalidSignature)
	}
	sec, err := parseTimestamp(ts)
	if err != nil {
		return err
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if now.IsZero() {
		now = time.Now()
	}
	sent := time.Unix(sec, 0)
	if now.Sub(sent) > tolerance {
		return ErrTimestampTooOld
	}
	if sent.Sub(now) > tolerance {
		return ErrTimestampTooNew
	}
	signed := make([]byte, 0, len(id)+len(ts)+2+len(body))
	signed = append(append(append(append(append(signed, id...), '.'), ts...), '.'), body...)
	want := sum(standardKey(secret), signed)
	for sig := range strings.FieldsSeq(sigs) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" { // other schemes (e.g. v1a) are not ours to check
			continue
		}
		got, err := base64.StdEncoding.DecodeString(value)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrInvalidSignature
}

// parseTimestamp accepts 1 to 15 decimal digits only (ParseInt alone would
// take a sign), so every SDK agrees on what a well-formed webhook-timestamp
// is, JavaScript's numbers included.
func parseTimestamp(ts string) (int64, error) {
	if len(ts) > 15 {
		return 0, fmt.Errorf("%w: malformed webhook-timestamp", ErrInvalidSignature)
	}
	for i := 0; i < len(ts); i++ {
		if ts[i] < '0' || ts[i] > '9' {
			return 0, fmt.Errorf("%w: malformed webhook-timestamp", ErrInvalidSignature)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: malformed webhook-timestamp", ErrInvalidSignature)
	}
	return sec, nil
}

func standardKey(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil && len(key) > 0 {
			return key
		}
	}
	return []byte(secret)
}

func sum(key, msg []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(msg)
	return mac.Sum(nil)
}
