package api

import (
	"fmt"
	"net/http"
	"slices"
)

// Scopes a credential can hold. A route needs exactly one (routeScopes).
const (
	// ScopeIngest: POST /events, the platform's own producers. Never held
	// by a portal session: a leaked customer credential must not be able to
	// send that customer's receivers validly signed events.
	ScopeIngest = "ingest"
	// ScopeRead: every GET but the API keys' (subscriptions, events, deliveries,
	// endpoints, the catalog, the calling session).
	ScopeRead = "read"
	// ScopeSubscriptionsWrite: changing subscriptions, retries, test sends
	// and portal sessions.
	ScopeSubscriptionsWrite = "subscriptions:write"
	// ScopeAPIKeys: listing, creating and revoking API keys.
	ScopeAPIKeys = "api_keys"
)

// AllScopes is every scope, sorted: what workspace creation and the
// bootstrap key get.
var AllScopes = []string{ScopeAPIKeys, ScopeIngest, ScopeRead, ScopeSubscriptionsWrite}

// defaultKeyScopes is what POST /api_keys grants when not told: everything
// but ingest, so a key made for a person or a tool cannot forge events.
var defaultKeyScopes = []string{ScopeAPIKeys, ScopeRead, ScopeSubscriptionsWrite}

// access is what a route demands of its caller.
type access struct {
	scope string
	// keyOnly refuses portal sessions even within scope: a session must not
	// mint sessions (which could outlive it or drop its event type limit).
	keyOnly bool
}

// routeScopes is the one table of which scope each authenticated route
// needs. New refuses to start with an authenticated route missing here, and
// openapi.json names the same scope on every operation (checked by its test).
var routeScopes = map[string]access{
	"POST /api/v1/webhook_subscriptions":                    {scope: ScopeSubscriptionsWrite},
	"GET /api/v1/webhook_subscriptions":                     {scope: ScopeRead},
	"GET /api/v1/webhook_subscriptions/{id}":                {scope: ScopeRead},
	"PATCH /api/v1/webhook_subscriptions/{id}":              {scope: ScopeSubscriptionsWrite},
	"DELETE /api/v1/webhook_subscriptions/{id}":             {scope: ScopeSubscriptionsWrite},
	"POST /api/v1/webhook_subscriptions/{id}/enable":        {scope: ScopeSubscriptionsWrite},
	"POST /api/v1/webhook_subscriptions/{id}/disable":       {scope: ScopeSubscriptionsWrite},
	"POST /api/v1/webhook_subscriptions/{id}/rotate_secret": {scope: ScopeSubscriptionsWrite},
	"POST /api/v1/webhook_subscriptions/{id}/retry_failed":  {scope: ScopeSubscriptionsWrite},
	"POST /api/v1/webhook_subscriptions/{id}/replay":        {scope: ScopeSubscriptionsWrite},
	"GET /api/v1/replays/{id}":                              {scope: ScopeRead},
	"POST /api/v1/webhook_subscriptions/{id}/test":          {scope: ScopeSubscriptionsWrite},
	"POST /api/v1/webhook_subscriptions/{id}/check":         {scope: ScopeSubscriptionsWrite},
	"POST /api/v1/events":                                   {scope: ScopeIngest},
	"GET /api/v1/events":                                    {scope: ScopeRead},
	"GET /api/v1/events/{id}":                               {scope: ScopeRead},
	"GET /api/v1/deliveries":                                {scope: ScopeRead},
	"GET /api/v1/deliveries/{id}":                           {scope: ScopeRead},
	"POST /api/v1/deliveries/{id}/retry":                    {scope: ScopeSubscriptionsWrite},
	"GET /api/v1/event_types":                               {scope: ScopeRead},
	"GET /api/v1/endpoints":                                 {scope: ScopeRead},
	"GET /api/v1/api_keys":                                  {scope: ScopeAPIKeys},
	"POST /api/v1/api_keys":                                 {scope: ScopeAPIKeys},
	"DELETE /api/v1/api_keys/{id}":                          {scope: ScopeAPIKeys},
	"POST /api/v1/portal_sessions":                          {scope: ScopeSubscriptionsWrite, keyOnly: true},
	"GET /api/v1/portal_sessions/current":                   {scope: ScopeRead},
	// A session may end itself (sign-out) but no other (see revokePortalSession).
	"DELETE /api/v1/portal_sessions/{id}": {scope: ScopeSubscriptionsWrite},
}

// RouteScope is the scope a route pattern needs ("" for open routes).
func RouteScope(pattern string) string { return routeScopes[pattern].scope }

// permits refuses a caller outside the route's scope with 403.
func (a access) permits(c *caller) error {
	if !slices.Contains(c.scopes, a.scope) {
		return &Error{Status: http.StatusForbidden, Code: "forbidden",
			Message: fmt.Sprintf("this %s lacks the %s scope this request needs", c.kind(), a.scope)}
	}
	if a.keyOnly && c.sessionID != "" {
		return errorf(http.StatusForbidden, "forbidden", "a portal session cannot do this; use an API key")
	}
	return nil
}

// checkScopes validates a requested scope list: known scopes only, at
// least one, none the caller lacks.
func checkScopes(requested []string, c *caller) ([]string, error) {
	if len(requested) == 0 {
		return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "scopes must name at least one scope", Field: "scopes"}
	}
	out := slices.Sorted(slices.Values(requested))
	out = slices.Compact(out)
	for _, sc := range out {
		if !slices.Contains(AllScopes, sc) {
			return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_field",
				Message: fmt.Sprintf("unknown scope %q (known: api_keys, ingest, read, subscriptions:write)", sc), Field: "scopes"}
		}
		if !slices.Contains(c.scopes, sc) {
			return nil, &Error{Status: http.StatusForbidden, Code: "forbidden",
				Message: fmt.Sprintf("a key can only grant scopes it holds; it lacks %s", sc), Field: "scopes"}
		}
	}
	return out, nil
}
