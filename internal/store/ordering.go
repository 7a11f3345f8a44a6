package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// Ordered delivery. The deliveries of ordered subscriptions that go to one
// webhook URL about one resource (the "id" of the event's data: a call, a
// message, a number) share an order key and are sent one at a time, in the
// order their events were accepted (Resource.OrderKey). The drivers keep, per key, at most one
// pending delivery claimable (the head); the others are parked, oldest
// first. Every writer keeps that:
//   - Ingest parks a new keyed delivery when its key already has a pending
//     delivery (in the database or earlier in the same call), and otherwise
//     creates it as the head, leased to the ingesting process if asked;
//   - a final outcome (succeeded, failed, skipped), a delete, and a retry
//     (which parks what it makes pending again) promote the oldest parked
//     delivery of a key that has no head left.
// On PostgreSQL the writers of a key serialize on a transaction advisory
// lock of the key, taken in LockIDs order, so an ingest and a completion of
// the same key in two processes cannot both miss each other's rows.

// Resource is an event's resource id, read from its data at most once
// whatever the number of ordered subscriptions it is routed to.
type Resource struct {
	data []byte
	id   []byte
	read bool
}

// NewResource is the resource of an event with this data.
func NewResource(data []byte) *Resource { return &Resource{data: data} }

// OrderKey is the order key of a delivery of the event to sub: "" when sub
// is not ordered or the data has no id.
func (r *Resource) OrderKey(sub *Subscription) string {
	if !sub.Ordered {
		return ""
	}
	if !r.read {
		r.id, r.read = ResourceID(r.data), true
	}
	if r.id == nil {
		return ""
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(sub.WorkspaceID), []byte(sub.WebhookURL), r.id} {
		h.Write(part)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// ResourceID is the "id" member of a JSON object, compacted (so 1 and "1"
// differ but spacing does not); nil when there is none or it is null.
func ResourceID(data []byte) []byte {
	var obj struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(data, &obj) != nil || len(obj.ID) == 0 || string(obj.ID) == "null" {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, obj.ID) != nil {
		return nil
	}
	return b.Bytes()
}

// LockIDs are the advisory lock numbers of order keys, sorted and without
// repeats: every writer takes them in this order, so none can deadlock.
func LockIDs(keys []string) []int64 {
	out := make([]int64, 0, len(keys))
	for _, k := range keys {
		b, err := hex.DecodeString(k)
		if err != nil || len(b) < 8 {
			sum := sha256.Sum256([]byte(k))
			b = sum[:]
		}
		out = append(out, int64(binary.BigEndian.Uint64(b)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Heads decides, for the keyed deliveries of one Ingest call in acceptance
// order, which become heads: the first of each key that has no pending
// delivery yet. busy holds the keys that already have one.
type Heads struct {
	busy map[string]bool
}

// NewHeads starts with the keys that already have a pending delivery.
func NewHeads(busy []string) *Heads {
	h := &Heads{busy: make(map[string]bool, len(busy))}
	for _, k := range busy {
		h.busy[k] = true
	}
	return h
}

// Take reports whether the next delivery of key is its head; an empty key
// (unordered) always is.
func (h *Heads) Take(key string) bool {
	if key == "" {
		return true
	}
	if h.busy[key] {
		return false
	}
	h.busy[key] = true
	return true
}

// JobRef names a job of an Ingest call: its request and its index in that
// request's IngestResult.Jobs.
type JobRef struct{ Req, Job int }

// RemoveJobs takes the named jobs out of the results (those of parked
// deliveries, which are claimed once the deliveries before them are final).
func RemoveJobs(results []IngestResult, drop map[JobRef]bool) {
	if len(drop) == 0 {
		return
	}
	for r := range results {
		jobs := results[r].Jobs[:0]
		for j, job := range results[r].Jobs {
			if !drop[JobRef{r, j}] {
				jobs = append(jobs, job)
			}
		}
		results[r].Jobs = jobs
	}
}
