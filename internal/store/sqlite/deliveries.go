package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

const deliveryColumns = `id, workspace_id, event_id, subscription_id, event_type, status, attempts,
	next_attempt_at, last_error, created_at, updated_at, order_key, replay_id`

func scanDelivery(row scanner) (store.Delivery, error) {
	var d store.Delivery
	var next sql.NullInt64
	var created, updated int64
	var key, replay sql.NullString
	err := row.Scan(&d.ID, &d.WorkspaceID, &d.EventID, &d.SubscriptionID, &d.EventType, &d.Status, &d.Attempts,
		&next, &d.LastError, &created, &updated, &key, &replay)
	if err != nil {
		return d, translate(err)
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromNullNS(next), fromNS(created), fromNS(updated)
	d.OrderKey, d.ReplayID = key.String, replay.String
	return d, nil
}

func scanDeliveries(rows *sql.Rows, err error) ([]store.Delivery, error) {
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	ds := []store.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, translate(rows.Err())
}

func (s *Store) GetDelivery(ctx context.Context, workspaceID, id string) (store.Delivery, []store.Attempt, error) {
	// One read transaction so the delivery and its attempts agree.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Delivery{}, nil, translate(err)
	}
	defer tx.Rollback()
	var first struct {
		id, class, error  sql.NullString
		at, code, latency sql.NullInt64
		body              []byte
	}
	var d store.Delivery
	var next sql.NullInt64
	var created, updated int64
	var key, replay sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+`, first_attempt_id, first_at, first_status_code,
		first_latency_ns, first_error_class, first_error, first_response_body FROM deliveries
		WHERE id = ? AND workspace_id = ?`, id, workspaceID).Scan(&d.ID, &d.WorkspaceID, &d.EventID,
		&d.SubscriptionID, &d.EventType, &d.Status, &d.Attempts, &next, &d.LastError, &created, &updated, &key,
		&replay, &first.id, &first.at, &first.code, &first.latency, &first.class, &first.error, &first.body)
	if err != nil {
		return d, nil, translate(err)
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromNullNS(next), fromNS(created), fromNS(updated)
	d.OrderKey, d.ReplayID = key.String, replay.String
	attempts := []store.Attempt{}
	if first.at.Valid {
		attempts = append(attempts, store.Attempt{ID: first.id.String, DeliveryID: d.ID, Number: 1,
			At: fromNS(first.at.Int64), StatusCode: int(first.code.Int64), Latency: time.Duration(first.latency.Int64),
			ErrorClass: first.class.String, Error: first.error.String, ResponseBody: string(first.body)})
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, delivery_id, number, at, status_code, latency_ns, error_class,
		error, response_body FROM attempts WHERE delivery_id = ? ORDER BY number`, id)
	if err != nil {
		return d, nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a store.Attempt
		var at, latency int64
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Number, &at, &a.StatusCode, &latency, &a.ErrorClass,
			&a.Error, &a.ResponseBody); err != nil {
			return d, nil, translate(err)
		}
		a.At, a.Latency = fromNS(at), time.Duration(latency)
		attempts = append(attempts, a)
	}
	return d, attempts, translate(rows.Err())
}

func (s *Store) ListDeliveries(ctx context.Context, p store.ListDeliveriesParams) ([]store.Delivery, error) {
	cmp, dir := pageOrder(p.Newest)
	f := &filters{}
	f.add("workspace_id = ?", p.WorkspaceID) // always: a list never spans workspaces
	f.eq("subscription_id", p.SubscriptionID)
	f.eq("event_id", p.EventID)
	f.eq("status", p.Status)
	if p.After != "" {
		f.add("id "+cmp+" ?", p.After)
	}
	if types := typeList(p.EventTypes); types != "" {
		f.add("event_type IN (SELECT value FROM json_each(?))", types)
	}
	return scanDeliveries(s.r.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries`+f.where()+`
		ORDER BY id `+dir+` LIMIT ?`, append(f.args, limitOrAll(p.Limit))...))
}

