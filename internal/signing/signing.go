// Package signing computes the signatures deliveries carry: the documented
// X-revdesk-Signature-256 header and, for subscriptions that opt in, the
// Standard Webhooks headers (https://www.standardwebhooks.com).
package signing

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names set on deliveries.
const (
	HeaderSignature256 = "X-revdesk-Signature-256"
	HeaderWebhookID    = "webhook-id"
	HeaderTimestamp    = "webhook-timestamp"
	HeaderSignature    = "webhook-signature"
)

// NoSecret is the documented header value of a subscription without a secret.
const NoSecret = "no-secret-provided"

// secretPrefix marks generated secrets, as Standard Webhooks does.
const secretPrefix = "whsec_"

// Sign returns the lowercase hex HMAC-SHA256 of body keyed with the UTF-8
// bytes of secret: what the documentation's Node.js verify computes.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	var sum [sha256.Size]byte
	return hex.EncodeToString(mac.Sum(sum[:0]))
}

// DocumentedHeader is the X-revdesk-Signature-256 value for a delivery.
func DocumentedHeader(secret string, body []byte) string {
	if secret == "" {
		return NoSecret
	}
	return Sign(secret, body)
}

// GenerateSecret returns "whsec_" and the standard base64 of 32 random bytes.
func GenerateSecret() string {
	var b [32]byte
	rand.Read(b[:]) // never fails since Go 1.24: it crashes the program instead
	return secretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// StandardKey is the HMAC key for the Standard Webhooks signature: the
// base64-decoded part of a whsec_ secret, otherwise the secret's UTF-8 bytes
// (so user-chosen secrets work too).
func StandardKey(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, secretPrefix); ok {
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil && len(key) > 0 {
			return key
		}
	}
	return []byte(secret)
}

// StandardSignature returns "v1," and the base64 HMAC-SHA256 of
// "msgID.unixSeconds.body".
func StandardSignature(key []byte, msgID string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	var prefix []byte
	prefix = append(prefix, msgID...)
	prefix = append(prefix, '.')
	prefix = strconv.AppendInt(prefix, ts.Unix(), 10)
	prefix = append(prefix, '.')
	mac.Write(prefix)
	mac.Write(body)
	var sum [sha256.Size]byte
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(sum[:0]))
}

// StandardHeader is the webhook-signature value: one space-separated
// signature per secret, so that during a rotation overlap receivers holding
// either the old or the new secret verify. Empty secrets are skipped.
func StandardHeader(msgID string, ts time.Time, body []byte, secrets ...string) string {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s != "" {
			sigs = append(sigs, StandardSignature(StandardKey(s), msgID, ts, body))
		}
	}
	return strings.Join(sigs, " ")
}

// SetStandardHeaders sets webhook-id, webhook-timestamp and
// webhook-signature, taking the timestamp header and the signed timestamp
// from the same value so they cannot disagree.
func SetStandardHeaders(h http.Header, msgID string, ts time.Time, body []byte, secrets ...string) {
	h.Set(HeaderWebhookID, msgID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, StandardHeader(msgID, ts, body, secrets...))
}
