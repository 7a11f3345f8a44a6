// Package liveness keeps this process's record among the processes sharing
// a database: it renews the record every second or so, and hands back the
// deliveries leased to processes whose record ran out (they died), so their
// work is sent within seconds instead of when its leases end.
package liveness

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Store is what the heartbeat needs of the database (store.Workers).
type Store interface {
	RenewWorker(ctx context.Context, owner string, until time.Time) (bool, error)
	ReapWorkers(ctx context.Context, now time.Time) (int, error)
	RetireWorker(ctx context.Context, owner string) (int, error)
}

// Config tunes a Heartbeat. Zero values take the defaults noted.
type Config struct {
	Owner string        // lease owner name of this process (required)
	TTL   time.Duration // how long a record holds without renewal; default 5 s
	// Interval between renewals (and looks for dead processes); default TTL/5.
	Interval time.Duration
	// TookOver is told how many deliveries of dead processes were handed
	// back, to wake this process's claimer (and others').
	TookOver func(n int)
	Logger   *slog.Logger
}

// Heartbeat renews this process's record while Run runs.
type Heartbeat struct {
	store Store
	cfg   Config
	until atomic.Int64 // unix ns of the end of the last record written
}

// New makes a heartbeat; Run starts it.
func New(st Store, cfg Config) *Heartbeat {
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = cfg.TTL / 5
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Heartbeat{store: st, cfg: cfg}
}

// Alive reports whether the record is current: renewed recently enough that
// it holds for at least half its TTL more. Short of that, renewals are
// failing, and other processes may soon take this one's leases over.
func (h *Heartbeat) Alive() bool {
	return time.Until(time.Unix(0, h.until.Load())) > h.cfg.TTL/2
}

// Register writes the first record, so that Alive holds from the start.
func (h *Heartbeat) Register(ctx context.Context) error {
	return h.renew(ctx, true)
}

// Run renews the record and hands back dead processes' deliveries every
// Interval until ctx ends. The record is left as it is: Retire ends it.
func (h *Heartbeat) Run(ctx context.Context) error {
	t := time.NewTicker(h.cfg.Interval)
	defer t.Stop()
	for {
		h.beat(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (h *Heartbeat) beat(ctx context.Context) {
	// Bounded by the interval, so one hung call cannot delay the next.
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Interval)
	defer cancel()
	if err := h.renew(ctx, false); err != nil {
		h.cfg.Logger.Warn("renewing this process's record failed", "err", err, "owner", h.cfg.Owner)
	}
	n, err := h.store.ReapWorkers(ctx, time.Now())
	if err != nil {
		h.cfg.Logger.Warn("looking for stopped processes failed", "err", err)
		return
	}
	if n > 0 {
		h.cfg.Logger.Info("took over deliveries of a stopped process", "count", n)
		if h.cfg.TookOver != nil {
			h.cfg.TookOver(n)
		}
	}
}

func (h *Heartbeat) renew(ctx context.Context, first bool) error {
	until := time.Now().Add(h.cfg.TTL)
	continued, err := h.store.RenewWorker(ctx, h.cfg.Owner, until)
	if err != nil {
		return err
	}
	if !continued && !first {
		// A pause longer than the TTL: others took this process's leases.
		// What it still holds in memory may be sent twice (at-least-once).
		h.cfg.Logger.Warn("this process's record had run out; its leases were taken over", "owner", h.cfg.Owner)
	}
	h.until.Store(until.UnixNano())
	return nil
}

// Retire ends the record and hands back every delivery still leased to this
// process (call it once the dispatcher has stopped).
func (h *Heartbeat) Retire(ctx context.Context) error {
	h.until.Store(0)
	n, err := h.store.RetireWorker(ctx, h.cfg.Owner)
	if n > 0 {
		h.cfg.Logger.Info("handed back deliveries still leased", "count", n)
	}
	return err
}
