// Package maintenance is the periodic upkeep of the database: it disables
// subscriptions that keep failing and prunes old deliveries and events.
package maintenance

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

// DefaultInterval is how often a Maintainer works unless told otherwise.
const DefaultInterval = time.Minute

// Store is what maintenance needs of the store.
type Store interface {
	TryLead(ctx context.Context, p store.LeadParams) (bool, error)
	DisableFailingSubscriptions(ctx context.Context, p store.DisableFailingParams) ([]store.DisabledSubscription, error)
	Prune(ctx context.Context, before time.Time) (store.PruneResult, error)
	StartProbes(ctx context.Context, p store.ProbeParams) (int, error)
	AdvanceReplays(ctx context.Context, p store.AdvanceReplaysParams) (int, error)
}

// Reporter learns what each round of retention found (metrics).
type Reporter interface {
	Retention(store.PruneResult)
}

// DefaultPartitionInterval is the time range of one history partition, and
// DefaultPartitionsAhead how far ahead of now partitions are kept ready.
const (
	DefaultPartitionInterval = 24 * time.Hour
	DefaultPartitionsAhead   = 48 * time.Hour
)

// ReplayPage is how many deliveries a replay makes per transaction.
const ReplayPage = 500

// Maintainer disables subscriptions that keep failing and prunes old
// deliveries and events. With many processes on one database only the one
// holding the "maintenance" lead does the work.
type Maintainer struct {
	Store        Store
	Owner        string
	Interval     time.Duration // default DefaultInterval
	DisableAfter time.Duration // failing this long disables; 0 never
	Retention    time.Duration // final deliveries older than this are pruned; 0 keeps all
	// RecoverySchedule is the delays between the probes of automatic
	// recovery (default store.DefaultRecoverySchedule).
	RecoverySchedule []time.Duration
	// PartitionInterval and PartitionsAhead shape the history partitions
	// of a store.Partitioned (defaults DefaultPartitionInterval,
	// DefaultPartitionsAhead).
	PartitionInterval time.Duration
	PartitionsAhead   time.Duration
	Reporter          Reporter // optional
	Logger            *slog.Logger
}

// Run works every Interval until ctx ends.
func (m *Maintainer) Run(ctx context.Context) error {
	interval := m.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	log := m.Logger
	if log == nil {
		log = slog.Default()
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		if err := m.RunOnce(ctx, time.Now(), interval); err != nil && ctx.Err() == nil {
			log.Warn("maintenance failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// RunOnce does one round if this process leads.
func (m *Maintainer) RunOnce(ctx context.Context, now time.Time, interval time.Duration) error {
	lead, err := m.Store.TryLead(ctx, store.LeadParams{Name: "maintenance", Owner: m.Owner, Now: now, Until: now.Add(2 * interval)})
	if err != nil || !lead {
		return err
	}
	if m.DisableAfter > 0 {
		reason := fmt.Sprintf("every delivery attempt failed for %s", m.DisableAfter)
		disabled, err := m.Store.DisableFailingSubscriptions(ctx, store.DisableFailingParams{
			FailingBefore: now.Add(-m.DisableAfter), Reason: reason, Now: now,
			FirstProbeAt: now.Add(store.ProbeDelay(m.RecoverySchedule, 0))})
		if err != nil {
			return fmt.Errorf("disabling failing subscriptions: %w", err)
		}
		if len(disabled) > 0 && m.Logger != nil {
			m.Logger.Info("disabled failing subscriptions", "count", len(disabled))
		}
	}
	// Partitions first: ingest must always find one for its rows.
	if p, ok := m.Store.(store.Partitioned); ok {
		interval := cmp.Or(m.PartitionInterval, DefaultPartitionInterval)
		ahead := cmp.Or(m.PartitionsAhead, DefaultPartitionsAhead)
		n, err := p.EnsurePartitions(ctx, store.PartitionParams{Now: now, Interval: interval, Ahead: ahead})
		if err != nil {
			return fmt.Errorf("creating history partitions: %w", err)
		}
		if n > 0 && m.Logger != nil {
			m.Logger.Info("created history partitions", "count", n)
		}
	}
	if _, err := m.Store.StartProbes(ctx, store.ProbeParams{Now: now, Schedule: m.RecoverySchedule}); err != nil {
		return fmt.Errorf("probing disabled subscriptions: %w", err)
	}
	// A page per replay and round would take a year of history a long
	// time: pages follow each other until none is left or a round is up.
	for deadline := time.Now().Add(interval / 2); ; {
		n, err := m.Store.AdvanceReplays(ctx, store.AdvanceReplaysParams{Now: now, Page: ReplayPage})
		if err != nil {
			return fmt.Errorf("advancing replays: %w", err)
		}
		if n == 0 || time.Now().After(deadline) {
			break
		}
	}
	if m.Retention > 0 {
		res, err := m.Store.Prune(ctx, now.Add(-m.Retention))
		if err != nil {
			return fmt.Errorf("pruning: %w", err)
		}
		if m.Reporter != nil {
			m.Reporter.Retention(res)
		}
		if res.Blocked > 0 && m.Logger != nil {
			m.Logger.Warn("retention waits for pending deliveries", "blocked", res.Blocked,
				"oldest_pending_created_at", res.OldestBlocked)
		}
	}
	return nil
}
