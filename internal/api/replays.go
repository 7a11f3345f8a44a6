package api

import (
	"net/http"
	"time"

	"github.com/revdesk/webhooks/internal/jsonx"
	"github.com/revdesk/webhooks/internal/store"
)

// requestedBy says who asked for a status change or a replay: the
// dashboard marks its requests with X-Revdesk-Client.
func requestedBy(r *http.Request) string {
	if r.Header.Get("X-Revdesk-Client") == "dashboard" {
		return store.ByDashboard
	}
	return store.ByAPI
}

func replayView(rp store.Replay) map[string]any {
	counts := map[string]int{store.DeliveryPending: 0, store.DeliverySucceeded: 0, store.DeliveryFailed: 0,
		store.DeliverySkipped: 0}
	for k, v := range rp.Counts {
		counts[k] = v
	}
	status := "queuing"
	if rp.Done {
		status = "queued"
		if counts[store.DeliveryPending] == 0 {
			status = "finished"
		}
	}
	return map[string]any{
		"id":              rp.ID,
		"subscription_id": rp.SubscriptionID,
		"since":           rp.Since.UTC().Format(time.RFC3339Nano),
		"until":           timePtr(rp.Until),
		"all":             rp.Mode == store.ReplayAll,
		"mode":            rp.Mode,
		"by":              rp.By,
		"status":          status,
		"queued":          rp.Queued,
		"deliveries":      counts,
		"created_at":      rp.CreatedAt.UTC().Format(time.RFC3339Nano),
	}
}

// replay re-sends the events of a window of the subscription's deliveries:
// by default those skipped or failed, with "all" the succeeded ones too.
// The deliveries are made in pages in the background; GET
// /api/v1/replays/{id} follows them.
func (s *Server) replay(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.cfg.MaxBody)
	if err != nil {
		return err
	}
	var in struct {
		Since string  `json:"since"`
		Until *string `json:"until"`
		All   bool    `json:"all"`
	}
	if err := jsonx.Decode(body, &in); err != nil {
		return err
	}
	since, err := time.Parse(time.RFC3339Nano, in.Since)
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "since must be an RFC 3339 time", Field: "since"}
	}
	var until *time.Time
	if in.Until != nil {
		u, err := time.Parse(time.RFC3339Nano, *in.Until)
		if err != nil || !u.After(since) {
			return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "until must be an RFC 3339 time after since", Field: "until"}
		}
		until = &u
	}
	id := r.PathValue("id")
	if _, err := s.visibleSubscription(r.Context(), id); err != nil {
		return err
	}
	mode := store.ReplayMissed
	if in.All {
		mode = store.ReplayAll
	}
	rp, err := s.store.CreateReplay(r.Context(), store.CreateReplayParams{WorkspaceID: workspaceID(r.Context()),
		SubscriptionID: id, Since: since, Until: until, Mode: mode, By: requestedBy(r), Now: time.Now()})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, replayView(rp))
	return nil
}

func (s *Server) getReplay(w http.ResponseWriter, r *http.Request) error {
	rp, err := s.store.GetReplay(r.Context(), workspaceID(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := s.visibleSubscription(r.Context(), rp.SubscriptionID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, replayView(rp))
	return nil
}
