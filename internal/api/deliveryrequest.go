package api

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/revdesk/webhooks/internal/delivery"
	"github.com/revdesk/webhooks/internal/store"
)

// requestView is the request a delivery sends, rebuilt as the dispatcher
// builds it (delivery.Request): method, URL, headers and body. The body and
// the routing headers are what every attempt sent; signatures are computed
// now, with the subscription's current secret and time, so they match an
// attempt's only while neither changed. Requests are rebuilt rather than
// stored: storing them would double what each attempt writes. nil when the
// subscription is gone.
func (s *Server) requestView(ctx context.Context, d store.Delivery) (map[string]any, error) {
	ev, err := s.store.GetEvent(ctx, d.WorkspaceID, d.EventID)
	if err != nil {
		return nil, err
	}
	sub, err := s.store.GetSubscription(ctx, d.WorkspaceID, d.SubscriptionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // deleted
	}
	if err != nil {
		return nil, err
	}
	req, err := delivery.Request(ctx, &store.Job{Delivery: d, Event: &ev, Subscription: &sub}, s.cfg.UserAgent, time.Now())
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	headers := map[string]string{}
	for k, v := range req.Header {
		if len(v) > 0 {
			headers[k] = v[0]
		}
	}
	return map[string]any{"method": req.Method, "url": req.URL.String(), "headers": headers, "body": string(body),
		"signatures_computed_at": time.Now().UTC().Format(time.RFC3339Nano)}, nil
}
