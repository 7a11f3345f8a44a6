package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// OnFacts sets how facts become events.
func (s *Store) OnFacts(f store.FactEvents) { s.facts = f }

// writeFacts stores the events of facts, routed to the workspaces'
// subscriptions, in tx: the transaction that made the facts true.
func (s *Store) writeFacts(ctx context.Context, tx *sql.Tx, facts []store.Fact) error {
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
	in := ingester{s: s, ctx: ctx, tx: tx, routes: map[routeKey][]*store.Subscription{}}
	results := make([]store.IngestResult, len(reqs))
	for i, req := range reqs {
		if results[i], err = in.request(i, req); err != nil {
			return err
		}
	}
	if err := in.settleHeads(results); err != nil {
		return err
	}
	return in.flush()
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE next_probe_at <= ? AND status = 'disabled' AND disabled_kind = 'failing' AND auto_recover
			AND deleted_at IS NULL ORDER BY next_probe_at LIMIT ?`, ns(p.Now), limit)
		if err != nil {
			return err
		}
		var due []store.Subscription
		for rows.Next() {
			sub, _, err := scanSubscription(rows)
			if err != nil {
				rows.Close()
				return err
			}
			due = append(due, sub)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, sub := range due {
			candidate, err := probeCandidate(ctx, tx, &sub)
			if err != nil {
				return err
			}
			plan := store.PlanProbe(&sub, candidate, p)
			if plan.Start {
				keys, err := keyedRows(tx.QueryContext(ctx, `UPDATE deliveries SET status = 'pending',
					next_attempt_at = ?1, due_at = CASE WHEN order_key IS NULL THEN ?1 END, updated_at = ?1
					WHERE id = ?2 RETURNING order_key`, ns(p.Now), plan.Probe))
				if err != nil {
					return err
				}
				if err := promote(ctx, tx, keys); err != nil {
					return err
				}
				started++
			}
			if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET probe_delivery_id = ?, probes = ?,
				next_probe_at = ? WHERE id = ?`, plan.Probe, plan.Probes, ns(plan.NextAt), sub.ID); err != nil {
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
func probeCandidate(ctx context.Context, tx *sql.Tx, sub *store.Subscription) (string, error) {
	if sub.ProbeDeliveryID != "" {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE id = ?`, sub.ProbeDeliveryID).Scan(&status)
		if err == nil && status == store.DeliveryPending {
			return "", nil
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
	}
	var since int64
	if sub.RecoverSince != nil {
		since = ns(*sub.RecoverSince)
	}
	var id string
	err := tx.QueryRowContext(ctx, `SELECT id FROM deliveries WHERE subscription_id = ? AND status IN ('skipped', 'failed')
		AND replay_id IS NULL AND created_at >= ? AND id >= ? ORDER BY id LIMIT 1`, sub.ID, since,
		store.SinceBound(fromNS(since))).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

func (s *Store) CreateReplay(ctx context.Context, p store.CreateReplayParams) (store.Replay, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.Replay{}, err
	}
	var r store.Replay
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		sub, err := getSubscription(ctx, tx, p.WorkspaceID, p.SubscriptionID)
		if err != nil {
			return err
		}
		if sub.Status != store.SubscriptionActive {
			return store.ErrNotActive
		}
		r, err = createReplay(ctx, tx, p)
		return err
	})
	return r, err
}

func createReplay(ctx context.Context, tx *sql.Tx, p store.CreateReplayParams) (store.Replay, error) {
	r := store.Replay{ID: ids.NewAt(ids.Replay, p.Now), WorkspaceID: p.WorkspaceID,
		SubscriptionID: p.SubscriptionID, Since: fromNS(ns(p.Since)), Mode: p.Mode, By: p.By,
		CreatedAt: fromNS(ns(p.Now)), Counts: map[string]int{}}
	if p.Until != nil {
		u := fromNS(ns(*p.Until))
		r.Until = &u
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO replays (id, workspace_id, subscription_id, since, until, mode,
		by, created_at) VALUES (?,?,?,?,?,?,?,?)`, r.ID, r.WorkspaceID, r.SubscriptionID, ns(p.Since),
		nsPtr(p.Until), r.Mode, r.By, ns(p.Now))
	return r, err
}

const replayColumns = `id, workspace_id, subscription_id, since, until, mode, by, queued, done_at IS NOT NULL,
	created_at, cursor`

func scanReplay(row scanner) (store.Replay, string, error) {
	var r store.Replay
	var since, created int64
	var until sql.NullInt64
	var cursor string
	err := row.Scan(&r.ID, &r.WorkspaceID, &r.SubscriptionID, &since, &until, &r.Mode, &r.By, &r.Queued,
		&r.Done, &created, &cursor)
	r.Since, r.Until, r.CreatedAt = fromNS(since), fromNullNS(until), fromNS(created)
	return r, cursor, translate(err)
}

func (s *Store) GetReplay(ctx context.Context, workspaceID, id string) (store.Replay, error) {
	r, _, err := scanReplay(s.r.QueryRowContext(ctx, `SELECT `+replayColumns+` FROM replays
		WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	if err != nil {
		return r, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT status, count(*) FROM deliveries WHERE replay_id = ?
		GROUP BY status`, id)
	if err != nil {
		return r, translate(err)
	}
	defer rows.Close()
	r.Counts = map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return r, translate(err)
		}
		r.Counts[status] = n
	}
	return r, translate(rows.Err())
}

