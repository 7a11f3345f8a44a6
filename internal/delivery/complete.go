package delivery

import (
	"context"
	"errors"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

// recorded frees the room of n deliveries whose outcome was written (or
// given up), and wakes the claimer when that brings room back.
func (d *Dispatcher) recorded(n int) {
	d.mu.Lock()
	before := d.cfg.Capacity - d.held
	d.held -= n
	after := d.cfg.Capacity - d.held
	d.mu.Unlock()
	if before < d.claimThreshold() && after >= d.claimThreshold() {
		d.Wake()
	}
}

// completeLoop records finished sends in batches: what finishes within
// CompleteLinger of the first, or while the previous batch is written, goes
// into one transaction.
func (d *Dispatcher) completeLoop(ctx context.Context) {
	const maxBatch = 512
	batch := make([]store.Completion, 0, maxBatch)
	for {
		select {
		case c := <-d.completed:
			batch = append(batch, c)
		case <-ctx.Done():
			// Drain: sends have finished, so everything is in the channel.
			for {
				select {
				case c := <-d.completed:
					batch = append(batch, c)
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				d.flush(context.Background(), batch, 5)
			}
			return
		}
		// Gather a little longer: fewer, larger transactions (on SQLite each
		// is an fsync) at the cost of the log trailing by a few ms.
		linger := time.After(d.cfg.CompleteLinger)
	gather:
		for len(batch) < maxBatch {
			select {
			case c := <-d.completed:
				batch = append(batch, c)
			case <-linger:
				break gather
			case <-ctx.Done():
				break gather
			}
		}
		d.flush(ctx, batch, 0)
		batch = batch[:0]
	}
}

// flush writes a batch, retrying while the database is unavailable: the
// outcome of a sent delivery is kept until it is recorded or, with tries
// exhausted at shutdown, left to the lease (the delivery is sent again).
func (d *Dispatcher) flush(ctx context.Context, batch []store.Completion, tries int) {
	backoff := 100 * time.Millisecond
	defer d.recorded(len(batch))
	for i := 0; tries == 0 || i < tries; i++ {
		_, err := d.store.CompleteDeliveries(context.WithoutCancel(ctx), store.CompleteParams{Now: time.Now(), Completions: batch})
		if err == nil {
			return
		}
		d.cfg.Logger.Warn("recording delivery outcomes failed", "err", err, "count", len(batch))
		if errors.Is(ctx.Err(), context.Canceled) && tries == 0 {
			tries = i + 5 // shutting down: a few more tries, then give up
		}
		time.Sleep(backoff)
		backoff = min(backoff*2, 5*time.Second)
	}
	d.cfg.Logger.Error("gave up recording delivery outcomes; they will be sent again after their lease", "count", len(batch))
}
