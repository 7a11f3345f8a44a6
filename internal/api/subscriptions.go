package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/jsonx"
	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/signing"
	"github.com/revdesk/webhooks/internal/store"
)

// maxSecretLen bounds signing secrets: long enough for any generator.
const maxSecretLen = 512

// defaultOverlap is how long a rotated-out secret keeps signing.
const defaultOverlap = 24 * time.Hour

func subscriptionView(sub store.Subscription) map[string]any {
	v := map[string]any{
		"id":                   sub.ID,
		"webhook_url":          sub.WebhookURL,
		"event_type":           sub.EventType,
		"workflow_id":          nullable(sub.WorkflowID),
		"campaign_id":          nullable(sub.CampaignID),
		"status":               sub.Status,
		"disabled_reason":      nullable(sub.DisabledReason),
		"has_signing_secret":   sub.SigningSecret != "",
		"standard_webhooks":    sub.StandardWebhooks,
		"rate_limit":           rateLimitView(sub.RateLimit),
		"ordered":              sub.Ordered,
		"failing_since":        timePtr(sub.FailingSince),
		"consecutive_failures": sub.Failures,
		"auto_recover":         sub.AutoRecover,
		"disabled_by":          nullable(sub.DisabledKind),
		"next_probe_at":        timePtr(sub.NextProbeAt),
		"created_at":           sub.CreatedAt.UTC().Format(time.RFC3339Nano),
		"updated_at":           sub.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
	if sub.PreviousUntil != nil && sub.PreviousUntil.After(time.Now()) {
		v["previous_secret_expires_at"] = timePtr(sub.PreviousUntil)
	}
	optionsView(v, sub)
	return v
}

func (s *Server) createSubscription(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.cfg.MaxBody)
	if err != nil {
		return err
	}
	var in struct {
		WebhookURL       string   `json:"webhook_url"`
		EventType        string   `json:"event_type"`
		WorkflowID       *string  `json:"workflow_id"`
		CampaignID       *string  `json:"campaign_id"`
		SigningSecret    *string  `json:"signing_secret"`
		StandardWebhooks bool     `json:"standard_webhooks"`
		RateLimit        *float64 `json:"rate_limit"`
		Ordered          bool     `json:"ordered"`
		AutoRecover      *bool    `json:"auto_recover"`
		// Delivery options (options.go).
		EventTypes        []string               `json:"event_types"`
		Headers           map[string]headerInput `json:"headers"`
		Filter            *string                `json:"filter"`
		ClientCertificate *clientCertInput       `json:"client_certificate"`
	}
	if err := jsonx.Decode(body, &in); err != nil {
		return err
	}
	now := time.Now()
	switch {
	case in.WebhookURL == "":
		return &Error{Status: http.StatusBadRequest, Code: "missing_field", Message: "webhook_url is required", Field: "webhook_url"}
	case in.EventType == "" && in.EventTypes == nil:
		return &Error{Status: http.StatusBadRequest, Code: "missing_field", Message: "event_type (or event_types) is required", Field: "event_type"}
	case in.EventType != "" && in.EventTypes != nil:
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "give event_type or event_types, not both", Field: "event_types"}
	}
	p := store.CreateSubscriptionParams{EventType: in.EventType, Now: now}
	if in.EventTypes != nil {
		if p.EventTypes, err = eventTypes(r.Context(), in.EventTypes); err != nil {
			return err
		}
		p.EventType = store.MultiType
	} else if _, ok := catalog.Lookup(in.EventType); !ok {
		return &Error{Status: http.StatusBadRequest, Code: "unknown_event_type", Message: "unknown event_type " + strconv.Quote(in.EventType) + "; GET /api/v1/event_types lists them", Field: "event_type"}
	}
	if in.EventType != "" && !callerOf(r.Context()).sees(in.EventType) {
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "this portal session cannot subscribe to " + in.EventType, Field: "event_type"}
	}
	if in.Headers != nil {
		if p.Headers, err = headers(in.Headers); err != nil {
			return err
		}
	}
	if in.Filter != nil {
		if err := checkFilter(*in.Filter); err != nil {
			return err
		}
		p.Filter = *in.Filter
	}
	if c := in.ClientCertificate; c != nil {
		if err := clientCert(*c, now); err != nil {
			return err
		}
		p.ClientCert, p.ClientKey = c.Certificate, c.PrivateKey
	}
	if err := netguard.ValidateURL(in.WebhookURL, s.cfg.AllowHTTP, s.cfg.Policy); err != nil {
		return err
	}
	secret := signing.GenerateSecret()
	if in.SigningSecret != nil {
		secret = *in.SigningSecret
	}
	if err := checkSecret(secret, in.StandardWebhooks); err != nil {
		return err
	}
	var rateLimit float64
	if in.RateLimit != nil {
		if err := checkRateLimit(*in.RateLimit); err != nil {
			return err
		}
		rateLimit = *in.RateLimit
	}
	p.WorkspaceID, p.WebhookURL = workspaceID(r.Context()), in.WebhookURL
	p.WorkflowID, p.CampaignID = deref(in.WorkflowID), deref(in.CampaignID)
	p.SigningSecret, p.StandardWebhooks, p.RateLimit, p.Ordered = secret, in.StandardWebhooks, rateLimit, in.Ordered
	p.NoAutoRecover = in.AutoRecover != nil && !*in.AutoRecover
	sub, err := s.store.CreateSubscription(r.Context(), p)
	if err != nil {
		return err
	}
	v := subscriptionView(sub)
	if secret != "" {
		v["signing_secret"] = secret // shown this once
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func checkSecret(secret string, standard bool) error {
	switch {
	case len(secret) > maxSecretLen:
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "signing_secret is longer than 512 bytes", Field: "signing_secret"}
	case standard && secret == "":
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "standard_webhooks needs a signing secret", Field: "signing_secret"}
	}
	return nil
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	p, err := readPage(r, false, "event_type", "status")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	rows, err := s.store.ListSubscriptions(r.Context(), store.ListSubscriptionsParams{
		WorkspaceID: workspaceID(r.Context()), EventType: q.Get("event_type"), EventTypes: callerOf(r.Context()).eventTypes,
		Status: q.Get("status"), After: p.after, Limit: p.limit + 1,
	})
	if err != nil {
		return err
	}
	list(w, rows, p.limit, func(s store.Subscription) string { return s.ID }, func(s store.Subscription) any { return subscriptionView(s) })
	return nil
}