// RetryDelivery makes a final delivery pending and due at now. A pending one
// is brought forward too, unless someone holds a live lease on it (then it is
// being sent already and is returned as is). A keyed one made pending again
// is parked and goes when its key has no head; a parked one stays parked.
func (s *Store) RetryDelivery(ctx context.Context, workspaceID, id string, now time.Time) (store.Delivery, error) {
	if err := store.CheckNow(now); err != nil {
		return store.Delivery{}, err
	}
	var d store.Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRowContext(ctx, `UPDATE deliveries SET status = 'pending',
			next_attempt_at = ?1, lease_owner = NULL, lease_until = NULL, updated_at = ?2,
			due_at = CASE WHEN order_key IS NULL OR (status = 'pending' AND due_at IS NOT NULL) THEN ?1 END
			WHERE id = ?3 AND workspace_id = ?4
			AND (status <> 'pending' OR lease_owner IS NULL OR lease_until < ?1)
			RETURNING `+deliveryColumns, ns(now), ns(now), id, workspaceID))
		if errors.Is(err, store.ErrNotFound) {
			d, err = scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
				WHERE id = ? AND workspace_id = ?`, id, workspaceID))
			return err
		}
		if err != nil || d.OrderKey == "" {
			return err
		}
		return promote(ctx, tx, []string{d.OrderKey})
	})
	return d, err
}

func (s *Store) RetryFailed(ctx context.Context, p store.RetryFailedParams) (int, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return 0, err
	}
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := getSubscription(ctx, tx, p.WorkspaceID, p.SubscriptionID); err != nil {
			return err
		}
		// Keyed ones are parked, then each key without a head gets one.
		rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?1,
			due_at = CASE WHEN order_key IS NULL THEN ?1 END, updated_at = ?2
			WHERE subscription_id = ?3 AND status = 'failed' AND created_at >= ?4 AND id >= ?5
			RETURNING order_key`,
			ns(p.Now), ns(p.Now), p.SubscriptionID, ns(p.Since), store.SinceBound(p.Since))
		keys, err := countRows(rows, err, &n)
		if err != nil {
			return err
		}
		return promote(ctx, tx, keys)
	})
	return int(n), err
}

// ClaimDeliveries leases due deliveries with one UPDATE … RETURNING (see
// claimStmt).
func (s *Store) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]store.Job, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return nil, err
	}
	if p.Limit <= 0 {
		return nil, nil
	}
	var ds []store.Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		ds, err = scanDeliveries(tx.StmtContext(ctx, s.claimStmt).QueryContext(ctx,
			p.Owner, ns(p.LeaseUntil), ns(p.Now), p.Limit))
		return err
	})
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	// Events never change and are not pruned while a delivery is pending, so
	// they (and the subscriptions) are read after commit from the read pool,
	// keeping the writer free.
	return s.jobs(ctx, ds)
}

