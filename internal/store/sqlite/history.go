package sqlite

import (
	"context"
	"database/sql"

	"github.com/revdesk/webhooks/internal/store"
)

var _ store.HistoryWriter = (*Store)(nil)

// WriteHistory inserts the rows in one transaction through prepared
// single-row statements: SQLite's fastest path is many rows per commit,
// not per statement. A delivery's first attempt goes into its row, as
// completions put it; later ones into attempts.
func (s *Store) WriteHistory(ctx context.Context, h store.History) error {
	first := make(map[string]*store.Attempt, len(h.Deliveries))
	var later []*store.Attempt
	for i := range h.Attempts {
		if a := &h.Attempts[i]; a.Number == 1 {
			first[a.DeliveryID] = a
		} else {
			later = append(later, a)
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		ev, err := tx.PrepareContext(ctx, `INSERT INTO events (id, workspace_id, event_type, workflow_id,
			campaign_id, occurred_at, data, source_event_id, test, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ev.Close()
		for _, e := range h.Events {
			if _, err := ev.ExecContext(ctx, e.ID, e.WorkspaceID, e.EventType, e.WorkflowID, e.CampaignID,
				ns(e.OccurredAt), e.Data, e.SourceEventID, e.Test, ns(e.CreatedAt)); err != nil {
				return err
			}
		}
		dl, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (id, workspace_id, event_id, subscription_id,
			event_type, status, attempts, next_attempt_at, due_at, last_error, created_at, updated_at,
			first_attempt_id, first_at, first_status_code, first_latency_ns, first_error_class, first_error,
			first_response_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer dl.Close()
		for _, d := range h.Deliveries {
			var next, due *int64
			if d.NextAttemptAt != nil {
				t := ns(*d.NextAttemptAt)
				next = &t
				if d.Status == store.DeliveryPending {
					due = &t
				}
			}
			var fID, fErrClass, fErr, fBody any
			var fAt, fCode, fLatency any
			if a := first[d.ID]; a != nil {
				fID, fAt, fCode, fLatency = a.ID, ns(a.At), a.StatusCode, int64(a.Latency)
				fErrClass, fErr, fBody = a.ErrorClass, a.Error, []byte(a.ResponseBody)
			}
			if _, err := dl.ExecContext(ctx, d.ID, d.WorkspaceID, d.EventID, d.SubscriptionID, d.EventType,
				d.Status, d.Attempts, next, due, d.LastError, ns(d.CreatedAt), ns(d.UpdatedAt),
				fID, fAt, fCode, fLatency, fErrClass, fErr, fBody); err != nil {
				return err
			}
		}
		at, err := tx.PrepareContext(ctx, `INSERT INTO attempts (delivery_id, number, id, at, status_code,
			latency_ns, error_class, error, response_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer at.Close()
		for _, a := range later {
			if _, err := at.ExecContext(ctx, a.DeliveryID, a.Number, a.ID, ns(a.At), a.StatusCode,
				int64(a.Latency), a.ErrorClass, a.Error, []byte(a.ResponseBody)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Size is the bytes of the database file's pages (the WAL aside).
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&n)
	return n, translate(err)
}

// SettleHistory does nothing: the service never runs ANALYZE on SQLite, whose
// plans for these queries need no statistics (its indexes fit them).
func (s *Store) SettleHistory(context.Context) error { return nil }