func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request) error {
	sub, err := s.visibleSubscription(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, subscriptionView(sub))
	return nil
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkVisible(r.Context(), r.PathValue("id"), ""); err != nil {
		return err
	}
	if err := s.store.DeleteSubscription(r.Context(), workspaceID(r.Context()), r.PathValue("id"), time.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) enableSubscription(w http.ResponseWriter, r *http.Request) error {
	return s.setStatus(w, r, store.SubscriptionActive, "")
}

func (s *Server) disableSubscription(w http.ResponseWriter, r *http.Request) error {
	return s.setStatus(w, r, store.SubscriptionDisabled, "disabled through the API")
}

func (s *Server) setStatus(w http.ResponseWriter, r *http.Request, status, reason string) error {
	if err := s.checkVisible(r.Context(), r.PathValue("id"), ""); err != nil {
		return err
	}
	sub, err := s.store.SetSubscriptionStatus(r.Context(), store.SetSubscriptionStatusParams{
		WorkspaceID: workspaceID(r.Context()), ID: r.PathValue("id"), Status: status, Reason: reason, Now: time.Now(),
		By: requestedBy(r),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, subscriptionView(sub))
	return nil
}

// rotateSecret replaces the signing secret. By default the old secret keeps
// signing the documented header for an overlap period (receivers accept both
// until then); "immediate" drops it at once, for a leaked secret.
func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.cfg.MaxBody)
	if err != nil {
		return err
	}
	var in struct {
		Mode           string  `json:"mode"`
		OverlapSeconds *int    `json:"overlap_seconds"`
		SigningSecret  *string `json:"signing_secret"`
	}
	if len(body) > 0 {
		if err := jsonx.Decode(body, &in); err != nil {
			return err
		}
	}
	ws, id := workspaceID(r.Context()), r.PathValue("id")
	current, err := s.visibleSubscription(r.Context(), id)
	if err != nil {
		return err
	}
	secret := signing.GenerateSecret()
	if in.SigningSecret != nil {
		secret = *in.SigningSecret
	}
	if secret == "" {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "a rotated secret cannot be empty", Field: "signing_secret"}
	}
	if err := checkSecret(secret, current.StandardWebhooks); err != nil {
		return err
	}
	now := time.Now().UTC()
	var until *time.Time
	switch in.Mode {
	case "", "overlap":
		overlap := defaultOverlap
		if in.OverlapSeconds != nil {
			if *in.OverlapSeconds < 1 || *in.OverlapSeconds > 7*24*3600 {
				return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "overlap_seconds must be from 1 to 604800", Field: "overlap_seconds"}
			}
			overlap = time.Duration(*in.OverlapSeconds) * time.Second
		}
		if current.SigningSecret != "" {
			t := now.Add(overlap)
			until = &t
		}
	case "immediate":
		if in.OverlapSeconds != nil {
			return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "overlap_seconds does not apply to mode immediate", Field: "overlap_seconds"}
		}
	default:
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: `mode must be "overlap" or "immediate"`, Field: "mode"}
	}
	sub, err := s.store.RotateSecret(r.Context(), store.RotateSecretParams{WorkspaceID: ws, ID: id, NewSecret: secret, PreviousUntil: until, Now: time.Now()})
	if err != nil {
		return err
	}
	v := subscriptionView(sub)
	v["signing_secret"] = secret
	takesOver := now
	if until != nil {
		takesOver = *until
	}
	v["new_secret_active_at"] = takesOver.Format(time.RFC3339Nano)
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) retryFailed(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.cfg.MaxBody)
	if err != nil {
		return err
	}
	var in struct {
		Since string `json:"since"`
	}
	if err := jsonx.Decode(body, &in); err != nil {
		return err
	}
	since, err := time.Parse(time.RFC3339Nano, in.Since)
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "since must be an RFC 3339 time", Field: "since"}
	}
	ws, id := workspaceID(r.Context()), r.PathValue("id")
	if _, err := s.visibleSubscription(r.Context(), id); err != nil {
		return err
	}
	n, err := s.store.RetryFailed(r.Context(), store.RetryFailedParams{WorkspaceID: ws, SubscriptionID: id, Since: since, Now: time.Now()})
	if err != nil {
		return err
	}
	s.wake()
	writeJSON(w, http.StatusAccepted, map[string]any{"retried": n})
	return nil
}

// rateLimitView is rate_limit as shown: null for none.
func rateLimitView(v float64) any {
	if v == 0 {
		return nil
	}
	return v
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
