// Package server wires the service together: store, ingest, dispatcher,
// maintenance and the HTTP API, started and stopped as one.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/revdesk/webhooks/internal/api"
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
	PartitionInterval    time.Duration   // PostgreSQL history partitions; 0: maintenance's default
	PartitionsAhead      time.Duration
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
	// SecretsKeys (base64; the first seals) or SecretsKeyFile seal
	// subscription secrets at rest (see sealSecrets).
	SecretsKeys    []string
	SecretsKeyFile string
	// EgressProxy, when set, is the HTTP CONNECT proxy every delivery goes
	// through (netguard.NewProxiedTransport).
	EgressProxy *url.URL
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
			ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			defer cancel()
			s.close(ctx)
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

	// Optional interfaces are looked up before the secrets wrapper hides them.
	s.waker, _ = st.(store.Waker)
	if st, err = sealSecrets(ctx, cfg, st, log); err != nil {
		return nil, err
	}

	policy := netguard.Policy{AllowPrivate: cfg.AllowPrivateNetworks, Allow: cfg.AllowCIDRs}
	client := netguard.NewTransport(policy, cfg.DeliveryTimeout)
	if cfg.EgressProxy != nil {
		if client, err = netguard.NewProxiedTransport(policy, cfg.DeliveryTimeout, cfg.EgressProxy); err != nil {
			return nil, err
		}
	}
	limits := limiter.Config{Max: cfg.MaxPerEndpoint}.WithDefaults()
	// One kept connection per request an endpoint may have in flight, or
	// connections past the idle cap would be redialled after every request.
	client.MaxIdleConnsPerHost = max(client.MaxIdleConnsPerHost, limits.Max)
	userAgent := "RevDesk-Webhooks/" + Version
	m := metrics.New(st)
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
	// Subscriptions with a client certificate get a transport of their own.
	s.disp = delivery.New(st, delivery.NewClientCerts(client), dcfg)
	m.WatchEndpoints(s.disp)
	s.ingest = ingest.New(st, s.disp, s.waker, m)
	retention := &metrics.Retention{}
	m.Register(retention)
	s.maint = &maintenance.Maintainer{Store: st, Owner: s.owner, Interval: cfg.MaintenanceInterval,
		DisableAfter: cfg.DisableAfter, Retention: cfg.Retention, RecoverySchedule: cfg.RecoverySchedule, Logger: log,
		PartitionInterval: cfg.PartitionInterval, PartitionsAhead: cfg.PartitionsAhead, Reporter: retention}

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
		EgressProxy:   cfg.EgressProxy,
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
