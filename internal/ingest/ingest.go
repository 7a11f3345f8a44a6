// Package ingest takes in the platform's events: it validates them against
// the catalog, derives disposition events from call records, and stores each
// event with its deliveries in group-committed transactions, then hands the
// new deliveries to the local dispatcher.
package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// MaxBatch is the most events one request may carry.
const MaxBatch = 1000

var (
	// ErrDerivedType: disposition and operational events are made by
	// RevDesk, never ingested.
	ErrDerivedType = errors.New("derived event type")
	// ErrBatchSize: an empty batch or one over MaxBatch.
	ErrBatchSize = errors.New("invalid batch size")
	// ErrStopped: the service is shutting down.
	ErrStopped = errors.New("ingest stopped")
)

// InvalidEventError says which event of a request is invalid and why.
type InvalidEventError struct {
	Index int // position in a batch; -1 for a single event
	Err   error
}

func (e *InvalidEventError) Error() string {
	if e.Index < 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("event %d: %v", e.Index, e.Err)
}
func (e *InvalidEventError) Unwrap() error { return e.Err }

// Input is one event as reported by the platform.
type Input struct {
	EventType  string
	WorkflowID string
	CampaignID string
	OccurredAt time.Time // zero: now
	Data       []byte
}

// Dispatcher is the part of the local dispatcher ingest hands work to.
type Dispatcher interface {
	HasRoom() bool
	Lease() time.Duration
	Owner() string
	Enqueue(jobs []store.Job, leaseUntil time.Time)
	Wake()
}

// Observer is told how many events were stored (metrics).
type Observer interface {
	Ingested(events int)
}

// Service is the ingest pipeline. Run must be running for Ingest to return;
// once Run has returned, Ingest fails with ErrStopped.
type Service struct {
	store    Store
	disp     Dispatcher
	notifier Notifier // nil with a single process
	observer Observer
	queue    chan *request
	stopped  chan struct{} // closed when Run returns
}

type request struct {
	params store.IngestParams
	done   chan outcome
}

type outcome struct {
	res store.IngestResult
	err error
}

// New makes the service. notifier and observer may be nil.
func New(st Store, disp Dispatcher, notifier Notifier, observer Observer) *Service {
	return &Service{store: st, disp: disp, notifier: notifier, observer: observer,
		queue: make(chan *request, 4096), stopped: make(chan struct{})}
}

// Ingest validates and durably stores events, returning their ids once they
// are committed. With an idempotency key seen before, it returns the first
// request's ids and replayed=true.
func (s *Service) Ingest(ctx context.Context, workspaceID, idempotencyKey string, inputs []Input, batch bool) (eventIDs []string, replayed bool, err error) {
	if len(inputs) == 0 || len(inputs) > MaxBatch {
		return nil, false, fmt.Errorf("%w: a batch holds 1 to %d events, got %d", ErrBatchSize, MaxBatch, len(inputs))
	}
	now := time.Now().UTC()
	p := store.IngestParams{WorkspaceID: workspaceID, IdempotencyKey: idempotencyKey, Now: now}
	for i, in := range inputs {
		evs, err := prepare(in, now)
		if err != nil {
			if !batch {
				i = -1
			}
			return nil, false, &InvalidEventError{Index: i, Err: err}
		}
		p.Events = append(p.Events, evs...)
		p.ResponseIDs = append(p.ResponseIDs, evs[0].ID)
	}
	res, err := s.submit(ctx, p)
	if err != nil {
		return nil, false, err
	}
	return res.ResponseIDs, res.Replayed, nil
}

// Test stores a test event for one subscription, of its type and scope,
// with data checked against the catalog, and returns the event's id and
// its one delivery's id ("" when the subscription is not active: the
// delivery is then recorded as skipped). No other subscription gets it, and
// no disposition is derived.
func (s *Service) Test(ctx context.Context, sub store.Subscription, data []byte) (eventID, deliveryID string, err error) {
	compact, err := validData(sub.EventType, data)
	if err != nil {
		return "", "", err
	}
	now := time.Now().UTC()
	ev := store.NewEvent{ID: ids.New(ids.Event), EventType: sub.EventType, WorkflowID: sub.WorkflowID,
		CampaignID: sub.CampaignID, OccurredAt: now, Data: compact, TestSubscriptionID: sub.ID}
	res, err := s.submit(ctx, store.IngestParams{WorkspaceID: sub.WorkspaceID, Events: []store.NewEvent{ev},
		ResponseIDs: []string{ev.ID}, Now: now})
	if err != nil {
		return "", "", err
	}
	if len(res.Jobs) > 0 {
		deliveryID = res.Jobs[0].Delivery.ID
	}
	return ev.ID, deliveryID, nil
}

// submit queues one request for the next group commit and waits for it.
func (s *Service) submit(ctx context.Context, p store.IngestParams) (store.IngestResult, error) {
	req := &request{params: p, done: make(chan outcome, 1)}
	select {
	case s.queue <- req:
	case <-ctx.Done():
		return store.IngestResult{}, ctx.Err()
	case <-s.stopped:
		return store.IngestResult{}, ErrStopped
	}
	// Once queued the request is committed or failed by Run, whatever the
	// caller does, so wait for the answer rather than ctx, or for Run to
	// have returned without taking it.
	var o outcome
	select {
	case o = <-req.done:
	case <-s.stopped:
		// Run answers every request it took before it returns: an answer
		// given is already here.
		select {
		case o = <-req.done:
		default:
			o.err = ErrStopped
		}
	}
	return o.res, o.err
}

