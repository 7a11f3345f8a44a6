package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// Ingest stores every request in one transaction. Routing reads the
// subscriptions of each (workspace, event type) once per call and matches
// scope in Go (store.Receives), so a batch of one type costs one indexed
// SELECT. A request repeating an earlier one's idempotency key within the
// call replays it (store.BatchReplays); only the first looks the key up.
func (s *Store) Ingest(ctx context.Context, reqs []store.IngestParams) ([]store.IngestResult, error) {
	for i := range reqs {
		if err := store.CheckNow(reqs[i].Now); err != nil {
			return nil, err
		}
	}
	results := make([]store.IngestResult, len(reqs))
	replays := store.BatchReplays(reqs)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		in := ingester{s: s, ctx: ctx, tx: tx, routes: map[routeKey][]*store.Subscription{}}
		for i, req := range reqs {
			if j := replays[i]; j >= 0 {
				results[i] = store.IngestResult{ResponseIDs: results[j].ResponseIDs, Replayed: true}
				continue
			}
			var err error
			if results[i], err = in.request(i, req); err != nil {
				return err
			}
		}
		if err := in.settleHeads(results); err != nil {
			return err
		}
		return in.flush()
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

type routeKey struct{ workspaceID, eventType string }

// ingester collects the rows of one Ingest call and writes them with
// multi-row inserts at the end (events before the deliveries that
// reference them).
type ingester struct {
	s          *Store
	ctx        context.Context
	tx         *sql.Tx
	routes     map[routeKey][]*store.Subscription
	events     []any
	deliveries []any
	keyed      []keyed // deliveries with an order key, in acceptance order
}

func (in *ingester) flush() error {
	if err := insertRows(in.ctx, in.tx, &in.s.insertEvents, eventInsertCols, in.events); err != nil {
		return err
	}
	return insertRows(in.ctx, in.tx, &in.s.insertDeliveries, deliveryInsertCols, in.deliveries)
}

// The number of values per row appended to ingester.events and
// ingester.deliveries (see Store.init for the columns).
const (
	eventInsertCols    = 10
	deliveryInsertCols = 13
)

func (in *ingester) request(reqIndex int, req store.IngestParams) (store.IngestResult, error) {
	if req.IdempotencyKey != "" {
		var stored []byte
		err := in.tx.QueryRowContext(in.ctx, `SELECT response_ids FROM idempotency_keys
			WHERE workspace_id = ? AND key = ?`, req.WorkspaceID, req.IdempotencyKey).Scan(&stored)
		if err == nil {
			res := store.IngestResult{Replayed: true}
			return res, json.Unmarshal(stored, &res.ResponseIDs)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return store.IngestResult{}, err
		}
		b, err := json.Marshal(req.ResponseIDs)
		if err != nil {
			return store.IngestResult{}, err
		}
		if _, err := in.tx.ExecContext(in.ctx, `INSERT INTO idempotency_keys (workspace_id, key, response_ids,
			created_at) VALUES (?,?,?,?)`, req.WorkspaceID, req.IdempotencyKey, string(b), ns(req.Now)); err != nil {
			return store.IngestResult{}, err
		}
	}

	now := ns(req.Now)
	created := fromNS(now)
	var owner, leaseUntil any
	due := now
	if req.LeaseOwner != "" {
		owner, leaseUntil = req.LeaseOwner, ns(req.LeaseUntil)
		due = max(now, ns(req.LeaseUntil))
	}
	// Values repeated on every row are boxed once: each conversion to any
	// would otherwise allocate, per column of every delivery.
	var nowV, dueV, wsV any = now, due, req.WorkspaceID
	res := store.IngestResult{ResponseIDs: req.ResponseIDs}
	for i, e := range req.Events {
		test := e.TestSubscriptionID != ""
		in.events = append(in.events, e.ID, wsV, e.EventType, e.WorkflowID,
			e.CampaignID, ns(e.OccurredAt), e.Data, e.SourceEventID, test, nowV)
		subs, err := in.subscriptions(req.WorkspaceID, e.EventType)
		if err != nil {
			return res, err
		}
		if i == 0 {
			// Batches are mostly of one type: size for every event routing
			// like the first.
			in.deliveries = slices.Grow(in.deliveries, len(req.Events)*len(subs)*deliveryInsertCols)
			res.Jobs = make([]store.Job, 0, len(req.Events)*len(subs))
		}
		event := &store.Event{
			ID: e.ID, WorkspaceID: req.WorkspaceID, EventType: e.EventType, WorkflowID: e.WorkflowID,
			CampaignID: e.CampaignID, OccurredAt: fromNS(ns(e.OccurredAt)), Data: e.Data,
			SourceEventID: e.SourceEventID, Test: test, CreatedAt: created,
		}
		var eventIDV, typeV any = e.ID, e.EventType
		resource := store.NewResource(e.Data)
		for _, sub := range subs {
			if !store.Routes(sub, &e) {
				continue
			}
			id := ids.NewAt(ids.Delivery, req.Now)
			if store.NewDeliveryStatus(sub) == store.DeliverySkipped {
				in.deliveries = append(in.deliveries, id, wsV, eventIDV, sub.ID, typeV,
					store.DeliverySkipped, nil, nil, nil, nil, nowV, nowV, nil)
				continue
			}
			var keyV any
			key := resource.OrderKey(sub)
			if key != "" {
				keyV = key
				in.keyed = append(in.keyed, keyed{key: key, values: len(in.deliveries), req: reqIndex, job: len(res.Jobs)})
			}
			in.deliveries = append(in.deliveries, id, wsV, eventIDV, sub.ID, typeV,
				store.DeliveryPending, nowV, dueV, owner, leaseUntil, nowV, nowV, keyV)
			next := created
			res.Jobs = append(res.Jobs, store.Job{
				Delivery: store.Delivery{
					ID: id, WorkspaceID: req.WorkspaceID, EventID: e.ID, SubscriptionID: sub.ID,
					EventType: e.EventType, Status: store.DeliveryPending, NextAttemptAt: &next,
					CreatedAt: created, UpdatedAt: created, OrderKey: key,
				},
				Event:        event,
				Subscription: sub,
			})
		}
	}
	return res, nil
}

// subscriptions returns the subscriptions (active or disabled, not deleted)
// of a workspace for one event type, read once per Ingest call.
func (in *ingester) subscriptions(workspaceID, eventType string) ([]*store.Subscription, error) {
	key := routeKey{workspaceID, eventType}
	if subs, ok := in.routes[key]; ok {
		return subs, nil
	}
	rows, err := in.tx.QueryContext(in.ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE workspace_id = ? AND event_type IN (?, '*') AND deleted_at IS NULL`,
		workspaceID, eventType)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var subs []*store.Subscription
	for rows.Next() {
		sub, _, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		subs = append(subs, &sub)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	in.routes[key] = subs
	return subs, nil
}

const eventColumns = `id, workspace_id, event_type, workflow_id, campaign_id, occurred_at, data,
	source_event_id, test, created_at`

func scanEvent(row scanner) (store.Event, error) {
	var e store.Event
	var occurred, created int64
	err := row.Scan(&e.ID, &e.WorkspaceID, &e.EventType, &e.WorkflowID, &e.CampaignID, &occurred, &e.Data,
		&e.SourceEventID, &e.Test, &created)
	if err != nil {
		return e, translate(err)
	}
	e.OccurredAt, e.CreatedAt = fromNS(occurred), fromNS(created)
	return e, nil
}

func (s *Store) GetEvent(ctx context.Context, workspaceID, id string) (store.Event, error) {
	return scanEvent(s.r.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events
		WHERE id = ? AND workspace_id = ?`, id, workspaceID))
}

func (s *Store) ListEvents(ctx context.Context, p store.ListEventsParams) ([]store.Event, error) {
	cmp, dir := pageOrder(p.Newest)
	f := &filters{conds: []string{"NOT test"}}
	f.add("workspace_id = ?", p.WorkspaceID) // always: a list never spans workspaces
	f.eq("event_type", p.EventType)
	if p.After != "" {
		f.add("id "+cmp+" ?", p.After)
	}
	if types := typeList(p.EventTypes); types != "" {
		f.add("event_type IN (SELECT value FROM json_each(?))", types)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventColumns+` FROM events`+f.where()+`
		ORDER BY id `+dir+` LIMIT ?`, append(f.args, limitOrAll(p.Limit))...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	events := []store.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, translate(rows.Err())
}
