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
	"time"

	"github.com/revdesk/webhooks/internal/catalog"
)

// ClientFlags are the connection flags of the commands that talk to a
// running server. Embedding them provides a *Client to the commands' Run.
type ClientFlags struct {
	Server string `default:"http://localhost:8080" env:"REVDESK_SERVER" help:"Base URL of the RevDesk Webhooks server."`
	APIKey string `name:"api-key" env:"REVDESK_API_KEY" help:"API key (rdk_…) sent as Authorization: Bearer."`
}

// ProvideClient is called by kong (methods named Provide* are providers) to
// hand a *Client to the Run method of any command below the embedding one.
func (f *ClientFlags) ProvideClient() (*Client, error) {
	u, err := url.Parse(f.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server %q: want a URL such as http://localhost:8080", f.Server)
	}
	return &Client{base: strings.TrimRight(f.Server, "/"), key: f.APIKey, http: &http.Client{Timeout: 30 * time.Second}, out: os.Stdout}, nil
}

// Client calls the JSON API and prints answers for people at a terminal.
type Client struct {
	base string
	key  string
	http *http.Client
	out  io.Writer
}

// APIError is an error answer of the API. Its text is what the terminal
// shows: "error: <message> (<code>)".
type APIError struct {
	Status     int
	Code       string
	Message    string
	Field      string
	ExistingID string
}

func (e *APIError) Error() string { return fmt.Sprintf("error: %s (%s)", e.Message, e.Code) }