func (s *Store) jobs(ctx context.Context, ds []store.Delivery) ([]store.Job, error) {
	events := map[string]*store.Event{}
	subs := map[string]*store.Subscription{}
	deleted := map[string]bool{}
	var eventIDs, subIDs []any
	for _, d := range ds {
		if _, ok := events[d.EventID]; !ok {
			events[d.EventID] = nil
			eventIDs = append(eventIDs, d.EventID)
		}
		if _, ok := subs[d.SubscriptionID]; !ok {
			subs[d.SubscriptionID] = nil
			subIDs = append(subIDs, d.SubscriptionID)
		}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id IN (`+
		placeholders(len(eventIDs))+`)`, eventIDs...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		events[e.ID] = &e
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	rows, err = s.r.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE id IN (`+
		placeholders(len(subIDs))+`)`, subIDs...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		sub, del, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		subs[sub.ID], deleted[sub.ID] = &sub, del
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	jobs := make([]store.Job, len(ds))
	for i, d := range ds {
		jobs[i] = store.Job{Delivery: d, Event: events[d.EventID], Subscription: subs[d.SubscriptionID],
			Deleted: deleted[d.SubscriptionID]}
	}
	return jobs, nil
}

// CompleteDeliveries applies completions in one transaction. A first
// attempt is written into the delivery's row by the update itself
// (migration 00002); only later attempts cost an attempts row. The applied
// completions are folded per subscription (store.FoldCompletions) and each
// subscription whose state that changes is written once, so a batch to one
// endpoint costs one row update at most.
func (s *Store) CompleteDeliveries(ctx context.Context, p store.CompleteParams) ([]store.DisabledSubscription, error) {
	cs := p.Completions
	if len(cs) == 0 {
		return nil, nil
	}
	if err := errors.Join(store.ValidateCompletions(cs), store.CheckNow(p.Now)); err != nil {
		return nil, err
	}
	now := p.Now
	// Attempt ids and times are settled before the update, which may store
	// them inline; they are set in cs too, so a retried batch keeps them.
	for i := range cs {
		if a := cs[i].Attempt; a != nil && (a.At.IsZero() || a.ID == "") {
			c := *a
			if c.At.IsZero() {
				c.At = now
			}
			if c.ID == "" {
				c.ID = ids.NewAt(ids.Attempt, c.At)
			}
			cs[i].Attempt = &c
		}
	}
	cs = store.LastPerDelivery(cs)
	var disabled []store.DisabledSubscription
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		done, err := s.completeRows(ctx, tx, cs, now)
		if err != nil {
			return err
		}
		// The applied completions in batch order, each naming the
		// subscription its row belongs to.
		applied := make([]store.Completion, 0, len(done))
		var attempts []any
		var finalKeys []string
		var exhausted []exhaustedDelivery
		for _, c := range cs {
			d, ok := done[c.DeliveryID]
			if !ok {
				continue // the lease was lost
			}
			if d.orderKey.Valid && d.status != store.DeliveryPending {
				finalKeys = append(finalKeys, d.orderKey.String)
			}
			c.SubscriptionID = d.subscriptionID
			applied = append(applied, c)
			if c.Status == store.DeliveryFailed && c.Attempt != nil {
				exhausted = append(exhausted, exhaustedDelivery{c: c, d: d})
			}
			if a := c.Attempt; a != nil && d.attempts > 1 {
				// The body is stored as a BLOB: receivers may answer with any bytes.
				attempts = append(attempts, c.DeliveryID, d.attempts, a.ID, ns(a.At), a.StatusCode,
					int64(a.Latency), a.ErrorClass, a.Error, []byte(a.ResponseBody))
			}
		}
		if err := insertRows(ctx, tx, &s.insertAttempts, attemptInsertCols, attempts); err != nil {
			return err
		}
		if err := promote(ctx, tx, finalKeys); err != nil {
			return err
		}
		var facts []store.Fact
		disabled, facts, err = applyFolds(ctx, tx, store.FoldCompletions(applied), exhausted, p)
		if err != nil {
			return err
		}
		return s.writeFacts(ctx, tx, facts)
	})
	if err != nil {
		return nil, err
	}
	return disabled, nil
}