// AdvanceReplays makes, for each unfinished replay, deliveries for the next
// page of its window's original deliveries (in id order, so event order),
// parked behind the replay's order key, in one transaction per replay.
func (s *Store) AdvanceReplays(ctx context.Context, p store.AdvanceReplaysParams) (int, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return 0, err
	}
	page := max(p.Page, 1)
	rows, err := s.r.QueryContext(ctx, `SELECT `+replayColumns+` FROM replays WHERE done_at IS NULL
		ORDER BY created_at LIMIT 10`)
	if err != nil {
		return 0, translate(err)
	}
	var running []store.Replay
	for rows.Next() {
		r, _, err := scanReplay(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		running = append(running, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, translate(err)
	}
	made := 0
	for _, r := range running {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			// Read again in the writer: the cursor is the writer's.
			r, cursor, err := scanReplay(tx.QueryRowContext(ctx, `SELECT `+replayColumns+` FROM replays
				WHERE id = ? AND done_at IS NULL`, r.ID))
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			n, err := advanceReplay(ctx, tx, r, cursor, page, p.Now)
			made += n
			return err
		})
		if err != nil {
			return made, err
		}
	}
	return made, nil
}

func advanceReplay(ctx context.Context, tx *sql.Tx, r store.Replay, cursor string, page int, now time.Time) (int, error) {
	statuses, err := json.Marshal(store.ReplayStatuses(r.Mode))
	if err != nil {
		return 0, err
	}
	until := int64(1<<63 - 1)
	if r.Until != nil {
		until = ns(*r.Until)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, event_id, event_type FROM deliveries
		WHERE subscription_id = ?1 AND id > ?2 AND id >= ?7 AND replay_id IS NULL AND created_at >= ?3
		AND created_at < ?4 AND status IN (SELECT value FROM json_each(?5)) ORDER BY id LIMIT ?6`,
		r.SubscriptionID, cursor, ns(r.Since), until, string(statuses), page, store.SinceBound(r.Since))
	if err != nil {
		return 0, err
	}
	type original struct{ id, eventID, eventType string }
	var originals []original
	for rows.Next() {
		var o original
		if err := rows.Scan(&o.id, &o.eventID, &o.eventType); err != nil {
			rows.Close()
			return 0, err
		}
		originals = append(originals, o)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	key := store.ReplayOrderKey(r.ID)
	for _, o := range originals {
		// Parked (due_at NULL): promote makes the oldest of the key its head.
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, workspace_id, event_id, subscription_id,
			event_type, status, next_attempt_at, created_at, updated_at, order_key, replay_id)
			VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`, ids.NewAt(ids.Delivery, now), r.WorkspaceID,
			o.eventID, r.SubscriptionID, o.eventType, ns(now), ns(now), ns(now), key, r.ID); err != nil {
			return 0, err
		}
		cursor = o.id
	}
	var done any
	if len(originals) < page {
		done = ns(now)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE replays SET cursor = ?, queued = queued + ?, done_at = ?
		WHERE id = ?`, cursor, len(originals), done, r.ID); err != nil {
		return 0, err
	}
	return len(originals), promote(ctx, tx, []string{key})
}
