package cli

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/revdesk/webhooks/internal/catalog"
)

// SubscriptionsCmd groups the subscription commands.
type SubscriptionsCmd struct {
	ClientFlags `embed:""`

	Create       SubscriptionCreateCmd      `cmd:"" help:"Subscribe a URL to an event type; prints the signing secret once."`
	List         SubscriptionListCmd        `cmd:"" help:"List subscriptions."`
	Get          SubscriptionIDCmd          `cmd:"" aliases:"show" help:"Show a subscription."`
	Update       SubscriptionUpdateCmd      `cmd:"" help:"Change a subscription's URL, scope, rate limit, ordering, Standard Webhooks, delivery options or automatic recovery."`
	Delete       SubscriptionDeleteCmd      `cmd:"" help:"Delete a subscription."`
	RotateSecret SubscriptionRotateCmd      `cmd:"" name:"rotate-secret" help:"Rotate the signing secret; prints the new one once."`
	Enable       SubscriptionEnableCmd      `cmd:"" help:"Re-enable a disabled subscription."`
	Disable      SubscriptionDisableCmd     `cmd:"" help:"Disable a subscription."`
	RetryFailed  SubscriptionRetryFailedCmd `cmd:"" name:"retry-failed" help:"Send again every failed delivery of a subscription since a time."`
	Replay       SubscriptionReplayCmd      `cmd:"" help:"Send again, in order, the events of a window of a subscription's deliveries (skipped and failed; --all: succeeded too)."`
	Check        SubscriptionCheckCmd       `cmd:"" help:"Have the server check the subscription's receiver with genuine and forged deliveries (see check-receiver)."`
	Test         SubscriptionTestCmd        `cmd:"" help:"Send a test event to this subscription only (marked X-revdesk-Test: true)."`
}

// subscriptionColumns are the columns of subscription tables.
var subscriptionColumns = []Column{
	Col("id"), {Header: "EVENT TYPE", Value: typesText}, Col("status"),
	{Header: "SIGNING", Value: signingText},
	{Header: "SCOPE", Value: scopeText},
	Col("webhook_url"),
}

// signingText says how a subscription's deliveries can be authenticated.
func signingText(sub map[string]any) string {
	et, known := catalog.Lookup(fmt.Sprint(sub["event_type"]))
	switch {
	case sub["standard_webhooks"] == true:
		return "standard webhooks"
	case known && !et.Signed:
		return "unsigned"
	case sub["has_signing_secret"] == true:
		return "secret"
	}
	return "no secret"
}

func scopeText(sub map[string]any) string {
	scope := ""
	for _, k := range []string{"workflow_id", "campaign_id"} {
		if v, ok := sub[k].(string); ok && v != "" {
			scope += k[:len(k)-3] + "=" + v + " "
		}
	}
	if scope == "" {
		return "all"
	}
	return scope[:len(scope)-1]
}

// subscriptionText shows one subscription and what its signing means.
func subscriptionText(w io.Writer, raw []byte) error {
	if err := Fields(w, raw); err != nil {
		return err
	}
	var sub map[string]any
	if err := decodeNumbers(raw, &sub); err != nil {
		return err
	}
	if _, ok := sub["signing_secret"]; ok {
		fmt.Fprintln(w, "\nStore the signing secret now: it is shown only once.")
	}
	if signingText(sub) == "unsigned" {
		fmt.Fprintf(w, "\n%s is delivered unsigned: the receiver cannot authenticate it. Create the subscription with --standard-webhooks to have every delivery signed (webhook-signature).\n", sub["event_type"])
	}
	return nil
}

// SubscriptionCreateCmd creates a subscription.
type SubscriptionCreateCmd struct {
	WebhookURL       string  `name:"webhook-url" aliases:"url" required:"" help:"URL that receives the POSTs."`
	EventType        string  `name:"event-type" help:"One of the 21 event types, e.g. call_completed, number_purchased or subscription_disabled (or --event-types)."`
	WorkflowID       string  `name:"workflow-id" help:"Only events of this workflow."`
	CampaignID       string  `name:"campaign-id" help:"Only events of this campaign."`
	Secret           string  `xor:"secret" help:"Signing secret (default: a generated whsec_ secret)."`
	NoSecret         bool    `name:"no-secret" xor:"secret" help:"Create without a signing secret (signed types carry no-secret-provided)."`
	StandardWebhooks bool    `name:"standard-webhooks" help:"Also send the Standard Webhooks headers: replay protection, and a signature on every event type, call and SMS included."`
	RateLimit        float64 `name:"rate-limit" help:"Send at most this many deliveries per second (default: no limit)."`
	Ordered          bool    `help:"Deliver events about one resource (the id in their data) one at a time, in order."`
	NoAutoRecover    bool    `name:"no-auto-recover" help:"Once disabled for failing, stay disabled (by default it is probed and re-enabled when its receiver answers again)."`
	OptionFlags      `embed:""`
}

