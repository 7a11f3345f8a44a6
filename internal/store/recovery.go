package store

import "time"

// Automatic recovery: a subscription disabled for failing
// (DisabledFailing) with AutoRecover is probed with a real delivery it
// missed, on a schedule of growing delays; the first success re-enables it
// (CompletionFold.Apply) and, unless CompleteParams.NoRecoveryReplay, a
// replay of what it missed (ReplayMissed since RecoverSince: the deliveries
// that failed in the streak or were skipped while it was disabled) starts
// in the same transaction. The probe is the oldest of those, so the
// receiver gets them in order.

// ProbeParams starts the probes due at Now; Schedule is the delays between
// probes (the last repeats).
type ProbeParams struct {
	Now      time.Time
	Schedule []time.Duration
	Limit    int // subscriptions per call; 0 for a default
}

// DefaultRecoverySchedule is a minute doubling to an hour.
var DefaultRecoverySchedule = []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute,
	8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour}

// ProbeDelay is the wait after the n-th probe (1-based; 0 is the wait
// after the disabling) before the next one.
func ProbeDelay(schedule []time.Duration, n int) time.Duration {
	if len(schedule) == 0 {
		schedule = DefaultRecoverySchedule
	}
	return schedule[min(n, len(schedule)-1)]
}

// FinishProbe turns the outcome of a probe that did not succeed into a
// skipped delivery again: it stays among what the subscription missed,
// and the next probe (on the recovery schedule, not the retry schedule)
// sends it again.
func FinishProbe(c *Completion) {
	if c.Status != DeliverySucceeded {
		c.Status, c.NextAttemptAt = DeliverySkipped, nil
	}
}

// ProbeLimit is how many subscriptions StartProbes takes when
// ProbeParams.Limit is 0.
const ProbeLimit = 100

// ProbePlan is what StartProbes does with one due subscription.
type ProbePlan struct {
	Start  bool   // make Probe pending: a new probe
	Probe  string // the subscription's probe delivery from now on
	Probes int
	NextAt time.Time
}

// PlanProbe decides for a due subscription, given the oldest delivery it
// missed (candidate; "" when its probe is still pending or it missed
// nothing): a candidate becomes the next probe; without one only the next
// look is planned, on the same step of the schedule.
func PlanProbe(sub *Subscription, candidate string, p ProbeParams) ProbePlan {
	plan := ProbePlan{Probe: sub.ProbeDeliveryID, Probes: sub.Probes}
	if candidate != "" {
		plan.Start, plan.Probe, plan.Probes = true, candidate, sub.Probes+1
	}
	plan.NextAt = p.Now.Add(ProbeDelay(p.Schedule, plan.Probes))
	return plan
}
