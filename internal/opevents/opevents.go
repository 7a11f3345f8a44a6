// Package opevents turns the facts the engine produces about a workspace's
// own subscriptions and deliveries (store.Fact) into operational events of
// that workspace: subscription_disabled, subscription_enabled,
// subscription_failing, subscription_recovered and delivery_exhausted
// (internal/catalog). The store writes them, and routes them like any event,
// in the transaction of the fact (see store.FactEvents), so a workspace
// hears of every fact exactly as it is stored and through the same engine.
package opevents

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// types maps a fact to its event type.
var types = map[store.FactKind]string{
	store.FactDisabled:  "subscription_disabled",
	store.FactEnabled:   "subscription_enabled",
	store.FactFailing:   "subscription_failing",
	store.FactRecovered: "subscription_recovered",
	store.FactExhausted: "delivery_exhausted",
}

// subscriptionPayload is the data of the subscription_* events.
type subscriptionPayload struct {
	ID                  string     `json:"id"`
	SubscriptionID      string     `json:"subscription_id"`
	WebhookURL          string     `json:"webhook_url"`
	EventType           string     `json:"event_type"`
	Reason              string     `json:"reason,omitempty"`
	By                  string     `json:"by,omitempty"`
	ConsecutiveFailures int        `json:"consecutive_failures,omitempty"`
	FailingSince        *time.Time `json:"failing_since,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
}

// exhaustedPayload is the data of delivery_exhausted.
type exhaustedPayload struct {
	ID             string    `json:"id"`
	DeliveryID     string    `json:"delivery_id"`
	EventID        string    `json:"event_id"`
	SubscriptionID string    `json:"subscription_id"`
	WebhookURL     string    `json:"webhook_url"`
	EventType      string    `json:"event_type"`
	Attempts       int       `json:"attempts"`
	LastStatusCode *int      `json:"last_status_code"`
	LastError      string    `json:"last_error"`
	CreatedAt      time.Time `json:"created_at"`
}

// Events is the store.FactEvents of the service: one ingest request per
// workspace, its events in the facts' order. A delivery of an operational
// event that fails for good makes no event: one about a dead operational
// endpoint would go to that same endpoint, and so on forever.
func Events(facts []store.Fact) ([]store.IngestParams, error) {
	var reqs []store.IngestParams
	index := map[string]int{}
	for _, f := range facts {
		if f.Kind == store.FactExhausted && IsOperational(f.DeliveryEventType) {
			continue
		}
		ev, err := event(f)
		if err != nil {
			return nil, err
		}
		i, ok := index[f.WorkspaceID]
		if !ok {
			i = len(reqs)
			index[f.WorkspaceID] = i
			reqs = append(reqs, store.IngestParams{WorkspaceID: f.WorkspaceID, Now: f.At})
		}
		reqs[i].Events = append(reqs[i].Events, ev)
		reqs[i].ResponseIDs = append(reqs[i].ResponseIDs, ev.ID)
	}
	return reqs, nil
}

// IsOperational reports whether eventType is an operational event's.
func IsOperational(eventType string) bool {
	et, ok := catalog.Lookup(eventType)
	return ok && et.Family == catalog.FamilyOperational
}

func event(f store.Fact) (store.NewEvent, error) {
	typ, ok := types[f.Kind]
	if !ok {
		return store.NewEvent{}, fmt.Errorf("opevents: unknown fact %q", f.Kind)
	}
	at := f.At.UTC()
	var payload any
	if f.Kind == store.FactExhausted {
		p := exhaustedPayload{ID: f.DeliveryID, DeliveryID: f.DeliveryID, EventID: f.EventID,
			SubscriptionID: f.SubscriptionID, WebhookURL: f.WebhookURL, EventType: f.DeliveryEventType,
			Attempts: f.Attempts, LastError: f.LastError, CreatedAt: at}
		if f.StatusCode != 0 {
			p.LastStatusCode = &f.StatusCode
		}
		payload = p
	} else {
		payload = subscriptionPayload{ID: f.SubscriptionID, SubscriptionID: f.SubscriptionID,
			WebhookURL: f.WebhookURL, EventType: f.EventType, Reason: f.Reason, By: f.By,
			ConsecutiveFailures: f.Failures, FailingSince: f.FailingSince, CreatedAt: at}
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return store.NewEvent{}, err
	}
	return store.NewEvent{ID: ids.NewAt(ids.Event, at), EventType: typ, OccurredAt: at, Data: data}, nil
}
