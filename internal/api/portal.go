package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/revdesk/webhooks/internal/apikey"
	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/jsonx"
	"github.com/revdesk/webhooks/internal/store"
)

// Portal session tokens: rdp_ and 256 random bits; stored as a SHA-256
// hash under an id made from its first bytes, like API keys.
const (
	sessionTokenPrefix = "rdp_"
	sessionIDPrefix    = "pts_"
)

const (
	defaultSessionTTL = time.Hour
	maxSessionTTL     = 24 * time.Hour
	maxBrandName      = 80
)

var brandColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// caller is who sent a request: an API key or a portal session.
type caller struct {
	workspaceID string
	scopes      []string
	keyID       string // for an API key
	sessionID   string // for a portal session
	// eventTypes limits a session to these types; empty: all.
	eventTypes []string
}

func (c *caller) kind() string {
	if c.sessionID != "" {
		return "portal session"
	}
	return "API key"
}

// limiterID names the rate limit bucket of the caller.
func (c *caller) limiterID() string { return c.keyID + c.sessionID }

// sees reports whether the caller may see resources of an event type.
func (c *caller) sees(eventType string) bool {
	return len(c.eventTypes) == 0 || slices.Contains(c.eventTypes, eventType)
}

func callerOf(ctx context.Context) *caller {
	c, _ := ctx.Value(ctxKey{}).(*caller)
	if c == nil {
		return &caller{}
	}
	return c
}

// workspaceID is the authenticated workspace of a request.
func workspaceID(ctx context.Context) string { return callerOf(ctx).workspaceID }

// sessionTokenID is the public id and the hash of a session token.
func sessionTokenID(token string) (id string, hash []byte) {
	sum := sha256.Sum256([]byte(token))
	return sessionIDPrefix + hex.EncodeToString(sum[:8]), sum[:]
}

var errSessionExpired = errorf(http.StatusUnauthorized, "session_expired", "this portal session has expired or was revoked; ask for a new one")

// identify finds the credential of a bearer token.
func (s *Server) identify(ctx context.Context, token string) (*caller, error) {
	if strings.HasPrefix(token, sessionTokenPrefix) {
		id, hash := sessionTokenID(token)
		ps, err := s.store.GetPortalSession(ctx, id)
		switch {
		case err == nil && subtle.ConstantTimeCompare(ps.Hash, hash) == 1:
			if ps.RevokedAt != nil || !time.Now().Before(ps.ExpiresAt) {
				return nil, errSessionExpired
			}
			return &caller{workspaceID: ps.WorkspaceID, scopes: ps.Scopes, sessionID: ps.ID, eventTypes: ps.EventTypes}, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		// Not a session: maybe an API key that happens to look like one
		// (REVDESK_API_KEY can be any string).
	}
	id, _ := apikey.Hash(token)
	key, err := s.store.GetAPIKey(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err != nil || !apikey.Matches(key.Hash, token) || key.RevokedAt != nil {
		return nil, errorf(http.StatusUnauthorized, "unauthorized", "invalid or revoked API key")
	}
	return &caller{workspaceID: key.WorkspaceID, scopes: key.Scopes, keyID: key.ID}, nil
}

// createPortalSession makes a short-lived token for a customer portal (or
// the operator dashboard): read and, unless read_only, subscriptions:write;
// never ingest or API keys.
func (s *Server) createPortalSession(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.cfg.MaxBody)
	if err != nil {
		return err
	}
	var in struct {
		ExpiresIn  *int     `json:"expires_in"`
		ReadOnly   bool     `json:"read_only"`
		EventTypes []string `json:"event_types"`
		BrandColor string   `json:"brand_color"`
		BrandName  string   `json:"brand_name"`
	}
	if len(body) > 0 {
		if err := jsonx.Decode(body, &in); err != nil {
			return err
		}
	}
	ttl := defaultSessionTTL
	if in.ExpiresIn != nil {
		if *in.ExpiresIn < 1 || *in.ExpiresIn > int(maxSessionTTL/time.Second) {
			return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "expires_in must be from 1 to 86400 seconds", Field: "expires_in"}
		}
		ttl = time.Duration(*in.ExpiresIn) * time.Second
	}
	types := slices.Compact(slices.Sorted(slices.Values(in.EventTypes)))
	for _, t := range types {
		if _, ok := catalog.Lookup(t); !ok {
			return &Error{Status: http.StatusBadRequest, Code: "unknown_event_type", Message: "unknown event type " + strconv.Quote(t) + " in event_types", Field: "event_types"}
		}
	}
	if in.BrandColor != "" && !brandColor.MatchString(in.BrandColor) {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "brand_color must be a hex colour such as #0a7c59", Field: "brand_color"}
	}
	if len(in.BrandName) > maxBrandName || strings.ContainsFunc(in.BrandName, unicode.IsControl) {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "brand_name must be at most 80 bytes without control characters", Field: "brand_name"}
	}
	scopes := []string{ScopeRead, ScopeSubscriptionsWrite}
	if in.ReadOnly {
		scopes = []string{ScopeRead}
	}
	token := newToken(sessionTokenPrefix)
	id, hash := sessionTokenID(token)
	now := time.Now()
	ps, err := s.store.CreatePortalSession(r.Context(), store.CreatePortalSessionParams{
		ID: id, WorkspaceID: workspaceID(r.Context()), Hash: hash, Scopes: scopes, EventTypes: types,
		BrandColor: in.BrandColor, BrandName: in.BrandName, ExpiresAt: now.Add(ttl), Now: now,
	})
	if err != nil {
		return err
	}
	v := sessionView(ps)
	v["token"] = token // shown this once
	// The token rides in the fragment, which browsers never send: it
	// reaches the page, not the server's access logs.
	v["url"] = s.publicBase(r) + "/portal#token=" + token
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func sessionView(ps store.PortalSession) map[string]any {
	return map[string]any{
		"id":          ps.ID,
		"expires_at":  ps.ExpiresAt.UTC().Format(time.RFC3339Nano),
		"read_only":   !slices.Contains(ps.Scopes, ScopeSubscriptionsWrite),
		"scopes":      ps.Scopes,
		"event_types": nonNil(ps.EventTypes),
		"brand_color": nullable(ps.BrandColor),
		"brand_name":  nullable(ps.BrandName),
	}
}

