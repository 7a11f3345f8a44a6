package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// OnFacts sets how facts become events.
func (s *Store) OnFacts(f store.FactEvents) { s.facts = f }

// writeFacts stores the events of facts, routed to the workspaces'
// subscriptions, in tx: the transaction that made the facts true.
func (s *Store) writeFacts(ctx context.Context, tx dbtx, facts []store.Fact) error {
	if s.facts == nil || len(facts) == 0 {
		return nil
	}
	reqs, err := s.facts(facts)
	if err != nil || len(reqs) == 0 {
		return err
	}
	for _, r := range reqs {
		if err := store.CheckNow(r.Now); err != nil {
			return err
		}
	}
	return ingestTx(ctx, tx, reqs, make([]store.IngestResult, len(reqs)))
}

// StartProbes makes, for each recovering subscription whose probe is due,
// the oldest delivery it missed pending again as its probe, and plans the
// next probe. A subscription whose probe is still pending, or that missed
// nothing yet, only has its next probe planned.
func (s *Store) StartProbes(ctx context.Context, p store.ProbeParams) (int, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return 0, err
	}
	limit := p.Limit
	if limit <= 0 {
		limit = store.ProbeLimit
	}
	started := 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		started = 0
		rows, err := tx.Query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE next_probe_at <= $1 AND status = 'disabled' AND disabled_kind = 'failing' AND auto_recover
			AND deleted_at IS NULL ORDER BY next_probe_at LIMIT $2 FOR UPDATE SKIP LOCKED`, p.Now, limit)
		due, err := rowsOf(rows, err, scanSubscription)
		if err != nil {
			return err
		}
		for _, sub := range due {
			candidate, err := probeCandidate(ctx, tx, &sub)
			if err != nil {
				return err
			}
			plan := store.PlanProbe(&sub, candidate, p)
			if plan.Start {
				var key *string
				if err := tx.QueryRow(ctx, `WITH d AS (
						UPDATE deliveries SET status = 'pending', next_attempt_at = $2, updated_at = $2
						WHERE id = $1 AND status IN ('skipped', 'failed') RETURNING *
					), q AS (
						INSERT INTO delivery_queue (delivery_id, next_attempt_at, created_at, order_key, parked)
						SELECT id, next_attempt_at, created_at, order_key, order_key IS NOT NULL FROM d
					)
					SELECT order_key FROM d`, plan.Probe, p.Now).Scan(&key); err != nil {
					return err
				}
				if key != nil {
					if err := settleKeys(ctx, tx, []string{*key}); err != nil {
						return err
					}
				}
				started++
			}
			if _, err := tx.Exec(ctx, `UPDATE subscriptions SET probe_delivery_id = $2, probes = $3,
				next_probe_at = $4 WHERE id = $1`, sub.ID, plan.Probe, plan.Probes, plan.NextAt); err != nil {
				return err
			}
		}
		return nil
	})
	return started, err
}

// probeCandidate is the oldest delivery sub missed (skipped or failed) since
// RecoverSince, or
// "" when its probe is still pending or it missed nothing.
func probeCandidate(ctx context.Context, tx dbtx, sub *store.Subscription) (string, error) {
	if sub.ProbeDeliveryID != "" {
		var pending bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM delivery_queue WHERE delivery_id = $1)`,
			sub.ProbeDeliveryID).Scan(&pending)
		if err != nil || pending {
			return "", err
		}
	}
	since := time.Unix(0, 0) // ids (SinceBound) start at the Unix epoch
	if sub.RecoverSince != nil {
		since = *sub.RecoverSince
	}
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM deliveries WHERE subscription_id = $1 AND status IN ('skipped', 'failed')
		AND replay_id IS NULL AND created_at >= $2 AND id >= $3 ORDER BY id LIMIT 1`, sub.ID, since,
		store.SinceBound(since)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return id, err
}

func (s *Store) CreateReplay(ctx context.Context, p store.CreateReplayParams) (store.Replay, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.Replay{}, err
	}
	var r store.Replay
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM subscriptions WHERE workspace_id = $1 AND id = $2
			AND deleted_at IS NULL`, p.WorkspaceID, p.SubscriptionID).Scan(&status); err != nil {
			return err
		}
		if status != store.SubscriptionActive {
			return store.ErrNotActive
		}
		var err error
		r, err = createReplay(ctx, tx, p)
		return err
	})
	return r, err
}

