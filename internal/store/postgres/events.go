package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

const eventColumns = `id, workspace_id, event_type, workflow_id, campaign_id, occurred_at, data,
	source_event_id, test, created_at`

// eventColumnsOf is eventColumns qualified with a table alias.
func eventColumnsOf(alias string) string {
	return fmt.Sprintf(`%[1]s.id, %[1]s.workspace_id, %[1]s.event_type, %[1]s.workflow_id,
	%[1]s.campaign_id, %[1]s.occurred_at, %[1]s.data, %[1]s.source_event_id, %[1]s.test, %[1]s.created_at`, alias)
}

func eventDest(e *store.Event) []any {
	return []any{&e.ID, &e.WorkspaceID, &e.EventType, &e.WorkflowID, &e.CampaignID, &e.OccurredAt,
		&e.Data, &e.SourceEventID, &e.Test, &e.CreatedAt}
}

func scanEvent(r pgx.Row) (store.Event, error) {
	var e store.Event
	err := r.Scan(eventDest(&e)...)
	return e, err
}

func (s *Store) GetEvent(ctx context.Context, workspaceID, id string) (store.Event, error) {
	e, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventColumns+` FROM events
		WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	return e, translate(err)
}

// pageOrder is the cursor comparison and sort direction of a list.
func pageOrder(newest bool) (cmp, dir string) {
	if newest {
		return "<", "DESC"
	}
	return ">", "ASC"
}

func (s *Store) ListEvents(ctx context.Context, p store.ListEventsParams) ([]store.Event, error) {
	cmp, dir := pageOrder(p.Newest)
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE workspace_id = $1 AND ($2 = '' OR event_type = $2) AND ($3 = '' OR id `+cmp+` $3)
		  AND (cardinality($5::text[]) = 0 OR event_type = ANY($5::text[])) AND NOT test
		ORDER BY id `+dir+` LIMIT $4`, p.WorkspaceID, p.EventType, p.After, limitArg(p.Limit), list(p.EventTypes))
	return rowsOf(rows, err, scanEvent)
}

// Ingest takes a fixed number of round trips whatever the batch size:
// claim idempotency keys, then (pipelined) insert events and read the
// candidate subscriptions, then insert the deliveries routed in Go.
func (s *Store) Ingest(ctx context.Context, reqs []store.IngestParams) ([]store.IngestResult, error) {
	for i := range reqs {
		if err := store.CheckNow(reqs[i].Now); err != nil {
			return nil, err
		}
	}
	results := make([]store.IngestResult, len(reqs))
	err := s.tx(ctx, func(tx pgx.Tx) error { return ingestTx(ctx, tx, reqs, results) })
	if err != nil {
		return nil, err
	}
	return results, nil
}

// ingestTx is Ingest in tx, filling results.
func ingestTx(ctx context.Context, tx dbtx, reqs []store.IngestParams, results []store.IngestResult) error {
	fresh, err := claimIdempotencyKeys(ctx, tx, reqs, results)
	if err != nil {
		return err
	}
	events, subs, err := insertEvents(ctx, tx, reqs, fresh)
	if err != nil {
		return err
	}
	return insertDeliveries(ctx, tx, reqs, results, events, subs)
}

type idemKey struct{ workspace, key string }