// applyFolds reads the current state of the folds' subscriptions, writes
// the state store.CompletionFold.Apply gives where it changes, and returns
// the subscriptions disabled and the facts of the changes.
func applyFolds(ctx context.Context, tx *sql.Tx, folds []store.CompletionFold, exhausted []exhaustedDelivery,
	p store.CompleteParams) ([]store.DisabledSubscription, []store.Fact, error) {
	if len(folds) == 0 {
		return nil, nil, nil
	}
	now := p.Now
	args := make([]any, len(folds))
	for i, f := range folds {
		args[i] = f.SubscriptionID
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+subscriptionColumns+`
		FROM subscriptions WHERE id IN (`+placeholders(len(args))+`)`, args...)
	if err != nil {
		return nil, nil, err
	}
	subs := make(map[string]store.Subscription, len(folds))
	for rows.Next() {
		sub, _, err := scanSubscription(rows)
		if err != nil {
			rows.Close()
			return nil, nil, err
		}
		subs[sub.ID] = sub
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, nil, err
	}
	var disabled []store.DisabledSubscription
	var facts []store.Fact
	at := fromNS(ns(now))
	for _, f := range folds {
		sub, ok := subs[f.SubscriptionID]
		if !ok {
			continue
		}
		cur := store.StateOf(&sub)
		next, disables, enables := f.Apply(cur)
		facts = append(facts, store.FoldFacts(&sub, f, cur, next, disables, enables, p.FailingAfter, at)...)
		switch {
		case disables:
			_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET status = ?, disabled_reason = ?,
				failing_since = ?, failures = ?, disabled_kind = 'gone', next_probe_at = NULL, updated_at = ?
				WHERE id = ?`,
				next.Status, next.DisabledReason, nsPtr(next.FailingSince), next.Failures, ns(now), f.SubscriptionID)
			disabled = append(disabled, store.DisabledSubscription{SubscriptionID: f.SubscriptionID,
				WorkspaceID: sub.WorkspaceID, Reason: next.DisabledReason, At: at})
		case enables:
			_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET status = 'active', disabled_reason = '',
				failing_since = ?, failures = ?, disabled_kind = '', next_probe_at = NULL, probes = 0,
				probe_delivery_id = '', recover_since = NULL, updated_at = ? WHERE id = ?`,
				nsPtr(next.FailingSince), next.Failures, ns(now), f.SubscriptionID)
			if err == nil && !p.NoRecoveryReplay {
				_, err = createReplay(ctx, tx, store.RecoveryReplay(&sub, now))
			}
		case !sameTimePtr(next.FailingSince, cur.FailingSince) || next.Failures != cur.Failures:
			_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET failing_since = ?, failures = ? WHERE id = ?`,
				nsPtr(next.FailingSince), next.Failures, f.SubscriptionID)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	for _, e := range exhausted {
		if sub, ok := subs[e.d.subscriptionID]; ok {
			facts = append(facts, store.ExhaustedFact(&sub, e.c, e.d.eventID, e.d.eventType, e.d.attempts, at))
		}
	}
	return disabled, facts, nil
}

// exhaustedDelivery is a completion that failed a delivery for good, with
// its row.
type exhaustedDelivery struct {
	c store.Completion
	d completed
}

func sameTimePtr(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// completed is a delivery row a completion applied to.
type completed struct {
	subscriptionID string
	attempts       int
	orderKey       sql.NullString
	status         string
	eventID        string
	eventType      string
}

// attemptInsertCols is the number of values per attempt row (see
// Store.init for the columns).
const attemptInsertCols = 9

// completeCols is the number of values per completion in completeQuery.
const completeCols = 13

// completeQuery is the multi-row UPDATE … FROM (VALUES …) of rows
// completions, completeCols values each, then the time. A row without
// attempts yet takes the completion's attempt (NULLs when there is none)
// as its first.
func completeQuery(rows int) string {
	return `WITH c (id, owner, status, attempted, next, last_error,
			att_id, att_at, att_code, att_latency, att_class, att_error, att_body) AS (VALUES ` +
		strings.TrimSuffix(strings.Repeat("("+placeholders(completeCols)+"),", rows), ",") + `)
		UPDATE deliveries SET status = c.status, attempts = deliveries.attempts + c.attempted,
			next_attempt_at = c.next, due_at = c.next,
			last_error = CASE WHEN c.attempted = 1 THEN c.last_error ELSE deliveries.last_error END,
			lease_owner = NULL, lease_until = NULL, updated_at = ?` + strconv.Itoa(rows*completeCols+1) + `,
			first_attempt_id = iif(deliveries.attempts = 0, c.att_id, deliveries.first_attempt_id),
			first_at = iif(deliveries.attempts = 0, c.att_at, deliveries.first_at),
			first_status_code = iif(deliveries.attempts = 0, c.att_code, deliveries.first_status_code),
			first_latency_ns = iif(deliveries.attempts = 0, c.att_latency, deliveries.first_latency_ns),
			first_error_class = iif(deliveries.attempts = 0, c.att_class, deliveries.first_error_class),
			first_error = iif(deliveries.attempts = 0, c.att_error, deliveries.first_error),
			first_response_body = iif(deliveries.attempts = 0, c.att_body, deliveries.first_response_body)
		FROM c WHERE deliveries.id = c.id AND deliveries.lease_owner = c.owner
			AND deliveries.status = 'pending'
		RETURNING deliveries.id, deliveries.subscription_id, deliveries.attempts, deliveries.order_key,
			deliveries.status, deliveries.event_id, deliveries.event_type`
}

// completeRows applies the completions whose lease is still held, with the
// s.complete statements, and returns the rows updated by delivery id; a
// completion whose lease was lost matches no row.
func (s *Store) completeRows(ctx context.Context, tx *sql.Tx, cs []store.Completion, now time.Time) (map[string]completed, error) {
	done := make(map[string]completed, len(cs))
	for len(cs) > 0 {
		st, n := s.complete.next(ctx, tx, len(cs))
		args := make([]any, 0, n*completeCols+1)
		for _, c := range cs[:n] {
			var next any
			if c.Status == store.DeliveryPending {
				t := now
				if c.NextAttemptAt != nil {
					t = *c.NextAttemptAt
				}
				next = ns(t)
			}
			if a := c.Attempt; a != nil {
				lastError := a.Error
				if lastError == "" {
					lastError = a.ErrorClass
				}
				args = append(args, c.DeliveryID, c.Owner, c.Status, 1, next, lastError,
					a.ID, ns(a.At), a.StatusCode, int64(a.Latency), a.ErrorClass, a.Error, []byte(a.ResponseBody))
			} else {
				args = append(args, c.DeliveryID, c.Owner, c.Status, 0, next, "", nil, nil, nil, nil, nil, nil, nil)
			}
		}
		// The time is numbered after the VALUES parameters, which come first.
		args = append(args, ns(now))
		err := func() error {
			defer st.Close()
			rows, err := st.QueryContext(ctx, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				var d completed
				if err := rows.Scan(&id, &d.subscriptionID, &d.attempts, &d.orderKey, &d.status, &d.eventID,
					&d.eventType); err != nil {
					rows.Close()
					return err
				}
				done[id] = d
			}
			// Next closes the rows on an error, after which Close
			// reports nothing: the error is only in Err.
			return errors.Join(rows.Err(), rows.Close())
		}()
		if err != nil {
			return nil, err
		}
		cs = cs[n:]
	}
	return done, nil
}

// ReleaseDeliveries hands back, unattempted, leases the owner still holds,
// due at dueAt.
func (s *Store) ReleaseDeliveries(ctx context.Context, owner string, idList []string, dueAt time.Time) error {
	if err := store.CheckNow(dueAt); err != nil {
		return err
	}
	if len(idList) == 0 {
		return nil
	}
	args := []any{ns(dueAt), owner}
	for _, id := range idList {
		args = append(args, id)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_owner = NULL, lease_until = NULL,
			next_attempt_at = ?1, due_at = ?1
			WHERE lease_owner = ?2 AND status = 'pending' AND id IN (`+placeholders(len(idList))+`)`, args...)
		return err
	})
}

