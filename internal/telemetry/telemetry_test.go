package telemetry

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/revdesk/webhooks/internal/delivery"
	"github.com/revdesk/webhooks/internal/store"
)

// The tests change process environment and otel's globals, so none of them
// runs in parallel. The disabled case comes first, while the globals are
// still otel's defaults.

func TestSetupWithoutEndpointInstallsNothing(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tp, prop := otel.GetTracerProvider(), otel.GetTextMapPropagator()

	shutdown, err := Setup(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if got := otel.GetTracerProvider(); got != tp {
		t.Errorf("tracer provider replaced by %T", got)
	}
	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); ok {
		t.Error("an SDK tracer provider is installed")
	}
	if otel.GetTextMapPropagator() != prop {
		t.Error("propagator replaced")
	}
	_, span := otel.Tracer("test").Start(t.Context(), "nothing")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Error("spans are recorded with tracing off")
	}
	span.End()
	if err := shutdown(t.Context()); err != nil {
		t.Errorf("no-op shutdown: %v", err)
	}
}

func TestSetupExportsServerAndDeliverySpans(t *testing.T) {
	col := startCollector(t)
	shutdown, err := Setup(t.Context(), "1.2.3")
	if err != nil {
		t.Fatal(err)
	}

	// A request into the API, continuing a caller's trace.
	const (
		callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
		callerSpan  = "00f067aa0ba902b7"
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	})
	req := httptest.NewRequest(http.MethodGet, "/things/42", nil)
	req.Header.Set("traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	HTTPHandler(mux).ServeHTTP(httptest.NewRecorder(), req)

	// Two deliveries through the real dispatcher: one accepted, one refused.
	doer := &fakeReceiver{status: map[string]int{"dlv_ok": 200, "dlv_fail": 503}}
	done := make(chan string, 2)
	disp := delivery.New(nil, doer, delivery.Config{Owner: "test", Observer: observerFunc(func(_ string, a store.Attempt, _ string) {
		done <- a.DeliveryID
	})})
	disp.Enqueue([]store.Job{job("dlv_ok"), job("dlv_fail")}, time.Now().Add(time.Hour))
	for range 2 {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("deliveries not attempted")
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	spans := col.spans()
	if len(spans) != 3 {
		t.Fatalf("collector got %d spans, want 3: %v", len(spans), spans)
	}
	for _, s := range spans {
		if s.resource["service.name"] != "revdesk" || s.resource["service.version"] != "1.2.3" {
			t.Errorf("span %q resource = %v", s.span.GetName(), s.resource)
		}
	}

	srv := find(t, spans, func(s exported) bool { return s.span.GetName() == "GET /things/{id}" })
	if srv.scope != otelhttp.ScopeName || srv.span.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("server span scope %q kind %v", srv.scope, srv.span.GetKind())
	}
	if got := hex.EncodeToString(srv.span.GetTraceId()); got != callerTrace {
		t.Errorf("server span trace id %s, want the caller's %s", got, callerTrace)
	}
	if got := hex.EncodeToString(srv.span.GetParentSpanId()); got != callerSpan {
		t.Errorf("server span parent %s, want the caller's %s", got, callerSpan)
	}
	wantAttrs(t, srv, map[string]string{
		"http.request.method":       "GET",
		"http.route":                "/things/{id}",
		"http.response.status_code": "404",
	})

	for id, code := range doer.status {
		d := find(t, spans, func(s exported) bool { return s.attrs["revdesk.delivery_id"] == id })
		if d.span.GetName() != "webhook.deliver" || d.span.GetKind() != tracepb.Span_SPAN_KIND_CLIENT ||
			d.scope != "github.com/revdesk/webhooks/internal/delivery" {
			t.Errorf("%s: span %q kind %v scope %q", id, d.span.GetName(), d.span.GetKind(), d.scope)
		}
		want := map[string]string{
			"revdesk.event_type":        "new_call",
			"revdesk.subscription_id":   "sub_1",
			"http.response.status_code": strconv.Itoa(code),
			"revdesk.error_class":       "",
		}
		wantStatus := tracepb.Status_STATUS_CODE_UNSET
		if code >= 300 {
			want["revdesk.error_class"] = delivery.ClassHTTPStatus
			wantStatus = tracepb.Status_STATUS_CODE_ERROR
		}
		wantAttrs(t, d, want)
		if got := d.span.GetStatus().GetCode(); got != wantStatus {
			t.Errorf("%s: status %v, want %v", id, got, wantStatus)
		}
	}

	// Receivers get the documented headers only, never trace context.
	for _, h := range doer.headers() {
		for _, name := range []string{"Traceparent", "Tracestate", "Baggage"} {
			if v := h.Get(name); v != "" {
				t.Errorf("webhook request carries %s: %s", name, v)
			}
		}
	}
}

