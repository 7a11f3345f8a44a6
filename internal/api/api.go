// Package api is the HTTP interface: routes, authentication, strict JSON
// input and the mapping of errors to responses. It translates requests into
// calls on the store and ingest service and knows no SQL.
package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/revdesk/webhooks/internal/apikey"
	"github.com/revdesk/webhooks/internal/ingest"
	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/store"
)

// Default body limits, in bytes.
const (
	DefaultMaxBody       = 1 << 20
	DefaultMaxIngestBody = 10 << 20
)

// Config holds the API's settings.
type Config struct {
	AllowHTTP     bool
	Policy        netguard.Policy
	MaxBody       int64   // every body but ingest's; default DefaultMaxBody
	MaxIngestBody int64   // default DefaultMaxIngestBody
	RateLimit     float64 // requests per second per key; 0 disables
	RateBurst     int
	// UserAgent is sent by receiver checks, as by deliveries.
	UserAgent string
	// PublicURL is the base of portal links; "" takes the request's host.
	PublicURL string
	// EgressProxy, when set, carries receiver checks as it carries
	// deliveries (--egress-proxy).
	EgressProxy *url.URL
}

// Deps are what the API drives.
type Deps struct {
	Store  Store
	Ingest *ingest.Service
	Wake   func() // tells the dispatcher that retried work is due
	// Endpoints reports delivery state per endpoint; nil shows none.
	Endpoints EndpointStates
	Logger    *slog.Logger
	// Extra routes (metrics, dashboard, OpenAPI) mounted as given.
	Extra map[string]http.Handler
}

// Server serves the API.
type Server struct {
	store     Store
	ingest    *ingest.Service
	wake      func()
	endpoints EndpointStates
	cfg       Config
	log       *slog.Logger
	mux       *http.ServeMux

	patterns []string

	limitersMu sync.Mutex
	limiters   map[string]*rate.Limiter
}

// New builds the API.
func New(d Deps, cfg Config) *Server {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxIngestBody <= 0 {
		cfg.MaxIngestBody = DefaultMaxIngestBody
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = max(1, int(cfg.RateLimit*2))
	}
	if d.Wake == nil {
		d.Wake = func() {}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	s := &Server{store: d.Store, ingest: d.Ingest, wake: d.Wake, endpoints: d.Endpoints, cfg: cfg, log: d.Logger, mux: http.NewServeMux(), limiters: map[string]*rate.Limiter{}}
	s.routes(d.Extra)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Routes lists the method and path patterns the API serves (extra routes
// excluded), for the OpenAPI check.
func (s *Server) Routes() []string {
	return append([]string(nil), s.patterns...)
}

func (s *Server) routes(extra map[string]http.Handler) {
	open := map[string]handlerFunc{
		"GET /healthz": s.healthz,
		"GET /readyz":  s.readyz,
		"/api/":        s.notFound,
	}
	authed := map[string]handlerFunc{
		"POST /api/v1/webhook_subscriptions":                    s.createSubscription,
		"GET /api/v1/webhook_subscriptions":                     s.listSubscriptions,
		"GET /api/v1/webhook_subscriptions/{id}":                s.getSubscription,
		"DELETE /api/v1/webhook_subscriptions/{id}":             s.deleteSubscription,
		"PATCH /api/v1/webhook_subscriptions/{id}":              s.updateSubscription,
		"POST /api/v1/webhook_subscriptions/{id}/enable":        s.enableSubscription,
		"POST /api/v1/webhook_subscriptions/{id}/disable":       s.disableSubscription,
		"POST /api/v1/webhook_subscriptions/{id}/rotate_secret": s.rotateSecret,
		"POST /api/v1/webhook_subscriptions/{id}/retry_failed":  s.retryFailed,
		"POST /api/v1/webhook_subscriptions/{id}/replay":        s.replay,
		"GET /api/v1/replays/{id}":                              s.getReplay,
		"POST /api/v1/webhook_subscriptions/{id}/check":         s.checkSubscription,
		"POST /api/v1/events":                                   s.ingestEvents,
		"GET /api/v1/events":                                    s.listEvents,
		"GET /api/v1/events/{id}":                               s.getEvent,
		"GET /api/v1/deliveries":                                s.listDeliveries,
		"GET /api/v1/deliveries/{id}":                           s.getDelivery,
		"POST /api/v1/deliveries/{id}/retry":                    s.retryDelivery,
		"GET /api/v1/event_types":                               s.eventTypes,
		"GET /api/v1/endpoints":                                 s.listEndpoints,
		"GET /api/v1/api_keys":                                  s.listAPIKeys,
		"POST /api/v1/api_keys":                                 s.createAPIKey,
		"DELETE /api/v1/api_keys/{id}":                          s.revokeAPIKey,
		"POST /api/v1/webhook_subscriptions/{id}/test":          s.testSubscription,
		"POST /api/v1/portal_sessions":                          s.createPortalSession,
		"GET /api/v1/portal_sessions/current":                   s.currentPortalSession,
		"DELETE /api/v1/portal_sessions/{id}":                   s.revokePortalSession,
	}
	for pattern, h := range open {
		s.mux.Handle(pattern, s.wrap(h))
		s.patterns = append(s.patterns, pattern)
	}
	for pattern, h := range authed {
		need, ok := routeScopes[pattern]
		if !ok {
			panic("api: route " + pattern + " has no scope in routeScopes")
		}
		s.mux.Handle(pattern, s.wrap(s.authenticate(need, h)))
		s.patterns = append(s.patterns, pattern)
	}
	if len(routeScopes) != len(authed) {
		panic("api: routeScopes names a route that is not served")
	}
	sort.Strings(s.patterns)
	for pattern, h := range extra {
		s.mux.Handle(pattern, h)
	}
}

// wrap turns a handler's returned error into the JSON error response.
func (s *Server) wrap(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) error {
	return errorf(http.StatusNotFound, "not_found", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

type ctxKey struct{}

// authenticate finds the caller (an API key or a portal session), applies
// its rate limit and refuses it outside the route's scope.
func (s *Server) authenticate(need access, next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		token, ok := apikey.FromAuthorization(r.Header.Get("Authorization"))
		if !ok {
			return errorf(http.StatusUnauthorized, "unauthorized", "missing API key: send Authorization: Bearer <key>")
		}
		c, err := s.identify(r.Context(), token)
		if err != nil {
			return err
		}
		if err := s.allow(c.limiterID()); err != nil {
			return err
		}
		if err := need.permits(c); err != nil {
			return err
		}
		return next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, c)))
	}
}

// allow applies the per-key rate limit.
func (s *Server) allow(keyID string) error {
	if s.cfg.RateLimit <= 0 {
		return nil
	}
	s.limitersMu.Lock()
	l := s.limiters[keyID]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.cfg.RateLimit), s.cfg.RateBurst)
		s.limiters[keyID] = l
	}
	s.limitersMu.Unlock()
	res := l.Reserve()
	if delay := res.Delay(); delay > 0 {
		res.Cancel()
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "too many requests for this API key", RetryAfter: max(1, int(delay.Seconds()+0.999))}
	}
	return nil
}

