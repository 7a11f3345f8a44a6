// Package server wires the service together: store, ingest, dispatcher,
// maintenance and the HTTP API, started and stopped as one.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/revdesk/webhooks/internal/api"
	"github.com/revdesk/webhooks/internal/apikey"
	"github.com/revdesk/webhooks/internal/delivery"
	"github.com/revdesk/webhooks/internal/ingest"
	"github.com/revdesk/webhooks/internal/limiter"
	"github.com/revdesk/webhooks/internal/liveness"
	"github.com/revdesk/webhooks/internal/maintenance"
	"github.com/revdesk/webhooks/internal/metrics"
	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/openapi"
	"github.com/revdesk/webhooks/internal/opevents"
	"github.com/revdesk/webhooks/internal/ratelimit"
	"github.com/revdesk/webhooks/internal/store"
	"github.com/revdesk/webhooks/internal/store/postgres"
	"github.com/revdesk/webhooks/internal/store/sqlite"
	"github.com/revdesk/webhooks/internal/telemetry"
)

// Version is reported in the User-Agent of deliveries.
var Version = "0.1.0"

// DefaultWorkspace is the workspace REVDESK_API_KEY and first start use.
const DefaultWorkspace = "default"

// Config is everything `revdesk serve` can be told.
type Config struct {
	Addr                 string
	DB                   string
	AllowHTTP            bool
	AllowPrivateNetworks bool
	AllowCIDRs           []netip.Prefix
	RetrySchedule        []time.Duration
	DeliveryTimeout      time.Duration
	Lease                time.Duration
	MaxBody              int64
	MaxIngestBody        int64
	RateLimit            float64
	DisableAfter         time.Duration
	Retention            time.Duration
	MaintenanceInterval  time.Duration
	FailingAfter         int             // streak that makes subscription_failing; 0 never
	RecoverySchedule     []time.Duration // delays between recovery probes
	NoRecoveryReplay     bool            // recovery does not replay what was missed
	MaxInFlight          int
	MaxPerEndpoint       int
	APIKey               string // bootstrap key for the default workspace
	PublicURL            string // base of portal links; "" uses the request's host
	// ShutdownTimeout bounds the whole stop sequence (HTTP, ingest,
	// dispatcher, handing work back); what is left then is left to the
	// leases, or to this owner's record running out.
	ShutdownTimeout time.Duration
	// HTTP limits of the API server: a client slower than these is cut off.
	ReadHeaderTimeout time.Duration // request line and headers
	ReadTimeout       time.Duration // the whole request, body included
	IdleTimeout       time.Duration // a kept-alive connection between requests
	MaxHeaderBytes    int           // request line and headers; 431 beyond
	// LivenessTTL is how long this process's record holds without renewal
	// (multi-process databases): a killed process's deliveries are taken
	// over about this long after it died.
	LivenessTTL time.Duration
	// Extra routes mounted beside the API (dashboard, OpenAPI).
	Extra map[string]http.Handler
}

// Defaults of Config, also the flags' defaults.
const (
	DefaultShutdownTimeout   = 15 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultLivenessTTL       = 5 * time.Second
)

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.ShutdownTimeout, DefaultShutdownTimeout)
	set(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	set(&c.ReadTimeout, DefaultReadTimeout)
	set(&c.IdleTimeout, DefaultIdleTimeout)
	set(&c.LivenessTTL, DefaultLivenessTTL)
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
}

// OpenStore opens the database named by a URL: sqlite:PATH (or a bare path)
// or postgres://….
func OpenStore(ctx context.Context, dbURL string) (store.Store, error) {
	switch {
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		return postgres.Open(ctx, dbURL)
	case strings.HasPrefix(dbURL, "sqlite:"):
		return sqlite.Open(ctx, strings.TrimPrefix(dbURL, "sqlite:"))
	case strings.Contains(dbURL, "://"):
		return nil, fmt.Errorf("unsupported database URL %q: use sqlite:PATH or postgres://…", dbURL)
	default:
		return sqlite.Open(ctx, dbURL)
	}
}

