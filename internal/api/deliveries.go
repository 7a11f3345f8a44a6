package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/revdesk/webhooks/internal/apikey"
	"github.com/revdesk/webhooks/internal/jsonx"
	"github.com/revdesk/webhooks/internal/store"
)

func deliveryView(d store.Delivery) map[string]any {
	return map[string]any{
		"id":              d.ID,
		"event_id":        d.EventID,
		"subscription_id": d.SubscriptionID,
		"event_type":      d.EventType,
		"status":          d.Status,
		"attempt_count":   d.Attempts,
		"next_attempt_at": timePtr(d.NextAttemptAt),
		"last_error":      nullable(d.LastError),
		"created_at":      d.CreatedAt.UTC().Format(time.RFC3339Nano),
		"updated_at":      d.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
}

func attemptView(a store.Attempt) map[string]any {
	return map[string]any{
		"number":        a.Number,
		"at":            a.At.UTC().Format(time.RFC3339Nano),
		"status_code":   a.StatusCode,
		"latency_ms":    float64(a.Latency.Microseconds()) / 1000,
		"error_class":   nullable(a.ErrorClass),
		"error":         nullable(a.Error),
		"response_body": a.ResponseBody,
	}
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	p, err := readPage(r, true, "subscription_id", "event_id", "status")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	switch status := q.Get("status"); status {
	case "", store.DeliveryPending, store.DeliverySucceeded, store.DeliveryFailed, store.DeliverySkipped:
	default:
		return &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Message: "status must be pending, succeeded, failed or skipped", Field: "status"}
	}
	rows, err := s.store.ListDeliveries(r.Context(), store.ListDeliveriesParams{
		WorkspaceID: workspaceID(r.Context()), SubscriptionID: q.Get("subscription_id"), EventID: q.Get("event_id"),
		EventTypes: callerOf(r.Context()).eventTypes, Status: q.Get("status"), After: p.after, Limit: p.limit + 1, Newest: p.newest,
	})
	if err != nil {
		return err
	}
	list(w, rows, p.limit, func(d store.Delivery) string { return d.ID }, func(d store.Delivery) any { return deliveryView(d) })
	return nil
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) error {
	d, attempts, err := s.visibleDelivery(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := deliveryView(d)
	views := make([]any, len(attempts))
	for i, a := range attempts {
		views[i] = attemptView(a)
	}
	v["attempts"] = views
	if v["request"], err = s.requestView(r.Context(), d); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// retryDelivery sends a delivery again now, whatever its final status was.
func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkVisible(r.Context(), "", r.PathValue("id")); err != nil {
		return err
	}
	d, err := s.store.RetryDelivery(r.Context(), workspaceID(r.Context()), r.PathValue("id"), time.Now())
	if err != nil {
		return err
	}
	s.wake()
	writeJSON(w, http.StatusAccepted, deliveryView(d))
	return nil
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.store.ListAPIKeys(r.Context(), workspaceID(r.Context()))
	if err != nil {
		return err
	}
	data := make([]any, len(keys))
	for i, k := range keys {
		data[i] = map[string]any{"id": k.ID, "scopes": nonNil(k.Scopes), "created_at": k.CreatedAt.UTC().Format(time.RFC3339Nano), "revoked_at": timePtr(k.RevokedAt)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
	return nil
}

// createAPIKey makes another key for the caller's workspace; the key is
// shown this once. It holds the scopes asked for (by default every scope but
// ingest), never one the caller lacks.
func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.cfg.MaxBody)
	if err != nil {
		return err
	}
	var in struct {
		Scopes *[]string `json:"scopes"`
	}
	if len(body) > 0 {
		if err := jsonx.Decode(body, &in); err != nil {
			return err
		}
	}
	c := callerOf(r.Context())
	requested := defaultKeyScopes
	if in.Scopes != nil {
		requested = *in.Scopes
	} else {
		requested = slices.DeleteFunc(slices.Clone(requested), func(sc string) bool { return !slices.Contains(c.scopes, sc) })
	}
	scopes, err := checkScopes(requested, c)
	if err != nil {
		return err
	}
	key := apikey.New()
	id, hash := apikey.Hash(key)
	k, err := s.store.CreateAPIKey(r.Context(), store.CreateAPIKeyParams{ID: id, WorkspaceID: c.workspaceID, Hash: hash, Scopes: scopes, Now: time.Now()})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": k.ID, "api_key": key, "scopes": scopes, "created_at": k.CreatedAt.UTC().Format(time.RFC3339Nano)})
	return nil
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.RevokeAPIKey(r.Context(), workspaceID(r.Context()), r.PathValue("id"), time.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
