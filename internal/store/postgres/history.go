package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/revdesk/webhooks/internal/store"
)

var _ store.HistoryWriter = (*Store)(nil)

// WriteHistory copies the rows in with COPY, in one transaction: the
// fastest way into PostgreSQL short of generating them in SQL, and the
// rows route to their partitions as they arrive.
func (s *Store) WriteHistory(ctx context.Context, h store.History) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		copies := []struct {
			table string
			cols  []string
			n     int
			row   func(i int) []any
		}{
			{"events", []string{"id", "workspace_id", "event_type", "workflow_id", "campaign_id", "occurred_at",
				"data", "source_event_id", "test", "created_at"}, len(h.Events), func(i int) []any {
				e := &h.Events[i]
				return []any{e.ID, e.WorkspaceID, e.EventType, e.WorkflowID, e.CampaignID, e.OccurredAt, e.Data,
					e.SourceEventID, e.Test, e.CreatedAt}
			}},
			{"deliveries", []string{"id", "workspace_id", "event_id", "subscription_id", "event_type", "status",
				"attempts", "next_attempt_at", "last_error", "created_at", "updated_at"}, len(h.Deliveries), func(i int) []any {
				d := &h.Deliveries[i]
				return []any{d.ID, d.WorkspaceID, d.EventID, d.SubscriptionID, d.EventType, d.Status, d.Attempts,
					d.NextAttemptAt, d.LastError, d.CreatedAt, d.UpdatedAt}
			}},
			{"attempts", []string{"delivery_id", "number", "id", "at", "status_code", "latency_ns", "error_class",
				"error", "response_body"}, len(h.Attempts), func(i int) []any {
				a := &h.Attempts[i]
				return []any{a.DeliveryID, a.Number, a.ID, a.At, a.StatusCode, int64(a.Latency), a.ErrorClass,
					a.Error, []byte(a.ResponseBody)}
			}},
		}
		var pending []int
		for i, d := range h.Deliveries {
			if d.Status == store.DeliveryPending {
				pending = append(pending, i)
			}
		}
		copies = append(copies, struct {
			table string
			cols  []string
			n     int
			row   func(i int) []any
		}{"delivery_queue", []string{"delivery_id", "next_attempt_at", "created_at"}, len(pending), func(i int) []any {
			d := &h.Deliveries[pending[i]]
			return []any{d.ID, d.NextAttemptAt, d.CreatedAt}
		}})
		for _, c := range copies {
			if c.n == 0 {
				continue
			}
			src := pgx.CopyFromSlice(c.n, func(i int) ([]any, error) { return c.row(i), nil })
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, src); err != nil {
				return err
			}
		}
		return nil
	})
}

// Size is the bytes the schema's tables take, indexes and TOAST included.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')`).Scan(&n)
	return n, translate(err)
}

// SettleHistory analyzes the history tables: rows copied in are unknown to
// the planner until autovacuum analyzes them, which on a large partition
// may take a while, and without statistics it plans the log's pages as
// bitmap scans of a subscription's whole history (1 s instead of 4 ms on
// a million deliveries).
func (s *Store) SettleHistory(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `ANALYZE events, deliveries, attempts, delivery_queue`)
	return translate(err)
}
