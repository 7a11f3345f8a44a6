package delivery

import (
	"net/url"
	"strings"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

// lane holds one endpoint's queued deliveries. Its in-flight limit halves on
// failure and grows back on success, so a dead endpoint soon holds one slot.
type lane struct {
	key      string
	queue    []queued
	inFlight int
	limit    int
	isReady  bool
}

type queued struct {
	job        store.Job
	leaseUntil time.Time
	url        *url.URL // parsed job.Subscription.WebhookURL; nil if it does not parse
}

// target is a webhook URL parsed once: parsing costs more than building
// the rest of a request, and a few URLs take most deliveries.
type target struct {
	url  *url.URL
	lane string
}

// maxTargets bounds the parsed URLs kept; past it the cache starts over.
const maxTargets = 10000

// target returns the parsed form of a webhook URL. Caller holds mu.
func (d *Dispatcher) target(raw string) target {
	if t, ok := d.targets[raw]; ok {
		return t
	}
	if len(d.targets) >= maxTargets {
		clear(d.targets)
	}
	t := target{lane: raw}
	if u, err := url.Parse(raw); err == nil {
		t = target{url: u, lane: laneKey(u)}
	}
	d.targets[raw] = t
	return t
}

// laneKey is scheme://host:port of a webhook URL.
func laneKey(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + host + ":" + port
}

// laneFor returns the lane of an endpoint, made on first use. Caller holds mu.
func (d *Dispatcher) laneFor(key string) *lane {
	l := d.lanes[key]
	if l == nil {
		l = &lane{key: key, limit: d.cfg.PerEndpoint}
		d.lanes[key] = l
	}
	return l
}

// push queues a delivery on its lane, or reports false when the lane is
// full. Caller holds mu.
func (d *Dispatcher) push(l *lane, q queued) bool {
	if len(l.queue) >= d.cfg.LaneCapacity {
		return false
	}
	l.queue = append(l.queue, q)
	if len(l.queue) == d.cfg.LaneCapacity {
		d.fullLanes++
	}
	d.held++
	d.markReady(l)
	return true
}

// markReady puts a lane in the turn order if it can send. Caller holds mu.
func (d *Dispatcher) markReady(l *lane) {
	if !l.isReady && len(l.queue) > 0 && l.inFlight < l.limit {
		l.isReady = true
		d.ready = append(d.ready, l)
	}
}

// pump starts sends, one lane at a time in turn, while slots are free.
// Caller holds mu.
func (d *Dispatcher) pump() {
	for d.inFlight < d.cfg.MaxInFlight && len(d.ready) > 0 {
		l := d.ready[0]
		d.ready = d.ready[1:]
		l.isReady = false
		if len(l.queue) == d.cfg.LaneCapacity {
			d.fullLanes--
		}
		q := l.queue[0]
		l.queue[0] = queued{} // the backing array must not keep the job alive
		l.queue = l.queue[1:]
		l.inFlight++
		d.inFlight++
		d.markReady(l)
		d.sends.Add(1)
		go d.send(l, q)
	}
	if len(d.ready) == 0 {
		d.ready = nil // let the backing array go
	}
}

// dropQueued takes every queued delivery out of the lanes and returns their
// ids (draining). Caller holds mu.
func (d *Dispatcher) dropQueued() []string {
	var ids []string
	for _, l := range d.lanes {
		for _, q := range l.queue {
			ids = append(ids, q.job.Delivery.ID)
		}
		d.held -= len(l.queue)
		l.queue = nil
	}
	d.ready = nil
	d.fullLanes = 0
	return ids
}

func (d *Dispatcher) send(l *lane, q queued) {
	defer d.sends.Done()
	c, ok := d.process(q)
	d.mu.Lock()
	l.inFlight--
	d.inFlight--
	if !ok {
		d.held--
	}
	if ok {
		if c.Status == store.DeliveryPending || c.Status == store.DeliveryFailed {
			l.limit = max(1, l.limit/2)
		} else {
			l.limit = min(d.cfg.PerEndpoint, l.limit+1)
		}
	}
	d.markReady(l)
	if len(l.queue) == 0 && l.inFlight == 0 {
		delete(d.lanes, l.key)
	}
	d.pump()
	d.mu.Unlock()
	if ok {
		// The delivery stays counted in held until its outcome is written,
		// so outcomes that the database cannot take fast enough hold back
		// new work (no claims, no handoffs) instead of piling up here.
		d.complete(c)
	}
}
