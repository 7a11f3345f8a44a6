package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/signing"
	"github.com/revdesk/webhooks/internal/store"
)

// fakeTransport answers every request with the same response or error and keeps
// the requests it saw (with their bodies read).
type fakeTransport struct {
	status int
	header http.Header
	body   string
	err    error

	mu     sync.Mutex
	reqs   []*http.Request
	bodies [][]byte
}

func (f *fakeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	f.bodies = append(f.bodies, b)
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	h := f.header
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: f.status, Header: h, Body: io.NopCloser(strings.NewReader(f.body)), Request: r}, nil
}

func (f *fakeTransport) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// testJob is a pending delivery of an event of the given type with the
// catalog's example data, to a subscription with secret "s3cret".
func testJob(t *testing.T, eventType string) *store.Job {
	t.Helper()
	et, ok := catalog.Lookup(eventType)
	if !ok {
		t.Fatalf("no event type %q", eventType)
	}
	return &store.Job{
		Delivery: store.Delivery{ID: "dlv_test1", EventID: "evt_test1", SubscriptionID: "whk_test1", EventType: eventType, Status: store.DeliveryPending},
		Event: &store.Event{
			ID: "evt_test1", EventType: eventType, Data: []byte(et.Example),
			OccurredAt: time.Date(2026, 6, 30, 19, 30, 0, 123456789, time.UTC),
		},
		Subscription: &store.Subscription{
			ID: "whk_test1", WebhookURL: "https://hooks.example.com/in?token=x", EventType: eventType,
			SigningSecret: "s3cret", Status: store.SubscriptionActive,
		},
	}
}

