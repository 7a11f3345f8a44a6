package delivery

import (
	"context"
	"time"
)

// releaseReq is deliveries to hand back to the store, due at dueAt.
type releaseReq struct {
	ids   []string
	dueAt time.Time
}

// queueRelease hands deliveries to the release loop without waiting for it,
// so whoever found them (ingest's goroutine, the claimer) never blocks on
// the database. Caller holds mu.
func (d *Dispatcher) queueRelease(r releaseReq) {
	d.releases = append(d.releases, r)
	select {
	case d.releaseSignal <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) releaseLoop(ctx context.Context) {
	for {
		select {
		case <-d.releaseSignal:
			d.releaseQueued()
		case <-ctx.Done():
			d.releaseQueued()
			return
		}
	}
}

// releaseQueued writes every queued release.
func (d *Dispatcher) releaseQueued() {
	d.mu.Lock()
	reqs := d.releases
	d.releases = nil
	d.mu.Unlock()
	for _, r := range reqs {
		d.release(r)
	}
}

func (d *Dispatcher) release(r releaseReq) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.store.ReleaseDeliveries(ctx, d.cfg.Owner, r.ids, r.dueAt); err != nil {
		d.cfg.Logger.Warn("handing deliveries back failed; their lease will expire", "err", err, "count", len(r.ids))
	}
}
