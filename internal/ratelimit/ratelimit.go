// Package ratelimit paces the deliveries of subscriptions that have a
// rate_limit. Each process keeps a token bucket (golang.org/x/time/rate) per
// such subscription, filled at the subscription's rate divided by the number
// of processes that share the database (Peers keeps that number current), so
// the processes together stay within the limit without talking to each other
// per delivery.
package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// idleAfter is how long an unused bucket is kept: past it, it would be full
// again anyway, so a new one is the same.
const idleAfter = time.Minute

// Pacer hands out send slots per subscription.
type Pacer struct {
	share atomic.Int64 // processes sharing each rate, at least 1

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim      *rate.Limiter
	rate     float64 // the subscription's whole-service rate it was set for
	share    int64
	lastUsed time.Time
}

// New returns a Pacer for one process alone.
func New() *Pacer {
	p := &Pacer{buckets: map[string]*bucket{}}
	p.share.Store(1)
	return p
}

// SetShare sets how many processes share each subscription's rate.
func (p *Pacer) SetShare(n int) {
	p.share.Store(int64(max(1, n)))
}

// Share is the number of processes each rate is divided by.
func (p *Pacer) Share() int { return int(p.share.Load()) }

// Reserve takes the next send slot of subscription id, whose limit is
// perSecond for the whole service: it returns how long from now the send
// must wait, and cancel, which gives the slot back (for a delivery that
// will not be sent at it after all).
func (p *Pacer) Reserve(id string, perSecond float64, now time.Time) (wait time.Duration, cancel func()) {
	share := p.share.Load()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	b := p.buckets[id]
	local := rate.Limit(perSecond / float64(share))
	switch {
	case b == nil:
		// Burst 1: sends are spaced evenly, never bunched.
		b = &bucket{lim: rate.NewLimiter(local, 1), rate: perSecond, share: share}
		p.buckets[id] = b
	case b.rate != perSecond || b.share != share:
		b.lim.SetLimitAt(now, local)
		b.rate, b.share = perSecond, share
	}
	b.lastUsed = now
	r := b.lim.ReserveN(now, 1)
	return r.DelayFrom(now), func() { r.CancelAt(time.Now()) }
}

// sweep drops buckets unused for idleAfter, at most once per idleAfter.
// Caller holds mu.
func (p *Pacer) sweep(now time.Time) {
	if now.Sub(p.swept) < idleAfter {
		return
	}
	p.swept = now
	for id, b := range p.buckets {
		if now.Sub(b.lastUsed) > idleAfter {
			delete(p.buckets, id)
		}
	}
}

// Counter counts the live processes sharing the database (the workers that
// renewed their liveness record recently).
type Counter interface {
	LiveWorkers(ctx context.Context, now time.Time) (int, error)
}

// Peers keeps a Pacer's share equal to the number of live processes.
type Peers struct {
	Counter  Counter
	Pacer    *Pacer
	Interval time.Duration // default 2 s
	Logger   *slog.Logger
}

// Run refreshes the share every Interval until ctx ends. A failed count
// keeps the last share: erring on the side of the limit held before.
func (p *Peers) Run(ctx context.Context) error {
	if p.Interval <= 0 {
		p.Interval = 2 * time.Second
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		n, err := p.Counter.LiveWorkers(ctx, time.Now())
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			p.Logger.Warn("counting live processes for rate limits failed", "err", err)
		default:
			p.Pacer.SetShare(n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Collector exposes the share as revdesk_rate_limit_share.
func (p *Pacer) Collector() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "revdesk_rate_limit_share",
		Help: "Processes each subscription's rate_limit is divided between (this process sends at most rate_limit / share).",
	}, func() float64 { return float64(p.Share()) })
}
