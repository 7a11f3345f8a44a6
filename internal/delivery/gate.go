package delivery

import (
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

// The rate gate: deliveries of a subscription with a rate_limit wait here,
// outside the lanes, for their send slot (cfg.Pacer), so they never hold a
// lane, and so another subscription's deliveries to the same endpoint, back.
// A delivery whose slot is further away than maxPaceHold goes back to the
// store, due at its slot: a long backlog then neither sits in memory nor
// outlives its lease.
const maxPaceHold = 5 * time.Second

// paced is a delivery waiting for its slot.
type paced struct {
	q    queued
	lane string
}

// pace reports whether j must wait for its subscription's rate: it is then
// held (and counted in held) until its slot, or queued for release. Caller
// holds mu.
func (d *Dispatcher) pace(j store.Job, leaseUntil time.Time, t target, now time.Time) bool {
	limit := j.Subscription.RateLimit
	if limit <= 0 || j.Deleted {
		return false
	}
	wait, cancel := d.cfg.Pacer.Reserve(j.Subscription.ID, limit, now)
	if wait <= 0 {
		return false
	}
	// The send must still start with enough lease left (see process).
	hold := min(maxPaceHold, leaseUntil.Sub(now)-d.cfg.Timeout-2*time.Second)
	if wait > hold {
		cancel()
		d.queueRelease(releaseReq{ids: []string{j.Delivery.ID}, dueAt: d.paceAhead(j.Subscription, now.Add(wait))})
		return true
	}
	p := &paced{q: queued{job: j, leaseUntil: leaseUntil, url: t.url}, lane: t.lane}
	if d.pacing == nil {
		d.pacing = map[*paced]struct{}{}
	}
	d.pacing[p] = struct{}{}
	d.held++
	time.AfterFunc(wait, func() { d.unpace(p) })
	return true
}

// paceAhead spaces the deliveries a subscription hands back: each is due
// one slot after the one before, so they come back about when they can be
// sent rather than all at once. Caller holds mu.
func (d *Dispatcher) paceAhead(sub *store.Subscription, earliest time.Time) time.Time {
	if d.releasedUntil == nil {
		d.releasedUntil = map[string]time.Time{}
	}
	now := time.Now()
	for id, until := range d.releasedUntil {
		if until.Before(now) {
			delete(d.releasedUntil, id)
		}
	}
	due := d.releasedUntil[sub.ID].Add(time.Duration(float64(time.Second) / sub.RateLimit))
	if due.Before(earliest) {
		due = earliest
	}
	d.releasedUntil[sub.ID] = due
	return due
}

// unpace moves a delivery whose slot has come to its lane.
func (d *Dispatcher) unpace(p *paced) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.pacing[p]; !ok {
		return // drained meanwhile
	}
	delete(d.pacing, p)
	d.held--
	now := time.Now()
	l := d.laneFor(p.lane)
	switch until, paused := d.outlasts(l, p.q.leaseUntil, now); {
	case paused:
		// The endpoint asked us to wait longer than the lease lasts.
		d.queueRelease(releaseReq{ids: []string{p.q.job.Delivery.ID}, dueAt: until})
	case !d.push(l, p.q, now):
		d.queueRelease(releaseReq{ids: []string{p.q.job.Delivery.ID}, dueAt: now.Add(time.Second)})
	}
	d.pump(now)
}

// dropPaced takes every waiting delivery out of the gate and returns their
// ids (draining). Caller holds mu.
func (d *Dispatcher) dropPaced() []string {
	ids := make([]string, 0, len(d.pacing))
	for p := range d.pacing {
		ids = append(ids, p.q.job.Delivery.ID)
	}
	d.held -= len(d.pacing)
	d.pacing = nil
	return ids
}
