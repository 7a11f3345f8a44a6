package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// deliveryColumnsOf lists a delivery's columns qualified with a table alias.
func deliveryColumnsOf(alias string) string {
	return fmt.Sprintf(`%[1]s.id, %[1]s.workspace_id, %[1]s.event_id, %[1]s.subscription_id,
	%[1]s.event_type, %[1]s.status, %[1]s.attempts, %[1]s.next_attempt_at, %[1]s.last_error,
	%[1]s.created_at, %[1]s.updated_at, coalesce(%[1]s.order_key, ''), coalesce(%[1]s.replay_id, '')`, alias)
}

var deliveryColumns = deliveryColumnsOf("deliveries")

func deliveryDest(d *store.Delivery) []any {
	return []any{&d.ID, &d.WorkspaceID, &d.EventID, &d.SubscriptionID, &d.EventType, &d.Status,
		&d.Attempts, &d.NextAttemptAt, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &d.OrderKey, &d.ReplayID}
}

func scanDelivery(r pgx.Row) (store.Delivery, error) {
	var d store.Delivery
	err := r.Scan(deliveryDest(&d)...)
	return d, err
}

func (s *Store) GetDelivery(ctx context.Context, workspaceID, id string) (store.Delivery, []store.Attempt, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT `+deliveryColumns+` FROM deliveries WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	b.Queue(`SELECT a.id, a.delivery_id, a.number, a.at, a.status_code, a.latency_ns, a.error_class,
			a.error, a.response_body
		FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
		WHERE d.workspace_id = $1 AND a.delivery_id = $2 ORDER BY a.number`, workspaceID, id)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	d, err := scanDelivery(br.QueryRow())
	if err != nil {
		return store.Delivery{}, nil, translate(err)
	}
	rows, err := br.Query()
	attempts, err := rowsOf(rows, err, func(r pgx.Row) (store.Attempt, error) {
		var a store.Attempt
		var latency int64
		var body []byte
		err := r.Scan(&a.ID, &a.DeliveryID, &a.Number, &a.At, &a.StatusCode, &latency, &a.ErrorClass,
			&a.Error, &body)
		a.Latency, a.ResponseBody = time.Duration(latency), string(body)
		return a, err
	})
	if err != nil {
		return store.Delivery{}, nil, err
	}
	return d, attempts, translate(br.Close())
}

