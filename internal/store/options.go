package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// MultiType is the event_type stored for a subscription to several types
// (Subscription.EventTypes). Routing reads a type's subscriptions and the
// multi-type ones together, and the identical-subscription rule (same url,
// event_type and scope) allows one multi-type subscription per URL and scope.
const MultiType = "*"

// AllTypes is the one-element EventTypes of a subscription to every type.
const AllTypes = "*"

// Header is one custom request header of a subscription. A Secret one's
// value is never shown back, and is sealed at rest like signing secrets.
type Header struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Secret bool   `json:"secret,omitempty"`
}

// Covers reports whether sub is a subscription to eventType: its one type,
// or one of its types (any, for ["*"]).
func (sub *Subscription) Covers(eventType string) bool {
	if sub.EventType != MultiType {
		return sub.EventType == eventType
	}
	return slices.Contains(sub.EventTypes, eventType) || slices.Contains(sub.EventTypes, AllTypes)
}

// TypesColumn is EventTypes as a driver reads and writes it (column
// event_types): "" for a single-type subscription, else ",a,b," so that a
// list filter finds a type with a substring search of ",type,".
type TypesColumn []string

func (c TypesColumn) Value() (driver.Value, error) {
	if len(c) == 0 {
		return "", nil
	}
	return "," + strings.Join(c, ",") + ",", nil
}

func (c *TypesColumn) Scan(v any) error {
	s, err := text(v)
	*c = nil
	if err != nil || s == "" {
		return err
	}
	*c = strings.Split(strings.Trim(s, ","), ",")
	return nil
}

// OptionsColumn holds a subscription's delivery options as a driver reads
// and writes them (column options, JSON; "" when there are none).
type OptionsColumn struct{ Sub *Subscription }

type options struct {
	Headers    []Header `json:"headers,omitempty"`
	Filter     string   `json:"filter,omitempty"`
	ClientCert string   `json:"client_cert,omitempty"`
	ClientKey  string   `json:"client_key,omitempty"`
}

func (c OptionsColumn) Value() (driver.Value, error) {
	o := options{c.Sub.Headers, c.Sub.Filter, c.Sub.ClientCert, c.Sub.ClientKey}
	if len(o.Headers) == 0 && o.Filter == "" && o.ClientCert == "" && o.ClientKey == "" {
		return "", nil
	}
	b, err := json.Marshal(o)
	return string(b), err
}

func (c OptionsColumn) Scan(v any) error {
	s, err := text(v)
	if err != nil || s == "" {
		return err
	}
	var o options
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return fmt.Errorf("store: subscription %s options: %w", c.Sub.ID, err)
	}
	c.Sub.Headers, c.Sub.Filter, c.Sub.ClientCert, c.Sub.ClientKey = o.Headers, o.Filter, o.ClientCert, o.ClientKey
	return nil
}

// SecretsRewriter is implemented by stores whose subscription secrets can
// be re-sealed in bulk (package secrets: clear secrets of an older
// database, or a key rotation).
type SecretsRewriter interface {
	// AllSubscriptions returns every subscription, deleted ones too, with
	// the fields as stored.
	AllSubscriptions(ctx context.Context) ([]Subscription, error)
	// RewriteSecrets writes each rewrite's New signing secret, previous
	// secret and options (headers, client key) where the row still holds
	// Old's: a row another process changed meanwhile (a rotation) is left
	// as that process wrote it.
	RewriteSecrets(ctx context.Context, rewrites []SecretRewrite) error
}

// SecretRewrite is one subscription's secret fields as read (Old) and as
// they are to be written (New).
type SecretRewrite struct{ Old, New Subscription }

func text(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	return "", fmt.Errorf("store: text column holds %T", v)
}
