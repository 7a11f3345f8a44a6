package store

import (
	"errors"
	"time"
)

// ErrNotActive: the operation needs an active subscription.
var ErrNotActive = errors.New("subscription is not active")

// Replay modes: which original deliveries of the window are sent again.
const (
	ReplayMissed = "missed" // skipped and failed ("all": false; automatic recovery)
	ReplayAll    = "all"    // succeeded too
)

// ReplayStatuses are the delivery statuses a replay mode sends again.
func ReplayStatuses(mode string) []string {
	switch mode {
	case ReplayAll:
		return []string{DeliverySkipped, DeliveryFailed, DeliverySucceeded}
	}
	return []string{DeliverySkipped, DeliveryFailed}
}

// ReplayOrderKey is the order key of a replay's deliveries: one key, so
// they go one at a time in the order of their events.
func ReplayOrderKey(replayID string) string { return "replay:" + replayID }

// Replay re-sends the events of a window of a subscription's deliveries (by
// the deliveries' creation time), each with a fresh delivery, in order.
type Replay struct {
	ID             string
	WorkspaceID    string
	SubscriptionID string
	Since          time.Time
	Until          *time.Time
	Mode           string
	By             string // ByAPI, ByDashboard, ByRecovery
	Queued         int    // deliveries made so far
	Done           bool   // every delivery of the window is made
	// Counts by status of the deliveries made (GetReplay only).
	Counts    map[string]int
	CreatedAt time.Time
}

type CreateReplayParams struct {
	WorkspaceID    string
	SubscriptionID string
	Since          time.Time
	Until          *time.Time
	Mode           string
	By             string
	Now            time.Time
}

// AdvanceReplaysParams makes up to Page deliveries per unfinished replay.
type AdvanceReplaysParams struct {
	Now  time.Time
	Page int
}