func (s *Store) ListDeliveries(ctx context.Context, p store.ListDeliveriesParams) ([]store.Delivery, error) {
	cmp, dir := pageOrder(p.Newest)
	// A subscription's (or an event's) deliveries are all of its
	// workspace: checking the workspace on the subscription (the event)
	// once, instead of on every delivery, leaves the planner one index to
	// walk in id order, (subscription_id, id) or (event_id, id), rather than
	// intersecting it with the workspace's and sorting every delivery the
	// subscription ever had (on 200,000 deliveries of history, 70 ms ->
	// 3.6 ms for a page of its failed ones). Custom plans fold the CASE.
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE CASE WHEN $2 <> '' THEN subscription_id = (SELECT id FROM subscriptions WHERE workspace_id = $1 AND id = $2)
			WHEN $3 <> '' THEN event_id = (SELECT id FROM events WHERE workspace_id = $1 AND id = $3)
			ELSE workspace_id = $1 END
		  AND ($3 = '' OR event_id = $3)
		  AND ($4 = '' OR status = $4) AND ($5 = '' OR id `+cmp+` $5)
		  AND (cardinality($7::text[]) = 0 OR event_type = ANY($7::text[]))
		ORDER BY id `+dir+` LIMIT $6`,
		p.WorkspaceID, p.SubscriptionID, p.EventID, p.Status, p.After, limitArg(p.Limit), list(p.EventTypes))
	return rowsOf(rows, err, scanDelivery)
}

// RetryDelivery also brings forward a pending delivery that nobody holds, so
// "retry" on one waiting for its next attempt sends it now (a parked one
// stays parked). Like every writer of both tables, it locks the queue row
// before the delivery when there is one, so they cannot deadlock. A keyed
// delivery made pending again is parked, and its key settled.
func (s *Store) RetryDelivery(ctx context.Context, workspaceID, id string, at time.Time) (store.Delivery, error) {
	if err := store.CheckNow(at); err != nil {
		return store.Delivery{}, err
	}
	t := timestamp(at)
	var d store.Delivery
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRow(ctx, `WITH d AS (
				UPDATE deliveries SET status = 'pending', next_attempt_at = $3, updated_at = $4
				WHERE workspace_id = $1 AND id = $2 AND status <> 'pending'
				RETURNING *
			), q AS (
				INSERT INTO delivery_queue (delivery_id, next_attempt_at, created_at, order_key, parked)
				SELECT id, next_attempt_at, created_at, order_key, order_key IS NOT NULL FROM d
			)
			SELECT `+deliveryColumnsOf("d")+` FROM d`, workspaceID, id, at, t))
		if err != nil {
			return err
		}
		return settleKeys(ctx, tx, []string{d.OrderKey})
	})
	if !errors.Is(err, store.ErrNotFound) {
		return d, err
	}
	d, err = scanDelivery(s.pool.QueryRow(ctx, `WITH q AS (
			UPDATE delivery_queue SET next_attempt_at = $3, lease_owner = NULL, lease_until = NULL
			WHERE delivery_id = $2 AND (lease_owner IS NULL OR lease_until < $3)
			  AND EXISTS (SELECT 1 FROM deliveries WHERE workspace_id = $1 AND id = $2)
			RETURNING delivery_id
		)
		UPDATE deliveries SET next_attempt_at = $3, updated_at = $4
		WHERE id IN (SELECT delivery_id FROM q)
		RETURNING `+deliveryColumns, workspaceID, id, at, t))
	if err = translate(err); !errors.Is(err, store.ErrNotFound) {
		return d, err
	}
	// Not found, or pending under a live lease: the latter is returned as is.
	d, err = scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	return d, translate(err)
}

func (s *Store) RetryFailed(ctx context.Context, p store.RetryFailedParams) (int, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return 0, err
	}
	var found bool
	var n int
	// Keyed deliveries come back parked, then their keys are settled.
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var keys []string
		err := tx.QueryRow(ctx, `WITH sub AS (
				SELECT id FROM subscriptions WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL
			), d AS (
				UPDATE deliveries d SET status = 'pending', next_attempt_at = $4, updated_at = $5
				FROM sub WHERE d.subscription_id = sub.id AND d.status = 'failed' AND d.created_at >= $3
					AND d.id >= $6
				RETURNING d.id, d.created_at, d.order_key
			), q AS (
				INSERT INTO delivery_queue (delivery_id, next_attempt_at, created_at, order_key, parked)
				SELECT id, $4, created_at, order_key, order_key IS NOT NULL FROM d
			)
			SELECT EXISTS (SELECT 1 FROM sub), (SELECT count(*) FROM d),
				(SELECT coalesce(array_agg(DISTINCT order_key), '{}') FROM d WHERE order_key IS NOT NULL)`,
			p.WorkspaceID, p.SubscriptionID, p.Since, p.Now, timestamp(p.Now), store.SinceBound(p.Since)).Scan(&found, &n, &keys)
		if err != nil {
			return err
		}
		return settleKeys(ctx, tx, keys)
	})
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, store.ErrNotFound
	}
	return n, nil
}

var claimSQL = `WITH due AS (
		SELECT delivery_id FROM delivery_queue WHERE due_at <= $1
		ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED
	), q AS (
		UPDATE delivery_queue q SET lease_owner = $3, lease_until = $4
		FROM due WHERE q.delivery_id = due.delivery_id
		RETURNING q.delivery_id
	)
	SELECT ` + deliveryColumnsOf("d") + `, ` + eventColumnsOf("e") + `, ` + subscriptionColumnsOf("s") + `,
		s.deleted_at IS NOT NULL
	FROM q JOIN deliveries d ON d.id = q.delivery_id
	JOIN events e ON e.id = d.event_id JOIN subscriptions s ON s.id = d.subscription_id
	ORDER BY d.next_attempt_at, d.id`

// ClaimDeliveries is one round trip (pinPlans, then claimSQL): lock due
// rows others are not claiming (SKIP LOCKED), lease them, and return them
// joined to their event and subscription.
func (s *Store) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]store.Job, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return nil, err
	}
	if p.Limit <= 0 {
		return nil, nil
	}
	b := &pgx.Batch{}
	b.Queue(pinPlans)
	b.Queue(claimSQL, p.Now, p.Limit, p.Owner, p.LeaseUntil)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, translate(err)
	}
	rows, err := br.Query()
	jobs, err := rowsOf(rows, err, func(r pgx.Row) (store.Job, error) {
		j := store.Job{Event: &store.Event{}, Subscription: &store.Subscription{}}
		dest := append(deliveryDest(&j.Delivery), eventDest(j.Event)...)
		dest = append(dest, subscriptionDest(j.Subscription)...)
		err := r.Scan(append(dest, &j.Deleted)...)
		return j, err
	})
	if err != nil {
		return nil, err
	}
	return jobs, translate(br.Close())
}

// pinPlans makes the rest of the implicit transaction of a batch plan with
// index scans: every statement of a claim or a completion is driven by a
// few hundred keys looked up by primary key (or the head of the due index),
// and without current statistics (autovacuum may be off or behind, and the
// queue churns constantly) the planner otherwise may hash-join against
// sequential scans of tables that grow with the backlog. set_config, unlike
// SET LOCAL, also works in the implicit transaction of a pipeline. JIT is
// off too (as for every connection, unless the DSN says otherwise): the
// penalty on sequential scans inflates costs past its thresholds.
const pinPlans = `SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)`

// cachedPlans lets the rest of an ingest transaction run on generic plans
// (plan_cache_mode auto) instead of the connection's force_custom_plan: its
// statements insert from unnest arrays and look subscriptions up by key, so
// one plan fits every batch, and planning each anew cost about a third of a
// single-event ingest's time (bench p50 at 1,000 events/s 3.3–4.1 ms →
// 1.9–2.8 ms).
const cachedPlans = `SELECT set_config('plan_cache_mode', 'auto', true)`

// completeSQL is the set-based form of store.FoldCompletions and
// store.CompletionFold.Apply (storetest checks the two agree). It works from
// the completions' rows (u): the queue rows still
// leased to their completer are deleted, or rescheduled for retries, and
// return their completion (held); those deliveries are updated and their
// attempts inserted (d); the outcomes, in batch order, are folded into each
// subscription. Rows are locked queue row first, then delivery, like every
// writer of both tables. Each delivery is reached by one primary key probe
// from held, which carries its completion along: no join of CTEs by id.
const completeSQL = `WITH u AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bool[],
			$6::text[], $7::timestamptz[], $8::int[], $9::bigint[], $10::text[], $11::text[],
			$12::bytea[], $13::text[])
			WITH ORDINALITY AS u(id, owner, status, next_at, has_attempt, attempt_id, at, code,
				latency, class, error, body, reason, ord)
	), done AS (
		DELETE FROM delivery_queue q USING u
		WHERE q.delivery_id = u.id AND q.lease_owner = u.owner AND u.status <> 'pending'
		RETURNING u.*, NULL::timestamptz AS held_next, q.order_key
	), again AS (
		UPDATE delivery_queue q SET next_attempt_at = coalesce(u.next_at, $14),
			lease_owner = NULL, lease_until = NULL
		FROM u WHERE q.delivery_id = u.id AND q.lease_owner = u.owner AND u.status = 'pending'
		RETURNING u.*, q.next_attempt_at AS held_next, q.order_key
	), held AS (
		SELECT * FROM done UNION ALL SELECT * FROM again
	), d AS (
		UPDATE deliveries d SET status = h.status,
			attempts = d.attempts + h.has_attempt::int,
			next_attempt_at = h.held_next,
			last_error = CASE WHEN NOT h.has_attempt THEN d.last_error
				WHEN h.error <> '' THEN h.error ELSE h.class END,
			updated_at = $14
		FROM held h WHERE d.id = h.id
		RETURNING d.id AS delivery_id, d.subscription_id AS sub_id, d.attempts AS number,
			h.status, h.has_attempt, h.attempt_id, h.at, h.code, h.latency, h.class, h.error, h.body,
			h.reason, h.ord
	), a AS (
		INSERT INTO attempts (id, delivery_id, number, at, status_code, latency_ns, error_class,
			error, response_body)
		SELECT attempt_id, delivery_id, number, at, code, latency, class, error, body
		FROM d WHERE has_attempt
	), ok AS (
		SELECT sub_id, max(ord) FILTER (WHERE has_attempt AND status = 'succeeded') AS last_ok
		FROM d GROUP BY sub_id
	), agg AS (
		SELECT d.sub_id, ok.last_ok,
			min(d.at) FILTER (WHERE d.has_attempt AND d.status <> 'succeeded'
				AND d.ord > coalesce(ok.last_ok, 0)) AS first_fail,
			count(*) FILTER (WHERE d.has_attempt AND d.status <> 'succeeded'
				AND d.ord > coalesce(ok.last_ok, 0)) AS fails,
			(array_agg(d.reason ORDER BY d.ord DESC) FILTER (WHERE d.reason <> ''))[1] AS reason
		FROM d JOIN ok USING (sub_id) GROUP BY d.sub_id, ok.last_ok
	), next AS (
		SELECT s.id, agg.reason, agg.last_ok IS NOT NULL AS succeeded,
			agg.reason IS NOT NULL AND s.status = 'active' AS disable,
			agg.last_ok IS NOT NULL AND agg.reason IS NULL AND s.status = 'disabled'
				AND s.disabled_kind = 'failing' AND s.auto_recover AS enable,
			CASE WHEN agg.last_ok IS NOT NULL THEN agg.first_fail
				ELSE coalesce(s.failing_since, agg.first_fail) END AS failing_since,
			CASE WHEN agg.last_ok IS NOT NULL THEN agg.fails ELSE s.failures + agg.fails END AS failures,
			s.status AS old_status, s.failures AS old_failures, s.failing_since AS old_failing_since,
			s.recover_since AS old_recover_since
		FROM subscriptions s JOIN agg ON agg.sub_id = s.id
	), changed AS (
		UPDATE subscriptions s SET failing_since = next.failing_since, failures = next.failures,
			status = CASE WHEN next.disable THEN 'disabled' WHEN next.enable THEN 'active' ELSE s.status END,
			disabled_reason = CASE WHEN next.disable THEN next.reason WHEN next.enable THEN ''
				ELSE s.disabled_reason END,
			disabled_kind = CASE WHEN next.disable THEN 'gone' WHEN next.enable THEN '' ELSE s.disabled_kind END,
			next_probe_at = CASE WHEN next.disable OR next.enable THEN NULL ELSE s.next_probe_at END,
			probes = CASE WHEN next.enable THEN 0 ELSE s.probes END,
			probe_delivery_id = CASE WHEN next.enable THEN '' ELSE s.probe_delivery_id END,
			recover_since = CASE WHEN next.enable THEN NULL ELSE s.recover_since END,
			updated_at = CASE WHEN next.disable OR next.enable THEN $14 ELSE s.updated_at END
		FROM next
		WHERE s.id = next.id AND (next.disable OR next.enable OR s.failures <> next.failures
			OR s.failing_since IS DISTINCT FROM next.failing_since)
		RETURNING s.id, s.workspace_id, s.webhook_url, s.event_type, s.status, s.disabled_reason,
			s.failures, s.failing_since, next.disable, next.enable, next.succeeded, next.old_status,
			next.old_failures, next.old_failing_since, next.old_recover_since
	)
	-- Three kinds of rows: the subscriptions this batch changed, the
	-- deliveries it failed for good, and the order keys of the deliveries
	-- it completed.
	SELECT 'sub', id, row_to_json(changed)::text FROM changed
	UNION ALL
	SELECT 'exhausted', d.delivery_id, json_build_object('sub_id', d.sub_id, 'attempts', d.number,
		'code', d.code, 'error', CASE WHEN d.error <> '' THEN d.error ELSE d.class END,
		'event_id', dv.event_id, 'event_type', dv.event_type, 'workspace_id', s.workspace_id,
		'webhook_url', s.webhook_url, 'sub_event_type', s.event_type)::text
	FROM d JOIN deliveries dv ON dv.id = d.delivery_id JOIN subscriptions s ON s.id = d.sub_id
	WHERE d.status = 'failed' AND d.has_attempt
	UNION ALL
	SELECT 'key', k, NULL FROM (SELECT DISTINCT order_key AS k FROM done
		WHERE order_key IS NOT NULL) keys`

// CompleteDeliveries is one round trip and one (implicit) transaction:
// pinPlans, then completeSQL, which takes the queue rows still leased to
// their completer (delete them, or reschedule retries), updates those
// deliveries, inserts their attempts, and folds the outcomes into each
// subscription's failure streak (the last success in the batch ends it;
// failures after it start a new one) and disable requests (which leave a
// subscription already disabled, and its reason, alone), returning the
// subscriptions it disabled. Completions that name their order key take
// the keys' locks first and settle them last, in the same transaction;
// keys that came back without being named (a caller that left
// Completion.OrderKey empty) are settled in a second one.
func (s *Store) CompleteDeliveries(ctx context.Context, p store.CompleteParams) ([]store.DisabledSubscription, error) {
	if len(p.Completions) == 0 {
		return nil, nil
	}
	if err := store.CheckNow(p.Now); err != nil {
		return nil, err
	}
	t := timestamp(p.Now)
	args, err := completeArgs(p.Completions, t)
	if err != nil {
		return nil, err
	}
	var named []string
	for _, c := range p.Completions {
		named = append(named, c.OrderKey)
	}
	named = uniqueKeys(named)
	b := &pgx.Batch{}
	// The transaction begins in the batch, so that it costs one round trip
	// more (the commit) than the implicit transaction of a batch: the
	// facts' events must join it, and they are known only after it ran.
	b.Queue("BEGIN")
	b.Queue(pinPlans)
	if len(named) > 0 {
		b.Queue(lockKeysSQL, store.LockIDs(named))
	}
	var disabled []store.DisabledSubscription
	var ended []string
	err = s.onConn(ctx, func(tx dbtx) error {
		var changes []completionChange
		var exhausted []exhaustedRow
		b.Queue(completeSQL, args...).Query(func(rows pgx.Rows) error {
			defer rows.Close()
			for rows.Next() {
				var kind, a string
				var js *string
				if err := rows.Scan(&kind, &a, &js); err != nil {
					return err
				}
				switch kind {
				case "key":
					ended = append(ended, a)
				case "sub":
					var c completionChange
					if err := json.Unmarshal([]byte(*js), &c); err != nil {
						return err
					}
					changes = append(changes, c)
				case "exhausted":
					e := exhaustedRow{DeliveryID: a}
					if err := json.Unmarshal([]byte(*js), &e); err != nil {
						return err
					}
					exhausted = append(exhausted, e)
				}
			}
			return rows.Err()
		})
		if len(named) > 0 {
			b.Queue(promoteSQL, named)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		var facts []store.Fact
		disabled, facts = completionFacts(changes, exhausted, p.FailingAfter, t)
		for _, c := range changes {
			if c.Enable && !p.NoRecoveryReplay {
				sub := c.subscription()
				sub.RecoverSince = c.OldRecoverSince
				if _, err := createReplay(ctx, tx, store.RecoveryReplay(&sub, t)); err != nil {
					return err
				}
			}
		}
		return s.writeFacts(ctx, tx, facts)
	})
	if err != nil {
		return nil, err
	}
	ended = slices.DeleteFunc(ended, func(k string) bool { _, found := slices.BinarySearch(named, k); return found })
	if len(ended) == 0 {
		return disabled, nil
	}
	return disabled, s.tx(ctx, func(tx pgx.Tx) error { return settleKeys(ctx, tx, ended) })
}

// completionChange is a subscription row completeSQL changed.
type completionChange struct {
	ID              string     `json:"id"`
	WorkspaceID     string     `json:"workspace_id"`
	WebhookURL      string     `json:"webhook_url"`
	EventType       string     `json:"event_type"`
	Status          string     `json:"status"`
	DisabledReason  string     `json:"disabled_reason"`
	Failures        int        `json:"failures"`
	FailingSince    *time.Time `json:"failing_since"`
	Disable         bool       `json:"disable"`
	Enable          bool       `json:"enable"`
	Succeeded       bool       `json:"succeeded"`
	OldStatus       string     `json:"old_status"`
	OldFailures     int        `json:"old_failures"`
	OldFailingSince *time.Time `json:"old_failing_since"`
	OldRecoverSince *time.Time `json:"old_recover_since"`
}

func (c completionChange) subscription() store.Subscription {
	return store.Subscription{ID: c.ID, WorkspaceID: c.WorkspaceID, WebhookURL: c.WebhookURL, EventType: c.EventType}
}

// exhaustedRow is a delivery completeSQL failed for good.
type exhaustedRow struct {
	DeliveryID   string `json:"-"`
	SubID        string `json:"sub_id"`
	Attempts     int    `json:"attempts"`
	Code         int    `json:"code"`
	Error        string `json:"error"`
	EventID      string `json:"event_id"`
	EventType    string `json:"event_type"`
	WorkspaceID  string `json:"workspace_id"`
	WebhookURL   string `json:"webhook_url"`
	SubEventType string `json:"sub_event_type"`
}

// completionFacts are the disablings and facts of completeSQL's rows, by the
// same rules as the SQLite driver's (store.FoldFacts, store.ExhaustedFact).
func completionFacts(changes []completionChange, exhausted []exhaustedRow, failingAfter int, t time.Time) ([]store.DisabledSubscription, []store.Fact) {
	var disabled []store.DisabledSubscription
	var facts []store.Fact
	for _, c := range changes {
		sub := c.subscription()
		cur := store.SubscriptionState{Status: c.OldStatus, Failures: c.OldFailures, FailingSince: c.OldFailingSince}
		next := store.SubscriptionState{Status: c.Status, DisabledReason: c.DisabledReason, Failures: c.Failures,
			FailingSince: c.FailingSince}
		facts = append(facts, store.FoldFacts(&sub, store.CompletionFold{Succeeded: c.Succeeded}, cur, next,
			c.Disable, c.Enable, failingAfter, t)...)
		if c.Disable {
			disabled = append(disabled, store.DisabledSubscription{SubscriptionID: c.ID,
				WorkspaceID: c.WorkspaceID, Reason: c.DisabledReason, At: t})
		}
	}
	for _, e := range exhausted {
		sub := store.Subscription{ID: e.SubID, WorkspaceID: e.WorkspaceID, WebhookURL: e.WebhookURL, EventType: e.SubEventType}
		c := store.Completion{DeliveryID: e.DeliveryID, Attempt: &store.Attempt{StatusCode: e.Code, Error: e.Error}}
		facts = append(facts, store.ExhaustedFact(&sub, c, e.EventID, e.EventType, e.Attempts, t))
	}
	return disabled, facts
}

// completeArgs turns completions into completeSQL's column arrays.
func completeArgs(cs []store.Completion, t time.Time) ([]any, error) {
	var (
		cID, cOwner, cStatus, cAttID, cClass, cErr, cReason []string
		cNext, cAt                                          []*time.Time
		cHas                                                []bool
		cCode                                               []int32
		cLatency                                            []int64
		cBody                                               [][]byte
	)
	if err := store.ValidateCompletions(cs); err != nil {
		return nil, err
	}
	// An UPDATE cannot apply two completions to one row.
	for _, c := range store.LastPerDelivery(cs) {
		a := c.Attempt
		if a == nil {
			a = &store.Attempt{}
		}
		at := a.At
		if at.IsZero() {
			at = t
		}
		attID := a.ID
		if attID == "" {
			attID = ids.NewAt(ids.Attempt, at)
		}
		cID, cOwner, cStatus = append(cID, c.DeliveryID), append(cOwner, c.Owner), append(cStatus, c.Status)
		cNext, cHas, cAttID = append(cNext, c.NextAttemptAt), append(cHas, c.Attempt != nil), append(cAttID, attID)
		cAt, cCode, cLatency = append(cAt, &at), append(cCode, int32(a.StatusCode)), append(cLatency, int64(a.Latency))
		cClass, cErr = append(cClass, cleanText(a.ErrorClass)), append(cErr, cleanText(a.Error))
		cBody, cReason = append(cBody, []byte(a.ResponseBody)), append(cReason, c.DisableReason)
	}
	return []any{cID, cOwner, cStatus, cNext, cHas, cAttID, cAt, cCode, cLatency, cClass, cErr, cBody,
		cReason, t}, nil
}

func (s *Store) ReleaseDeliveries(ctx context.Context, owner string, ids []string, dueAt time.Time) error {
	if err := store.CheckNow(dueAt); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	// Shutdown hands back everything queued: thousands of ids, probed one
	// by one under pinPlans rather than scanning both tables.
	b := &pgx.Batch{}
	b.Queue(pinPlans)
	b.Queue(`WITH q AS (
			UPDATE delivery_queue SET lease_owner = NULL, lease_until = NULL, next_attempt_at = $3
			WHERE delivery_id = ANY ($1) AND lease_owner = $2
			RETURNING delivery_id
		)
		UPDATE deliveries SET next_attempt_at = $3 WHERE id IN (SELECT delivery_id FROM q)`,
		ids, owner, dueAt)
	return translate(s.pool.SendBatch(ctx, b).Close())
}

func (s *Store) PendingStats(ctx context.Context) (int, *time.Time, error) {
	var n int
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(created_at) FROM delivery_queue`).Scan(&n, &oldest)
	return n, oldest, translate(err)
}