func TestRequest(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Hour), now.Add(-time.Second)
	tests := []struct {
		name      string
		eventType string
		edit      func(*store.Subscription)
		// wantSig is the secret the documented signature is made with;
		// "-" means no signature header, "" means no-secret-provided.
		wantSig string
		// wantStd lists the secrets of the Standard Webhooks signatures; nil: no headers.
		wantStd []string
		test    bool // a "send test event" delivery, marked X-revdesk-Test
	}{
		{name: "flat unsigned", eventType: "sms_sent", wantSig: "-"},
		{name: "flat with standard webhooks", eventType: "call_completed", wantSig: "-", wantStd: []string{"s3cret"},
			edit: func(s *store.Subscription) { s.StandardWebhooks = true }},
		{name: "enveloped signed", eventType: "contact_created", wantSig: "s3cret"},
		{name: "test event, signed as usual and marked", eventType: "number_purchased", wantSig: "s3cret", test: true},
		{name: "test event of a flat type", eventType: "sms_delivered", wantSig: "-", test: true},
		{name: "enveloped without secret", eventType: "new_appointment", wantSig: "",
			edit: func(s *store.Subscription) { s.SigningSecret = "" }},
		{name: "rotation overlap signs with previous", eventType: "number_purchased", wantSig: "old",
			edit: func(s *store.Subscription) { s.PreviousSecret, s.PreviousUntil = "old", &later }},
		{name: "rotation overlap over", eventType: "number_purchased", wantSig: "s3cret",
			edit: func(s *store.Subscription) { s.PreviousSecret, s.PreviousUntil = "old", &earlier }},
		{name: "rotation overlap ends exactly now", eventType: "number_purchased", wantSig: "s3cret",
			edit: func(s *store.Subscription) { s.PreviousSecret, s.PreviousUntil = "old", &now }},
		{name: "previous secret without an end is ignored", eventType: "number_released", wantSig: "s3cret",
			edit: func(s *store.Subscription) { s.PreviousSecret = "old" }},
		{name: "standard webhooks during overlap signs with both", eventType: "workflow_contact_completed", wantSig: "old",
			wantStd: []string{"s3cret", "old"},
			edit: func(s *store.Subscription) {
				s.StandardWebhooks, s.PreviousSecret, s.PreviousUntil = true, "old", &later
			}},
		{name: "standard webhooks with whsec secret", eventType: "contact_created", wantSig: "whsec_c2VjcmV0LWtleS1ieXRlcw==",
			wantStd: []string{"whsec_c2VjcmV0LWtleS1ieXRlcw=="},
			edit: func(s *store.Subscription) {
				s.StandardWebhooks, s.SigningSecret = true, "whsec_c2VjcmV0LWtleS1ieXRlcw=="
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			job := testJob(t, tt.eventType)
			job.Event.Test = tt.test
			if tt.edit != nil {
				tt.edit(job.Subscription)
			}
			req, err := newRequest(t.Context(), job, nil, "revdesk-test/1", now)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(req.Body)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s\n%v\n%s", req.Method, req.URL, req.Header, body)

			if req.Method != http.MethodPost || req.URL.String() != job.Subscription.WebhookURL {
				t.Errorf("request is %s %s, want POST %s", req.Method, req.URL, job.Subscription.WebhookURL)
			}
			if req.ContentLength != int64(len(body)) {
				t.Errorf("ContentLength = %d, body has %d bytes", req.ContentLength, len(body))
			}
			et, _ := catalog.Lookup(tt.eventType)
			switch et.Shape {
			case catalog.ShapeFlat:
				if string(body) != string(job.Event.Data) {
					t.Errorf("flat body = %s, want the data unchanged: %s", body, job.Event.Data)
				}
			case catalog.ShapeEnveloped:
				want := `{"triggerEvent":"` + et.TriggerEvent + `","createdAt":"2026-06-30T19:30:00.123Z","payload":` + string(job.Event.Data) + `}`
				if string(body) != want {
					t.Errorf("enveloped body =\n%s\nwant\n%s", body, want)
				}
			}

			// The documented header names are sent with this exact spelling.
			wantHeaders := map[string]string{
				HeaderEventType:      tt.eventType,
				HeaderEventID:        "evt_test1",
				HeaderDeliveryID:     "dlv_test1",
				HeaderSubscriptionID: "whk_test1",
			}
			for name, want := range wantHeaders {
				if got := req.Header[name]; len(got) != 1 || got[0] != want {
					t.Errorf("header %s = %q, want [%q]", name, got, want)
				}
			}
			//lint:ignore SA1008 deliveries carry the documented, non-canonical spelling
			if got, want := req.Header[HeaderTest], tt.test; (len(got) == 1 && got[0] == "true") != want || len(got) > 1 {
				t.Errorf("header %s = %q on a test=%v delivery", HeaderTest, got, want)
			}
			if got := req.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := req.Header.Get("User-Agent"); got != "revdesk-test/1" {
				t.Errorf("User-Agent = %q", got)
			}

			//lint:ignore SA1008 the documented spelling is set in the map as is (setHeader)
			sig, hasSig := req.Header[signing.HeaderSignature256]
			switch {
			case tt.wantSig == "-":
				if hasSig || et.Signed {
					t.Errorf("unsigned type got signature header %q (catalog signed=%v)", sig, et.Signed)
				}
			case tt.wantSig == "":
				if len(sig) != 1 || sig[0] != signing.NoSecret {
					t.Errorf("signature = %q, want %q", sig, signing.NoSecret)
				}
			default:
				if want := signing.Sign(tt.wantSig, body); len(sig) != 1 || sig[0] != want {
					t.Errorf("signature = %q, want HMAC of the body with %q (%s)", sig, tt.wantSig, want)
				}
			}

			if tt.wantStd == nil {
				for _, h := range []string{signing.HeaderWebhookID, signing.HeaderTimestamp, signing.HeaderSignature} {
					if v := req.Header.Values(h); len(v) != 0 {
						t.Errorf("Standard Webhooks header %s = %q without opt-in", h, v)
					}
				}
				return
			}
			if got := req.Header.Get(signing.HeaderWebhookID); got != "dlv_test1" {
				t.Errorf("webhook-id = %q, want the delivery id", got)
			}
			if got := req.Header.Get(signing.HeaderTimestamp); got != strconv.FormatInt(now.Unix(), 10) {
				t.Errorf("webhook-timestamp = %q, want %d", got, now.Unix())
			}
			var want []string
			for _, s := range tt.wantStd {
				want = append(want, signing.StandardSignature(signing.StandardKey(s), "dlv_test1", now, body))
			}
			if got := req.Header.Get(signing.HeaderSignature); got != strings.Join(want, " ") {
				t.Errorf("webhook-signature = %q, want %q", got, strings.Join(want, " "))
			}
		})
	}
}

