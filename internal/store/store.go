// Package store defines the storage interface of the service. It imports no
// database driver: the sqlite and postgres subpackages implement it, and
// storetest holds the conformance suite both run.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/revdesk/webhooks/internal/filter"
)

// Sentinel errors. Drivers translate their own errors into these where they
// leave the driver, so callers test with errors.Is.
var (
	// ErrNotFound: no such row, or it belongs to another workspace.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness rule was violated (see ConflictError).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the database could not be reached or refused the work.
	ErrUnavailable = errors.New("database unavailable")
	// ErrNoTime: a method that stamps times was called without one.
	ErrNoTime = errors.New("the time (Now) is required")
)

// The clock: drivers never read it. Every method that stamps a time takes
// it from its caller (a Now field, or a now argument), so tests can run on a
// fixed clock and every engine stamps the same times; a zero time is an
// error (CheckNow).

// ConflictError names the existing row a create collided with.
type ConflictError struct {
	ExistingID string
}

func (e *ConflictError) Error() string { return "conflicts with existing " + e.ExistingID }
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Subscription statuses.
const (
	SubscriptionActive   = "active"
	SubscriptionDisabled = "disabled"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
	DeliverySkipped   = "skipped"
)

type Workspace struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

type APIKey struct {
	ID          string // the public part of the key, "rdk_…"
	WorkspaceID string
	Hash        []byte // SHA-256 of the whole key
	Scopes      []string
	CreatedAt   time.Time
	RevokedAt   *time.Time
}

