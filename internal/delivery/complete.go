package delivery

import (
	"context"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

// maxCompleteBatch is the most outcomes written in one transaction.
const maxCompleteBatch = 512

// complete hands a finished send's outcome to the completion loop. It never
// blocks: a channel would (one ingest handoff may take the dispatcher past
// its capacity), and a send blocked on it would hold up the drain while the
// loop waits for the database.
func (d *Dispatcher) complete(c store.Completion) {
	d.outcomesMu.Lock()
	d.outcomes = append(d.outcomes, c)
	n := len(d.outcomes)
	d.outcomesMu.Unlock()
	if n == 1 || n >= maxCompleteBatch {
		d.signalOutcomes()
	}
}

// takeOutcomes moves up to maxCompleteBatch waiting outcomes into batch.
func (d *Dispatcher) takeOutcomes(batch []store.Completion) ([]store.Completion, int) {
	d.outcomesMu.Lock()
	defer d.outcomesMu.Unlock()
	n := min(len(d.outcomes), maxCompleteBatch-len(batch))
	batch = append(batch, d.outcomes[:n]...)
	clear(d.outcomes[:n]) // the array must not keep written outcomes alive
	d.outcomes = d.outcomes[n:]
	if len(d.outcomes) == 0 {
		d.outcomes = nil
	}
	return batch, len(d.outcomes)
}

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
// into one transaction. Once sendsDone is closed it writes what is left and
// returns.
func (d *Dispatcher) completeLoop(sendsDone <-chan struct{}) {
	batch := make([]store.Completion, 0, maxCompleteBatch)
	write := func() {
		if len(batch) > 0 {
			d.flush(d.abortCtx, batch)
		}
		clear(batch)
		batch = batch[:0]
	}
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		select {
		case <-d.outcomeSignal:
		case <-sendsDone:
			// Sends have finished: every outcome is waiting.
			for {
				batch, _ = d.takeOutcomes(batch)
				if len(batch) == 0 {
					return
				}
				write()
			}
		}
		// Gather a little longer: fewer, larger transactions (on SQLite each
		// is an fsync) at the cost of the log trailing by a few ms.
		linger.Reset(d.cfg.CompleteLinger)
		var waiting int
		batch, waiting = d.takeOutcomes(batch)
	gather:
		for len(batch) < maxCompleteBatch {
			select {
			case <-d.outcomeSignal:
				batch, waiting = d.takeOutcomes(batch)
			case <-linger.C:
				batch, waiting = d.takeOutcomes(batch)
				break gather
			case <-sendsDone:
				break gather
			}
		}
		linger.Stop()
		write()
		if waiting > 0 {
			d.signalOutcomes() // more finished meanwhile: go on with them
		}
	}
}

func (d *Dispatcher) signalOutcomes() {
	select {
	case d.outcomeSignal <- struct{}{}:
	default:
	}
}

// flush writes a batch, retrying while the database is unavailable: the
// outcome of a sent delivery is kept until it is recorded or ctx ends (a
// shutdown past its deadline); it is then left to the lease, and the
// delivery is sent again.
func (d *Dispatcher) flush(ctx context.Context, batch []store.Completion) {
	backoff := 100 * time.Millisecond
	defer d.recorded(len(batch))
	for {
		_, err := d.store.CompleteDeliveries(ctx, store.CompleteParams{Now: time.Now(), Completions: batch,
			FailingAfter: d.cfg.FailingAfter, NoRecoveryReplay: d.cfg.NoRecoveryReplay})
		if err == nil {
			if endsHead(batch) {
				d.Wake() // the next delivery of a key can go now
			}
			return
		}
		if ctx.Err() != nil {
			d.cfg.Logger.Error("gave up recording delivery outcomes; they will be sent again", "count", len(batch), "err", err)
			return
		}
		d.cfg.Logger.Warn("recording delivery outcomes failed", "err", err, "count", len(batch))
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}
