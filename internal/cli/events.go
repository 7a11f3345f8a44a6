package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/revdesk/webhooks/internal/catalog"
)

// EventsCmd groups the event commands.
type EventsCmd struct {
	ClientFlags `embed:""`

	Send    EventsSendCmd    `cmd:"" help:"Ingest a JSON event, or an array of up to 1,000, from a file or stdin."`
	Trigger EventsTriggerCmd `cmd:"" help:"Ingest the catalog example of an event type."`
	List    EventsListCmd    `cmd:"" help:"List the event log."`
	Show    EventShowCmd     `cmd:"" help:"Show an event with its data."`
}

var eventColumns = []Column{Col("id"), Col("event_type"), Col("occurred_at"), Col("workflow_id"), Col("campaign_id"), Col("source_event_id")}

// ingested is the text view of an ingest answer: one event id or a batch.
func ingested(w io.Writer, raw []byte) error {
	var out struct {
		ID   string `json:"id"`
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return err
	}
	if out.ID != "" {
		_, err := fmt.Fprintf(w, "Accepted event %s.\n", out.ID)
		return err
	}
	fmt.Fprintf(w, "Accepted %d events:\n", len(out.Data))
	for _, e := range out.Data {
		fmt.Fprintln(w, e.ID)
	}
	return nil
}

// EventsSendCmd posts events read from a file or stdin.
type EventsSendCmd struct {
	File           string `arg:"" optional:"" default:"-" help:"JSON file; - or nothing for stdin."`
	IdempotencyKey string `name:"idempotency-key" help:"Makes a retried send return the first result instead of storing the events twice."`
}

func (c *EventsSendCmd) Run(cl *Client) error {
	var body []byte
	var err error
	if c.File == "-" {
		body, err = io.ReadAll(os.Stdin)
	} else {
		body, err = os.ReadFile(c.File)
	}
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("no event to send: the input is empty")
	}
	var header http.Header
	if c.IdempotencyKey != "" {
		header = http.Header{"Idempotency-Key": {c.IdempotencyKey}}
	}
	raw, err := cl.call(http.MethodPost, "/api/v1/events", nil, body, header)
	if err != nil {
		return err
	}
	return cl.Print(raw, ingested)
}

// EventsTriggerCmd posts the catalog example of an event type.
type EventsTriggerCmd struct {
	Type       string `arg:"" help:"Event type, e.g. number_purchased; a disposition type (call_busy…) sends the call_completed record deriving it."`
	WorkflowID string `name:"workflow-id" help:"Event's workflow_id, to reach scoped subscriptions."`
	CampaignID string `name:"campaign-id" help:"Event's campaign_id, to reach scoped subscriptions."`
}

func (c *EventsTriggerCmd) Run(cl *Client) error {
	et, err := lookupType(c.Type)
	if err != nil {
		return err
	}
	eventType := et.Name
	if et.Derived {
		// Disposition events are only ever derived; the catalog example of
		// a disposition type is a call record with that outcome.
		eventType = "call_completed"
		fmt.Fprintf(os.Stderr, "%s is derived: sending a call_completed record with that outcome\n", et.Name)
	}
	body := map[string]any{"event_type": eventType, "data": et.Example}
	if c.WorkflowID != "" {
		body["workflow_id"] = c.WorkflowID
	}
	if c.CampaignID != "" {
		body["campaign_id"] = c.CampaignID
	}
	return cl.show(http.MethodPost, "/api/v1/events", nil, body, ingested)
}

// lookupType finds an event type in this binary's catalog.
func lookupType(name string) (catalog.EventType, error) {
	et, ok := catalog.Lookup(name)
	if !ok {
		var names []string
		for _, t := range catalog.All() {
			names = append(names, t.Name)
		}
		return et, fmt.Errorf("unknown event type %q; one of: %s", name, strings.Join(names, ", "))
	}
	return et, nil
}

// EventsListCmd lists events.
type EventsListCmd struct {
	EventType string `name:"event-type" help:"Only this event type."`
	Order     string `enum:",asc,desc" default:"" help:"asc (oldest first, the default) or desc (newest first)."`
	PageFlags `embed:""`
}

func (c *EventsListCmd) Run(cl *Client) error {
	return cl.show(http.MethodGet, "/api/v1/events", c.query("event_type", c.EventType, "order", c.Order), nil, List(eventColumns...))
}

// EventShowCmd shows an event.
type EventShowCmd struct {
	ID string `arg:"" help:"Event id (evt_…)."`
}

func (c *EventShowCmd) Run(cl *Client) error {
	return cl.show(http.MethodGet, "/api/v1/events/"+url.PathEscape(c.ID), nil, nil, nil)
}

// EventTypesCmd groups the catalog commands.
type EventTypesCmd struct {
	ClientFlags `embed:""`

	List EventTypesListCmd `cmd:"" help:"List the 21 event types: family, shape, signing."`
	Show EventTypeShowCmd  `cmd:"" help:"Show one event type with its JSON Schema and example."`
}

// EventTypesListCmd lists the server's catalog.
type EventTypesListCmd struct{}

func (c *EventTypesListCmd) Run(cl *Client) error {
	return cl.show(http.MethodGet, "/api/v1/event_types", nil, nil, List(
		Col("name"), Col("family"), Col("shape"), Col("signed"), Col("derived"), Col("description")))
}

// EventTypeShowCmd shows one type of the server's catalog.
type EventTypeShowCmd struct {
	Type string `arg:"" help:"Event type, e.g. number_purchased."`
}

func (c *EventTypeShowCmd) Run(cl *Client) error {
	raw, err := cl.call(http.MethodGet, "/api/v1/event_types", nil, nil, nil)
	if err != nil {
		return err
	}
	var all struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		return err
	}
	var names []string
	for _, t := range all.Data {
		var head struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(t, &head); err != nil {
			return err
		}
		if head.Name == c.Type {
			return cl.Print(t, nil)
		}
		names = append(names, head.Name)
	}
	return fmt.Errorf("unknown event type %q; the server has: %s", c.Type, strings.Join(names, ", "))
}
