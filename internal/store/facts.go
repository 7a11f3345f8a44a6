package store

import "time"

// Facts are what the store did on its own or was told to do that a
// workspace may want to hear of: the operational events (internal/opevents
// turns them into events). A driver collects them inside the transaction
// that makes them true and, in the same transaction, stores the events
// FactEvents gives for them and routes those like any ingested event. So
// a crash loses neither the fact nor its event.

// FactKind names a fact.
type FactKind string

const (
	FactDisabled  FactKind = "disabled"  // a subscription was disabled
	FactEnabled   FactKind = "enabled"   // a disabled subscription was enabled again
	FactFailing   FactKind = "failing"   // a streak reached CompleteParams.FailingAfter failures
	FactRecovered FactKind = "recovered" // a success ended such a streak
	FactExhausted FactKind = "exhausted" // a delivery failed for good
)

// Who made a subscription's status change (Fact.By).
const (
	ByAPI       = "api"
	ByDashboard = "dashboard"
	ByRecovery  = "automatic_recovery"
	ByAutomatic = "automatic" // the engine: 410 Gone, or failing too long
)

// Fact is one fact about a subscription (and, for FactExhausted, one of
// its deliveries).
type Fact struct {
	Kind           FactKind
	WorkspaceID    string
	SubscriptionID string
	WebhookURL     string
	EventType      string // the subscription's
	At             time.Time
	Reason         string // FactDisabled
	By             string // FactDisabled, FactEnabled
	Failures       int    // FactFailing, FactRecovered: the streak's failed attempts
	FailingSince   *time.Time
	// FactExhausted: the delivery and the event it carried.
	DeliveryID, EventID, DeliveryEventType string
	Attempts                               int
	LastError                              string
	StatusCode                             int
}

// FactEvents turns facts into ingest requests (one per workspace, say) that
// the store writes in the transaction of the facts. It must be a pure
// function of facts: it runs inside the transaction, and again if that is
// retried.
type FactEvents func(facts []Fact) ([]IngestParams, error)

// StreakFacts says what a fold did to a subscription's failure streak, given
// its state before and after: failing when the streak reached failingAfter
// failures in this fold (once per streak), recovered when a success ended
// a streak that had. failingAfter 0 makes neither.
func StreakFacts(succeeded bool, cur, next SubscriptionState, failingAfter int) (failing, recovered bool) {
	if failingAfter <= 0 {
		return false, false
	}
	before := cur.Failures
	if succeeded {
		before = 0
	}
	failing = before < failingAfter && next.Failures >= failingAfter
	recovered = succeeded && cur.Failures >= failingAfter
	return failing, recovered
}

// StatusFact is the fact of setting cur's status as p asks, at at: none
// (false) when the status stays as it was. A disabling by hand stops
// automatic recovery (DisabledManual); an enabling starts afresh.
func StatusFact(cur Subscription, p SetSubscriptionStatusParams, at time.Time) (Fact, bool) {
	if cur.Status == p.Status {
		return Fact{}, false
	}
	f := Fact{Kind: FactEnabled, WorkspaceID: cur.WorkspaceID, SubscriptionID: cur.ID,
		WebhookURL: cur.WebhookURL, EventType: cur.EventType, At: at, By: p.By}
	if p.Status == SubscriptionDisabled {
		f.Kind, f.Reason = FactDisabled, p.Reason
	}
	return f, true
}

// StateOf is the part of sub that completions change.
func StateOf(sub *Subscription) SubscriptionState {
	return SubscriptionState{Status: sub.Status, DisabledReason: sub.DisabledReason,
		FailingSince: sub.FailingSince, Failures: sub.Failures, Recovering: sub.Recovering()}
}

func subFact(kind FactKind, sub *Subscription, at time.Time) Fact {
	return Fact{Kind: kind, WorkspaceID: sub.WorkspaceID, SubscriptionID: sub.ID,
		WebhookURL: sub.WebhookURL, EventType: sub.EventType, At: at}
}

// DisabledFact is the fact of the engine (by) disabling sub, whose row
// already says why.
func DisabledFact(sub *Subscription, by string, at time.Time) Fact {
	f := subFact(FactDisabled, sub, at)
	f.Reason, f.By, f.Failures, f.FailingSince = sub.DisabledReason, by, sub.Failures, sub.FailingSince
	return f
}

// FoldFacts are the facts of a fold that took sub from cur to next (see
// CompletionFold.Apply): in the order they happened.
func FoldFacts(sub *Subscription, f CompletionFold, cur, next SubscriptionState, disabled, enabled bool,
	failingAfter int, at time.Time) []Fact {
	var facts []Fact
	failing, recovered := StreakFacts(f.Succeeded, cur, next, failingAfter)
	if recovered {
		r := subFact(FactRecovered, sub, at)
		r.Failures, r.FailingSince = cur.Failures, cur.FailingSince
		facts = append(facts, r)
	}
	if enabled {
		e := subFact(FactEnabled, sub, at)
		e.By = ByRecovery
		facts = append(facts, e)
	}
	if failing {
		fl := subFact(FactFailing, sub, at)
		fl.Failures, fl.FailingSince = next.Failures, next.FailingSince
		facts = append(facts, fl)
	}
	if disabled {
		d := subFact(FactDisabled, sub, at)
		d.Reason, d.By, d.Failures, d.FailingSince = next.DisabledReason, ByAutomatic, next.Failures, next.FailingSince
		facts = append(facts, d)
	}
	return facts
}

// ExhaustedFact is the fact of completion c failing the delivery (of event
// eventID, type eventType, after attempts attempts) for good.
func ExhaustedFact(sub *Subscription, c Completion, eventID, eventType string, attempts int, at time.Time) Fact {
	f := subFact(FactExhausted, sub, at)
	f.DeliveryID, f.EventID, f.DeliveryEventType, f.Attempts = c.DeliveryID, eventID, eventType, attempts
	if a := c.Attempt; a != nil {
		f.StatusCode, f.LastError = a.StatusCode, a.Error
		if f.LastError == "" {
			f.LastError = a.ErrorClass
		}
	}
	return f
}

// RecoveryReplay is the replay automatic recovery starts when it re-enables
// sub at now: what it missed since RecoverSince.
func RecoveryReplay(sub *Subscription, now time.Time) CreateReplayParams {
	since := now
	if sub.RecoverSince != nil {
		since = *sub.RecoverSince
	}
	return CreateReplayParams{WorkspaceID: sub.WorkspaceID, SubscriptionID: sub.ID, Since: since,
		Until: &now, Mode: ReplayMissed, By: ByRecovery, Now: now}
}