// prepare validates one input and returns its event, followed by the
// disposition event it implies, if any.
func prepare(in Input, now time.Time) ([]store.NewEvent, error) {
	et, ok := catalog.Lookup(in.EventType)
	if !ok {
		return nil, fmt.Errorf("%w: %q", catalog.ErrUnknownType, in.EventType)
	}
	if et.Derived {
		return nil, fmt.Errorf("%w: %s is derived from call_completed and cannot be sent directly; send the call_completed record instead", ErrDerivedType, in.EventType)
	}
	if et.Family == catalog.FamilyOperational {
		return nil, fmt.Errorf("%w: %s is an operational event that RevDesk sends about your subscriptions; it cannot be ingested", ErrDerivedType, in.EventType)
	}
	data, err := validData(in.EventType, in.Data)
	if err != nil {
		return nil, err
	}
	occurred := in.OccurredAt
	if occurred.IsZero() {
		occurred = now
	}
	ev := store.NewEvent{
		ID:         ids.New(ids.Event),
		EventType:  in.EventType,
		WorkflowID: in.WorkflowID,
		CampaignID: in.CampaignID,
		OccurredAt: occurred.UTC(),
		Data:       data,
	}
	out := []store.NewEvent{ev}
	if in.EventType == "call_completed" {
		disposition, err := catalog.Disposition(ev.Data)
		if err != nil {
			return nil, err
		}
		if disposition != "" {
			derived := ev
			derived.ID = ids.New(ids.Event)
			derived.EventType = disposition
			derived.SourceEventID = ev.ID
			out = append(out, derived)
		}
	}
	return out, nil
}

// validData checks data against the catalog's schema of eventType and
// returns it compacted: only insignificant whitespace goes; key order,
// number spelling and escapes stay as received.
func validData(eventType string, data []byte) ([]byte, error) {
	if len(data) == 0 {
		return nil, &catalog.ValidationError{Field: "data", Message: "data is required"}
	}
	if err := catalog.Validate(eventType, data); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, data); err != nil {
		return nil, &catalog.ValidationError{Field: "data", Message: err.Error()}
	}
	return out.Bytes(), nil
}

// maxGroupEvents bounds one group commit, and so how far a handoff to the
// dispatcher can exceed its capacity.
const maxGroupEvents = 1000

// Run commits queued requests until ctx ends. Requests that arrive while a
// transaction commits are committed together in the next one (group
// commit): no added wait at low load, few fsyncs at high load.
//
// The end of ctx also aborts a commit under way (its requests fail, none is
// acknowledged), so a database that stops answering cannot hold up a
// shutdown: stop the HTTP server first, and ctx only after its handlers
// were answered or its deadline passed.
func (s *Service) Run(ctx context.Context) error {
	defer s.failQueued()
	defer close(s.stopped)
	for {
		var group []*request
		select {
		case r := <-s.queue:
			group = append(group, r)
		case <-ctx.Done():
			return nil
		}
		events := len(group[0].params.Events)
	fill:
		for events < maxGroupEvents {
			select {
			case r := <-s.queue:
				group = append(group, r)
				events += len(r.params.Events)
			default:
				break fill
			}
		}
		s.commit(ctx, group)
	}
}

func (s *Service) failQueued() {
	for {
		select {
		case r := <-s.queue:
			r.done <- outcome{err: ErrStopped}
		default:
			return
		}
	}
}

func (s *Service) commit(ctx context.Context, group []*request) {
	leased := s.disp.HasRoom()
	var leaseUntil time.Time
	params := make([]store.IngestParams, len(group))
	if leased {
		leaseUntil = time.Now().Add(s.disp.Lease())
	}
	for i, r := range group {
		params[i] = r.params
		if leased {
			params[i].LeaseOwner, params[i].LeaseUntil = s.disp.Owner(), leaseUntil
		}
	}
	results, err := s.store.Ingest(ctx, params)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", ErrStopped, err)
	} else if err != nil && len(group) > 1 {
		// One request's failure must not fail the others: commit each alone.
		for _, r := range group {
			s.commit(ctx, []*request{r})
		}
		return
	}
	n := 0
	for i := range results {
		n += len(results[i].Jobs)
	}
	jobs := make([]store.Job, 0, n)
	stored := 0
	for i, r := range group {
		if err != nil {
			r.done <- outcome{err: err}
			continue
		}
		if !results[i].Replayed {
			stored += len(r.params.Events)
		}
		jobs = append(jobs, results[i].Jobs...)
		r.done <- outcome{res: results[i]}
	}
	if s.observer != nil && stored > 0 {
		s.observer.Ingested(stored)
	}
	if len(jobs) == 0 {
		return
	}
	if leased {
		s.disp.Enqueue(jobs, leaseUntil)
		return
	}
	s.disp.Wake()
	if s.notifier != nil {
		_ = s.notifier.Notify(ctx) // best effort: other processes also poll
	}
}
