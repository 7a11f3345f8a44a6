package cli

import (
	"fmt"
	"os"
	"strings"
)

// OptionFlags are the delivery options of subscriptions create and update.
type OptionFlags struct {
	EventTypes   []string `name:"event-types" sep:"," help:"Several event types for one URL and secret, comma-separated, or * for every type (instead of --event-type)."`
	Header       []string `name:"header" sep:"none" placeholder:"NAME=VALUE" help:"Custom request header on every delivery (repeatable); update replaces them all."`
	SecretHeader []string `name:"secret-header" sep:"none" placeholder:"NAME=VALUE" help:"Custom header whose value is never shown back and is sealed at rest (repeatable)."`
	Filter       *string  `name:"filter" placeholder:"CEL" help:"Deliver only events whose data passes this CEL expression, e.g. 'data.status == \"VOICEMAIL\"' (\"\" removes it on update)."`
	ClientCert   string   `name:"client-cert" type:"existingfile" placeholder:"FILE" help:"PEM client certificate presented to the receiver (mutual TLS); with --client-key."`
	ClientKey    string   `name:"client-key" type:"existingfile" placeholder:"FILE" help:"PEM private key of --client-cert."`
	NoHeaders    bool     `name:"no-headers" help:"Remove every custom header (update)."`
	NoClientCert bool     `name:"no-client-cert" help:"Remove the client certificate (update)."`
}

// add puts the options given into a create or PATCH body.
func (o *OptionFlags) add(body map[string]any) error {
	if len(o.EventTypes) > 0 {
		body["event_types"] = o.EventTypes
	}
	if len(o.Header) > 0 || len(o.SecretHeader) > 0 {
		hs := map[string]any{}
		for _, list := range []struct {
			flags  []string
			secret bool
		}{{o.Header, false}, {o.SecretHeader, true}} {
			for _, h := range list.flags {
				name, value, ok := strings.Cut(h, "=")
				if !ok || name == "" {
					return fmt.Errorf("--header %q: want NAME=VALUE", h)
				}
				if list.secret {
					hs[name] = map[string]any{"value": value, "secret": true}
				} else {
					hs[name] = value
				}
			}
		}
		body["headers"] = hs
	}
	if o.NoHeaders {
		if body["headers"] != nil {
			return fmt.Errorf("--no-headers with --header: choose one")
		}
		body["headers"] = nil
	}
	if o.Filter != nil {
		body["filter"] = *o.Filter
	}
	switch {
	case (o.ClientCert == "") != (o.ClientKey == ""):
		return fmt.Errorf("--client-cert and --client-key go together")
	case o.ClientCert != "" && o.NoClientCert:
		return fmt.Errorf("--no-client-cert with --client-cert: choose one")
	case o.ClientCert != "":
		cert, err := os.ReadFile(o.ClientCert)
		if err != nil {
			return err
		}
		key, err := os.ReadFile(o.ClientKey)
		if err != nil {
			return err
		}
		body["client_certificate"] = map[string]any{"certificate": string(cert), "private_key": string(key)}
	case o.NoClientCert:
		body["client_certificate"] = nil
	}
	return nil
}

// typesText is a subscription's event type, or its types.
func typesText(sub map[string]any) string {
	if t, ok := sub["event_type"].(string); ok {
		return t
	}
	var types []string
	list, _ := sub["event_types"].([]any)
	for _, t := range list {
		types = append(types, fmt.Sprint(t))
	}
	return strings.Join(types, ",")
}
