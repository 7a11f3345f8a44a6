// Package receivercheck finds out whether a webhook receiver authenticates
// what it is sent. It sends the receiver one delivery exactly as the
// dispatcher would (body built by the catalog, signed by the signing
// package, the same headers), sends it again as a retry would, and then
// sends forgeries a receiver must refuse, each marked X-revdesk-Check:
// forged so the receiver's logs show what they were. Every request goes
// through netguard, as deliveries do.
package receivercheck

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/delivery"
	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/signing"
	"github.com/revdesk/webhooks/internal/store"
)

// DefaultEventType is checked when none is given: the documentation's
// signed family.
const DefaultEventType = "number_purchased"

// HeaderCheck marks the requests that are not genuine deliveries.
const HeaderCheck = "X-revdesk-Check"

// replayAge is how far stale and future timestamps are from now: well
// beyond any sensible tolerance (Standard Webhooks suggests 5 minutes).
const replayAge = time.Hour

// ErrInvalidConfig is wrapped by every error about the check's own input.
var ErrInvalidConfig = errors.New("invalid receiver check")

// Config says what to check and how to reach it.
type Config struct {
	URL string
	// Secret is the signing secret the receiver holds.
	Secret string
	// PreviousSecret and PreviousUntil describe a rotation overlap, during
	// which real deliveries are signed as described in the signing package.
	PreviousSecret string
	PreviousUntil  *time.Time
	// EventType defaults to DefaultEventType.
	EventType        string
	StandardWebhooks bool
	// SubscriptionID is sent in X-revdesk-Subscription-Id; default a fresh id.
	SubscriptionID string
	Policy         netguard.Policy
	AllowHTTP      bool
	UserAgent      string
	// Timeout bounds each request (default 10 s).
	Timeout time.Duration
	// Headers, ClientCert and ClientKey are the subscription's delivery
	// options (custom headers, mutual TLS), so that the genuine delivery
	// is exactly what the receiver gets from RevDesk.
	Headers    []store.Header
	ClientCert string
	ClientKey  string
	// Proxy, when set, is the egress proxy deliveries go through.
	Proxy *url.URL
}

// Report is what the check found.
type Report struct {
	URL              string `json:"url"`
	EventType        string `json:"event_type"`
	Signed           bool   `json:"signed"`
	StandardWebhooks bool   `json:"standard_webhooks"`
	// Authenticated is false when deliveries of this kind carry nothing a
	// receiver could verify, so no forgery was sent.
	Authenticated bool `json:"authenticated"`
	// Passed: the genuine delivery and its repeat were accepted and no
	// forgery was.
	Passed   bool      `json:"passed"`
	Requests []Request `json:"requests"`
	Findings []Finding `json:"findings"`
}

// Request is one request sent and how it was answered.
type Request struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"` // genuine, forged or diagnostic (genuinely signed, other bytes)
	Description string `json:"description"`
	DeliveryID  string `json:"delivery_id"`
	Status      int    `json:"status"` // 0 when there was no answer
	Error       string `json:"error,omitempty"`
	Response    string `json:"response,omitempty"` // start of the answer's body
	Accepted    bool   `json:"accepted"`           // answered 2xx
	// OK is whether the answer was the right one: 2xx for genuine
	// requests, anything else for forged ones.
	OK bool `json:"ok"`
}

// Finding explains one problem or limitation.
type Finding struct {
	Severity string `json:"severity"` // "problem" or "warning"
	Request  string `json:"request,omitempty"`
	Summary  string `json:"summary"`
	Meaning  string `json:"meaning"`
	Fix      string `json:"fix"`
}

// Kinds of requests.
const (
	KindGenuine    = "genuine"
	KindForged     = "forged"
	KindDiagnostic = "diagnostic"
)

// Severities of findings.
const (
	SeverityProblem = "problem"
	SeverityWarning = "warning"
)

// checker holds one run's fixed parts.
type checker struct {
	cfg       Config
	et        catalog.EventType
	transport http.RoundTripper
	event     *store.Event
	sub       *store.Subscription
}

