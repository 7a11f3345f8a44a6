// Package maintenance is the periodic upkeep of the database: it disables
// subscriptions that keep failing and prunes old deliveries and events.
package maintenance

import (
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
	Prune(ctx context.Context, before time.Time) (int, error)
}

// Maintainer disables subscriptions that keep failing and prunes old
// deliveries and events. With many processes on one database only the one
// holding the "maintenance" lead does the work.
type Maintainer struct {
	Store        Store
	Owner        string
	Interval     time.Duration // default DefaultInterval
	DisableAfter time.Duration // failing this long disables; 0 never
	Retention    time.Duration // final deliveries older than this are pruned; 0 keeps all
	Logger       *slog.Logger
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
			FailingBefore: now.Add(-m.DisableAfter), Reason: reason, Now: now})
		if err != nil {
			return fmt.Errorf("disabling failing subscriptions: %w", err)
		}
		if len(disabled) > 0 && m.Logger != nil {
			m.Logger.Info("disabled failing subscriptions", "count", len(disabled))
		}
	}
	if m.Retention > 0 {
		if _, err := m.Store.Prune(ctx, now.Add(-m.Retention)); err != nil {
			return fmt.Errorf("pruning: %w", err)
		}
	}
	return nil
}