func (c *SubscriptionCreateCmd) Run(cl *Client) error {
	if (c.EventType == "") == (len(c.EventTypes) == 0) {
		return errors.New("give --event-type or --event-types (one of them)")
	}
	body := map[string]any{"webhook_url": c.WebhookURL}
	if err := c.OptionFlags.add(body); err != nil {
		return err
	}
	for k, v := range map[string]string{"event_type": c.EventType, "workflow_id": c.WorkflowID, "campaign_id": c.CampaignID, "signing_secret": c.Secret} {
		if v != "" {
			body[k] = v
		}
	}
	if c.NoSecret {
		body["signing_secret"] = ""
	}
	if c.StandardWebhooks {
		body["standard_webhooks"] = true
	}
	if c.RateLimit != 0 {
		body["rate_limit"] = c.RateLimit
	}
	if c.Ordered {
		body["ordered"] = true
	}
	if c.NoAutoRecover {
		body["auto_recover"] = false
	}
	return cl.show(http.MethodPost, "/api/v1/webhook_subscriptions", nil, body, subscriptionText)
}

// SubscriptionUpdateCmd changes the fields given and leaves the others.
type SubscriptionUpdateCmd struct {
	ID               string   `arg:"" help:"Subscription id (whk_…)."`
	WebhookURL       *string  `name:"webhook-url" aliases:"url" help:"New URL that receives the POSTs."`
	WorkflowID       *string  `name:"workflow-id" help:"Only events of this workflow (\"\" removes the scope)."`
	CampaignID       *string  `name:"campaign-id" help:"Only events of this campaign (\"\" removes the scope)."`
	RateLimit        *float64 `name:"rate-limit" xor:"rate" help:"At most this many deliveries per second."`
	NoRateLimit      bool     `name:"no-rate-limit" xor:"rate" help:"Remove the rate limit."`
	Ordered          *bool    `negatable:"" help:"Ordered delivery per resource (--no-ordered turns it off)."`
	StandardWebhooks *bool    `name:"standard-webhooks" negatable:"" help:"Standard Webhooks headers (--no-standard-webhooks turns them off)."`
	AutoRecover      *bool    `name:"auto-recover" negatable:"" help:"Automatic recovery once disabled for failing (--no-auto-recover turns it off)."`
	OptionFlags      `embed:""`
}

func (c *SubscriptionUpdateCmd) Run(cl *Client) error {
	body := map[string]any{}
	put(body, "webhook_url", c.WebhookURL)
	put(body, "workflow_id", c.WorkflowID)
	put(body, "campaign_id", c.CampaignID)
	put(body, "rate_limit", c.RateLimit)
	put(body, "ordered", c.Ordered)
	put(body, "standard_webhooks", c.StandardWebhooks)
	put(body, "auto_recover", c.AutoRecover)
	if c.NoRateLimit {
		body["rate_limit"] = nil
	}
	if err := c.OptionFlags.add(body); err != nil {
		return err
	}
	if len(body) == 0 {
		return errors.New("nothing to change: give at least one of --webhook-url, --workflow-id, --campaign-id, --rate-limit, --no-rate-limit, --[no-]ordered, --[no-]standard-webhooks, --[no-]auto-recover, --event-types, --header, --secret-header, --no-headers, --filter, --client-cert/--client-key, --no-client-cert")
	}
	return cl.show(http.MethodPatch, subscriptionPath(c.ID), nil, body, subscriptionText)
}

// put sets body[key] to what v points to, if it was given.
func put[T any](body map[string]any, key string, v *T) {
	if v != nil {
		body[key] = *v
	}
}

// SubscriptionListCmd lists subscriptions.
type SubscriptionListCmd struct {
	EventType string `name:"event-type" help:"Only this event type."`
	Status    string `enum:",active,disabled" default:"" help:"Only active or disabled ones."`
	PageFlags `embed:""`
}

func (c *SubscriptionListCmd) Run(cl *Client) error {
	return cl.show(http.MethodGet, "/api/v1/webhook_subscriptions", c.query("event_type", c.EventType, "status", c.Status), nil, List(subscriptionColumns...))
}

