package api

import (
	"errors"
	"net/http"

	"github.com/revdesk/webhooks/internal/receivercheck"
)

// checkSubscription runs the receiver check against a subscription's URL
// with its secrets and scheme, as `revdesk check-receiver` does, and
// answers the report whatever it found: a receiver accepting forgeries is
// a finding, not an API error.
func (s *Server) checkSubscription(w http.ResponseWriter, r *http.Request) error {
	sub, err := s.store.GetSubscription(r.Context(), workspaceID(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	report, err := receivercheck.Run(r.Context(), receivercheck.Config{
		URL: sub.WebhookURL, EventType: sub.EventType, StandardWebhooks: sub.StandardWebhooks, SubscriptionID: sub.ID,
		Secret: sub.SigningSecret, PreviousSecret: sub.PreviousSecret, PreviousUntil: sub.PreviousUntil,
		Policy: s.cfg.Policy, AllowHTTP: s.cfg.AllowHTTP, UserAgent: s.cfg.UserAgent,
	})
	if errors.Is(err, receivercheck.ErrInvalidConfig) {
		// The URL was valid when created, but this server's policy refuses it now.
		return &Error{Status: http.StatusBadRequest, Code: "check_not_possible", Message: err.Error(), Field: "webhook_url"}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, report)
	return nil
}
