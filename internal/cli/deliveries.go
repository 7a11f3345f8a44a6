package cli

import (
	"net/http"
	"net/url"
)

// DeliveriesCmd groups the delivery commands.
type DeliveriesCmd struct {
	ClientFlags `embed:""`

	List  DeliveriesListCmd `cmd:"" help:"List deliveries."`
	Show  DeliveryShowCmd   `cmd:"" help:"Show a delivery with its attempts."`
	Retry DeliveryRetryCmd  `cmd:"" help:"Send a delivery again now."`
}

var deliveryColumns = []Column{Col("id"), Col("event_type"), Col("status"), {Header: "ATTEMPTS", Field: "attempt_count"}, Col("subscription_id"), Col("updated_at"), Col("last_error")}

// DeliveriesListCmd lists deliveries.
type DeliveriesListCmd struct {
	SubscriptionID string `name:"subscription-id" help:"Only deliveries of this subscription."`
	EventID        string `name:"event-id" help:"Only deliveries of this event."`
	Status         string `enum:",pending,succeeded,failed,skipped" default:"" help:"Only this status: pending, succeeded, failed or skipped."`
	Order          string `enum:",asc,desc" default:"" help:"asc (oldest first, the default) or desc (newest first)."`
	PageFlags      `embed:""`
}

func (c *DeliveriesListCmd) Run(cl *Client) error {
	q := c.query("subscription_id", c.SubscriptionID, "event_id", c.EventID, "status", c.Status, "order", c.Order)
	return cl.show(http.MethodGet, "/api/v1/deliveries", q, nil, List(deliveryColumns...))
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
