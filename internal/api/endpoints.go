package api

import (
	"net/http"
	"slices"

	"github.com/revdesk/webhooks/internal/delivery"
	"github.com/revdesk/webhooks/internal/store"
)

// EndpointStates reports the dispatcher's state of the endpoints named.
type EndpointStates interface {
	EndpointStates(endpoints []string) []delivery.EndpointState
}

// maxEndpointSubscriptions bounds the subscriptions read for one answer.
const maxEndpointSubscriptions = 10000

// listEndpoints shows the workspace's own endpoints (those of its
// subscriptions' URLs, whatever their status) with the state this process
// holds for them. Endpoints are shared: a host that two workspaces send to
// has one limit and pause, which each of them sees.
func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r); err != nil {
		return err
	}
	subs := map[string][]string{} // endpoint → subscription ids
	for after, read := "", 0; read < maxEndpointSubscriptions; {
		page, err := s.store.ListSubscriptions(r.Context(), store.ListSubscriptionsParams{WorkspaceID: workspaceID(r.Context()),
			EventTypes: callerOf(r.Context()).eventTypes, After: after, Limit: 500})
		if err != nil {
			return err
		}
		read += len(page)
		for _, sub := range page {
			if ep := delivery.EndpointOf(sub.WebhookURL); ep != "" {
				subs[ep] = append(subs[ep], sub.ID)
			}
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	keys := make([]string, 0, len(subs))
	for k := range subs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var states []delivery.EndpointState
	if s.endpoints != nil {
		states = s.endpoints.EndpointStates(keys)
	}
	data := make([]any, len(keys))
	for i, k := range keys {
		v := map[string]any{"endpoint": k, "subscription_ids": subs[k], "limit": nil, "in_flight": 0, "queued": 0,
			"latency_ms": nil, "baseline_latency_ms": nil, "paused_until": nil}
		if states != nil {
			st := states[i]
			v["limit"], v["in_flight"], v["queued"] = st.Limit, st.InFlight, st.Queued
			if st.Latency > 0 {
				v["latency_ms"] = float64(st.Latency.Microseconds()) / 1000
				v["baseline_latency_ms"] = float64(st.Baseline.Microseconds()) / 1000
			}
			if !st.PausedUntil.IsZero() {
				v["paused_until"] = timePtr(&st.PausedUntil)
			}
		}
		data[i] = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
	return nil
}