// Run checks the receiver at cfg.URL. Unreachable receivers and refusals
// are part of the report; errors are about cfg itself.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.EventType == "" {
		cfg.EventType = DefaultEventType
	}
	et, ok := catalog.Lookup(cfg.EventType)
	if !ok {
		return nil, fmt.Errorf("%w: %w: %q", ErrInvalidConfig, catalog.ErrUnknownType, cfg.EventType)
	}
	if cfg.StandardWebhooks && cfg.Secret == "" {
		return nil, fmt.Errorf("%w: Standard Webhooks signatures need a secret", ErrInvalidConfig)
	}
	if err := netguard.ValidateURL(cfg.URL, cfg.AllowHTTP, cfg.Policy); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	// A subscription's client certificate gets a transport of its own, as
	// in the dispatcher.
	base := netguard.NewTransport(cfg.Policy, cfg.Timeout)
	if cfg.Proxy != nil {
		var err error
		if base, err = netguard.NewProxiedTransport(cfg.Policy, cfg.Timeout, cfg.Proxy); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	transport := delivery.NewClientCerts(base)
	defer transport.CloseIdleConnections()
	now := time.Now()
	c := &checker{
		cfg: cfg, et: et, transport: transport,
		event: &store.Event{ID: ids.New(ids.Event), EventType: et.Name, OccurredAt: now, Data: et.Example},
		sub: &store.Subscription{
			ID: cmp.Or(cfg.SubscriptionID, ids.New(ids.Subscription)), WebhookURL: cfg.URL, EventType: et.Name,
			SigningSecret: cfg.Secret, PreviousSecret: cfg.PreviousSecret, PreviousUntil: cfg.PreviousUntil,
			StandardWebhooks: cfg.StandardWebhooks,
			Headers:          cfg.Headers, ClientCert: cfg.ClientCert, ClientKey: cfg.ClientKey,
		},
	}
	return c.run(ctx)
}

func (c *checker) run(ctx context.Context) (*Report, error) {
	r := &Report{
		URL: c.cfg.URL, EventType: c.et.Name, Signed: c.et.Signed, StandardWebhooks: c.cfg.StandardWebhooks,
		Authenticated: c.cfg.StandardWebhooks || (c.et.Signed && c.cfg.Secret != ""),
	}
	genuineID := ids.New(ids.Delivery)
	first, err := c.send(ctx, probe{name: "genuine", kind: KindGenuine, description: "a correctly signed delivery, exactly as RevDesk sends it"}, genuineID)
	if err != nil {
		return nil, err
	}
	r.Requests = append(r.Requests, first)
	if first.Status == 0 {
		r.Findings = append(r.Findings, Finding{
			Severity: SeverityProblem, Request: first.Name, Summary: "The receiver could not be reached: " + first.Error,
			Meaning: "Nothing else was sent: the forgeries mean something only next to an answered genuine delivery. If RevDesk's deliveries fail the same way, the subscription is disabled after days of failures.",
			Fix:     "Check the URL, that the receiver is running and reachable from here, and its TLS certificate.",
		})
		return r, nil
	}
	again, err := c.send(ctx, probe{name: "duplicate", kind: KindGenuine, description: "the same delivery again, as a retry sends it (same delivery id)"}, genuineID)
	if err != nil {
		return nil, err
	}
	r.Requests = append(r.Requests, again)
	if !first.Accepted {
		r.Findings = append(r.Findings, c.genuineRefused(first))
	}
	if first.Accepted && !again.Accepted {
		r.Findings = append(r.Findings, Finding{
			Severity: SeverityProblem, Request: again.Name,
			Summary: fmt.Sprintf("The repeated delivery was answered %s.", answer(again)),
			Meaning: "Delivery is at-least-once: a retry after a lost answer repeats a delivery the receiver already has. Answering it with an error makes RevDesk retry until the subscription is disabled.",
			Fix:     "Deduplicate on X-revdesk-Delivery-Id (webhook-id): when you have seen it, answer 2xx without processing it again.",
		})
	}
	if !r.Authenticated {
		r.Findings = append(r.Findings, c.unauthenticated())
		r.Passed = first.Accepted && again.Accepted
		return r, nil
	}
	probes := c.probes()
	if !first.Accepted {
		// Which re-encoding, if any, the receiver verifies instead of the
		// bytes it was sent.
		probes = append(probes, c.reencoded()...)
	}
	for _, p := range probes {
		req, err := c.send(ctx, p, ids.New(ids.Delivery))
		if err != nil {
			return nil, err
		}
		r.Requests = append(r.Requests, req)
		if req.Accepted {
			r.Findings = append(r.Findings, Finding{Severity: SeverityProblem, Request: p.name, Summary: p.accepted(req), Meaning: p.meaning, Fix: p.fix})
		}
	}
	r.Passed = true
	for _, req := range r.Requests {
		r.Passed = r.Passed && (req.OK || req.Kind == KindDiagnostic)
	}
	return r, nil
}