func (s *Store) PendingStats(ctx context.Context) (int, *time.Time, error) {
	var n int
	var oldest sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM deliveries
		WHERE status = 'pending'`).Scan(&n, &oldest)
	if err != nil {
		return 0, nil, translate(err)
	}
	return n, fromNullNS(oldest), nil
}

// DisableFailingSubscriptions is store.FailingTooLong as one UPDATE
// (storetest checks the two agree). What each missed starts with its
// oldest delivery pending or failed in the streak (RecoverSince).
func (s *Store) DisableFailingSubscriptions(ctx context.Context, p store.DisableFailingParams) ([]store.DisabledSubscription, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return nil, err
	}
	now := p.Now
	at := fromNS(ns(now))
	var disabled []store.DisabledSubscription
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE subscriptions SET status = 'disabled', disabled_reason = ?1,
			updated_at = ?2, disabled_kind = 'failing', next_probe_at = ?4, probes = 0, probe_delivery_id = '',
			recover_since = coalesce((SELECT min(d.created_at) FROM deliveries d
				WHERE d.subscription_id = subscriptions.id AND (d.status = 'pending'
					OR (d.status = 'failed' AND d.updated_at >= subscriptions.failing_since))), ?2)
			WHERE status = 'active' AND deleted_at IS NULL AND failing_since < ?3
			RETURNING `+subscriptionColumns, p.Reason, ns(now), ns(p.FailingBefore), ns(p.FirstProbeAt))
		if err != nil {
			return err
		}
		var facts []store.Fact
		for rows.Next() {
			sub, _, err := scanSubscription(rows)
			if err != nil {
				rows.Close()
				return err
			}
			disabled = append(disabled, store.DisabledSubscription{SubscriptionID: sub.ID,
				WorkspaceID: sub.WorkspaceID, Reason: p.Reason, At: at})
			facts = append(facts, store.DisabledFact(&sub, store.ByAutomatic, at))
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		return s.writeFacts(ctx, tx, facts)
	})
	if err != nil {
		return nil, err
	}
	return disabled, nil
}