// call sends one request and returns the answer's body; an error status
// becomes an *APIError.
func (c *Client) call(method, path string, query url.Values, body []byte, header http.Header) ([]byte, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the server at %s (set --server or REVDESK_SERVER): %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode < 400 {
		return raw, nil
	}
	var e struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			Field      string `json:"field"`
			ExistingID string `json:"existing_id"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Error.Code == "" {
		// Not our JSON error: a proxy, or not a RevDesk server at all.
		msg := strings.TrimSpace(string(raw))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		return nil, &APIError{Status: resp.StatusCode, Code: fmt.Sprintf("http_%d", resp.StatusCode), Message: strings.TrimSpace(http.StatusText(resp.StatusCode) + " " + msg)}
	}
	return nil, &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Field: e.Error.Field, ExistingID: e.Error.ExistingID}
}

// show sends a request and prints the answer as indented JSON.
func (c *Client) show(method, path string, query url.Values, body any, header http.Header) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	raw, err := c.call(method, path, query, b, header)
	if err != nil {
		return err
	}
	return c.print(raw)
}

// print indents JSON without re-encoding it, so the server's key order and
// number spelling are what the user sees.
func (c *Client) print(raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		_, err = c.out.Write(raw)
		return err
	}
	buf.WriteByte('\n')
	_, err := c.out.Write(buf.Bytes())
	return err
}

func subscriptionPath(id string, action ...string) string {
	return strings.Join(append([]string{"/api/v1/webhook_subscriptions", url.PathEscape(id)}, action...), "/")
}

// pageQuery builds the list filters, leaving out unset ones.
func pageQuery(limit int, after string, filters ...string) url.Values {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	if after != "" {
		q.Set("after", after)
	}
	for i := 0; i+1 < len(filters); i += 2 {
		if filters[i+1] != "" {
			q.Set(filters[i], filters[i+1])
		}
	}
	return q
}

// SubscriptionsCmd groups the subscription commands.
type SubscriptionsCmd struct {
	ClientFlags `embed:""`

	Create       SubscriptionCreateCmd  `cmd:"" help:"Subscribe a URL to an event type; prints the signing secret once."`
	List         SubscriptionListCmd    `cmd:"" help:"List subscriptions."`
	Get          SubscriptionIDCmd      `cmd:"" help:"Show a subscription."`
	Update       SubscriptionUpdateCmd  `cmd:"" help:"Change a subscription's URL, scope, rate limit, ordering or Standard Webhooks."`
	Delete       SubscriptionDeleteCmd  `cmd:"" help:"Delete a subscription."`
	RotateSecret SubscriptionRotateCmd  `cmd:"" name:"rotate-secret" help:"Rotate the signing secret; prints the new one once."`
	Enable       SubscriptionEnableCmd  `cmd:"" help:"Re-enable a disabled subscription."`
	Disable      SubscriptionDisableCmd `cmd:"" help:"Disable a subscription."`
}

// SubscriptionCreateCmd creates a subscription.
type SubscriptionCreateCmd struct {
	WebhookURL       string  `name:"webhook-url" aliases:"url" required:"" help:"URL that receives the POSTs."`
	EventType        string  `name:"event-type" required:"" help:"One of the 16 event types, e.g. call_completed or number_purchased."`
	WorkflowID       string  `name:"workflow-id" help:"Only events of this workflow."`
	CampaignID       string  `name:"campaign-id" help:"Only events of this campaign."`
	Secret           string  `xor:"secret" help:"Signing secret (default: a generated whsec_ secret)."`
	NoSecret         bool    `name:"no-secret" xor:"secret" help:"Create without a signing secret (signed types carry no-secret-provided)."`
	StandardWebhooks bool    `name:"standard-webhooks" help:"Also send the Standard Webhooks headers (replay protection)."`
	RateLimit        float64 `name:"rate-limit" help:"Send at most this many deliveries per second (default: no limit)."`
	Ordered          bool    `help:"Deliver events about one resource (the id in their data) one at a time, in order."`
}

func (c *SubscriptionCreateCmd) Run(cl *Client) error {
	body := map[string]any{"webhook_url": c.WebhookURL, "event_type": c.EventType}
	for k, v := range map[string]string{"workflow_id": c.WorkflowID, "campaign_id": c.CampaignID, "signing_secret": c.Secret} {
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
	return cl.show(http.MethodPost, "/api/v1/webhook_subscriptions", nil, body, nil)
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
}

func (c *SubscriptionUpdateCmd) Run(cl *Client) error {
	body := map[string]any{}
	put(body, "webhook_url", c.WebhookURL)
	put(body, "workflow_id", c.WorkflowID)
	put(body, "campaign_id", c.CampaignID)
	put(body, "rate_limit", c.RateLimit)
	put(body, "ordered", c.Ordered)
	put(body, "standard_webhooks", c.StandardWebhooks)
	if c.NoRateLimit {
		body["rate_limit"] = nil
	}
	if len(body) == 0 {
		return errors.New("nothing to change: give at least one of --webhook-url, --workflow-id, --campaign-id, --rate-limit, --no-rate-limit, --[no-]ordered, --[no-]standard-webhooks")
	}
	return cl.show(http.MethodPatch, subscriptionPath(c.ID), nil, body, nil)
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
	Limit     int    `help:"Page size, 1 to 100 (server default 20)."`
	After     string `help:"next_after of the previous page."`
}

func (c *SubscriptionListCmd) Run(cl *Client) error {
	return cl.show(http.MethodGet, "/api/v1/webhook_subscriptions", pageQuery(c.Limit, c.After, "event_type", c.EventType, "status", c.Status), nil, nil)
}

// SubscriptionIDCmd shows a subscription.
type SubscriptionIDCmd struct {
	ID string `arg:"" help:"Subscription id (whk_…)."`
}

func (c *SubscriptionIDCmd) Run(cl *Client) error {
	return cl.show(http.MethodGet, subscriptionPath(c.ID), nil, nil, nil)
}

// SubscriptionDeleteCmd deletes a subscription.
type SubscriptionDeleteCmd struct {
	ID string `arg:"" help:"Subscription id (whk_…)."`
}

func (c *SubscriptionDeleteCmd) Run(cl *Client) error {
	if _, err := cl.call(http.MethodDelete, subscriptionPath(c.ID), nil, nil, nil); err != nil {
		return err
	}
	// The API answers 204 with no body; say what happened, as JSON like the rest.
	b, _ := json.Marshal(map[string]any{"id": c.ID, "deleted": true})
	return cl.print(b)
}

// SubscriptionEnableCmd enables a subscription.
type SubscriptionEnableCmd struct {
	ID string `arg:"" help:"Subscription id (whk_…)."`
}

func (c *SubscriptionEnableCmd) Run(cl *Client) error {
	return cl.show(http.MethodPost, subscriptionPath(c.ID, "enable"), nil, nil, nil)
}

// SubscriptionDisableCmd disables a subscription.
type SubscriptionDisableCmd struct {
	ID string `arg:"" help:"Subscription id (whk_…)."`
}

func (c *SubscriptionDisableCmd) Run(cl *Client) error {
	return cl.show(http.MethodPost, subscriptionPath(c.ID, "disable"), nil, nil, nil)
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
	return cl.show(http.MethodPost, subscriptionPath(c.ID, "rotate_secret"), nil, body, nil)
}

// EventsCmd groups the event commands.
type EventsCmd struct {
	ClientFlags `embed:""`

	Send    EventsSendCmd    `cmd:"" help:"Ingest a JSON event, or an array of up to 1,000, from a file or stdin."`
	Trigger EventsTriggerCmd `cmd:"" help:"Ingest the catalog example of an event type."`
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
	return cl.print(raw)
}

// EventsTriggerCmd posts the catalog example of an event type.
type EventsTriggerCmd struct {
	Type       string `arg:"" help:"Event type, e.g. number_purchased; a disposition type (call_busy…) sends the call_completed record deriving it."`
	WorkflowID string `name:"workflow-id" help:"Event's workflow_id, to reach scoped subscriptions."`
	CampaignID string `name:"campaign-id" help:"Event's campaign_id, to reach scoped subscriptions."`
}

func (c *EventsTriggerCmd) Run(cl *Client) error {
	et, ok := catalog.Lookup(c.Type)
	if !ok {
		var names []string
		for _, t := range catalog.All() {
			names = append(names, t.Name)
		}
		return fmt.Errorf("unknown event type %q; one of: %s", c.Type, strings.Join(names, ", "))
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
	return cl.show(http.MethodPost, "/api/v1/events", nil, body, nil)
}

// DeliveriesCmd groups the delivery commands.
type DeliveriesCmd struct {
	ClientFlags `embed:""`

	List  DeliveriesListCmd `cmd:"" help:"List deliveries."`
	Show  DeliveryShowCmd   `cmd:"" help:"Show a delivery with its attempts."`
	Retry DeliveryRetryCmd  `cmd:"" help:"Send a delivery again now."`
}

// DeliveriesListCmd lists deliveries.
type DeliveriesListCmd struct {
	SubscriptionID string `name:"subscription-id" help:"Only deliveries of this subscription."`
	EventID        string `name:"event-id" help:"Only deliveries of this event."`
	Status         string `enum:",pending,succeeded,failed,skipped" default:"" help:"Only this status: pending, succeeded, failed or skipped."`
	Limit          int    `help:"Page size, 1 to 100 (server default 20)."`
	After          string `help:"next_after of the previous page."`
}

func (c *DeliveriesListCmd) Run(cl *Client) error {
	q := pageQuery(c.Limit, c.After, "subscription_id", c.SubscriptionID, "event_id", c.EventID, "status", c.Status)
	return cl.show(http.MethodGet, "/api/v1/deliveries", q, nil, nil)
}

// DeliveryShowCmd shows a delivery.
type DeliveryShowCmd struct {
	ID string `arg:"" help:"Delivery id (dlv_…)."`
}

func (c *DeliveryShowCmd) Run(cl *Client) error {
	return cl.show(http.MethodGet, "/api/v1/deliveries/"+url.PathEscape(c.ID), nil, nil, nil)
}

// DeliveryRetryCmd retries a delivery.
type DeliveryRetryCmd struct {
	ID string `arg:"" help:"Delivery id (dlv_…)."`
}

func (c *DeliveryRetryCmd) Run(cl *Client) error {
	return cl.show(http.MethodPost, "/api/v1/deliveries/"+url.PathEscape(c.ID)+"/retry", nil, nil, nil)
}