// PortalSession is a short-lived credential for a workspace's customer
// portal (or the operator dashboard), stored hashed like a key.
type PortalSession struct {
	ID          string
	WorkspaceID string
	Hash        []byte // SHA-256 of the whole token
	Scopes      []string
	// EventTypes, when not empty, limits the session to subscriptions,
	// events and deliveries of these types.
	EventTypes []string
	BrandColor string
	BrandName  string
	ExpiresAt  time.Time
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

type Subscription struct {
	ID               string
	WorkspaceID      string
	WebhookURL       string
	EventType        string
	WorkflowID       string // "" when unscoped
	CampaignID       string // "" when unscoped
	SigningSecret    string // "" when none
	PreviousSecret   string // still used for signing until PreviousUntil
	PreviousUntil    *time.Time
	StandardWebhooks bool
	// RateLimit is the most deliveries per second sent for the whole
	// service; 0 for no limit.
	RateLimit float64
	// Ordered deliveries about one resource to one URL go one at a time
	// in acceptance order (see OrderKey).
	Ordered bool
	// EventTypes are a multi-type subscription's types (EventType is
	// MultiType), or ["*"] for every type; nil for a single-type one.
	EventTypes []string
	// Headers are added to every delivery request (Header.Secret ones are
	// sealed at rest); Filter is a CEL expression over data (package
	// filter) that an event must pass; ClientCert and ClientKey (PEM; the
	// key sealed at rest) are presented for mutual TLS.
	Headers        []Header
	Filter         string
	ClientCert     string
	ClientKey      string
	Status         string
	DisabledReason string
	FailingSince   *time.Time // first failure of the current failure streak
	// Failures counts the consecutive failed attempts of the streak.
	Failures int
	// AutoRecover: once disabled for failing, probe and re-enable it.
	AutoRecover bool
	// DisabledKind says who disabled it (DisabledFailing, DisabledGone,
	// DisabledManual); "" while active.
	DisabledKind string
	// NextProbeAt is when automatic recovery next sends a probe (nil when
	// none is planned); Probes counts the probes sent since the disabling.
	NextProbeAt *time.Time
	Probes      int
	// ProbeDeliveryID is the delivery automatic recovery sends while the
	// subscription is disabled ("" for none).
	ProbeDeliveryID string
	// RecoverSince is where what the disabling made it miss starts: the
	// oldest delivery pending, or failed in the streak, when it was
	// disabled; else the disabling.
	RecoverSince *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Who disabled a subscription (Subscription.DisabledKind).
const (
	DisabledFailing = "failing" // every attempt failed for --disable-after: recovers by itself
	DisabledGone    = "gone"    // the receiver answered 410 Gone
	DisabledManual  = "manual"  // through the API or the dashboard
)

// Recovering reports whether automatic recovery probes sub.
func (sub *Subscription) Recovering() bool {
	return sub.Status == SubscriptionDisabled && sub.DisabledKind == DisabledFailing && sub.AutoRecover
}

type Event struct {
	ID            string
	WorkspaceID   string
	EventType     string
	WorkflowID    string
	CampaignID    string
	OccurredAt    time.Time
	Data          []byte // the data JSON exactly as received
	SourceEventID string // for derived (disposition) events, the call_completed event
	// Test marks an event sent by "send test event": it went to one
	// subscription only and is left out of the event log.
	Test      bool
	CreatedAt time.Time
}

type Delivery struct {
	ID             string
	WorkspaceID    string
	EventID        string
	SubscriptionID string
	EventType      string
	Status         string
	Attempts       int
	NextAttemptAt  *time.Time // nil once final
	LastError      string
	// OrderKey is set on deliveries of ordered subscriptions (see OrderKey).
	OrderKey string
	// ReplayID names the replay that made this delivery ("" for none).
	ReplayID  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

type Attempt struct {
	ID           string
	DeliveryID   string
	Number       int // 1-based
	At           time.Time
	StatusCode   int // 0 when no response
	Latency      time.Duration
	ErrorClass   string // "" on success; see delivery package for the classes
	Error        string
	ResponseBody string // the start of the response body
}

// Job is a delivery with what sending it needs: its event and subscription as
// they are at claim time.
type Job struct {
	Delivery Delivery
	// Event and Subscription are shared by the jobs of one ingest or claim
	// (an event's fan-out, a subscription's deliveries): read only.
	Event        *Event
	Subscription *Subscription
	// Deleted is true when the subscription was deleted after the delivery
	// was created; such jobs are completed as skipped.
	Deleted bool
}

// NewEvent is one event to store, with its id chosen by the caller.
type NewEvent struct {
	ID            string
	EventType     string
	WorkflowID    string
	CampaignID    string
	OccurredAt    time.Time
	Data          []byte
	SourceEventID string
	// TestSubscriptionID, when set, makes this a test event: it is routed
	// to that subscription only (whatever its scope; the event carries its
	// type) and stored with Event.Test set.
	TestSubscriptionID string

	// filterData is Data decoded once for every filter routing looks at.
	filterData *filter.Data
}

// IngestParams is one ingest request: events stored together, each routed to
// the active subscriptions of the workspace that match its type and scope.
type IngestParams struct {
	WorkspaceID string
	// IdempotencyKey, when set, makes a repeated request with the same key
	// return the first request's event ids instead of storing again.
	IdempotencyKey string
	Events         []NewEvent
	// ResponseIDs are returned for this request (and for its replays): the
	// ids of the events the caller sent, not the derived ones.
	ResponseIDs []string
	// LeaseOwner and LeaseUntil, when set, create the deliveries already
	// leased to that owner, so the process that ingested can send them
	// without claiming them first.
	LeaseOwner string
	LeaseUntil time.Time
	// Now stamps the request's rows; its deliveries are due then.
	Now time.Time
}

type IngestResult struct {
	ResponseIDs []string
	Replayed    bool  // the idempotency key was seen before; nothing was stored
	Jobs        []Job // the deliveries created, with event and subscription
}

type CreateWorkspaceParams struct {
	Name string
	Now  time.Time
}

type CreateAPIKeyParams struct {
	ID          string
	WorkspaceID string
	Hash        []byte
	Scopes      []string
	Now         time.Time
}

type CreatePortalSessionParams struct {
	ID          string
	WorkspaceID string
	Hash        []byte
	Scopes      []string
	EventTypes  []string
	BrandColor  string
	BrandName   string
	ExpiresAt   time.Time
	Now         time.Time
}

type CreateSubscriptionParams struct {
	WorkspaceID      string
	WebhookURL       string
	EventType        string
	WorkflowID       string
	CampaignID       string
	SigningSecret    string
	StandardWebhooks bool
	RateLimit        float64
	Ordered          bool
	// NoAutoRecover turns automatic recovery off (it is on by default).
	NoAutoRecover bool
	// EventTypes, for a multi-type subscription (EventType MultiType).
	EventTypes []string
	Headers    []Header
	Filter     string
	ClientCert string
	ClientKey  string
	Now        time.Time
}

// UpdateSubscriptionParams changes the fields that are set (non-nil) and
// keeps the others. A new updatable field goes here, in Apply, in the SET
// list of each driver's UpdateSubscription, and as a member of the PATCH
// handler (api/subscription_update.go).
type UpdateSubscriptionParams struct {
	WorkspaceID      string
	ID               string
	WebhookURL       *string
	WorkflowID       *string  // "" clears the scope
	CampaignID       *string  // "" clears the scope
	RateLimit        *float64 // 0 clears the limit
	Ordered          *bool
	StandardWebhooks *bool
	AutoRecover      *bool
	// EventTypes makes the subscription a multi-type one with these types.
	EventTypes *[]string
	Headers    *[]Header // empty clears them
	Filter     *string   // "" clears it
	// ClientCert and ClientKey change together; "" removes the certificate.
	ClientCert *string
	ClientKey  *string
	Now        time.Time
}

// Apply sets on sub the fields p changes.
func (p UpdateSubscriptionParams) Apply(sub *Subscription) {
	set(&sub.WebhookURL, p.WebhookURL)
	set(&sub.WorkflowID, p.WorkflowID)
	set(&sub.CampaignID, p.CampaignID)
	set(&sub.RateLimit, p.RateLimit)
	set(&sub.Ordered, p.Ordered)
	set(&sub.StandardWebhooks, p.StandardWebhooks)
	set(&sub.AutoRecover, p.AutoRecover)
	if p.EventTypes != nil {
		sub.EventType, sub.EventTypes = MultiType, *p.EventTypes
	}
	set(&sub.Headers, p.Headers)
	set(&sub.Filter, p.Filter)
	set(&sub.ClientCert, p.ClientCert)
	set(&sub.ClientKey, p.ClientKey)
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

type ListSubscriptionsParams struct {
	WorkspaceID string
	EventType   string // "" for all
	// EventTypes, when not empty, keeps only subscriptions of these types
	// (a portal session's limit), besides EventType.
	EventTypes []string
	Status     string // "" for all
	After      string // id cursor
	Limit      int
}

type SetSubscriptionStatusParams struct {
	WorkspaceID string
	ID          string
	Status      string
	Reason      string
	// By names who asked (ByAPI, ByDashboard), for the operational event.
	By  string
	Now time.Time
}

type RotateSecretParams struct {
	WorkspaceID string
	ID          string
	NewSecret   string
	// PreviousUntil keeps the old secret signing until then; nil drops it now.
	PreviousUntil *time.Time
	Now           time.Time
}

// Lists are in id (creation) order, oldest first, or newest first with
// Newest; After is the id cursor: rows after it in that order.
type ListEventsParams struct {
	WorkspaceID string
	EventType   string
	EventTypes  []string // as in ListSubscriptionsParams
	After       string
	Limit       int
	Newest      bool
}

type ListDeliveriesParams struct {
	WorkspaceID    string
	SubscriptionID string
	EventID        string
	EventTypes     []string // as in ListSubscriptionsParams
	Status         string
	After          string
	Limit          int
	Newest         bool
}

type ClaimParams struct {
	Owner      string
	Now        time.Time
	LeaseUntil time.Time
	Limit      int
}

// Completion records one attempt of a leased delivery and its outcome.
type Completion struct {
	DeliveryID     string
	SubscriptionID string
	Owner          string
	// OrderKey is the delivery's (Delivery.OrderKey): a final outcome lets
	// the next delivery of that key go.
	OrderKey      string
	Attempt       *Attempt // nil when no request was made (skipped)
	Status        string   // pending (retry later), succeeded, failed, skipped
	NextAttemptAt *time.Time
	// DisableReason, when set, disables the subscription with that reason.
	DisableReason string
}

// CompleteParams is one batch of completions, recorded at Now (the time of
// attempts without one, and of any disabling).
type CompleteParams struct {
	Now         time.Time
	Completions []Completion
	// FailingAfter is the streak length (consecutive failed attempts) that
	// makes a FactFailing; 0 never.
	FailingAfter int
	// NoRecoveryReplay: a subscription re-enabled by automatic recovery
	// does not get what it missed replayed.
	NoRecoveryReplay bool
}

// DisableFailingParams disables active subscriptions failing since before
// FailingBefore, with Reason, at Now; automatic recovery first probes
// them at FirstProbeAt.
type DisableFailingParams struct {
	FailingBefore time.Time
	Reason        string
	Now           time.Time
	FirstProbeAt  time.Time
}

// DisabledSubscription is a subscription the store disabled on its own
// account: a completion's DisableReason, or DisableFailingSubscriptions.
// Drivers know these inside the transaction that disables, so what must
// happen with a disabling (an operational event, say) can join it there.
type DisabledSubscription struct {
	SubscriptionID string
	WorkspaceID    string
	Reason         string
	At             time.Time
}

// LeadParams asks for the named leadership for Owner, at Now, until Until.
type LeadParams struct {
	Name  string
	Owner string
	Now   time.Time
	Until time.Time
}

type RetryFailedParams struct {
	WorkspaceID    string
	SubscriptionID string
	Since          time.Time
	Now            time.Time
}

// Store is everything the service keeps. Methods taking a workspace id only
// see that workspace's rows; another workspace's id is ErrNotFound.
type Store interface {
	CreateWorkspace(ctx context.Context, p CreateWorkspaceParams) (Workspace, error)
	GetWorkspace(ctx context.Context, id string) (Workspace, error)
	// EnsureWorkspace returns the workspace named p.Name, creating it if missing.
	EnsureWorkspace(ctx context.Context, p CreateWorkspaceParams) (Workspace, error)
	CountWorkspaces(ctx context.Context) (int, error)

	CreateAPIKey(ctx context.Context, p CreateAPIKeyParams) (APIKey, error)
	// GetAPIKey finds a key by its public id, revoked or not.
	GetAPIKey(ctx context.Context, id string) (APIKey, error)
	ListAPIKeys(ctx context.Context, workspaceID string) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, workspaceID, id string, now time.Time) error

	// CreatePortalSession stores a session; a repeated id is a
	// *ConflictError.
	CreatePortalSession(ctx context.Context, p CreatePortalSessionParams) (PortalSession, error)
	// GetPortalSession finds a session by id, expired or revoked or not.
	GetPortalSession(ctx context.Context, id string) (PortalSession, error)
	// RevokePortalSession keeps the first revocation time when called again.
	RevokePortalSession(ctx context.Context, workspaceID, id string, now time.Time) error

	// CreateSubscription fails with a *ConflictError when an active
	// subscription with the same url, type and scope exists.
	CreateSubscription(ctx context.Context, p CreateSubscriptionParams) (Subscription, error)
	GetSubscription(ctx context.Context, workspaceID, id string) (Subscription, error)
	// UpdateSubscription changes some fields (see UpdateSubscriptionParams);
	// an active subscription that would then be identical to another active
	// one is a *ConflictError.
	UpdateSubscription(ctx context.Context, p UpdateSubscriptionParams) (Subscription, error)
	ListSubscriptions(ctx context.Context, p ListSubscriptionsParams) ([]Subscription, error)
	SetSubscriptionStatus(ctx context.Context, p SetSubscriptionStatusParams) (Subscription, error)
	RotateSecret(ctx context.Context, p RotateSecretParams) (Subscription, error)
	// DeleteSubscription hides the subscription; its pending deliveries are
	// skipped and no new ones are created.
	DeleteSubscription(ctx context.Context, workspaceID, id string, now time.Time) error

	// Ingest stores each request's events and deliveries. All requests are
	// committed in one transaction; results are in request order. Matching
	// active subscriptions get a pending delivery (returned in Jobs);
	// matching disabled ones get a delivery recorded as skipped (not in
	// Jobs), so nothing is lost silently; deleted ones get nothing.
	Ingest(ctx context.Context, reqs []IngestParams) ([]IngestResult, error)
	GetEvent(ctx context.Context, workspaceID, id string) (Event, error)
	// ListEvents leaves test events out.
	ListEvents(ctx context.Context, p ListEventsParams) ([]Event, error)

	GetDelivery(ctx context.Context, workspaceID, id string) (Delivery, []Attempt, error)
	ListDeliveries(ctx context.Context, p ListDeliveriesParams) ([]Delivery, error)
	// RetryDelivery makes a final delivery pending again, due now.
	RetryDelivery(ctx context.Context, workspaceID, id string, now time.Time) (Delivery, error)
	// RetryFailed makes every failed delivery of a subscription created since
	// p.Since pending again and returns how many.
	RetryFailed(ctx context.Context, p RetryFailedParams) (int, error)

	// ClaimDeliveries leases up to Limit due pending deliveries to Owner:
	// those whose time has come and that nobody holds a live lease on. Of
	// the pending deliveries of one order key only one (the head) is ever
	// claimable or handed off by Ingest; the others wait, in acceptance
	// order, until the head is final (see ordering.go).
	ClaimDeliveries(ctx context.Context, p ClaimParams) ([]Job, error)
	// CompleteDeliveries records attempts and outcomes in one transaction
	// and returns the subscriptions it disabled. A completion whose lease
	// was lost is ignored, not an error.
	CompleteDeliveries(ctx context.Context, p CompleteParams) ([]DisabledSubscription, error)
	// ReleaseDeliveries hands leased deliveries back unattempted, due at
	// dueAt (now on shutdown; later when the process has no room for them).
	// Like a claim, it leaves updated_at alone: no outcome changed.
	ReleaseDeliveries(ctx context.Context, owner string, ids []string, dueAt time.Time) error
	// PendingStats reports the count of pending deliveries and the creation
	// time of the oldest.
	PendingStats(ctx context.Context) (count int, oldest *time.Time, err error)

	// DisableFailingSubscriptions disables active subscriptions failing since
	// before p.FailingBefore and returns them.
	DisableFailingSubscriptions(ctx context.Context, p DisableFailingParams) ([]DisabledSubscription, error)
	// StartProbes sends, for each recovering subscription whose probe is
	// due, the oldest delivery it missed again (see recovery.go).
	StartProbes(ctx context.Context, p ProbeParams) (int, error)

	// OnFacts sets how facts become events (see facts.go); call it before
	// the store is used.
	OnFacts(f FactEvents)

	// CreateReplay records a replay of a subscription's deliveries; the
	// deliveries are made by AdvanceReplays, a page at a time.
	CreateReplay(ctx context.Context, p CreateReplayParams) (Replay, error)
	GetReplay(ctx context.Context, workspaceID, id string) (Replay, error)
	// AdvanceReplays makes the next page of deliveries of unfinished
	// replays and returns how many it made.
	AdvanceReplays(ctx context.Context, p AdvanceReplaysParams) (int, error)
	// Prune removes history created before the cutoff: final deliveries
	// (with attempts), events no delivery needs any more, idempotency keys,
	// and portal sessions expired before it. Pending work is never removed,
	// nor what it needs (its event); stores that keep history in time-range
	// partitions (Partitioned) remove only whole partitions, so a partition
	// holding pending work waits, with everything in it. The result says
	// what was removed and what waits.
	Prune(ctx context.Context, before time.Time) (PruneResult, error)
	// TryLead takes or renews the named leadership for p.Owner until
	// p.Until, when it is free, expired at p.Now, or p.Owner's already; it
	// reports whether p.Owner leads.
	TryLead(ctx context.Context, p LeadParams) (bool, error)
	Workers

	Ping(ctx context.Context) error
	Close() error
}

// PruneResult is what one Prune did, and what it had to leave.
type PruneResult struct {
	// Rows removed (for whole partitions, the planner's count of their rows).
	Rows int
	// Partitions of deliveries dropped, each with the attempts and events
	// of its time range (Partitioned stores only).
	Partitions int
	// Blocked is what retention waits for: partitions older than the cutoff
	// kept for their pending deliveries (Partitioned stores), or pending
	// deliveries older than the cutoff (others).
	Blocked int
	// OldestBlocked is the creation time of the oldest pending delivery
	// older than the cutoff; nil when none.
	OldestBlocked *time.Time
}

// Partitioned is implemented by stores that keep history (events,
// deliveries, attempts) in time-range partitions (PostgreSQL), which
// maintenance creates ahead of time and Prune drops whole.
type Partitioned interface {
	// EnsurePartitions makes partitions of p.Interval cover history from
	// the newest existing partition through p.Now + p.Ahead; it returns how
	// many it created.
	EnsurePartitions(ctx context.Context, p PartitionParams) (int, error)
	// Partitions lists the deliveries' partitions, oldest first.
	Partitions(ctx context.Context) ([]Partition, error)
}

// PartitionParams asks for partitions of Interval (aligned to multiples of
// it since the Unix epoch) through Now + Ahead.
type PartitionParams struct {
	Now      time.Time
	Interval time.Duration
	Ahead    time.Duration
}

// Partition is one time range of history: rows created in [From, To). The
// first one of a database converted from unpartitioned tables has no From.
type Partition struct {
	From *time.Time
	To   time.Time
}

// HistoryWriter is implemented by stores that take history written as it
// is, past ingest and delivery, as fast as the engine allows: revdesk bench
// --history fills a database with it. Pending deliveries among it are
// queued, due at their NextAttemptAt.
type HistoryWriter interface {
	WriteHistory(ctx context.Context, h History) error
	// SettleHistory brings what the planner knows up to date after a fill,
	// as the engine's own upkeep would in time.
	SettleHistory(ctx context.Context) error
	// Size is the bytes the database takes on disk.
	Size(ctx context.Context) (int64, error)
}

// History is rows of the log: events, their deliveries and the deliveries'
// attempts, each complete (ids, times, statuses).
type History struct {
	Events     []Event
	Deliveries []Delivery
	Attempts   []Attempt
}

// Workers records which processes are alive, so that the deliveries leased
// to one that died are taken over within seconds rather than when their
// leases end.
type Workers interface {
	// RenewWorker records that owner's process is alive until the given
	// time. It reports false when owner had no record: its first call, or
	// one after ReapWorkers took its leases away.
	RenewWorker(ctx context.Context, owner string, until time.Time) (bool, error)
	// ReapWorkers removes the record of every process not renewed by now
	// and hands the deliveries leased to it back, due when they were due;
	// it returns how many deliveries it handed back.
	ReapWorkers(ctx context.Context, now time.Time) (int, error)
	// RetireWorker removes owner's record and hands back every delivery
	// still leased to it (a process stopping); it returns how many.
	RetireWorker(ctx context.Context, owner string) (int, error)
}

// SingleProcess is implemented by stores that one serving process uses at a
// time (SQLite, a file of one machine). Any lease found when that process
// starts was held by one that died, so the server hands them all back at
// start instead of waiting for them to expire.
type SingleProcess interface {
	// ReleaseAllLeases hands back every leased delivery, due when it was due
	// before, and returns how many.
	ReleaseAllLeases(ctx context.Context) (int, error)
}

// Waker is implemented by stores that can tell other processes that new
// work exists (PostgreSQL LISTEN/NOTIFY). Listen calls onWake for every
// notification until ctx ends, then returns nil.
type Waker interface {
	Notify(ctx context.Context) error
	Listen(ctx context.Context, onWake func()) error
}