// CreateWorkspace makes a workspace with a fresh API key.
func CreateWorkspace(ctx context.Context, st store.Store, name string) (store.Workspace, string, error) {
	ws, err := st.CreateWorkspace(ctx, store.CreateWorkspaceParams{Name: name})
	if err != nil {
		return store.Workspace{}, "", err
	}
	key := apikey.New()
	id, hash := apikey.Hash(key)
	if _, err := st.CreateAPIKey(ctx, store.CreateAPIKeyParams{ID: id, WorkspaceID: ws.ID, Hash: hash, Scopes: api.AllScopes}); err != nil {
		return store.Workspace{}, "", err
	}
	return ws, key, nil
}

// bootstrap makes REVDESK_API_KEY valid for the default workspace, or on an
// empty database creates that workspace and prints a fresh key once.
func bootstrap(ctx context.Context, st store.Store, key string, log *slog.Logger) error {
	if key != "" {
		ws, err := st.EnsureWorkspace(ctx, DefaultWorkspace)
		if err != nil {
			return err
		}
		id, hash := apikey.Hash(key)
		existing, err := st.GetAPIKey(ctx, id)
		switch {
		case err == nil && existing.WorkspaceID != ws.ID:
			return errors.New("REVDESK_API_KEY belongs to another workspace")
		case err == nil:
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		_, err = st.CreateAPIKey(ctx, store.CreateAPIKeyParams{ID: id, WorkspaceID: ws.ID, Hash: hash, Scopes: api.AllScopes})
		if errors.Is(err, store.ErrConflict) {
			return nil // another process registered it first
		}
		return err
	}
	n, err := st.CountWorkspaces(ctx)
	if err != nil || n > 0 {
		return err
	}
	ws, newKey, err := CreateWorkspace(ctx, st, DefaultWorkspace)
	if err != nil {
		return err
	}
	// Printed, not logged: it is shown once, to the person starting the server.
	fmt.Fprintf(os.Stderr, "\nCreated workspace %s with API key (shown once):\n\n    %s\n\n", ws.ID, newKey)
	log.Info("created default workspace", "workspace_id", ws.ID)
	return nil
}

// Service is the wired service: store, ingest, dispatcher, maintenance,
// liveness and the HTTP API, listening but not yet serving. Run serves it.
type Service struct {
	cfg   Config
	log   *slog.Logger
	owner string

	store    store.Store
	waker    store.Waker // nil on a single-process store
	disp     *delivery.Dispatcher
	ingest   *ingest.Service
	maint    *maintenance.Maintainer
	liveness *liveness.Heartbeat // nil on a single-process store
	pacer    *ratelimit.Pacer
	http     *http.Server
	ln       net.Listener

	shutdownTracing func(context.Context) error
}

// Run builds the service and serves it until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	s, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// New opens the database (migrating it), makes sure an API key exists,
// wires the parts together and opens the listener.
func New(ctx context.Context, cfg Config, log *slog.Logger) (_ *Service, err error) {
	cfg.defaults()
	s := &Service{cfg: cfg, log: log, owner: ownerName()}
	// Whatever was opened is closed again if a later step fails.
	defer func() {
		if err != nil {
			s.close(context.Background())
		}
	}()
	// Tracing (on only when OTEL_EXPORTER_OTLP_ENDPOINT or …_TRACES_ENDPOINT
	// is set), flushed last: spans of the final sends and requests too.
	if s.shutdownTracing, err = telemetry.Setup(ctx, Version); err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	if s.store, err = OpenStore(ctx, cfg.DB); err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	st := s.store
	// Operational events are written with their facts, by the store.
	st.OnFacts(opevents.Events)
	if err := bootstrap(ctx, st, cfg.APIKey, log); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	single, isSingle := st.(store.SingleProcess)
	if isSingle {
		n, err := single.ReleaseAllLeases(ctx)
		if err != nil {
			return nil, fmt.Errorf("releasing leases of a previous run: %w", err)
		}
		if n > 0 {
			log.Info("took back deliveries leased by a previous run", "count", n)
		}
	}

	policy := netguard.Policy{AllowPrivate: cfg.AllowPrivateNetworks, Allow: cfg.AllowCIDRs}
	client := netguard.NewTransport(policy, cfg.DeliveryTimeout)
	limits := limiter.Config{Max: cfg.MaxPerEndpoint}.WithDefaults()
	// One kept connection per request an endpoint may have in flight, or
	// connections past the idle cap would be redialled after every request.
	client.MaxIdleConnsPerHost = max(client.MaxIdleConnsPerHost, limits.Max)
	userAgent := "RevDesk-Webhooks/" + Version
	m := metrics.New(st)
	s.waker, _ = st.(store.Waker)
	s.pacer = ratelimit.New()
	m.Register(s.pacer.Collector())
	dcfg := delivery.Config{
		Pacer:         s.pacer,
		Owner:         s.owner,
		RetrySchedule: cfg.RetrySchedule,
		Timeout:       cfg.DeliveryTimeout,
		Lease:         cfg.Lease,
		MaxInFlight:   cfg.MaxInFlight,
		Limits:        limits,
		UserAgent:     userAgent,
		Logger:        log,
		Observer:      m,

		FailingAfter:     cfg.FailingAfter,
		NoRecoveryReplay: cfg.NoRecoveryReplay,
	}
	if !isSingle {
		// Several processes may share the database: each keeps a record
		// so that the others take over its work soon after it dies.
		s.liveness = liveness.New(st, liveness.Config{Owner: s.owner, TTL: cfg.LivenessTTL, Logger: log,
			TookOver: func(int) { s.wakeAll() }})
		dcfg.Liveness = s.liveness
		if err := s.liveness.Register(ctx); err != nil {
			return nil, fmt.Errorf("registering this process: %w", err)
		}
	}
	s.disp = delivery.New(st, client, dcfg)
	m.WatchEndpoints(s.disp)
	s.ingest = ingest.New(st, s.disp, s.waker, m)
	s.maint = &maintenance.Maintainer{Store: st, Owner: s.owner, Interval: cfg.MaintenanceInterval,
		DisableAfter: cfg.DisableAfter, Retention: cfg.Retention, RecoverySchedule: cfg.RecoverySchedule,
		Logger: log}

	extra := map[string]http.Handler{"GET /metrics": m.Handler(), "GET /openapi.json": openapi.Handler()}
	for k, v := range cfg.Extra {
		extra[k] = v
	}
	handler := api.New(api.Deps{Store: st, Ingest: s.ingest, Wake: s.disp.Wake, Endpoints: s.disp, Logger: log, Extra: extra}, api.Config{
		AllowHTTP:     cfg.AllowHTTP,
		Policy:        policy,
		MaxBody:       cfg.MaxBody,
		MaxIngestBody: cfg.MaxIngestBody,
		RateLimit:     cfg.RateLimit,
		UserAgent:     userAgent,
		PublicURL:     cfg.PublicURL,
	})
	s.http = &http.Server{
		// Tracing: the server span wraps the request log too, so it covers it all.
		Handler:           telemetry.HTTPHandler(requestLog(handler, log)),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, err
	}
	return s, nil
}

// Addr is the address the service listens on.
func (s *Service) Addr() string { return s.ln.Addr().String() }

// wakeAll makes this process and, through the database, the others look
// for due work now.
func (s *Service) wakeAll() {
	s.disp.Wake()
	if s.waker != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.waker.Notify(ctx) // best effort: the others also poll
	}
}

