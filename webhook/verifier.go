package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Requirement says which signature a Verifier insists on, beyond the
// documentation's rule that signed event types carry X-revdesk-Signature-256.
type Requirement int

const (
	// RequireDocumented is the documentation's contract and the default:
	// signed event types must carry a valid X-revdesk-Signature-256, the
	// Standard Webhooks headers are checked when present, and call and SMS
	// deliveries, which the documentation leaves unsigned, pass
	// unauthenticated (Event.Authenticated false).
	RequireDocumented Requirement = iota
	// RequireSignature refuses any delivery without a valid signature of
	// either kind: call and SMS deliveries then need the subscription's
	// Standard Webhooks opt-in, and no-secret-provided is refused even with
	// AllowNoSecret.
	RequireSignature
	// RequireStandardWebhooks refuses any delivery without valid Standard
	// Webhooks headers, so every delivery is authenticated and none can be
	// replayed outside the tolerance (the documented header alone signs the
	// body only, so a captured delivery would verify forever).
	RequireStandardWebhooks
)

// ErrMissingEventType: the X-revdesk-Event-Type header is absent.
var ErrMissingEventType = errors.New("webhook: missing " + HeaderEventType + " header")

// Verifier checks whole deliveries against a receiver's configuration; Handler
// uses one, and it serves other routers (any framework with the raw body and
// headers) as it is. The zero value refuses every signed delivery: set
// Secrets.
type Verifier struct {
	// Secrets are tried in order: during a rotation overlap hold the new and
	// the previous secret (the documented header keeps the previous secret
	// until new_secret_active_at, the Standard Webhooks header carries both).
	Secrets []string
	// Tolerance bounds how far webhook-timestamp may be from now;
	// DefaultTolerance if <= 0.
	Tolerance time.Duration
	// AllowNoSecret accepts no-secret-provided on signed types, as an
	// unauthenticated delivery (unless Require asks for a signature).
	AllowNoSecret bool
	Require       Requirement
	// Now is the clock for timestamps; time.Now if nil.
	Now func() time.Time
}

// VerifyRequest checks a delivery of eventType (the X-revdesk-Event-Type
// header) with its raw body and headers. It reports whether a signature was
// verified; err wraps ErrMissingEventType, ErrUnknownEventType or one of the
// signature errors (ErrMissingSignature, ErrNoSecret, ErrInvalidSignature,
// ErrTimestampTooOld, ErrTimestampTooNew).
func (v *Verifier) VerifyRequest(eventType string, body []byte, h http.Header) (authenticated bool, err error) {
	if eventType == "" {
		return false, ErrMissingEventType
	}
	if _, ok := eventTypes[eventType]; !ok {
		return false, fmt.Errorf("%w: %q", ErrUnknownEventType, eventType)
	}
	if Signed(eventType) {
		header := h.Get(HeaderSignature256)
		if !(strings.TrimSpace(header) == NoSecret && v.AllowNoSecret && v.Require == RequireDocumented) {
			if err := v.verifyDocumented(body, header); err != nil {
				return false, err
			}
			authenticated = true
		}
	}
	present := h.Get(HeaderWebhookID) != "" || h.Get(HeaderWebhookTimestamp) != "" || h.Get(HeaderWebhookSignature) != ""
	if present || v.Require == RequireStandardWebhooks {
		if err := v.verifyStandard(body, h); err != nil {
			return false, err
		}
		authenticated = true
	}
	if v.Require == RequireSignature && !authenticated {
		return false, fmt.Errorf("%w: %s is unsigned unless the subscription opts in to Standard Webhooks", ErrMissingSignature, eventType)
	}
	return authenticated, nil
}

// verifyDocumented accepts the documented header if any secret matches.
func (v *Verifier) verifyDocumented(body []byte, header string) error {
	if len(v.Secrets) == 0 {
		return Verify(body, header, "") // says what is missing, or ErrInvalidSignature
	}
	var err error
	for _, s := range v.Secrets {
		if err = Verify(body, header, s); err == nil || !errors.Is(err, ErrInvalidSignature) {
			return err
		}
	}
	return err
}

// verifyStandard accepts the Standard Webhooks headers if any secret
// matches; missing headers and timestamp errors do not depend on the secret.
func (v *Verifier) verifyStandard(body []byte, h http.Header) error {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if len(v.Secrets) == 0 {
		return VerifyStandard(body, h, "", v.Tolerance, now)
	}
	var err error
	for _, s := range v.Secrets {
		if err = VerifyStandard(body, h, s, v.Tolerance, now); err == nil || !errors.Is(err, ErrInvalidSignature) {
			return err
		}
	}
	return err
}