func answer(r Request) string {
	if r.Status == 0 {
		return "no answer (" + r.Error + ")"
	}
	return fmt.Sprintf("%d %s", r.Status, http.StatusText(r.Status))
}

func (c *checker) genuineRefused(first Request) Finding {
	f := Finding{
		Severity: SeverityProblem, Request: first.Name,
		Summary: fmt.Sprintf("The genuine delivery was refused with %s.", answer(first)),
		Meaning: "Real deliveries of this subscription fail: RevDesk retries them and, after days of failures, disables the subscription. While genuine deliveries are refused, refusing forgeries proves nothing.",
		Fix:     "Check that the receiver holds this subscription's current signing secret, computes the HMAC over the raw body bytes (not re-serialised JSON), reads the header " + signing.HeaderSignature256 + " (or webhook-signature), and answers 2xx quickly.",
	}
	if len(c.secrets(time.Now())) > 1 {
		f.Fix += " A secret rotation is overlapping: until it ends " + signing.HeaderSignature256 + " is signed with the previous secret, so accept both."
	}
	return f
}

// unauthenticated explains why nothing was forged.
func (c *checker) unauthenticated() Finding {
	if !c.et.Signed {
		return Finding{
			Severity: SeverityWarning,
			Summary:  c.et.Name + " is delivered unsigned: the receiver cannot authenticate it.",
			Meaning:  "The documented scheme signs only enveloped event types; call and SMS deliveries carry no signature, so anyone who learns the URL can send the receiver fake events. No forgery was sent: the receiver could not tell one from a real delivery.",
			Fix:      "Opt in to Standard Webhooks (create the subscription with \"standard_webhooks\": true, or revdesk subscriptions create --standard-webhooks), which signs every family with webhook-id, webhook-timestamp and webhook-signature; verify those, then check again with --standard-webhooks. Until then keep the URL secret (an unguessable path) or allow only RevDesk's addresses.",
		}
	}
	return Finding{
		Severity: SeverityWarning,
		Summary:  "The subscription has no signing secret: its deliveries carry " + signing.NoSecret + " instead of a signature.",
		Meaning:  "The receiver cannot tell a real delivery from a forgery, which anyone can send with the same header.",
		Fix:      "Rotate the secret (POST /api/v1/webhook_subscriptions/{id}/rotate_secret, or revdesk subscriptions rotate-secret ID) and verify " + signing.HeaderSignature256 + " with it.",
	}
}

// accepted says what the receiver did wrong by accepting p.
func (p probe) accepted(req Request) string {
	if p.kind == KindDiagnostic {
		return "Accepted " + p.description + ", though it refused the bytes RevDesk sends."
	}
	return "Accepted with " + answer(req) + ": " + p.description + "."
}

// probe is one request to send: built as a genuine delivery, then changed.
type probe struct {
	name, kind, description string
	meaning, fix            string
	// at is when the delivery claims to be sent (zero: now).
	at time.Time
	// secret signs instead of the subscription's secrets, when set.
	secret string
	// change alters the genuine request.
	change func(req *http.Request, body []byte, at time.Time)
}

const fixVerify = "Compute HMAC-SHA256 of the raw request body with your signing secret, compare it with the header in constant time, and answer 401 when they differ or the header is missing."