// pruneChunk bounds each prune transaction so ingest and claims are never
// held up behind one long delete.
const pruneChunk = 2000

// Prune deletes, in chunks, final deliveries created before the cutoff with
// their attempts, then events before it that no delivery refers to, then
// idempotency keys before it, then gives the freed pages back to the file
// system (vacuum.go), and reports the pending deliveries it had to keep.
func (s *Store) Prune(ctx context.Context, before time.Time) (store.PruneResult, error) {
	total, err := s.prune(ctx, before)
	res := store.PruneResult{Rows: total}
	if err != nil {
		return res, err
	}
	if err := s.vacuum(ctx); err != nil {
		return res, err
	}
	// Pending deliveries are in the partial due index, created_at beside
	// due_at: counted from the index alone.
	var n int
	var oldest *int64
	err = s.r.QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM deliveries
		WHERE status = 'pending' AND created_at < ?1`, ns(before)).Scan(&n, &oldest)
	if err != nil {
		return res, translate(err)
	}
	res.Blocked = n
	if oldest != nil {
		t := time.Unix(0, *oldest).UTC()
		res.OldestBlocked = &t
	}
	return res, nil
}

func (s *Store) prune(ctx context.Context, before time.Time) (int, error) {
	// Delivery ids start with their creation millisecond (internal/ids) and
	// the store makes them, so an id bound turns the scan into a primary key
	// range; created_at then cuts it exactly.
	idBound := ids.NewAt(ids.Delivery, before.Add(time.Millisecond))
	cutoff := ns(before)
	total := 0
	// Each step repeats until a chunk comes back short.
	steps := [][]string{
		{
			`DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries
				WHERE id < ?1 AND created_at < ?2 AND status <> 'pending' LIMIT ?3)`,
			`DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries
				WHERE id < ?1 AND created_at < ?2 AND status <> 'pending' LIMIT ?3)`,
		},
		{`DELETE FROM events WHERE id IN (SELECT id FROM events e WHERE created_at < ?2
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) LIMIT ?3)`},
		{`DELETE FROM idempotency_keys WHERE (workspace_id, key) IN (SELECT workspace_id, key
			FROM idempotency_keys WHERE created_at < ?2 LIMIT ?3)`},
		{`DELETE FROM portal_sessions WHERE id IN (SELECT id FROM portal_sessions WHERE expires_at < ?2 LIMIT ?3)`},
	}
	for _, step := range steps {
		for {
			var last int64
			err := s.inTx(ctx, func(tx *sql.Tx) error {
				for _, q := range step {
					res, err := tx.ExecContext(ctx, q, idBound, cutoff, pruneChunk)
					if err != nil {
						return err
					}
					if last, err = res.RowsAffected(); err != nil {
						return err
					}
					total += int(last)
				}
				return nil
			})
			if err != nil {
				return total, err
			}
			if last < pruneChunk {
				break
			}
		}
	}
	return total, nil
}

// TryLead takes the named leadership when it is free or expired, or renews
// it for its owner.
func (s *Store) TryLead(ctx context.Context, p store.LeadParams) (bool, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return false, err
	}
	var leads bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO leaders (name, owner, lease_until) VALUES (?1, ?2, ?3)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
			WHERE leaders.owner = excluded.owner OR leaders.lease_until <= ?4`,
			p.Name, p.Owner, ns(p.Until), ns(p.Now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		leads = n == 1
		return err
	})
	return leads, err
}

// ReleaseAllLeases hands back every leased delivery, due when it was due
// before. SQLite serves a single process, so at start any lease found was
// held by a process that died; releasing it spares waiting the lease out.
func (s *Store) ReleaseAllLeases(ctx context.Context) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_owner = NULL, lease_until = NULL,
			due_at = next_attempt_at WHERE status = 'pending' AND lease_owner IS NOT NULL`)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
