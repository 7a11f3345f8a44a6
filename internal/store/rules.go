package store

import (
	"fmt"
	"time"

	"github.com/revdesk/webhooks/internal/filter"
	"github.com/revdesk/webhooks/internal/ids"
)

// The business rules of storage, as functions over plain values. Every
// driver applies these instead of writing its own: a driver may compute a
// rule inside one SQL statement for speed, but then the conformance suite
// (storetest) runs the same inputs through the rule and through the driver
// and compares.

// Receives reports whether sub receives an event of the given type and
// scope: a type it covers, and a scoped subscription only receives events
// carrying its workflow or campaign. Deleted subscriptions receive nothing;
// drivers never route to them.
func Receives(sub *Subscription, eventType, workflowID, campaignID string) bool {
	return sub.Covers(eventType) &&
		(sub.WorkflowID == "" || sub.WorkflowID == workflowID) &&
		(sub.CampaignID == "" || sub.CampaignID == campaignID)
}

// Routes reports whether an ingested event goes to sub: a test event only to
// the subscription it names (whatever its scope or filter: the event
// carries its type), any other as Receives says and when its data passes
// the subscription's filter.
func Routes(sub *Subscription, e *NewEvent) bool {
	if e.TestSubscriptionID != "" {
		return sub.ID == e.TestSubscriptionID
	}
	return Receives(sub, e.EventType, e.WorkflowID, e.CampaignID) && Passes(sub, e)
}

// Passes reports whether e's data passes sub's filter (compiled once per
// filter text and cached; the data decoded once per event). A stored filter
// that no longer compiles lets nothing through: the API only stores filters
// that compile, so this means a newer server's filter read by an older one.
func Passes(sub *Subscription, e *NewEvent) bool {
	if sub.Filter == "" {
		return true
	}
	f, err := filter.Cached(sub.Filter)
	if err != nil {
		return false
	}
	if e.filterData == nil {
		e.filterData = filter.NewData(e.Data)
	}
	return f.Match(e.filterData)
}

// NewDeliveryStatus is the status of a delivery created for sub: pending
// when it is active, else skipped, so a disabled subscription's log shows
// what it missed.
func NewDeliveryStatus(sub *Subscription) string {
	if sub.Status == SubscriptionActive {
		return DeliveryPending
	}
	return DeliverySkipped
}

// BatchReplays tells, for each request of an Ingest call, the index of the
// earlier request of the same call whose idempotency key (in the same
// workspace) it repeats, or -1. Such a request replays that one: it stores
// nothing and answers with the earlier request's response.
func BatchReplays(reqs []IngestParams) []int {
	type key struct{ workspace, key string }
	out := make([]int, len(reqs))
	var first map[key]int // made on the first key: most calls have none
	for i, r := range reqs {
		out[i] = -1
		if r.IdempotencyKey == "" {
			continue
		}
		if first == nil {
			first = map[key]int{}
		}
		k := key{r.WorkspaceID, r.IdempotencyKey}
		if j, ok := first[k]; ok {
			out[i] = j
			continue
		}
		first[k] = i
	}
	return out
}

// SubscriptionState is what completions change in a subscription.
type SubscriptionState struct {
	Status         string
	DisabledReason string
	FailingSince   *time.Time
	Failures       int // consecutive failed attempts
	// Recovering: disabled for failing with automatic recovery on
	// (Subscription.Recovering); a success re-enables it.
	Recovering bool
}

// CompletionFold is what a batch of completions does to one subscription.
type CompletionFold struct {
	SubscriptionID string
	// Succeeded: an attempt in the batch succeeded, ending the failure
	// streak.
	Succeeded bool
	// FirstFailure is the earliest attempt time among the failed attempts
	// after the batch's last success (of the whole batch when none
	// succeeded); nil when there are none.
	FirstFailure *time.Time
	// Failures counts the failed attempts after the batch's last success
	// (of the whole batch when none succeeded).
	Failures int
	// DisableReason is the last disable request of the batch ("" for none).
	DisableReason string
}

