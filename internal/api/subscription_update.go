package api

import (
	"math"
	"net/http"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/revdesk/webhooks/internal/jsonx"
	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/store"
)

// maxRateLimit bounds rate_limit: far above what any receiver asks for.
const maxRateLimit = 1_000_000

// patchField is one member of a PATCH body: Set when present, Null when it
// was null (which clears fields that can be cleared).
type patchField[T any] struct {
	Set, Null bool
	Value     T
}

func (f *patchField[T]) UnmarshalJSON(b []byte) error {
	f.Set = true
	if string(b) == "null" {
		f.Null = true
		return nil
	}
	return json.Unmarshal(b, &f.Value)
}

// updateSubscription is PATCH: each member present changes that field, the
// others stay. A field that becomes updatable gets a member here, its check
// below, and a field in store.UpdateSubscriptionParams.
func (s *Server) updateSubscription(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkVisible(r.Context(), r.PathValue("id"), ""); err != nil {
		return err
	}
	body, err := readBody(w, r, s.cfg.MaxBody)
	if err != nil {
		return err
	}
	var in struct {
		WebhookURL       patchField[string]  `json:"webhook_url"`
		WorkflowID       patchField[string]  `json:"workflow_id"`
		CampaignID       patchField[string]  `json:"campaign_id"`
		RateLimit        patchField[float64] `json:"rate_limit"`
		Ordered          patchField[bool]    `json:"ordered"`
		StandardWebhooks patchField[bool]    `json:"standard_webhooks"`
		AutoRecover      patchField[bool]    `json:"auto_recover"`
		optionsPatch
	}
	if err := jsonx.Decode(body, &in); err != nil {
		return err
	}
	ws, id := workspaceID(r.Context()), r.PathValue("id")
	p := store.UpdateSubscriptionParams{WorkspaceID: ws, ID: id, Now: time.Now()}
	if err := in.optionsPatch.apply(r.Context(), &p); err != nil {
		return err
	}
	if f := in.WebhookURL; f.Set {
		if f.Null || f.Value == "" {
			return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "webhook_url cannot be empty", Field: "webhook_url"}
		}
		if err := netguard.ValidateURL(f.Value, s.cfg.AllowHTTP, s.cfg.Policy); err != nil {
			return err
		}
		p.WebhookURL = &f.Value
	}
	p.WorkflowID = clearable(in.WorkflowID)
	p.CampaignID = clearable(in.CampaignID)
	if f := in.RateLimit; f.Set {
		if !f.Null {
			if err := checkRateLimit(f.Value); err != nil {
				return err
			}
		}
		p.RateLimit = &f.Value // 0 when null: no limit
	}
	if p.Ordered, err = boolean("ordered", in.Ordered); err != nil {
		return err
	}
	if p.StandardWebhooks, err = boolean("standard_webhooks", in.StandardWebhooks); err != nil {
		return err
	}
	if p.AutoRecover, err = boolean("auto_recover", in.AutoRecover); err != nil {
		return err
	}
	if p.StandardWebhooks != nil && *p.StandardWebhooks {
		current, err := s.store.GetSubscription(r.Context(), ws, id)
		if err != nil {
			return err
		}
		if err := checkSecret(current.SigningSecret, true); err != nil {
			return err
		}
	}
	sub, err := s.store.UpdateSubscription(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, subscriptionView(sub))
	return nil
}

// clearable is a scope member's change: null and "" both clear it.
func clearable(f patchField[string]) *string {
	if !f.Set {
		return nil
	}
	return &f.Value // "" when null
}

// boolean is a true/false member's change; null is an error.
func boolean(name string, f patchField[bool]) (*bool, error) {
	if !f.Set {
		return nil, nil
	}
	if f.Null {
		return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: name + " must be true or false", Field: name}
	}
	return &f.Value, nil
}

func checkRateLimit(v float64) error {
	if !(v > 0 && v <= maxRateLimit) || math.IsInf(v, 0) {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "rate_limit must be a positive number of deliveries per second, at most 1000000", Field: "rate_limit"}
	}
	return nil
}
