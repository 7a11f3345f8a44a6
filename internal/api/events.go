package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/ingest"
	"github.com/revdesk/webhooks/internal/jsonx"
	"github.com/revdesk/webhooks/internal/store"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

type eventInput struct {
	EventType  string         `json:"event_type"`
	WorkflowID *string        `json:"workflow_id"`
	CampaignID *string        `json:"campaign_id"`
	OccurredAt *string        `json:"occurred_at"`
	Data       jsontext.Value `json:"data"`
}

// ingestEvents takes one event object or an array of up to 1,000 and answers
// 202 once they are durably stored.
func (s *Server) ingestEvents(w http.ResponseWriter, r *http.Request) error {
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_header", Message: "Idempotency-Key is longer than 255 characters", Field: "Idempotency-Key"}
	}
	body, err := readBody(w, r, s.cfg.MaxIngestBody)
	if err != nil {
		return err
	}
	batch := jsonx.IsArray(body)
	var raw []eventInput
	if batch {
		err = jsonx.Decode(body, &raw)
	} else {
		raw = make([]eventInput, 1)
		err = jsonx.Decode(body, &raw[0])
	}
	if err != nil {
		return err
	}
	inputs := make([]ingest.Input, len(raw))
	for i, in := range raw {
		var inErr *Error
		if inputs[i], inErr = toInput(in); inErr != nil {
			if batch {
				inErr.Field = "/" + itoa(i) + "/" + inErr.Field
				inErr.Message = "event " + itoa(i) + ": " + inErr.Message
			}
			return inErr
		}
	}
	eventIDs, replayed, err := s.ingest.Ingest(r.Context(), workspaceID(r.Context()), key, inputs, batch)
	if err != nil {
		return err
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if !batch {
		writeJSON(w, http.StatusAccepted, map[string]any{"id": eventIDs[0]})
		return nil
	}
	data := make([]map[string]string, len(eventIDs))
	for i, id := range eventIDs {
		data[i] = map[string]string{"id": id}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"data": data})
	return nil
}

func toInput(in eventInput) (ingest.Input, *Error) {
	missing := func(field string) *Error {
		return &Error{Status: http.StatusBadRequest, Code: "missing_field", Message: field + " is required", Field: field}
	}
	if in.EventType == "" {
		return ingest.Input{}, missing("event_type")
	}
	if len(in.Data) == 0 {
		return ingest.Input{}, missing("data")
	}
	if in.Data.Kind() != '{' {
		return ingest.Input{}, &Error{Status: http.StatusBadRequest, Code: "invalid_data", Message: "data must be a JSON object", Field: "data"}
	}
	out := ingest.Input{EventType: in.EventType, WorkflowID: deref(in.WorkflowID), CampaignID: deref(in.CampaignID), Data: in.Data}
	if in.OccurredAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *in.OccurredAt)
		if err != nil {
			return ingest.Input{}, &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "occurred_at must be an RFC 3339 time such as 2026-06-30T19:30:00.000Z", Field: "occurred_at"}
		}
		out.OccurredAt = t
	}
	return out, nil
}

func eventView(ev store.Event) map[string]any {
	return map[string]any{
		"id":              ev.ID,
		"event_type":      ev.EventType,
		"workflow_id":     nullable(ev.WorkflowID),
		"campaign_id":     nullable(ev.CampaignID),
		"occurred_at":     ev.OccurredAt.UTC().Format(time.RFC3339Nano),
		"created_at":      ev.CreatedAt.UTC().Format(time.RFC3339Nano),
		"source_event_id": nullable(ev.SourceEventID),
		"test":            ev.Test,
		"data":            json.RawMessage(ev.Data),
	}
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	p, err := readPage(r, true, "event_type")
	if err != nil {
		return err
	}
	rows, err := s.store.ListEvents(r.Context(), store.ListEventsParams{
		WorkspaceID: workspaceID(r.Context()), EventType: r.URL.Query().Get("event_type"), EventTypes: callerOf(r.Context()).eventTypes,
		After: p.after, Limit: p.limit + 1, Newest: p.newest,
	})
	if err != nil {
		return err
	}
	list(w, rows, p.limit, func(e store.Event) string { return e.ID }, func(e store.Event) any { return eventView(e) })
	return nil
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error {
	ev, err := s.store.GetEvent(r.Context(), workspaceID(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	if !callerOf(r.Context()).sees(ev.EventType) {
		return store.ErrNotFound
	}
	writeJSON(w, http.StatusOK, eventView(ev))
	return nil
}

func (s *Server) eventTypes(w http.ResponseWriter, r *http.Request) error {
	types := catalog.All()
	c := callerOf(r.Context())
	types = slices.DeleteFunc(types, func(t catalog.EventType) bool { return !c.sees(t.Name) })
	writeJSON(w, http.StatusOK, map[string]any{"data": types})
	return nil
}