// FoldCompletions folds the completions that were applied (whose lease was
// held), in batch order, into one CompletionFold per subscription, in order
// of first appearance. A completion without an attempt (skipped) neither
// ends nor starts a streak.
func FoldCompletions(cs []Completion) []CompletionFold {
	var folds []CompletionFold
	index := map[string]int{}
	for i := range cs {
		c := &cs[i]
		j, ok := index[c.SubscriptionID]
		if !ok {
			j = len(folds)
			index[c.SubscriptionID] = j
			folds = append(folds, CompletionFold{SubscriptionID: c.SubscriptionID})
		}
		f := &folds[j]
		if c.DisableReason != "" {
			f.DisableReason = c.DisableReason
		}
		switch {
		case c.Attempt == nil:
		case c.Status == DeliverySucceeded:
			f.Succeeded, f.FirstFailure, f.Failures = true, nil, 0
		default:
			f.Failures++
			if f.FirstFailure == nil || c.Attempt.At.Before(*f.FirstFailure) {
				at := c.Attempt.At
				f.FirstFailure = &at
			}
		}
	}
	return folds
}

// Apply returns the subscription's state after the fold, and whether the
// fold disabled or enabled it. A success restarts the streak at the
// failures after it; failures alone keep a streak already running. A
// disable request disables an active subscription only: one disabled
// already keeps its reason. A success re-enables a recovering
// subscription (its probe got through), unless the batch also asks to
// disable it.
func (f CompletionFold) Apply(cur SubscriptionState) (next SubscriptionState, disabled, enabled bool) {
	next = cur
	switch {
	case f.Succeeded:
		next.FailingSince, next.Failures = f.FirstFailure, f.Failures
	case cur.FailingSince == nil:
		next.FailingSince, next.Failures = f.FirstFailure, cur.Failures+f.Failures
	default:
		next.Failures = cur.Failures + f.Failures
	}
	switch {
	case f.DisableReason != "" && cur.Status == SubscriptionActive:
		next.Status, next.DisabledReason, disabled = SubscriptionDisabled, f.DisableReason, true
	case f.Succeeded && f.DisableReason == "" && cur.Recovering:
		next.Status, next.DisabledReason, next.Recovering, enabled = SubscriptionActive, "", false, true
	}
	return next, disabled, enabled
}

// FailingTooLong reports whether DisableFailingSubscriptions disables a
// subscription in the given state: active and failing since before
// failingBefore.
func FailingTooLong(cur SubscriptionState, failingBefore time.Time) bool {
	return cur.Status == SubscriptionActive && cur.FailingSince != nil && cur.FailingSince.Before(failingBefore)
}

// CheckNow rejects the zero time: drivers stamp what callers give them and
// never read the clock themselves.
func CheckNow(now time.Time) error {
	if now.IsZero() {
		return ErrNoTime
	}
	return nil
}

// ValidateSubscriptionStatus accepts the statuses a subscription can be set
// to.
func ValidateSubscriptionStatus(status string) error {
	switch status {
	case SubscriptionActive, SubscriptionDisabled:
		return nil
	}
	return fmt.Errorf("store: invalid subscription status %q", status)
}

// ValidateCompletions accepts completions whose status is one a delivery
// can take.
func ValidateCompletions(cs []Completion) error {
	for i := range cs {
		switch cs[i].Status {
		case DeliveryPending, DeliverySucceeded, DeliveryFailed, DeliverySkipped:
		default:
			return fmt.Errorf("store: completion of %s: invalid delivery status %q", cs[i].DeliveryID, cs[i].Status)
		}
	}
	return nil
}

// LastPerDelivery keeps, of completions naming the same delivery, the last
// one (a delivery takes one outcome per transaction); the others' order is
// kept. It returns cs itself when no delivery repeats.
func LastPerDelivery(cs []Completion) []Completion {
	last := make(map[string]int, len(cs))
	for i := range cs {
		last[cs[i].DeliveryID] = i
	}
	if len(last) == len(cs) {
		return cs
	}
	out := make([]Completion, 0, len(last))
	for i := range cs {
		if last[cs[i].DeliveryID] == i {
			out = append(out, cs[i])
		}
	}
	return out
}

// SinceBound is the smallest delivery id created at or after since: the
// store makes delivery ids at their creation time (internal/ids), so a
// "created since" filter becomes a range of the indexes that end in id, and
// on PostgreSQL leaves out the partitions before it.
func SinceBound(since time.Time) string {
	return ids.Floor(ids.Delivery, since)
}
