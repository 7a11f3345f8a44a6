package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/ingest"
	"github.com/revdesk/webhooks/internal/jsonx"
	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/store"
)

// TestErrorMapping: every domain error a handler can return, bare or
// wrapped, becomes its documented status and JSON error body, and anything
// else a 500 that reveals nothing.
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		field      string
		existingID string
		retryAfter string
		message    string // "" to only require one
	}{
		{name: "api error", err: &Error{Status: http.StatusTeapot, Code: "teapot", Message: "short and stout", Field: "spout"},
			status: http.StatusTeapot, code: "teapot", field: "spout", message: "short and stout"},
		{name: "rate limited", err: &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "slow down", RetryAfter: 3},
			status: http.StatusTooManyRequests, code: "rate_limited", retryAfter: "3"},
		{name: "body too large", err: fmt.Errorf("reading: %w", &http.MaxBytesError{Limit: 2 << 20}),
			status: http.StatusRequestEntityTooLarge, code: "body_too_large", message: "the request body is larger than the limit of 2 MiB"},
		{name: "body too large, odd limit", err: &http.MaxBytesError{Limit: 2048},
			status: http.StatusRequestEntityTooLarge, code: "body_too_large", message: "the request body is larger than the limit of 2048 bytes"},
		{name: "invalid JSON", err: &jsonx.Error{Field: "/data/x", Message: "duplicate key at /data/x"},
			status: http.StatusBadRequest, code: "invalid_json", field: "/data/x", message: "duplicate key at /data/x"},
		{name: "invalid data", err: fmt.Errorf("event: %w", &catalog.ValidationError{Field: "/from_number", Message: "must be E.164"}),
			status: http.StatusBadRequest, code: "invalid_data", field: "/from_number"},
		{name: "unknown event type", err: fmt.Errorf("%w: nope", catalog.ErrUnknownType),
			status: http.StatusBadRequest, code: "unknown_event_type", field: "event_type", message: "unknown event type: nope"},
		{name: "derived event type", err: fmt.Errorf("%w: call_voicemail", ingest.ErrDerivedType),
			status: http.StatusBadRequest, code: "derived_event_type", field: "event_type"},
		{name: "invalid call record", err: fmt.Errorf("%w: VOICEMAIL with busy", catalog.ErrInvalidDisposition),
			status: http.StatusBadRequest, code: "invalid_call_record", field: "data"},
		{name: "batch size", err: fmt.Errorf("%w: 1001 events", ingest.ErrBatchSize),
			status: http.StatusBadRequest, code: "invalid_batch"},
		{name: "invalid URL", err: fmt.Errorf("%w: no host", netguard.ErrInvalidURL),
			status: http.StatusBadRequest, code: "invalid_webhook_url", field: "webhook_url"},
		{name: "forbidden address", err: fmt.Errorf("%w: 10.0.0.1", netguard.ErrForbiddenAddress),
			status: http.StatusBadRequest, code: "invalid_webhook_url", field: "webhook_url"},
		{name: "conflict", err: fmt.Errorf("creating: %w", &store.ConflictError{ExistingID: "whk_1"}),
			status: http.StatusConflict, code: "conflict", existingID: "whk_1", message: "an identical active subscription exists: whk_1"},
		{name: "not found", err: fmt.Errorf("subscription whk_2: %w", store.ErrNotFound),
			status: http.StatusNotFound, code: "not_found", message: "no such resource"},
		{name: "store unavailable", err: fmt.Errorf("%w: connection refused", store.ErrUnavailable),
			status: http.StatusServiceUnavailable, code: "unavailable"},
		{name: "ingest stopped", err: ingest.ErrStopped,
			status: http.StatusServiceUnavailable, code: "unavailable"},
		{name: "body not read in time", err: fmt.Errorf("reading body: %w", os.ErrDeadlineExceeded),
			status: http.StatusRequestTimeout, code: "request_timeout"},
		{name: "anything else", err: errors.New("pq: relation secrets does not exist"),
			status: http.StatusInternalServerError, code: "internal", message: "internal error"},
	}
	s := New(Deps{Logger: discardLogger()}, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			s.writeError(rec, httptest.NewRequest("GET", "/api/v1/x", nil), tt.err)
			r := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
			e := r.wantError(t, tt.status, tt.code)
			if e.Field != tt.field || e.ExistingID != tt.existingID {
				t.Errorf("field %q, existing_id %q; want %q, %q", e.Field, e.ExistingID, tt.field, tt.existingID)
			}
			if tt.message != "" && e.Message != tt.message {
				t.Errorf("message %q, want %q", e.Message, tt.message)
			}
			if got := r.header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
		})
	}
}

// TestUnknownRoute: a path under /api/ that no route serves is a JSON 404,
// not the mux's plain-text one.
func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{})
	f.request(t, "GET", "/api/v1/nothing_here", "").wantError(t, http.StatusNotFound, "not_found")
}