// currentPortalSession describes the session making the request, so the
// portal page knows its limits and branding.
func (s *Server) currentPortalSession(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	if c.sessionID == "" {
		return errorf(http.StatusNotFound, "not_found", "this request was made with an API key, not a portal session")
	}
	ps, err := s.store.GetPortalSession(r.Context(), c.sessionID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionView(ps))
	return nil
}

// revokePortalSession ends a session at once. A session may end itself
// (signing out), no other.
func (s *Server) revokePortalSession(w http.ResponseWriter, r *http.Request) error {
	c, id := callerOf(r.Context()), r.PathValue("id")
	if c.sessionID != "" && c.sessionID != id {
		return errorf(http.StatusForbidden, "forbidden", "a portal session can revoke only itself")
	}
	if err := s.store.RevokePortalSession(r.Context(), c.workspaceID, id, time.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// testSubscription sends one test event to one subscription: signed as
// usual, marked X-revdesk-Test, in its delivery log only.
func (s *Server) testSubscription(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.cfg.MaxBody)
	if err != nil {
		return err
	}
	var in struct {
		Data jsontext.Value `json:"data"`
	}
	if len(body) > 0 {
		if err := jsonx.Decode(body, &in); err != nil {
			return err
		}
	}
	sub, err := s.visibleSubscription(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if sub.Status != store.SubscriptionActive {
		return errorf(http.StatusConflict, "subscription_disabled", "the subscription is disabled; enable it to send a test event")
	}
	sub.EventType = sampleType(sub)
	data := []byte(in.Data)
	if len(data) == 0 {
		et, _ := catalog.Lookup(sub.EventType) // a stored subscription's type is in the catalog
		data = et.Example
	} else if in.Data.Kind() != '{' {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_data", Message: "data must be a JSON object", Field: "data"}
	}
	eventID, deliveryID, err := s.ingest.Test(r.Context(), sub, data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"event_id": eventID, "delivery_id": nullable(deliveryID)})
	return nil
}

// visibleSubscription is GetSubscription within the caller's event types:
// another type's subscription does not exist for a limited session.
func (s *Server) visibleSubscription(ctx context.Context, id string) (store.Subscription, error) {
	sub, err := s.store.GetSubscription(ctx, workspaceID(ctx), id)
	if err == nil && !callerOf(ctx).sees(sub.EventType) {
		return store.Subscription{}, store.ErrNotFound
	}
	return sub, err
}

// checkVisible, for handlers that change a subscription or delivery by id
// without reading it first: a session limited to some event types must not
// reach the others'. Unlimited callers skip the read.
func (s *Server) checkVisible(ctx context.Context, subscriptionID, deliveryID string) error {
	if len(callerOf(ctx).eventTypes) == 0 {
		return nil
	}
	if deliveryID != "" {
		_, _, err := s.visibleDelivery(ctx, deliveryID)
		return err
	}
	_, err := s.visibleSubscription(ctx, subscriptionID)
	return err
}

func (s *Server) visibleDelivery(ctx context.Context, id string) (store.Delivery, []store.Attempt, error) {
	d, attempts, err := s.store.GetDelivery(ctx, workspaceID(ctx), id)
	if err == nil && !callerOf(ctx).sees(d.EventType) {
		return store.Delivery{}, nil, store.ErrNotFound
	}
	return d, attempts, err
}

// publicBase is the server's own URL as its clients see it: --public-url,
// or the scheme and host the request came to.
func (s *Server) publicBase(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// newToken is prefix and 256 random bits.
func newToken(prefix string) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
