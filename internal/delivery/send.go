package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/signing"
	"github.com/revdesk/webhooks/internal/store"
)

// Header names of a delivery request.
const (
	HeaderEventType      = "X-revdesk-Event-Type"
	HeaderEventID        = "X-revdesk-Event-Id"
	HeaderDeliveryID     = "X-revdesk-Delivery-Id"
	HeaderSubscriptionID = "X-revdesk-Subscription-Id"
	// HeaderSourceEventID names, on deliveries of a derived disposition
	// event, the call_completed event it came from.
	HeaderSourceEventID = "X-revdesk-Source-Event-Id"
	// HeaderTest marks a delivery of "send test event".
	HeaderTest = "X-revdesk-Test"
)

// Error classes recorded on attempts, besides netguard's network classes.
const (
	ClassHTTPStatus = "http_status"
	ClassRedirect   = "redirect"
	ClassGone       = "gone"
	ClassBadRequest = "invalid_request"
)

const (
	// responseReadCap bounds how much of a response is read, so a receiver
	// streaming an endless body cannot hold a sender.
	responseReadCap = 64 << 10
	// responseKeep is how much of it is kept with the attempt.
	responseKeep = 1 << 10
)

// result is what one attempt found out.
type result struct {
	attempt   store.Attempt
	header    http.Header // response headers, nil without a response
	forbidden bool        // the destination is refused for good
}

// Request builds the POST for a job exactly as the dispatcher sends it; the
// receiver check uses it so that its genuine delivery is a real one.
func Request(ctx context.Context, job *store.Job, userAgent string, now time.Time) (*http.Request, error) {
	return newRequest(ctx, job, nil, userAgent, now)
}

// newRequest builds the POST for a job: the body of the event's shape and
// the documented headers, plus Standard Webhooks headers when opted in.
// target is the subscription's URL parsed already (nil: parse it here).
func newRequest(ctx context.Context, job *store.Job, target *url.URL, userAgent string, now time.Time) (*http.Request, error) {
	ev, sub := job.Event, job.Subscription
	et, ok := catalog.Lookup(job.Delivery.EventType)
	if !ok {
		return nil, fmt.Errorf("event type %q: %w", job.Delivery.EventType, catalog.ErrUnknownType)
	}
	body, err := catalog.Body(et.Name, ev.OccurredAt, ev.Data)
	if err != nil {
		return nil, err
	}
	if target == nil {
		if target, err = url.Parse(sub.WebhookURL); err != nil {
			return nil, err
		}
	}
	// Built by hand rather than by http.NewRequest, which would parse the
	// URL again for every delivery.
	u := *target // the request gets its own copy; the parsed form is shared
	req := (&http.Request{
		Method: http.MethodPost, URL: &u, Host: strings.TrimSuffix(u.Host, ":"),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: make(http.Header, 8),
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
		// Lets HTTP/2 resend the request on a new connection if the
		// receiver refuses the stream.
		GetBody: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil },
	}).WithContext(withClientCert(ctx, sub))
	h := req.Header
	setCustomHeaders(h, sub.Headers)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	setHeader(h, HeaderEventType, et.Name)
	setHeader(h, HeaderEventID, ev.ID)
	setHeader(h, HeaderDeliveryID, job.Delivery.ID)
	setHeader(h, HeaderSubscriptionID, sub.ID)
	if ev.SourceEventID != "" {
		setHeader(h, HeaderSourceEventID, ev.SourceEventID)
	}
	if job.Event.Test {
		setHeader(h, HeaderTest, "true")
	}

	secrets := activeSecrets(sub, now)
	if et.Signed {
		// During a rotation overlap the documented header keeps the previous
		// secret, so receivers switch when the response said they would.
		setHeader(h, signing.HeaderSignature256, signing.DocumentedHeader(secrets[len(secrets)-1], body))
	}
	if sub.StandardWebhooks {
		signing.SetStandardHeaders(h, job.Delivery.ID, now, body, secrets...)
	}
	return req, nil
}

// setHeader keeps the documented spelling of header names on the wire
// (Header.Set would canonicalise X-revdesk-… to X-Revdesk-…). HTTP header
// names are case-insensitive, but the contract shows these bytes.
func setHeader(h http.Header, name, value string) {
	h[name] = []string{value}
}

