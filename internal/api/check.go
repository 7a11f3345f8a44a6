package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/revdesk/webhooks/internal/receivercheck"
)

// checkTimeout bounds each request of a check from the API, so a receiver
// that never answers holds the caller about a minute at most.
const checkTimeout = 5 * time.Second

// checkSubscription runs the receiver check against a subscription's URL
// with its secrets and scheme, as `revdesk check-receiver` does, and
// answers the report whatever it found: a receiver accepting forgeries is
// a finding, not an API error.
func (s *Server) checkSubscription(w http.ResponseWriter, r *http.Request) error {
	sub, err := s.visibleSubscription(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	report, err := receivercheck.Run(r.Context(), receivercheck.Config{
		URL: sub.WebhookURL, EventType: sampleType(sub), StandardWebhooks: sub.StandardWebhooks, SubscriptionID: sub.ID,
		Secret: sub.SigningSecret, PreviousSecret: sub.PreviousSecret, PreviousUntil: sub.PreviousUntil,
		Policy: s.cfg.Policy, AllowHTTP: s.cfg.AllowHTTP, UserAgent: s.cfg.UserAgent, Timeout: checkTimeout,
		Headers: sub.Headers, ClientCert: sub.ClientCert, ClientKey: sub.ClientKey, Proxy: s.cfg.EgressProxy,
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
