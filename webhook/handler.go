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
	secrets       []string
	maxBody       int64
	tolerance     time.Duration
	allowNoSecret bool
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
func WithTolerance(d time.Duration) Option { return func(c *handlerConfig) { c.tolerance = d } }

// WithPreviousSecret also accepts signatures made with the secret being
// rotated out: during the overlap period RevDesk still signs
// X-revdesk-Signature-256 with it.
func WithPreviousSecret(secret string) Option {
	return func(c *handlerConfig) { c.secrets = append(c.secrets, secret) }
}

// AllowNoSecret accepts signed event types whose header is
// "no-secret-provided" (subscriptions created without a secret). Such
// deliveries are unauthenticated; authenticate them some other way.
func AllowNoSecret() Option { return func(c *handlerConfig) { c.allowNoSecret = true } }

// Handler returns middleware for a webhook endpoint. It accepts only POST,
// reads the body (size-capped: 413), requires X-revdesk-Event-Type (400),
// verifies X-revdesk-Signature-256 for signed event types and the Standard
// Webhooks headers whenever present (401), parses the body (400) and calls
// next with the event. r.Body is refilled so next may read it again. Answer
// 2xx quickly from next: RevDesk retries anything else.
func Handler(secret string, next func(http.ResponseWriter, *http.Request, *Event), opts ...Option) http.Handler {
	cfg := handlerConfig{secrets: []string{secret}, maxBody: DefaultMaxBodyBytes}
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
		if eventType == "" {
			http.Error(w, "missing "+HeaderEventType+" header", http.StatusBadRequest)
			return
		}
		if Signed(eventType) {
			if err := cfg.verify(body, r.Header.Get(HeaderSignature256)); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
		}
		if r.Header.Get(HeaderWebhookSignature) != "" || r.Header.Get(HeaderWebhookTimestamp) != "" {
			if err := cfg.verifyStandard(body, r.Header); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
		}
		ev, err := Parse(eventType, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ev.EventID = r.Header.Get(HeaderEventID)
		ev.DeliveryID = r.Header.Get(HeaderDeliveryID)
		ev.SubscriptionID = r.Header.Get(HeaderSubscriptionID)
		r.Body = io.NopCloser(bytes.NewReader(body))
		next(w, r, ev)
	})
}

// verify accepts the documented header if any configured secret matches.
func (c *handlerConfig) verify(body []byte, header string) error {
	if header == NoSecret && c.allowNoSecret {
		return nil
	}
	var err error
	for _, s := range c.secrets {
		if err = Verify(body, header, s); err == nil || !errors.Is(err, ErrInvalidSignature) {
			return err
		}
	}
	return err
}

// verifyStandard accepts the Standard Webhooks headers if any configured
// secret matches; timestamp errors do not depend on the secret.
func (c *handlerConfig) verifyStandard(body []byte, h http.Header) error {
	var err error
	for _, s := range c.secrets {
		if err = VerifyStandard(body, h, s, c.tolerance, time.Time{}); err == nil || !errors.Is(err, ErrInvalidSignature) {
			return err
		}
	}
	return err
}
