package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/ingest"
	"github.com/revdesk/webhooks/internal/jsonx"
	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/store"
)

// Error is an API error with its HTTP status. Handlers return it (or any
// domain error) and writeError turns it into the JSON error body.
type Error struct {
	Status  int
	Code    string
	Message string
	// Field names the offending input, when one does.
	Field string
	// ExistingID names the subscription a create conflicts with.
	ExistingID string
	// RetryAfter, in seconds, for 429.
	RetryAfter int
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// handlerFunc is an HTTP handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// toAPIError maps domain errors to statuses: the only place that does.
func toAPIError(err error) *Error {
	var apiErr *Error
	var maxBytes *http.MaxBytesError
	var invalidJSON *jsonx.Error
	var invalidData *catalog.ValidationError
	var conflict *store.ConflictError
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.Is(err, os.ErrDeadlineExceeded): // the server's read timeout, reading the body
		return errorf(http.StatusRequestTimeout, "request_timeout", "the request was not received in time")
	case errors.As(err, &maxBytes):
		return errorf(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than the limit of "+formatBytes(maxBytes.Limit))
	case errors.As(err, &invalidJSON):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: err.Error(), Field: invalidJSON.Field}
	case errors.As(err, &invalidData):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_data", Message: err.Error(), Field: invalidData.Field}
	case errors.Is(err, catalog.ErrUnknownType):
		return &Error{Status: http.StatusBadRequest, Code: "unknown_event_type", Message: err.Error(), Field: "event_type"}
	case errors.Is(err, ingest.ErrDerivedType):
		return &Error{Status: http.StatusBadRequest, Code: "derived_event_type", Message: err.Error(), Field: "event_type"}
	case errors.Is(err, catalog.ErrInvalidDisposition):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_call_record", Message: err.Error(), Field: "data"}
	case errors.Is(err, ingest.ErrBatchSize):
		return errorf(http.StatusBadRequest, "invalid_batch", err.Error())
	case errors.Is(err, netguard.ErrInvalidURL), errors.Is(err, netguard.ErrForbiddenAddress):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_webhook_url", Message: err.Error(), Field: "webhook_url"}
	case errors.As(err, &conflict):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "an identical active subscription exists: " + conflict.ExistingID, ExistingID: conflict.ExistingID}
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", "no such resource")
	case errors.Is(err, store.ErrNotActive):
		return errorf(http.StatusConflict, "not_active", "the subscription is disabled: enable it first")
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, ingest.ErrStopped):
		return errorf(http.StatusServiceUnavailable, "unavailable", "the service cannot store data right now; retry later")
	}
	return nil
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	apiErr := toAPIError(err)
	if apiErr == nil {
		s.log.ErrorContext(r.Context(), "request failed", "err", err, "method", r.Method, "path", r.URL.Path)
		apiErr = errorf(http.StatusInternalServerError, "internal", "internal error")
	}
	if apiErr.RetryAfter > 0 {
		w.Header().Set("Retry-After", itoa(apiErr.RetryAfter))
	}
	body := map[string]any{"code": apiErr.Code, "message": apiErr.Message}
	if apiErr.Field != "" {
		body["field"] = apiErr.Field
	}
	if apiErr.ExistingID != "" {
		body["existing_id"] = apiErr.ExistingID
	}
	writeJSON(w, apiErr.Status, map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		slog.Debug("writing response failed", "err", err)
	}
}