// SubscriptionIDCmd shows a subscription.
type SubscriptionIDCmd struct {
	ID string `arg:"" help:"Subscription id (whk_…)."`
}

func (c *SubscriptionIDCmd) Run(cl *Client) error {
	return cl.show(http.MethodGet, subscriptionPath(c.ID), nil, nil, subscriptionText)
}

// SubscriptionDeleteCmd deletes a subscription.
type SubscriptionDeleteCmd struct {
	ID string `arg:"" help:"Subscription id (whk_…)."`
}

func (c *SubscriptionDeleteCmd) Run(cl *Client) error {
	if _, err := cl.call(http.MethodDelete, subscriptionPath(c.ID), nil, nil, nil); err != nil {
		return err
	}
	// The API answers 204 with no body; say what happened, as JSON for scripts.
	return cl.PrintValue(map[string]any{"id": c.ID, "deleted": true}, Done("Deleted subscription "+c.ID+"."))
}

// SubscriptionEnableCmd enables a subscription.
type SubscriptionEnableCmd struct {
	ID string `arg:"" help:"Subscription id (whk_…)."`
}

func (c *SubscriptionEnableCmd) Run(cl *Client) error {
	return cl.show(http.MethodPost, subscriptionPath(c.ID, "enable"), nil, nil, subscriptionText)
}

// SubscriptionDisableCmd disables a subscription.
type SubscriptionDisableCmd struct {
	ID string `arg:"" help:"Subscription id (whk_…)."`
}

func (c *SubscriptionDisableCmd) Run(cl *Client) error {
	return cl.show(http.MethodPost, subscriptionPath(c.ID, "disable"), nil, nil, subscriptionText)
}

// SubscriptionRotateCmd rotates a signing secret.
type SubscriptionRotateCmd struct {
	ID        string        `arg:"" help:"Subscription id (whk_…)."`
	Immediate bool          `xor:"mode" help:"Drop the old secret now (leaked secret) instead of an overlap period."`
	Overlap   time.Duration `xor:"mode" help:"How long the old secret keeps signing (default 24h, at most 168h)."`
	Secret    string        `help:"The new secret (default: generated)."`
}

func (c *SubscriptionRotateCmd) Run(cl *Client) error {
	body := map[string]any{}
	if c.Immediate {
		body["mode"] = "immediate"
	}
	if c.Overlap != 0 {
		if c.Overlap%time.Second != 0 || c.Overlap < 0 {
			return errors.New("--overlap must be a positive whole number of seconds, e.g. 1h")
		}
		body["overlap_seconds"] = int(c.Overlap / time.Second)
	}
	if c.Secret != "" {
		body["signing_secret"] = c.Secret
	}
	return cl.show(http.MethodPost, subscriptionPath(c.ID, "rotate_secret"), nil, body, subscriptionText)
}

// SubscriptionRetryFailedCmd queues a subscription's failed deliveries again.
type SubscriptionRetryFailedCmd struct {
	ID    string `arg:"" help:"Subscription id (whk_…)."`
	Since string `required:"" help:"Failed since this time: RFC 3339 (2026-06-30T19:30:00Z) or a duration ago (24h)."`
}

func (c *SubscriptionRetryFailedCmd) Run(cl *Client) error {
	since, err := parseSince(c.Since, time.Now())
	if err != nil {
		return err
	}
	raw, err := cl.send(http.MethodPost, subscriptionPath(c.ID, "retry_failed"), nil, map[string]any{"since": since.UTC().Format(time.RFC3339Nano)}, nil)
	if err != nil {
		return err
	}
	return cl.Print(raw, func(w io.Writer, raw []byte) error {
		var out struct {
			Retried int `json:"retried"`
		}
		if err := decodeNumbers(raw, &out); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "%d failed deliveries of %s since %s queued again.\n", out.Retried, c.ID, since.UTC().Format(time.RFC3339))
		return err
	})
}

// parseSince reads an RFC 3339 time or a duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time such as 2026-06-30T19:30:00Z or a duration ago such as 24h", s)
}

// SubscriptionCheckCmd runs the receiver check on the server.
type SubscriptionCheckCmd struct {
	ID string `arg:"" help:"Subscription id (whk_…)."`
}

func (c *SubscriptionCheckCmd) Run(cl *Client) error {
	raw, err := cl.send(http.MethodPost, subscriptionPath(c.ID, "check"), nil, nil, nil)
	if err != nil {
		return err
	}
	return printReport(cl.Output, raw)
}
