package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// PortalURLCmd makes a customer portal session and prints its link.
type PortalURLCmd struct {
	ClientFlags `embed:""`

	ReadOnly   bool          `name:"read-only" help:"The customer can look but not change anything."`
	ExpiresIn  time.Duration `name:"expires-in" default:"1h" help:"How long the link works, at most 24h."`
	EventType  []string      `name:"event-type" help:"Limit the portal to this event type (repeatable); default all."`
	BrandColor string        `name:"brand-color" help:"Accent colour of the portal, e.g. #0a7c59."`
	BrandName  string        `name:"brand-name" help:"Name shown in the portal's header."`
}

func (c *PortalURLCmd) Run(cl *Client) error {
	if c.ExpiresIn%time.Second != 0 || c.ExpiresIn <= 0 {
		return errors.New("--expires-in must be a positive whole number of seconds, e.g. 15m")
	}
	body := map[string]any{"expires_in": int(c.ExpiresIn / time.Second), "read_only": c.ReadOnly}
	if len(c.EventType) > 0 {
		body["event_types"] = c.EventType
	}
	if c.BrandColor != "" {
		body["brand_color"] = c.BrandColor
	}
	if c.BrandName != "" {
		body["brand_name"] = c.BrandName
	}
	raw, err := cl.send(http.MethodPost, "/api/v1/portal_sessions", nil, body, nil)
	if err != nil {
		return err
	}
	// With --json the whole session (id, token, expiry); otherwise the link
	// alone on stdout, so scripts can take it, and the rest for people.
	return cl.Print(raw, func(w io.Writer, raw []byte) error {
		var s struct {
			ID        string `json:"id"`
			URL       string `json:"url"`
			ExpiresAt string `json:"expires_at"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("reading the answer: %w", err)
		}
		fmt.Fprintf(os.Stderr, "portal session %s, valid until %s (revoke: DELETE /api/v1/portal_sessions/%s)\n", s.ID, s.ExpiresAt, s.ID)
		_, err := fmt.Fprintln(w, s.URL)
		return err
	})
}

// SubscriptionTestCmd sends a test event to one subscription.
type SubscriptionTestCmd struct {
	ID   string `arg:"" help:"Subscription id (whk_…)."`
	Data string `help:"The event data as a JSON object (default: the catalog's example for the subscription's type)."`
}

func (c *SubscriptionTestCmd) Run(cl *Client) error {
	body := map[string]any{}
	if c.Data != "" {
		if !json.Valid([]byte(c.Data)) {
			return errors.New("--data is not valid JSON")
		}
		body["data"] = json.RawMessage(c.Data)
	}
	return cl.show(http.MethodPost, subscriptionPath(c.ID, "test"), nil, body, nil)
}