// claimIdempotencyKeys records the requests' keys and fills the results of
// requests whose key was seen before: in the database, or earlier in the
// batch (store.BatchReplays). It reports which requests are to be stored.
func claimIdempotencyKeys(ctx context.Context, tx dbtx, reqs []store.IngestParams, results []store.IngestResult) ([]bool, error) {
	replays := store.BatchReplays(reqs)
	fresh := make([]bool, len(reqs))
	var wss, keys []string
	var responses [][]string
	var created []time.Time
	for i, r := range reqs {
		fresh[i] = replays[i] < 0
		if fresh[i] && r.IdempotencyKey != "" {
			wss, keys, responses = append(wss, r.WorkspaceID), append(keys, r.IdempotencyKey), append(responses, r.ResponseIDs)
			created = append(created, r.Now)
		}
	}
	if len(keys) == 0 {
		return fresh, nil
	}
	// A key committed by a concurrent ingest makes the insert wait for that
	// transaction, then skip the row; the second query then sees it.
	rows, err := tx.Query(ctx, `INSERT INTO idempotency_keys (workspace_id, key, response_ids, created_at)
		SELECT w, k, string_to_array(r, ' '), c
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS u(w, k, r, c)
		ON CONFLICT DO NOTHING RETURNING workspace_id, key`, wss, keys, joinIDs(responses), created)
	inserted, err := rowsOf(rows, err, func(r pgx.Row) (idemKey, error) {
		var k idemKey
		return k, r.Scan(&k.workspace, &k.key)
	})
	if err != nil {
		return nil, err
	}
	taken := make(map[idemKey]bool, len(inserted))
	for _, k := range inserted {
		taken[k] = true
	}
	var replayWss, replayKeys []string
	for i, r := range reqs {
		if fresh[i] && r.IdempotencyKey != "" && !taken[idemKey{r.WorkspaceID, r.IdempotencyKey}] {
			fresh[i] = false
			replayWss, replayKeys = append(replayWss, r.WorkspaceID), append(replayKeys, r.IdempotencyKey)
		}
	}
	stored := map[idemKey][]string{}
	if len(replayKeys) > 0 {
		rows, err := tx.Query(ctx, `SELECT workspace_id, key, response_ids FROM idempotency_keys
			WHERE (workspace_id, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, replayWss, replayKeys)
		if err != nil {
			return nil, err
		}
		var k idemKey
		var ids []string
		if _, err := pgx.ForEachRow(rows, []any{&k.workspace, &k.key, &ids}, func() error {
			stored[k] = ids
			return nil
		}); err != nil {
			return nil, err
		}
	}
	// In request order, so a batch replay finds its first request's result.
	for i, r := range reqs {
		switch j := replays[i]; {
		case j >= 0:
			ids := reqs[j].ResponseIDs
			if results[j].Replayed {
				ids = results[j].ResponseIDs
			}
			results[i] = store.IngestResult{ResponseIDs: ids, Replayed: true}
		case !fresh[i]:
			results[i] = store.IngestResult{ResponseIDs: stored[idemKey{r.WorkspaceID, r.IdempotencyKey}], Replayed: true}
		}
	}
	return fresh, nil
}

// joinIDs packs each list of ids into one space-separated string: ids never
// contain spaces, and Postgres has no ragged arrays to send lists of lists.
func joinIDs(lists [][]string) []string {
	out := make([]string, len(lists))
	for i, l := range lists {
		out[i] = strings.Join(l, " ")
	}
	return out
}

type eventRef struct {
	req   int
	event store.Event
	new   *store.NewEvent // what was asked, for routing
}

type routeKey struct{ workspace, eventType string }

// insertEvents stores the events of the fresh requests and, in the same
// round trip, reads the active subscriptions that could match them.
func insertEvents(ctx context.Context, tx dbtx, reqs []store.IngestParams, fresh []bool) ([]eventRef, map[routeKey][]*store.Subscription, error) {
	var events []eventRef
	var (
		cID, cWs, cType, cWf, cCamp, cSrc []string
		cOcc, cCreated                    []time.Time
		cData                             [][]byte
		cTest                             []bool
	)
	routes := map[routeKey]bool{}
	for i, r := range reqs {
		if !fresh[i] {
			continue
		}
		t := timestamp(r.Now)
		for j := range r.Events {
			ne := &r.Events[j]
			occ := ne.OccurredAt.UTC().Truncate(time.Microsecond)
			data := ne.Data
			if data == nil {
				data = []byte{}
			}
			e := store.Event{ID: ne.ID, WorkspaceID: r.WorkspaceID, EventType: ne.EventType,
				WorkflowID: ne.WorkflowID, CampaignID: ne.CampaignID, OccurredAt: occ, Data: data,
				SourceEventID: ne.SourceEventID, Test: ne.TestSubscriptionID != "", CreatedAt: t}
			events = append(events, eventRef{req: i, event: e, new: ne})
			cID, cWs, cType = append(cID, e.ID), append(cWs, e.WorkspaceID), append(cType, e.EventType)
			cWf, cCamp, cSrc = append(cWf, e.WorkflowID), append(cCamp, e.CampaignID), append(cSrc, e.SourceEventID)
			cOcc, cData, cTest, cCreated = append(cOcc, occ), append(cData, data), append(cTest, e.Test), append(cCreated, t)
			routes[routeKey{e.WorkspaceID, e.EventType}] = true
		}
	}
	if len(events) == 0 {
		return nil, nil, nil
	}
	var rWs, rType []string
	for k := range routes {
		rWs, rType = append(rWs, k.workspace), append(rType, k.eventType)
	}

	// Duplicate ids are skipped rather than failing so the first one can be
	// named in the conflict error.
	b := &pgx.Batch{}
	b.Queue(cachedPlans)
	b.Queue(`INSERT INTO events (id, workspace_id, event_type, workflow_id, campaign_id, occurred_at,
			data, source_event_id, test, created_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
			$6::timestamptz[], $7::bytea[], $8::text[], $9::boolean[], $10::timestamptz[])
		ON CONFLICT (id) DO NOTHING RETURNING id`,
		cID, cWs, cType, cWf, cCamp, cOcc, cData, cSrc, cTest, cCreated)
	b.Queue(`SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE ((workspace_id, event_type) IN (SELECT * FROM unnest($1::text[], $2::text[]))
		    OR (workspace_id = ANY($1::text[]) AND event_type = '*'))
		  AND deleted_at IS NULL
		ORDER BY id`, rWs, rType)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, nil, err
	}
	rows, err := br.Query()
	inserted, err := rowsOf(rows, err, func(r pgx.Row) (id string, err error) { return id, r.Scan(&id) })
	if err != nil {
		return nil, nil, err
	}
	if len(inserted) < len(cID) {
		return nil, nil, duplicateEvent(cID, inserted)
	}
	rows, err = br.Query()
	list, err := rowsOf(rows, err, scanSubscription)
	if err != nil {
		return nil, nil, err
	}
	subs := map[routeKey][]*store.Subscription{}
	for i := range list {
		sub := &list[i]
		if sub.EventType != store.MultiType {
			k := routeKey{sub.WorkspaceID, sub.EventType}
			subs[k] = append(subs[k], sub)
			continue
		}
		// A multi-type subscription joins each of its types routed here.
		for k := range routes {
			if k.workspace == sub.WorkspaceID && sub.Covers(k.eventType) {
				subs[k] = append(subs[k], sub)
			}
		}
	}
	return events, subs, br.Close()
}

// duplicateEvent names the first event id that was not inserted: taken
// already, or repeated within the batch.
func duplicateEvent(all, inserted []string) error {
	left := make(map[string]int, len(inserted))
	for _, id := range inserted {
		left[id]++
	}
	for _, id := range all {
		if left[id] == 0 {
			return &store.ConflictError{ExistingID: id}
		}
		left[id]--
	}
	return store.ErrConflict
}

// insertDeliveries routes each event to its subscriptions, stores the
// deliveries in one statement and fills the fresh requests' results.
// Disabled subscriptions get a delivery recorded as skipped, not a job.
func insertDeliveries(ctx context.Context, tx dbtx, reqs []store.IngestParams, results []store.IngestResult,
	events []eventRef, subs map[routeKey][]*store.Subscription) error {
	for i, r := range reqs {
		if !results[i].Replayed {
			results[i] = store.IngestResult{ResponseIDs: r.ResponseIDs, Jobs: []store.Job{}}
		}
	}
	var (
		cID, cWs, cEvent, cSub, cType, cStatus, cKey []string
		cOwner                                       []*string
		cNext, cUntil                                []*time.Time
		cCreated                                     []time.Time
		jobAt                                        []store.JobRef // each row's job, or -1s
	)
	for i := range events {
		ref := &events[i]
		req := reqs[ref.req]
		t := ref.event.CreatedAt
		resource := store.NewResource(ref.event.Data)
		for _, sub := range subs[routeKey{ref.event.WorkspaceID, ref.event.EventType}] {
			e := &ref.event
			if !store.Routes(sub, ref.new) {
				continue
			}
			d := store.Delivery{ID: ids.NewAt(ids.Delivery, t), WorkspaceID: e.WorkspaceID,
				EventID: e.ID, SubscriptionID: sub.ID, EventType: e.EventType,
				Status: store.NewDeliveryStatus(sub), CreatedAt: t, UpdatedAt: t}
			var owner *string
			var until *time.Time
			at := store.JobRef{Req: -1, Job: -1}
			if d.Status == store.DeliveryPending {
				d.NextAttemptAt = &t
				d.OrderKey = resource.OrderKey(sub)
				if req.LeaseOwner != "" {
					owner, until = &req.LeaseOwner, &req.LeaseUntil
				}
				at = store.JobRef{Req: ref.req, Job: len(results[ref.req].Jobs)}
				results[ref.req].Jobs = append(results[ref.req].Jobs, store.Job{Delivery: d, Event: &ref.event, Subscription: sub})
			}
			cKey, jobAt = append(cKey, d.OrderKey), append(jobAt, at)
			cID, cWs, cEvent, cSub, cType, cStatus = append(cID, d.ID), append(cWs, d.WorkspaceID),
				append(cEvent, d.EventID), append(cSub, d.SubscriptionID), append(cType, d.EventType),
				append(cStatus, d.Status)
			cNext, cOwner, cUntil = append(cNext, d.NextAttemptAt), append(cOwner, owner), append(cUntil, until)
			cCreated = append(cCreated, t)
		}
	}
	if len(cID) == 0 {
		return nil
	}
	parked, err := parkNonHeads(ctx, tx, cKey)
	if err != nil {
		return err
	}
	drop := map[store.JobRef]bool{}
	for i, p := range parked {
		if p {
			cOwner[i], cUntil[i] = nil, nil
			drop[jobAt[i]] = true
		}
	}
	store.RemoveJobs(results, drop)
	_, err = tx.Exec(ctx, `WITH u AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
				$7::timestamptz[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::text[], $12::bool[])
				AS u(id, workspace_id, event_id, subscription_id, event_type, status, next_at, owner, until,
					created, order_key, parked)
		), q AS (
			INSERT INTO delivery_queue (delivery_id, next_attempt_at, lease_owner, lease_until, created_at,
				order_key, parked)
			SELECT id, next_at, owner, until, created, nullif(order_key, ''), parked FROM u WHERE status = 'pending'
		)
		INSERT INTO deliveries (id, workspace_id, event_id, subscription_id, event_type, status,
			next_attempt_at, created_at, updated_at, order_key)
		SELECT id, workspace_id, event_id, subscription_id, event_type, status, next_at, created, created,
			nullif(order_key, '') FROM u`,
		cID, cWs, cEvent, cSub, cType, cStatus, cNext, cOwner, cUntil, cCreated, cKey, parked)
	return err
}