func TestSetupHonoursServiceName(t *testing.T) {
	col := startCollector(t)
	t.Setenv("OTEL_SERVICE_NAME", "revdesk-eu")
	shutdown, err := Setup(t.Context(), "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	_, span := otel.Tracer("test").Start(t.Context(), "one")
	span.End()
	if err := shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	s := find(t, col.spans(), func(s exported) bool { return s.span.GetName() == "one" })
	if s.resource["service.name"] != "revdesk-eu" || s.resource["service.version"] != "1.2.3" {
		t.Errorf("resource = %v", s.resource)
	}
}

// startCollector starts a fake collector, points the standard variables at
// it (clearing others that would change the outcome) and puts otel's
// globals back after the test.
func startCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER"} {
		t.Setenv(v, "")
	}
	tp, prop := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() {
		otel.SetTracerProvider(tp)
		otel.SetTextMapPropagator(prop)
	})
	return c
}

// exported is a span as the collector received it, with its scope and
// resource attributes.
type exported struct {
	span     *tracepb.Span
	attrs    map[string]string
	scope    string
	resource map[string]string
}

// collector is a fake OTLP/HTTP trace receiver.
type collector struct {
	mu  sync.Mutex
	got []exported
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
		http.Error(w, "want POST /v1/traces", http.StatusNotFound)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" { // OTEL_EXPORTER_OTLP_COMPRESSION=gzip
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = gz
	}
	raw, err := io.ReadAll(body)
	var req coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		res := flatten(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.got = append(c.got, exported{span: s, attrs: flatten(s.GetAttributes()), scope: ss.GetScope().GetName(), resource: res})
			}
		}
	}
	c.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (c *collector) spans() []exported {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]exported(nil), c.got...)
}

func (e exported) String() string { return e.span.GetName() }

// flatten turns OTLP attributes into strings, enough for these checks.
func flatten(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		if v, ok := kv.GetValue().GetValue().(*commonpb.AnyValue_IntValue); ok {
			m[kv.GetKey()] = strconv.FormatInt(v.IntValue, 10)
		} else {
			m[kv.GetKey()] = kv.GetValue().GetStringValue()
		}
	}
	return m
}

func find(t *testing.T, spans []exported, match func(exported) bool) exported {
	t.Helper()
	for _, s := range spans {
		if match(s) {
			return s
		}
	}
	t.Fatalf("no such span among %v", spans)
	return exported{}
}

// wantAttrs checks attributes; "" means the attribute must be absent.
func wantAttrs(t *testing.T, s exported, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got, ok := s.attrs[k]; got != v || (v == "" && ok) {
			t.Errorf("span %q: %s = %q (present %v), want %q", s.span.GetName(), k, got, ok, v)
		}
	}
}

func job(deliveryID string) store.Job {
	return store.Job{
		Delivery: store.Delivery{ID: deliveryID, SubscriptionID: "sub_1", EventID: "evt_1", EventType: "new_call"},
		Event:    &store.Event{ID: "evt_1", EventType: "new_call", OccurredAt: time.Now(), Data: []byte(`{"id":"call_1"}`)},
		Subscription: &store.Subscription{ID: "sub_1", WebhookURL: "https://receiver.example/hook",
			EventType: "new_call", Status: store.SubscriptionActive},
	}
}

// fakeReceiver answers webhook requests with a status per delivery id and
// keeps the request headers.
type fakeReceiver struct {
	status map[string]int
	mu     sync.Mutex
	seen   []http.Header
}

func (f *fakeReceiver) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.seen = append(f.seen, r.Header.Clone())
	f.mu.Unlock()
	//lint:ignore SA1008 deliveries carry the documented, non-canonical spelling
	id := strings.Join(r.Header[delivery.HeaderDeliveryID], "")
	return &http.Response{StatusCode: f.status[id], Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(nil)), Request: r}, nil
}

func (f *fakeReceiver) headers() []http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen
}

type observerFunc func(string, store.Attempt, string)

func (f observerFunc) Attempted(subscriptionID string, a store.Attempt, status string) {
	f(subscriptionID, a, status)
}