// activeSecrets lists the secrets to sign with: the current one first, then
// the previous one while its overlap lasts. A subscription without a secret
// yields [""].
func activeSecrets(sub *store.Subscription, now time.Time) []string {
	if sub.PreviousSecret != "" && sub.PreviousUntil != nil && now.Before(*sub.PreviousUntil) {
		return []string{sub.SigningSecret, sub.PreviousSecret}
	}
	return []string{sub.SigningSecret}
}

// attempt makes one request for a job and records what happened.
// target is the subscription's URL parsed already, or nil.
func attempt(ctx context.Context, client http.RoundTripper, job *store.Job, target *url.URL, userAgent string, timeout time.Duration) (r result) {
	// Tracing: one client span per attempt, a no-op unless telemetry.Setup
	// installed a provider (looked up each time, so a provider installed or
	// replaced later is followed). No trace headers are injected into the
	// request: receivers get exactly the documented headers.
	ctx, span := otel.Tracer(tracerName).Start(ctx, "webhook.deliver", trace.WithSpanKind(trace.SpanKindClient))
	if span.IsRecording() { // spares building attributes for the no-op tracer
		span.SetAttributes(
			attribute.String("revdesk.delivery_id", job.Delivery.ID),
			attribute.String("revdesk.event_type", job.Delivery.EventType),
			attribute.String("revdesk.subscription_id", job.Subscription.ID),
		)
	}
	defer func() { endSpan(span, &r.attempt) }()
	start := time.Now()
	r = result{attempt: store.Attempt{DeliveryID: job.Delivery.ID, Number: job.Delivery.Attempts + 1, At: start}}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := newRequest(ctx, job, target, userAgent, start)
	if err != nil {
		r.attempt.ErrorClass, r.attempt.Error = ClassBadRequest, err.Error()
		r.forbidden = true
		return r
	}
	resp, err := client.RoundTrip(req)
	if err != nil {
		r.attempt.Latency = time.Since(start)
		r.attempt.ErrorClass = netguard.ErrorClass(err)
		r.attempt.Error = err.Error()
		r.forbidden = errors.Is(err, netguard.ErrForbiddenAddress)
		return r
	}
	defer resp.Body.Close()
	buf := keepBuffers.Get().(*[responseKeep]byte)
	defer keepBuffers.Put(buf)
	n, _ := io.ReadFull(resp.Body, buf[:])
	head := buf[:n]
	// Reading the rest (bounded) lets the connection be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, responseReadCap-responseKeep))
	r.attempt.Latency = time.Since(start)
	r.attempt.StatusCode = resp.StatusCode
	r.attempt.ResponseBody = strings.ToValidUTF8(string(trimUTF8(head)), "\uFFFD")
	r.header = resp.Header
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
	case code == http.StatusGone:
		r.attempt.ErrorClass, r.attempt.Error = ClassGone, "endpoint answered 410 Gone"
	case code >= 300 && code < 400:
		r.attempt.ErrorClass = ClassRedirect
		r.attempt.Error = fmt.Sprintf("endpoint answered %d (redirects are not followed)", code)
	default:
		r.attempt.ErrorClass, r.attempt.Error = ClassHTTPStatus, fmt.Sprintf("endpoint answered %d", code)
	}
	return r
}

// keepBuffers hold the start of responses while it is copied into the
// attempt: one read buffer per send would be garbage at every delivery.
var keepBuffers = sync.Pool{New: func() any { return new([responseKeep]byte) }}

// tracerName is the instrumentation scope of delivery spans.
const tracerName = "github.com/revdesk/webhooks/internal/delivery"

// endSpan records an attempt's outcome on its span and ends it. The status
// description is the error class alone: error texts can quote the webhook
// URL, which may hold a receiver's token, and traces leave the service.
func endSpan(span trace.Span, a *store.Attempt) {
	if a.StatusCode != 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCode(a.StatusCode))
	}
	if a.ErrorClass != "" {
		span.SetAttributes(attribute.String("revdesk.error_class", a.ErrorClass))
		span.SetStatus(codes.Error, a.ErrorClass)
	}
	span.End()
}

// trimUTF8 drops a rune cut in half at the end of a capped read.
func trimUTF8(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if r, _ := utf8.DecodeLastRune(b); r != utf8.RuneError {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}