func createReplay(ctx context.Context, tx dbtx, p store.CreateReplayParams) (store.Replay, error) {
	r := store.Replay{ID: ids.NewAt(ids.Replay, p.Now), WorkspaceID: p.WorkspaceID,
		SubscriptionID: p.SubscriptionID, Since: timestamp(p.Since), Mode: p.Mode, By: p.By,
		CreatedAt: timestamp(p.Now), Counts: map[string]int{}}
	if p.Until != nil {
		u := timestamp(*p.Until)
		r.Until = &u
	}
	_, err := tx.Exec(ctx, `INSERT INTO replays (id, workspace_id, subscription_id, since, until, mode, by,
		created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.ID, r.WorkspaceID, r.SubscriptionID, r.Since,
		r.Until, r.Mode, r.By, r.CreatedAt)
	return r, err
}

const replayColumns = `id, workspace_id, subscription_id, since, until, mode, by, queued, done_at IS NOT NULL,
	created_at, cursor`

type replayRow struct {
	store.Replay
	cursor string
}

func scanReplay(row pgx.Row) (replayRow, error) {
	var r replayRow
	err := row.Scan(&r.ID, &r.WorkspaceID, &r.SubscriptionID, &r.Since, &r.Until, &r.Mode, &r.By, &r.Queued,
		&r.Done, &r.CreatedAt, &r.cursor)
	return r, err
}

func (s *Store) GetReplay(ctx context.Context, workspaceID, id string) (store.Replay, error) {
	r, err := scanReplay(s.pool.QueryRow(ctx, `SELECT `+replayColumns+` FROM replays
		WHERE id = $1 AND workspace_id = $2`, id, workspaceID))
	if err != nil {
		return store.Replay{}, translate(err)
	}
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM deliveries WHERE replay_id = $1
		GROUP BY status`, id)
	if err != nil {
		return store.Replay{}, translate(err)
	}
	r.Counts = map[string]int{}
	var status string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error { r.Counts[status] = n; return nil })
	return r.Replay, translate(err)
}

// AdvanceReplays makes, for each unfinished replay, deliveries for the next
// page of its window's original deliveries (in id order, so event order),
// parked behind the replay's order key, in one transaction per replay (its
// row locked, so two processes never make the same page).
func (s *Store) AdvanceReplays(ctx context.Context, p store.AdvanceReplaysParams) (int, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return 0, err
	}
	page := max(p.Page, 1)
	rows, err := s.pool.Query(ctx, `SELECT id FROM replays WHERE done_at IS NULL ORDER BY created_at LIMIT 10`)
	running, err := rowsOf(rows, err, func(r pgx.Row) (id string, err error) { return id, r.Scan(&id) })
	if err != nil {
		return 0, err
	}
	made := 0
	for _, id := range running {
		err := s.tx(ctx, func(tx pgx.Tx) error {
			r, err := scanReplay(tx.QueryRow(ctx, `SELECT `+replayColumns+` FROM replays
				WHERE id = $1 AND done_at IS NULL FOR UPDATE SKIP LOCKED`, id))
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			n, err := advanceReplay(ctx, tx, r, page, timestamp(p.Now))
			made += n
			return err
		})
		if err != nil {
			return made, err
		}
	}
	return made, nil
}

func advanceReplay(ctx context.Context, tx dbtx, r replayRow, page int, t time.Time) (int, error) {
	key := store.ReplayOrderKey(r.ID)
	// The originals' page and the new deliveries in one statement; ids are
	// made in Go beforehand (a page's worth), in order.
	rows, err := tx.Query(ctx, `SELECT id, event_id, event_type FROM deliveries
		WHERE subscription_id = $1 AND id > $2 AND id >= $7 AND replay_id IS NULL AND created_at >= $3
		  AND ($4::timestamptz IS NULL OR created_at < $4) AND status = ANY ($5)
		ORDER BY id LIMIT $6`, r.SubscriptionID, r.cursor, r.Since, r.Until,
		store.ReplayStatuses(r.Mode), page, store.SinceBound(r.Since))
	type original struct{ id, eventID, eventType string }
	originals, err := rowsOf(rows, err, func(row pgx.Row) (original, error) {
		var o original
		return o, row.Scan(&o.id, &o.eventID, &o.eventType)
	})
	if err != nil {
		return 0, err
	}
	cursor := r.cursor
	var cID, cEvent, cType []string
	for _, o := range originals {
		cID, cEvent, cType = append(cID, ids.NewAt(ids.Delivery, t)), append(cEvent, o.eventID), append(cType, o.eventType)
		cursor = o.id
	}
	if len(cID) > 0 {
		// Parked: settleKeys makes the oldest of the key its head.
		if _, err := tx.Exec(ctx, `WITH u AS (
				SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(id, event_id, event_type, ord)
			), q AS (
				INSERT INTO delivery_queue (delivery_id, next_attempt_at, created_at, order_key, parked)
				SELECT id, $4, $4, $5, true FROM u
			)
			INSERT INTO deliveries (id, workspace_id, event_id, subscription_id, event_type, status,
				next_attempt_at, created_at, updated_at, order_key, replay_id)
			SELECT id, $6, event_id, $7, event_type, 'pending', $4, $4, $4, $5, $8 FROM u ORDER BY ord`,
			cID, cEvent, cType, t, key, r.WorkspaceID, r.SubscriptionID, r.ID); err != nil {
			return 0, err
		}
	}
	var done *time.Time
	if len(originals) < page {
		done = &t
	}
	if _, err := tx.Exec(ctx, `UPDATE replays SET cursor = $2, queued = queued + $3, done_at = $4
		WHERE id = $1`, r.ID, cursor, len(originals), done); err != nil {
		return 0, err
	}
	return len(originals), settleKeys(ctx, tx, []string{key})
}
