package server

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/revdesk/webhooks/internal/ratelimit"
)

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
