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

// releaseLoop writes queued releases; once sendsDone is closed it writes
// what is left and returns. Deliveries queued after that are left to the
// lease (or to the server's retiring of this owner).
func (d *Dispatcher) releaseLoop(sendsDone <-chan struct{}) {
	for {
		select {
		case <-d.releaseSignal:
			d.releaseQueued()
		case <-sendsDone:
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
	// Bounded on its own too: one hung call must not hold back later ones.
	ctx, cancel := context.WithTimeout(d.abortCtx, 10*time.Second)
	defer cancel()
	if err := d.store.ReleaseDeliveries(ctx, d.cfg.Owner, r.ids, r.dueAt); err != nil {
		d.cfg.Logger.Warn("handing deliveries back failed; their lease will expire", "err", err, "count", len(r.ids))
	}
}
