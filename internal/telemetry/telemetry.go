// Package telemetry sets up OpenTelemetry tracing. It is off unless the
// standard OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is set; then spans go by OTLP/HTTP to that collector, configured by the
// usual OTEL_* variables.
package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// serviceName is the service.name spans carry unless OTEL_SERVICE_NAME (or
// service.name in OTEL_RESOURCE_ATTRIBUTES) says otherwise.
const serviceName = "revdesk"

// enabled reports whether an OTLP endpoint for traces is configured.
func enabled() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs the global TracerProvider and the W3C trace-context
// propagator when tracing is enabled. The returned shutdown flushes spans
// still buffered; call it after everything that makes spans has stopped.
// When tracing is off it installs nothing, so otel's global no-op provider
// stays and instrumented code costs next to nothing.
func Setup(ctx context.Context, version string) (shutdown func(context.Context) error, err error) {
	if !enabled() {
		return func(context.Context) error { return nil }, nil
	}
	// The exporter reads the endpoint, headers, TLS, compression and timeout
	// from the standard OTEL_EXPORTER_OTLP_* variables itself.
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	// Detectors merge in order, later ones winning: the environment
	// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) overrides our defaults.
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName(serviceName), semconv.ServiceVersion(version)),
		resource.WithFromEnv(),
	)
	if err != nil {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	// The batcher keeps exporting off the request and delivery paths; the
	// sampler follows OTEL_TRACES_SAMPLER (default: parent-based, always on).
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return tp.Shutdown, nil
}

// HTTPHandler wraps the API in a server span per request, continuing a trace
// a caller sent in traceparent. The span is named "METHOD route" and carries
// http.route once the ServeMux inside has matched a pattern.
func HTTPHandler(h http.Handler) http.Handler {
	routed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		// ServeMux sets r.Pattern on this very request; otelhttp renames the
		// span from it but adds http.route only when known at the start.
		if rt := route(r.Pattern); rt != "" {
			trace.SpanFromContext(r.Context()).SetAttributes(semconv.HTTPRoute(rt))
		}
	})
	return otelhttp.NewHandler(routed, serviceName, otelhttp.WithFilter(traced))
}

// traced leaves probes and metric scrapes out of traces: they come every few
// seconds and say nothing about the service's work.
func traced(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		return false
	}
	return true
}

// route is the path part of a ServeMux pattern ("GET /x/{id}" → "/x/{id}"),
// as otelhttp derives it for the span name.
func route(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return ""
}