// probes are the forgeries for this event type and scheme.
func (c *checker) probes() []probe {
	documented, standard := c.et.Signed, c.cfg.StandardWebhooks
	var ps []probe
	ps = append(ps,
		probe{
			name: "wrong_signature", description: "a delivery signed with another secret",
			meaning: "The receiver does not check the signature: anyone who knows the URL can send it events.",
			fix:     fixVerify, secret: "not-the-" + signing.GenerateSecret(),
		},
		probe{
			name: "no_signature", description: "a delivery without any signature header",
			meaning: "The receiver treats a missing signature as nothing to check, so a forger simply leaves it out.",
			fix:     "Require the signature on every event type that carries one (and on every type when you use Standard Webhooks); refuse a request without it. " + fixVerify,
			change: func(req *http.Request, _ []byte, _ time.Time) {
				delete(req.Header, signing.HeaderSignature256)
				for _, h := range []string{signing.HeaderWebhookID, signing.HeaderTimestamp, signing.HeaderSignature} {
					req.Header.Del(h)
				}
			},
		},
	)
	if documented {
		ps = append(ps, probe{
			name: "no_secret_provided", description: "a delivery whose " + signing.HeaderSignature256 + " is the literal " + signing.NoSecret,
			meaning: "The receiver accepts " + signing.NoSecret + ", which only subscriptions without a secret send; a forger sends it instead of a signature.",
			fix:     "Refuse " + signing.NoSecret + " whenever your subscription has a secret: treat it as a wrong signature.",
			change: func(req *http.Request, _ []byte, _ time.Time) {
				req.Header[signing.HeaderSignature256] = []string{signing.NoSecret}
				req.Header.Del(signing.HeaderSignature)
			},
		})
	}
	ps = append(ps,
		probe{
			name: "other_body", description: "another body carrying the genuine body's signature",
			meaning: "The receiver checks a signature, but not against the body it received: one captured delivery lets anyone send any body.",
			fix:     "Compute the HMAC over the exact bytes of this request's body.",
			change: func(req *http.Request, body []byte, _ time.Time) {
				setBody(req, append([]byte(`{"revdesk_check":"forged",`), body[1:]...))
			},
		},
		probe{
			name: "truncated_body", description: "the genuine body cut in half, with the whole body's signature",
			meaning: "The receiver does not verify the bytes it received (it checks a prefix, or nothing).",
			fix:     "Read the whole body, then compute the HMAC over exactly those bytes.",
			change: func(req *http.Request, body []byte, _ time.Time) {
				setBody(req, body[:len(body)/2])
			},
		},
	)
	if standard {
		replayFix := "Refuse a webhook-timestamp more than a few minutes (Standard Webhooks: 5) from now, before or after, as the Standard Webhooks libraries do; then verify webhook-signature over webhook-id.webhook-timestamp.body."
		ps = append(ps,
			probe{
				name: "stale_timestamp", description: "a correctly signed delivery stamped an hour ago",
				meaning: "The receiver ignores webhook-timestamp: a captured delivery can be replayed forever, which Standard Webhooks exists to prevent.",
				fix:     replayFix, at: time.Now().Add(-replayAge),
			},
			probe{
				name: "future_timestamp", description: "a correctly signed delivery stamped an hour from now",
				meaning: "The receiver ignores how far webhook-timestamp is in the future, so a delivery signed ahead of time stays usable.",
				fix:     replayFix, at: time.Now().Add(replayAge),
			},
			probe{
				name: "other_id", description: "a delivery whose webhook-id (and X-revdesk-Delivery-Id) differs from the id its signature covers",
				meaning: "The receiver does not verify webhook-signature over the id it received: a replay under a new id passes deduplication.",
				fix:     "Verify webhook-signature over webhook-id.webhook-timestamp.body with the headers as received, and deduplicate on that id.",
				change: func(req *http.Request, _ []byte, _ time.Time) {
					id := ids.New(ids.Delivery)
					req.Header.Set(signing.HeaderWebhookID, id)
					req.Header[delivery.HeaderDeliveryID] = []string{id}
				},
			},
		)
	}
	for i := range ps {
		ps[i].kind = KindForged
	}
	return ps
}