// DisableFailingSubscriptions is store.FailingTooLong as one UPDATE
// (storetest checks the two agree), with the disablings' facts in its
// transaction. What each missed starts with its oldest delivery pending or
// failed in the streak.
func (s *Store) DisableFailingSubscriptions(ctx context.Context, p store.DisableFailingParams) ([]store.DisabledSubscription, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return nil, err
	}
	t := timestamp(p.Now)
	var disabled []store.DisabledSubscription
	err := s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE subscriptions SET status = 'disabled', disabled_reason = $2,
				updated_at = $3, disabled_kind = 'failing', next_probe_at = $4, probes = 0, probe_delivery_id = '',
				recover_since = coalesce((SELECT min(d.created_at) FROM deliveries d
					WHERE d.subscription_id = subscriptions.id AND (d.status = 'pending'
						OR (d.status = 'failed' AND d.updated_at >= subscriptions.failing_since))), $3)
			WHERE status = 'active' AND deleted_at IS NULL AND failing_since < $1
			RETURNING `+subscriptionColumns, p.FailingBefore, p.Reason, t, p.FirstProbeAt)
		subs, err := rowsOf(rows, err, scanSubscription)
		if err != nil {
			return err
		}
		facts := make([]store.Fact, len(subs))
		for i := range subs {
			disabled = append(disabled, store.DisabledSubscription{SubscriptionID: subs[i].ID,
				WorkspaceID: subs[i].WorkspaceID, Reason: p.Reason, At: t})
			facts[i] = store.DisabledFact(&subs[i], store.ByAutomatic, t)
		}
		return s.writeFacts(ctx, tx, facts)
	})
	if err != nil {
		return nil, err
	}
	return disabled, nil
}

// pruneChunk bounds each prune statement so that no single transaction
// grows huge or holds row locks for long.
const pruneChunk = 2000

// Prune drops the history partitions older than the cutoff that hold no
// pending work (partitions.go), then deletes idempotency keys and expired
// portal sessions (small tables, not partitioned) in chunks.
func (s *Store) Prune(ctx context.Context, before time.Time) (store.PruneResult, error) {
	res, err := s.dropHistory(ctx, before)
	if err != nil {
		return res, err
	}
	for _, query := range []string{
		`WITH k AS (
			DELETE FROM idempotency_keys WHERE (workspace_id, key) IN (SELECT workspace_id, key
				FROM idempotency_keys WHERE created_at < $1 LIMIT $2)
			RETURNING 1
		)
		SELECT count(*) FROM k`,
		`WITH p AS (
			DELETE FROM portal_sessions WHERE id IN (SELECT id FROM portal_sessions WHERE expires_at < $1 LIMIT $2)
			RETURNING 1
		)
		SELECT count(*) FROM p`,
	} {
		for {
			var n int
			if err := s.pool.QueryRow(ctx, query, before, pruneChunk).Scan(&n); err != nil {
				return res, translate(err)
			}
			res.Rows += n
			if n < pruneChunk {
				break
			}
		}
	}
	return res, nil
}

func (s *Store) TryLead(ctx context.Context, p store.LeadParams) (bool, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return false, err
	}
	var led bool
	err := s.pool.QueryRow(ctx, `INSERT INTO leases (name, owner, until) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
		WHERE leases.owner = excluded.owner OR leases.until <= $4
		RETURNING true`, p.Name, p.Owner, p.Until, p.Now).Scan(&led)
	if err = translate(err); errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return led, err
}