func TestRequestUnknownType(t *testing.T) {
	t.Parallel()
	job := testJob(t, "contact_created")
	job.Delivery.EventType = "contact_exploded"
	_, err := newRequest(t.Context(), job, nil, "ua", time.Now())
	if !errors.Is(err, catalog.ErrUnknownType) {
		t.Fatalf("Request for an unknown type: error %v, want ErrUnknownType", err)
	}
}

var errConnRefused = syscall.ECONNREFUSED

// errForbidden is what netguard's dialer reports for a refused address.
var errForbidden = fmt.Errorf("dial tcp 10.0.0.1:443: %w", netguard.ErrForbiddenAddress)

func TestAttemptClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		doer          *fakeTransport
		eventType     string
		wantClass     string
		wantStatus    int
		wantForbidden bool
		wantNetwork   bool
		wantCalls     int
	}{
		{name: "200", doer: &fakeTransport{status: 200, body: "ok"}, wantStatus: 200, wantCalls: 1},
		{name: "204", doer: &fakeTransport{status: 204}, wantStatus: 204, wantCalls: 1},
		{name: "299", doer: &fakeTransport{status: 299}, wantStatus: 299, wantCalls: 1},
		{name: "301", doer: &fakeTransport{status: 301}, wantClass: ClassRedirect, wantStatus: 301, wantCalls: 1},
		{name: "308", doer: &fakeTransport{status: 308}, wantClass: ClassRedirect, wantStatus: 308, wantCalls: 1},
		{name: "400", doer: &fakeTransport{status: 400}, wantClass: ClassHTTPStatus, wantStatus: 400, wantCalls: 1},
		{name: "410", doer: &fakeTransport{status: 410}, wantClass: ClassGone, wantStatus: 410, wantCalls: 1},
		{name: "429", doer: &fakeTransport{status: 429}, wantClass: ClassHTTPStatus, wantStatus: 429, wantCalls: 1},
		{name: "500", doer: &fakeTransport{status: 500, body: "boom"}, wantClass: ClassHTTPStatus, wantStatus: 500, wantCalls: 1},
		{name: "connection refused", doer: &fakeTransport{err: fmt.Errorf("dial: %w", errConnRefused)},
			wantClass: netguard.ClassConnectionRefused, wantNetwork: true, wantCalls: 1},
		{name: "forbidden address", doer: &fakeTransport{err: errForbidden},
			wantClass: netguard.ClassForbiddenAddress, wantForbidden: true, wantNetwork: true, wantCalls: 1},
		{name: "unknown event type", doer: &fakeTransport{status: 200}, eventType: "nope",
			wantClass: ClassBadRequest, wantForbidden: true, wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			job := testJob(t, "sms_sent")
			job.Delivery.Attempts = 2
			if tt.eventType != "" {
				job.Delivery.EventType = tt.eventType
			}
			r := attempt(t.Context(), tt.doer, job, nil, "ua", 5*time.Second)
			t.Logf("%+v", r.attempt)
			a := r.attempt
			if a.ErrorClass != tt.wantClass || a.StatusCode != tt.wantStatus {
				t.Errorf("class, status = %q, %d; want %q, %d", a.ErrorClass, a.StatusCode, tt.wantClass, tt.wantStatus)
			}
			if (a.Error != "") != (tt.wantClass != "") {
				t.Errorf("error text %q with class %q", a.Error, a.ErrorClass)
			}
			if r.forbidden != tt.wantForbidden {
				t.Errorf("forbidden = %v, want %v", r.forbidden, tt.wantForbidden)
			}
			if a.Number != 3 || a.DeliveryID != job.Delivery.ID || a.At.IsZero() {
				t.Errorf("attempt number %d, delivery %q, at %v; want 3, %q, set", a.Number, a.DeliveryID, a.At, job.Delivery.ID)
			}
			if got := tt.doer.calls(); got != tt.wantCalls {
				t.Errorf("%d requests sent, want %d", got, tt.wantCalls)
			}
			if tt.doer.body != "" && tt.wantStatus != 0 && a.ResponseBody != tt.doer.body {
				t.Errorf("response body %q, want %q", a.ResponseBody, tt.doer.body)
			}
			if tt.wantNetwork && r.header != nil {
				t.Errorf("response header %v without a response", r.header)
			}
		})
	}
}

func TestAttemptKeepsStartOfResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, want string
	}{
		{"short", "thanks", "thanks"},
		{"capped", strings.Repeat("a", 5000), strings.Repeat("a", responseKeep)},
		// A 3-byte rune straddling the cap is dropped, not kept half.
		{"rune cut at the cap", strings.Repeat("a", responseKeep-1) + "€tail", strings.Repeat("a", responseKeep-1)},
		{"invalid utf-8 replaced", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := attempt(t.Context(), &fakeTransport{status: 200, body: tt.body}, testJob(t, "sms_sent"), nil, "ua", time.Second)
			if r.attempt.ResponseBody != tt.want {
				t.Errorf("kept %d bytes %.40q…, want %d bytes %.40q…", len(r.attempt.ResponseBody), r.attempt.ResponseBody, len(tt.want), tt.want)
			}
		})
	}
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	// A receiver that never answers is cut off by the attempt timeout.
	doer := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	r := attempt(context.Background(), doer, testJob(t, "sms_sent"), nil, "ua", 50*time.Millisecond)
	if r.attempt.ErrorClass != netguard.ClassTimeout || r.attempt.StatusCode != 0 || r.header != nil {
		t.Errorf("class %q, status %d, header %v; want %q and no response", r.attempt.ErrorClass, r.attempt.StatusCode, r.header, netguard.ClassTimeout)
	}
}

func TestAttemptTimeoutCoversBody(t *testing.T) {
	t.Parallel()
	// A real receiver that answers 200 at once, then stalls its body: the
	// client only bounds the wait for headers, so the attempt's own
	// deadline is what ends the read.
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	job := testJob(t, "sms_sent")
	job.Subscription.WebhookURL = srv.URL + "/hook"
	client := netguard.NewTransport(netguard.Policy{AllowPrivate: true}, time.Minute)
	done := make(chan result, 1)
	go func() { done <- attempt(t.Context(), client, job, nil, "ua", 100*time.Millisecond) }()
	select {
	case r := <-done:
		t.Logf("%+v", r.attempt)
		if r.attempt.StatusCode != http.StatusOK || r.attempt.ResponseBody != "partial" {
			t.Errorf("status %d, body %q; want 200 and the part sent", r.attempt.StatusCode, r.attempt.ResponseBody)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the attempt is still reading a stalled body long after its timeout")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A derived disposition delivery names its call_completed event; others
// carry no such header.
func TestSourceEventHeader(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, eventType, source string
	}{
		{"derived", "call_voicemail", "evt_call1"},
		{"not derived", "call_completed", ""},
	} {
		job := store.Job{
			Delivery:     store.Delivery{ID: "dlv_1", EventType: tt.eventType},
			Event:        &store.Event{ID: "evt_2", EventType: tt.eventType, Data: []byte(`{}`), SourceEventID: tt.source},
			Subscription: &store.Subscription{ID: "whk_1", WebhookURL: "https://example.com/h", EventType: tt.eventType},
		}
		req, err := Request(t.Context(), &job, "ua", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		//lint:ignore SA1008 deliveries carry the documented, non-canonical spelling
		if got := req.Header[HeaderSourceEventID]; (tt.source == "" && len(got) != 0) ||
			(tt.source != "" && (len(got) != 1 || got[0] != tt.source)) {
			t.Errorf("%s: %s = %q, want %q", tt.name, HeaderSourceEventID, got, tt.source)
		}
	}
}