// reencoded are genuinely signed deliveries of the same event whose body
// is how common JSON libraries re-serialise it, to tell whether a receiver
// that refused the real bytes verifies a re-encoding of them.
func (c *checker) reencoded() []probe {
	const (
		meaning = "The receiver verifies the signature over re-serialised JSON (parsed and encoded again) instead of the raw body. Re-encoding changes whitespace, key order or escapes, so real deliveries never verify."
		fix     = "Verify the raw request body bytes before parsing them (e.g. express.raw(), request.get_data(), io.ReadAll(r.Body)), then parse."
	)
	var ps []probe
	for _, v := range []struct {
		name, description string
		encode            func(*jsontext.Value) error
	}{
		{"compact_body", "the same event with its body compacted (keys in order, no whitespace) and signed over those bytes", func(v *jsontext.Value) error { return v.Compact() }},
		{"sorted_body", "the same event with its body re-encoded with sorted keys and no whitespace, signed over those bytes", func(v *jsontext.Value) error { return v.Canonicalize() }},
	} {
		ps = append(ps, probe{
			name: v.name, kind: KindDiagnostic, description: v.description, meaning: meaning, fix: fix,
			change: func(req *http.Request, body []byte, at time.Time) {
				val := jsontext.Value(bytes.Clone(body))
				if v.encode(&val) == nil {
					c.resign(req, val, at)
				}
			},
		})
	}
	return ps
}

// resign replaces the body and signs it as the dispatcher signs a delivery
// of that id and time.
func (c *checker) resign(req *http.Request, body []byte, at time.Time) {
	setBody(req, body)
	secrets := c.secrets(at)
	//lint:ignore SA1008 deliveries carry the documented, non-canonical spelling
	if _, ok := req.Header[signing.HeaderSignature256]; ok {
		req.Header[signing.HeaderSignature256] = []string{signing.DocumentedHeader(secrets[len(secrets)-1], body)}
	}
	if id := req.Header.Get(signing.HeaderWebhookID); id != "" {
		signing.SetStandardHeaders(req.Header, id, at, body, secrets...)
	}
}

// secrets are the ones a delivery at time at is signed with, current first:
// the rule of the dispatcher's activeSecrets, which the re-encoded probes
// must follow to be signed like the real thing.
func (c *checker) secrets(at time.Time) []string {
	if c.sub.PreviousSecret != "" && c.sub.PreviousUntil != nil && at.Before(*c.sub.PreviousUntil) {
		return []string{c.sub.SigningSecret, c.sub.PreviousSecret}
	}
	return []string{c.sub.SigningSecret}
}

func setBody(req *http.Request, body []byte) {
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.ContentLength = int64(len(body))
}

// send builds a probe's request as the dispatcher builds a delivery,
// changes it, sends it and records the answer.
func (c *checker) send(ctx context.Context, p probe, deliveryID string) (Request, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	sub := c.sub
	if p.secret != "" {
		forged := *c.sub
		forged.SigningSecret, forged.PreviousSecret, forged.PreviousUntil = p.secret, "", nil
		sub = &forged
	}
	at := p.at
	if at.IsZero() {
		at = time.Now()
	}
	job := &store.Job{Event: c.event, Subscription: sub, Delivery: store.Delivery{ID: deliveryID, EventID: c.event.ID, SubscriptionID: sub.ID, EventType: c.et.Name}}
	req, err := delivery.Request(ctx, job, c.cfg.UserAgent, at)
	if err != nil {
		return Request{}, err
	}
	if p.change != nil {
		body, err := catalog.Body(c.et.Name, c.event.OccurredAt, c.event.Data)
		if err != nil {
			return Request{}, err
		}
		p.change(req, body, at)
	}
	if p.kind != KindGenuine {
		req.Header[HeaderCheck] = []string{p.kind}
	}
	//lint:ignore SA1008 deliveries carry the documented, non-canonical spelling
	out := Request{Name: p.name, Kind: p.kind, Description: p.description, DeliveryID: strings.Join(req.Header[delivery.HeaderDeliveryID], ",")}
	resp, err := c.transport.RoundTrip(req)
	if err != nil {
		out.Error = err.Error()
		out.OK = p.kind != KindGenuine
		return out, nil
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	out.Status = resp.StatusCode
	out.Response = strings.ToValidUTF8(strings.TrimSpace(string(head)), "\uFFFD")
	out.Accepted = resp.StatusCode >= 200 && resp.StatusCode < 300
	out.OK = out.Accepted == (p.kind == KindGenuine)
	return out, nil
}