// readBody reads a size-limited body that must be JSON if its type is given.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
		}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

// checkQuery rejects query parameters the route does not know, so a typo in
// a filter is an error rather than an unfiltered answer.
func checkQuery(r *http.Request, known ...string) error {
	for name := range r.URL.Query() {
		found := false
		for _, k := range known {
			found = found || k == name
		}
		if !found {
			return &Error{Status: http.StatusBadRequest, Code: "unknown_parameter", Message: fmt.Sprintf("unknown query parameter %q (known: %s)", name, strings.Join(known, ", ")), Field: name}
		}
	}
	return nil
}

// pageQuery is what a list request asks for besides its filters.
type pageQuery struct {
	limit  int
	after  string
	newest bool
}

// readPage checks that the query holds only limit, after, the route's
// filters and, for lists that can be reversed, order (asc, the default, or
// desc); then it reads the page.
func readPage(r *http.Request, ordered bool, filters ...string) (pageQuery, error) {
	known := append([]string{"limit", "after"}, filters...)
	if ordered {
		known = append(known, "order")
	}
	if err := checkQuery(r, known...); err != nil {
		return pageQuery{}, err
	}
	q := r.URL.Query()
	p := pageQuery{limit: 20, after: q.Get("after")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return p, &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Message: "limit must be a whole number from 1 to 100", Field: "limit"}
		}
		p.limit = n
	}
	switch q.Get("order") {
	case "", "asc":
	case "desc":
		p.newest = true
	default:
		return p, &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Message: `order must be "asc" or "desc"`, Field: "order"}
	}
	return p, nil
}

// list writes one page; the store was asked for limit+1 rows to learn
// whether more follow.
func list[T any](w http.ResponseWriter, rows []T, limit int, id func(T) string, view func(T) any) {
	hasMore := len(rows) > limit
	if hasMore {
		rows = rows[:limit]
	}
	data := make([]any, len(rows))
	for i, row := range rows {
		data[i] = view(row)
	}
	resp := map[string]any{"data": data, "has_more": hasMore}
	if hasMore {
		resp["next_after"] = id(rows[len(rows)-1])
	}
	writeJSON(w, http.StatusOK, resp)
}

func itoa(n int) string { return strconv.Itoa(n) }

func formatBytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

func timePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
