package webhook

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"
)

// DefaultMaxBodyBytes caps the body Handler reads unless WithMaxBodyBytes says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Option configures Handler.
type Option func(*handlerConfig)

type handlerConfig struct {
	verifier Verifier
	maxBody  int64
}

// WithMaxBodyBytes caps the request body; larger bodies get 413. Values
// below 1 keep DefaultMaxBodyBytes.
func WithMaxBodyBytes(n int64) Option {
	return func(c *handlerConfig) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// WithTolerance sets how far the Standard Webhooks timestamp may be from now
// (DefaultTolerance otherwise).
func WithTolerance(d time.Duration) Option {
	return func(c *handlerConfig) { c.verifier.Tolerance = d }
}

// WithPreviousSecret also accepts signatures made with the secret being
// rotated out: during the overlap period RevDesk still signs
// X-revdesk-Signature-256 with it. Repeat it to hold more secrets.
func WithPreviousSecret(secret string) Option {
	return func(c *handlerConfig) { c.verifier.Secrets = append(c.verifier.Secrets, secret) }
}

// AllowNoSecret accepts signed event types whose header is
// "no-secret-provided" (subscriptions created without a secret). Such
// deliveries are unauthenticated; authenticate them some other way.
func AllowNoSecret() Option { return func(c *handlerConfig) { c.verifier.AllowNoSecret = true } }

// Require refuses (401) deliveries without the signature r names:
// Require(RequireSignature) refuses unsigned call and SMS deliveries (they
// then need the subscription's Standard Webhooks opt-in);
// Require(RequireStandardWebhooks) suits subscriptions created with
// "standard_webhooks": true, whose every delivery carries those headers.
func Require(r Requirement) Option { return func(c *handlerConfig) { c.verifier.Require = r } }

// Handler returns middleware for a webhook endpoint. It accepts only POST,
// reads the body (size-capped: 413), requires a known X-revdesk-Event-Type
// (400), verifies the delivery as a Verifier does (401: the documented header
// on signed event types, the Standard Webhooks headers whenever present, and
// what Require adds), parses the body (400) and calls next with the event.
// r.Body is refilled so next may read it again. Answer 2xx quickly from next:
// RevDesk retries anything else.
func Handler(secret string, next func(http.ResponseWriter, *http.Request, *Event), opts ...Option) http.Handler {
	cfg := handlerConfig{verifier: Verifier{Secrets: []string{secret}}, maxBody: DefaultMaxBodyBytes}
	for _, o := range opts {
		o(&cfg)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cfg.maxBody))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		eventType := r.Header.Get(HeaderEventType)
		authenticated, err := cfg.verifier.VerifyRequest(eventType, body, r.Header)
		switch {
		case errors.Is(err, ErrMissingEventType) || errors.Is(err, ErrUnknownEventType):
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		ev, err := Parse(eventType, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ev.Authenticated = authenticated
		ev.EventID = r.Header.Get(HeaderEventID)
		ev.DeliveryID = r.Header.Get(HeaderDeliveryID)
		ev.SubscriptionID = r.Header.Get(HeaderSubscriptionID)
		ev.SourceEventID = r.Header.Get(HeaderSourceEventID)
		ev.Test = r.Header.Get(HeaderTest) == "true"
		r.Body = io.NopCloser(bytes.NewReader(body))
		next(w, r, ev)
	})
}
