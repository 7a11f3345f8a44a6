package api

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/delivery"
	"github.com/revdesk/webhooks/internal/filter"
	"github.com/revdesk/webhooks/internal/store"
)

// The delivery options of a subscription (issue 17), as create and PATCH
// take them and as the view shows them:
//
//	"event_types": ["sms_sent", "sms_failed"]       (or ["*"]; instead of event_type)
//	"headers": {"X-Team": "blue", "X-Token": {"value": "…", "secret": true}}
//	"filter": "data.status == \"VOICEMAIL\""
//	"client_certificate": {"certificate": "-----BEGIN CERTIFICATE-----…", "private_key": "-----BEGIN …"}
//
// A secret header shows as {"secret": true}, never its value; a client
// certificate as {"subject", "not_after"}, never its key.

// headerInput is one member of "headers": a string, or {"value", "secret"}.
type headerInput struct {
	Value  string
	Secret bool
}

func (h *headerInput) UnmarshalJSON(b []byte) error {
	if jsontext.Value(b).Kind() == '"' {
		return json.Unmarshal(b, &h.Value)
	}
	var o struct {
		Value  *string `json:"value"`
		Secret bool    `json:"secret"`
	}
	if err := json.Unmarshal(b, &o, json.RejectUnknownMembers(true)); err != nil {
		return err
	}
	if o.Value == nil {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: `a header object needs "value"`, Field: "headers"}
	}
	h.Value, h.Secret = *o.Value, o.Secret
	return nil
}

type clientCertInput struct {
	Certificate string `json:"certificate"`
	PrivateKey  string `json:"private_key"`
}

// eventTypes checks an event_types list: known types without repeats, or
// ["*"] alone. A portal session limited to some types cannot make a
// multi-type subscription: it sees subscriptions of its own types only
// (visibleSubscription, the list's limit), and would lose sight of it.
func eventTypes(ctx context.Context, types []string) ([]string, error) {
	if len(callerOf(ctx).eventTypes) > 0 {
		return nil, &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "a portal session subscribes to one event_type at a time", Field: "event_types"}
	}
	bad := func(msg string) error {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: msg, Field: "event_types"}
	}
	if len(types) == 0 {
		return nil, bad(`event_types needs at least one type, or ["*"] for every type`)
	}
	if slices.Contains(types, store.AllTypes) {
		if len(types) > 1 {
			return nil, bad(`"*" stands for every type: it cannot be listed with others`)
		}
		return types, nil
	}
	seen := map[string]bool{}
	for _, t := range types {
		if _, ok := catalog.Lookup(t); !ok {
			return nil, &Error{Status: http.StatusBadRequest, Code: "unknown_event_type", Message: "unknown event type " + strconv.Quote(t) + " in event_types; GET /api/v1/event_types lists them", Field: "event_types"}
		}
		if seen[t] {
			return nil, bad(strconv.Quote(t) + " is listed twice in event_types")
		}
		seen[t] = true
	}
	return types, nil
}

// headers turns "headers" into the stored list, in name order, checked.
func headers(in map[string]headerInput) ([]store.Header, error) {
	names := make([]string, 0, len(in))
	for n := range in {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]store.Header, 0, len(in))
	for _, n := range names {
		out = append(out, store.Header{Name: n, Value: in[n].Value, Secret: in[n].Secret})
	}
	if err := delivery.CheckHeaders(out); err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: err.Error(), Field: "headers"}
	}
	return out, nil
}

func checkFilter(src string) error {
	if _, err := filter.Compile(src); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_filter", Message: err.Error(), Field: "filter"}
	}
	return nil
}

func clientCert(in clientCertInput, now time.Time) error {
	if _, _, err := delivery.ParseClientCert(in.Certificate, in.PrivateKey, now); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: err.Error(), Field: "client_certificate"}
	}
	return nil
}

// optionsView adds the options to a subscription's view.
func optionsView(v map[string]any, sub store.Subscription) {
	if sub.EventType == store.MultiType {
		// No one type to show: event_type is left out rather than null,
		// so a client of the documented field never reads a type that
		// is not one.
		delete(v, "event_type")
		v["event_types"] = sub.EventTypes
	} else {
		v["event_types"] = []string{sub.EventType}
	}
	hs := map[string]any{}
	for _, h := range sub.Headers {
		if h.Secret {
			hs[h.Name] = map[string]bool{"secret": true}
		} else {
			hs[h.Name] = h.Value
		}
	}
	v["headers"] = hs
	v["filter"] = nullable(sub.Filter)
	v["client_certificate"] = nil
	if sub.ClientCert != "" {
		// What was stored parsed when it was stored; a failure now would be
		// a damaged row, shown as a certificate without details.
		info, err := delivery.DescribeCert(sub.ClientCert)
		if err == nil {
			v["client_certificate"] = info
		} else {
			v["client_certificate"] = map[string]any{"subject": nil, "not_after": nil}
		}
	}
}

// optionsPatch is the options' members of a PATCH body. headers replaces
// the whole set (secret values must be sent again: they are never shown);
// null clears headers, filter and client_certificate.
type optionsPatch struct {
	EventTypes        patchField[[]string]               `json:"event_types"`
	Headers           patchField[map[string]headerInput] `json:"headers"`
	Filter            patchField[string]                 `json:"filter"`
	ClientCertificate patchField[clientCertInput]        `json:"client_certificate"`
}

func (o *optionsPatch) apply(ctx context.Context, p *store.UpdateSubscriptionParams) error {
	if f := o.EventTypes; f.Set {
		types, err := eventTypes(ctx, f.Value)
		if err != nil {
			return err
		}
		p.EventTypes = &types
	}
	if f := o.Headers; f.Set {
		hs, err := headers(f.Value) // nil map when null: no headers
		if err != nil {
			return err
		}
		p.Headers = &hs
	}
	if f := o.Filter; f.Set {
		if !f.Null && f.Value != "" {
			if err := checkFilter(f.Value); err != nil {
				return err
			}
		}
		p.Filter = &f.Value
	}
	if f := o.ClientCertificate; f.Set {
		if !f.Null {
			if err := clientCert(f.Value, p.Now); err != nil {
				return err
			}
		}
		p.ClientCert, p.ClientKey = &f.Value.Certificate, &f.Value.PrivateKey
	}
	return nil
}

// sampleType is the event type a test send or a receiver check of sub
// uses: its one type, else the first it lists (the catalog's first for
// ["*"]).
func sampleType(sub store.Subscription) string {
	switch {
	case sub.EventType != store.MultiType:
		return sub.EventType
	case sub.EventTypes[0] != store.AllTypes:
		return sub.EventTypes[0]
	}
	return catalog.All()[0].Name
}