// Run serves until ctx ends (or the HTTP server fails), then stops in
// order within ShutdownTimeout: the HTTP server stops taking requests and
// answers those it has, ingest commits what it holds, the dispatcher hands
// queued work back and lets sends in flight finish and be recorded, the
// owner's remaining leases are handed back and the store closes. Past the
// deadline each step is cut short: requests not answered fail (none was
// acknowledged), and deliveries not handed back are left to their leases or
// to this owner's record running out.
func (s *Service) Run(ctx context.Context) error {
	log := s.log
	log.Info("listening", "addr", s.Addr(), "db", redactDB(s.cfg.DB), "owner", s.owner)

	// Each stage has its own context so shutdown can go in order.
	ingestCtx, stopIngest := context.WithCancel(context.Background())
	bgCtx, stopBackground := context.WithCancel(context.Background())
	defer stopIngest()
	defer stopBackground()
	var wg sync.WaitGroup
	run := func(name string, f func(context.Context) error, c context.Context) <-chan struct{} {
		done := make(chan struct{})
		wg.Go(func() {
			defer close(done)
			if err := f(c); err != nil {
				log.Error("background work stopped", "name", name, "err", err)
			}
		})
		return done
	}
	ingestDone := run("ingest", s.ingest.Run, ingestCtx)
	dispDone := run("dispatcher", s.disp.Run, bgCtx)
	run("maintenance", s.maint.Run, bgCtx)
	if s.liveness != nil {
		run("liveness", s.liveness.Run, bgCtx)
	}
	if c, ok := s.store.(ratelimit.Counter); ok {
		// Rate limits hold for the whole service: each process takes its share.
		run("rate limit share", (&ratelimit.Peers{Counter: c, Pacer: s.pacer, Logger: s.log}).Run, bgCtx)
	}
	if s.waker != nil {
		run("listener", func(c context.Context) error { return s.waker.Listen(c, s.disp.Wake) }, bgCtx)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(s.ln) }()
	var err error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "deadline", s.cfg.ShutdownTimeout)
	case err = <-serveErr:
		log.Error("http server failed", "err", err)
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(stopCtx); err != nil {
		log.Warn("http shutdown cut short", "err", err)
		s.http.Close() // handlers still waiting end with ingest below
	}
	// Ingest finishes its commits (and hands them off) before the dispatcher
	// starts draining; its context ends only now, as that aborts a commit.
	stopIngest()
	waitUntil(stopCtx, ingestDone)
	if err := s.disp.Shutdown(stopCtx); err != nil {
		log.Warn("delivery drain cut short; what is left goes back with this owner's leases", "err", err)
	}
	waitUntil(stopCtx, dispDone)
	stopBackground()
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	waitUntil(stopCtx, allDone)
	s.close(stopCtx)
	if stopCtx.Err() != nil {
		log.Warn("stopped at the shutdown deadline", "deadline", s.cfg.ShutdownTimeout)
	} else {
		log.Info("stopped")
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// close hands back what is still leased to this owner, closes the store and
// flushes traces, each only as long as ctx allows.
func (s *Service) close(ctx context.Context) {
	if s.store != nil {
		if s.disp != nil {
			s.retire(ctx)
		}
		closed := make(chan struct{})
		go func() { s.store.Close(); close(closed) }()
		waitUntil(ctx, closed)
	}
	if s.shutdownTracing != nil {
		if err := s.shutdownTracing(ctx); err != nil {
			s.log.Warn("flushing traces", "err", err)
		}
	}
}

// retire ends this owner's record and hands back its remaining leases (on a
// single-process store, its next start would too).
func (s *Service) retire(ctx context.Context) {
	var err error
	if s.liveness != nil {
		err = s.liveness.Retire(ctx)
	} else {
		_, err = s.store.RetireWorker(ctx, s.owner)
	}
	if err != nil {
		s.log.Warn("handing back the last leases failed; they wait for their lease or this owner's record to end", "err", err)
	}
}

// waitUntil waits for done, or for ctx to end.
func waitUntil(ctx context.Context, done <-chan struct{}) {
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// ownerName identifies this process in leases: host, pid and a random part
// so a restarted process with the same pid is a new owner.
func ownerName() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// redactDB hides a password in a database URL for logs.
func redactDB(db string) string {
	if i := strings.Index(db, "://"); i >= 0 {
		if at := strings.LastIndex(db, "@"); at > i {
			if colon := strings.Index(db[i+3:at], ":"); colon >= 0 {
				return db[:i+3+colon] + ":***" + db[at:]
			}
		}
	}
	return db
}
