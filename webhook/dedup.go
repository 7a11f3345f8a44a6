package webhook

import (
	"container/list"
	"sync"
	"time"
)

// Deduplicator remembers delivery ids (X-revdesk-Delivery-Id, the same on
// every attempt) for a while, in bounded memory: delivery is at-least-once,
// so a receiver may see an attempt again after answering it, e.g. when its
// 2xx was lost. It is safe for concurrent use. It lives in one process; a
// receiver running several should deduplicate in its database instead.
type Deduplicator struct {
	max int
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	order *list.List // of seenID, oldest first: all share one TTL, so this is also expiry order
	byID  map[string]*list.Element
}

type seenID struct {
	id string
	at time.Time
}

// NewDeduplicator remembers up to max ids (the oldest are forgotten first),
// each for ttl. RevDesk's default retry schedule spans about 33 hours, so a
// ttl of 48 hours covers every attempt of a delivery.
func NewDeduplicator(max int, ttl time.Duration) *Deduplicator {
	if max < 1 {
		max = 1
	}
	return &Deduplicator{max: max, ttl: ttl, now: time.Now, order: list.New(), byID: make(map[string]*list.Element)}
}

// First reports whether id is new, and remembers it. Call Forget if you then
// fail to process the delivery, so that its retry is processed. An empty id
// is always new (it cannot be told apart).
func (d *Deduplicator) First(id string) bool {
	if id == "" {
		return true
	}
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	if _, seen := d.byID[id]; seen {
		return false
	}
	d.byID[id] = d.order.PushBack(seenID{id, now})
	for d.order.Len() > d.max {
		d.remove(d.order.Front())
	}
	return true
}

// Forget drops id, so the next delivery with it counts as new.
func (d *Deduplicator) Forget(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.byID[id]; ok {
		d.remove(e)
	}
}

// Len is the number of ids remembered now.
func (d *Deduplicator) Len() int {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	return d.order.Len()
}

func (d *Deduplicator) expire(now time.Time) {
	for e := d.order.Front(); e != nil && now.Sub(e.Value.(seenID).at) >= d.ttl; e = d.order.Front() {
		d.remove(e)
	}
}

func (d *Deduplicator) remove(e *list.Element) {
	delete(d.byID, d.order.Remove(e).(seenID).id)
}
