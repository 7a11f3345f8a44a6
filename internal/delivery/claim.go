package delivery

import (
	"context"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

func (d *Dispatcher) claimLoop(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	backoff := d.cfg.PollInterval
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
		full, err := d.claim(ctx)
		wait := d.cfg.PollInterval
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			d.cfg.Logger.Warn("claiming deliveries failed", "err", err, "retry_in", backoff)
			wait, backoff = backoff, min(backoff*2, 30*time.Second)
		case full:
			wait, backoff = 0, d.cfg.PollInterval // more is waiting
		default:
			backoff = d.cfg.PollInterval
		}
		timer.Reset(wait)
	}
}

// claimThreshold is the least room worth a claim query.
func (d *Dispatcher) claimThreshold() int {
	return max(1, min(d.cfg.ClaimBatch, d.cfg.Capacity)/4)
}

// claim leases as much due work as there is room for; it reports whether it
// got all it asked for and could take some of it.
func (d *Dispatcher) claim(ctx context.Context) (bool, error) {
	d.mu.Lock()
	room := d.cfg.Capacity - d.held
	d.mu.Unlock()
	if room < d.claimThreshold() {
		return false, nil // a finishing send wakes us when room returns
	}
	limit := min(room, d.cfg.ClaimBatch)
	now := time.Now()
	leaseUntil := now.Add(d.cfg.Lease)
	jobs, err := d.store.ClaimDeliveries(ctx, store.ClaimParams{Owner: d.cfg.Owner, Now: now, LeaseUntil: leaseUntil, Limit: limit})
	if err != nil {
		return false, err
	}
	// Claimed work that all went back (its endpoints' queues are full) is
	// no reason to claim again at once: the backlog behind it is most
	// likely for the same endpoints.
	taken := d.enqueue(jobs, leaseUntil)
	return len(jobs) == limit && taken > 0, nil
}
