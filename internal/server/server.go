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
	"github.com/revdesk/webhooks/internal/delivery"
	"github.com/revdesk/webhooks/internal/ingest"
	"github.com/revdesk/webhooks/internal/metrics"
	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/openapi"
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
	MaxInFlight          int
	PerEndpoint          int
	APIKey               string // bootstrap key for the default workspace
	ShutdownTimeout      time.Duration
	// Extra routes mounted beside the API (dashboard, OpenAPI).
	Extra map[string]http.Handler
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
	ws, err := st.CreateWorkspace(ctx, store.CreateWorkspaceParams{Name: name, Now: time.Now()})
	if err != nil {
		return store.Workspace{}, "", err
	}
	key := api.NewKey()
	id, hash := api.KeyID(key)
	if _, err := st.CreateAPIKey(ctx, store.CreateAPIKeyParams{ID: id, WorkspaceID: ws.ID, Hash: hash, Now: time.Now()}); err != nil {
		return store.Workspace{}, "", err
	}
	return ws, key, nil
}

// bootstrap makes REVDESK_API_KEY valid for the default workspace, or on an
// empty database creates that workspace and prints a fresh key once.
func bootstrap(ctx context.Context, st store.Store, key string, log *slog.Logger) error {
	if key != "" {
		ws, err := st.EnsureWorkspace(ctx, store.CreateWorkspaceParams{Name: DefaultWorkspace, Now: time.Now()})
		if err != nil {
			return err
		}
		id, hash := api.KeyID(key)
		existing, err := st.GetAPIKey(ctx, id)
		switch {
		case err == nil && existing.WorkspaceID != ws.ID:
			return errors.New("REVDESK_API_KEY belongs to another workspace")
		case err == nil:
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		_, err = st.CreateAPIKey(ctx, store.CreateAPIKeyParams{ID: id, WorkspaceID: ws.ID, Hash: hash, Now: time.Now()})
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

// Run serves until ctx ends, then shuts down in order: the HTTP server stops
// taking requests, ingest commits what it holds, the dispatcher finishes
// sends in flight and hands queued work back, and the store closes.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	// Tracing (on only when OTEL_EXPORTER_OTLP_ENDPOINT or …_TRACES_ENDPOINT
	// is set). Deferred first so it runs last: spans of the final sends and
	// requests are flushed after everything else has stopped.
	shutdownTracing, err := telemetry.Setup(ctx, Version)
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	defer func() {
		// Bounded, so an unreachable collector cannot hold up the exit.
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdownTracing(flushCtx); err != nil {
			log.Warn("flushing traces", "err", err)
		}
	}()
	st, err := OpenStore(ctx, cfg.DB)
	if err != nil {
		return fmt.Errorf("opening database: %w", err)
	}
	defer st.Close()
	if err := bootstrap(ctx, st, cfg.APIKey, log); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if r, ok := st.(store.SingleProcess); ok {
		n, err := r.ReleaseAllLeases(ctx)
		if err != nil {
			return fmt.Errorf("releasing leases of a previous run: %w", err)
		}
		if n > 0 {
			log.Info("took back deliveries leased by a previous run", "count", n)
		}
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}

	policy := netguard.Policy{AllowPrivate: cfg.AllowPrivateNetworks, Allow: cfg.AllowCIDRs}
	client := netguard.NewTransport(policy, cfg.DeliveryTimeout)
	userAgent := "RevDesk-Webhooks/" + Version
	owner := ownerName()
	m := metrics.New(st)
	disp := delivery.New(st, client, delivery.Config{
		Owner:         owner,
		RetrySchedule: cfg.RetrySchedule,
		Timeout:       cfg.DeliveryTimeout,
		Lease:         cfg.Lease,
		MaxInFlight:   cfg.MaxInFlight,
		PerEndpoint:   cfg.PerEndpoint,
		UserAgent:     userAgent,
		Logger:        log,
		Observer:      m,
	})
	waker, _ := st.(store.Waker)
	in := ingest.New(st, disp, waker, m)
	maint := &delivery.Maintainer{Store: st, Owner: owner, Interval: cfg.MaintenanceInterval,
		DisableAfter: cfg.DisableAfter, Retention: cfg.Retention, Logger: log}

	extra := map[string]http.Handler{"GET /metrics": m.Handler(), "GET /openapi.json": openapi.Handler()}
	for k, v := range cfg.Extra {
		extra[k] = v
	}
	handler := api.New(api.Deps{Store: st, Ingest: in, Wake: disp.Wake, Logger: log, Extra: extra}, api.Config{
		AllowHTTP:     cfg.AllowHTTP,
		Policy:        policy,
		MaxBody:       cfg.MaxBody,
		MaxIngestBody: cfg.MaxIngestBody,
		RateLimit:     cfg.RateLimit,
		UserAgent:     userAgent,
	})
	// Tracing: the server span wraps the request log too, so it covers it all.
	srv := &http.Server{Handler: telemetry.HTTPHandler(requestLog(handler, log)), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", ln.Addr().String(), "db", redactDB(cfg.DB), "owner", owner)

	// Each stage has its own context so shutdown can go in order.
	ingestCtx, stopIngest := context.WithCancel(context.Background())
	dispCtx, stopDisp := context.WithCancel(context.Background())
	maintCtx, stopMaint := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	run := func(name string, f func(context.Context) error, c context.Context) <-chan struct{} {
		done := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done)
			if err := f(c); err != nil {
				log.Error("background work stopped", "name", name, "err", err)
			}
		}()
		return done
	}
	ingestDone := run("ingest", in.Run, ingestCtx)
	run("dispatcher", disp.Run, dispCtx)
	run("maintenance", maint.Run, maintCtx)
	if waker != nil {
		run("listener", func(c context.Context) error { return waker.Listen(c, disp.Wake) }, dispCtx)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-serveErr:
		log.Error("http server failed", "err", err)
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	// Ingest finishes its commits (and hands them off) before the dispatcher
	// starts draining.
	stopIngest()
	<-ingestDone
	stopMaint()
	stopDisp()
	wg.Wait()
	log.Info("stopped")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
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
