package ingest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
	"github.com/revdesk/webhooks/internal/store/sqlite"
	"github.com/revdesk/webhooks/internal/testutil"
)

const waitTimeout = 10 * time.Second

// fakeDispatcher records what ingest hands it.
type fakeDispatcher struct {
	mu       sync.Mutex
	room     bool
	enqueued [][]store.Job
	leases   []time.Time
	wakes    int
}

func (d *fakeDispatcher) HasRoom() bool        { d.mu.Lock(); defer d.mu.Unlock(); return d.room }
func (d *fakeDispatcher) Lease() time.Duration { return time.Minute }
func (d *fakeDispatcher) Owner() string        { return "proc-1" }
func (d *fakeDispatcher) Wake()                { d.mu.Lock(); d.wakes++; d.mu.Unlock() }
func (d *fakeDispatcher) Enqueue(jobs []store.Job, leaseUntil time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.enqueued = append(d.enqueued, jobs)
	d.leases = append(d.leases, leaseUntil)
}

type fakeObserver struct {
	mu     sync.Mutex
	counts []int
}

func (o *fakeObserver) Ingested(n int) { o.mu.Lock(); o.counts = append(o.counts, n); o.mu.Unlock() }

func (o *fakeObserver) total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.counts {
		n += c
	}
	return n
}

type fakeNotifier struct {
	mu      sync.Mutex
	notifed int
}

func (n *fakeNotifier) Notify(context.Context) error {
	n.mu.Lock()
	n.notifed++
	n.mu.Unlock()
	return nil
}
func (n *fakeNotifier) Listen(ctx context.Context, _ func()) error {
	<-ctx.Done()
	return nil
}

// countingStore is the real store with Ingest calls recorded.
type countingStore struct {
	store.Store
	mu    sync.Mutex
	calls [][]store.IngestParams
}

func (s *countingStore) Ingest(ctx context.Context, reqs []store.IngestParams) ([]store.IngestResult, error) {
	s.mu.Lock()
	s.calls = append(s.calls, slices.Clone(reqs))
	s.mu.Unlock()
	return s.Store.Ingest(ctx, reqs)
}

// callSizes is the number of requests in each Ingest call so far.
func (s *countingStore) callSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n []int
	for _, c := range s.calls {
		n = append(n, len(c))
	}
	return n
}

type fixture struct {
	svc  *Service
	st   *countingStore
	disp *fakeDispatcher
	obs  *fakeObserver
	note *fakeNotifier
	ws   string
}

func setup(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "webhooks.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws, err := db.CreateWorkspace(t.Context(), store.CreateWorkspaceParams{Name: "test", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: &countingStore{Store: db}, disp: &fakeDispatcher{room: true}, obs: &fakeObserver{}, note: &fakeNotifier{}, ws: ws.ID}
	f.svc = New(f.st, f.disp, f.note, f.obs)
	return f
}

// run starts the service's Run; it is stopped when the test ends.
func (f *fixture) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Error("Run did not return")
		}
	})
}

func (f *fixture) subscribe(t *testing.T, eventType string) store.Subscription {
	t.Helper()
	sub, err := f.st.CreateSubscription(t.Context(), store.CreateSubscriptionParams{WorkspaceID: f.ws, WebhookURL: "https://a.example.com/" + eventType, EventType: eventType, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func example(t *testing.T, eventType string) []byte {
	t.Helper()
	et, ok := catalog.Lookup(eventType)
	if !ok {
		t.Fatalf("no event type %q", eventType)
	}
	return et.Example
}

// callData is a call record with the given status and failure category
// (JSON values, e.g. `"BUSY"` or `null`).
func callData(status, category string) []byte {
	return []byte(`{"id":"call_1","from_number":"+15551234567","to_number":"+15557654321","direction":"outbound",` +
		`"duration_seconds":0,"status":` + status + `,"failure_code":null,"failure_category":` + category +
		`,"disconnection_reason":"x","created_at":"2026-06-30T19:30:00.000Z"}`)
}

func TestPrepare(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	occurred := time.Date(2026, 6, 30, 21, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		name      string
		in        Input
		wantErr   error
		wantField string // for a *catalog.ValidationError
		// wantTypes are the event types returned, the input's first.
		wantTypes []string
	}{
		{name: "unknown type", in: Input{EventType: "call_exploded", Data: []byte(`{}`)}, wantErr: catalog.ErrUnknownType},
		{name: "derived type refused", in: Input{EventType: "call_busy", Data: callData(`"BUSY"`, `"busy"`)}, wantErr: ErrDerivedType},
		{name: "derived no_answer refused", in: Input{EventType: "call_no_answer", Data: callData(`"NO_ANSWER"`, `null`)}, wantErr: ErrDerivedType},
		{name: "data missing", in: Input{EventType: "sms_sent"}, wantErr: catalog.ErrInvalidData, wantField: "data"},
		{name: "data not an object", in: Input{EventType: "sms_sent", Data: []byte(`[1]`)}, wantErr: catalog.ErrInvalidData},
		{name: "data not json", in: Input{EventType: "sms_sent", Data: []byte(`{"id":`)}, wantErr: catalog.ErrInvalidData},
		{name: "schema violation", in: Input{EventType: "contact_created", Data: []byte(`{"id":5}`)}, wantErr: catalog.ErrInvalidData},
		{name: "plain event", in: Input{EventType: "sms_sent", Data: example(t, "sms_sent")}, wantTypes: []string{"sms_sent"}},
		{name: "answered call", in: Input{EventType: "call_completed", Data: callData(`"COMPLETED"`, `null`)}, wantTypes: []string{"call_completed"}},
		{name: "unanswered call derives no_answer", in: Input{EventType: "call_completed", Data: callData(`"NO_ANSWER"`, `null`)},
			wantTypes: []string{"call_completed", "call_no_answer"}},
		{name: "voicemail from status alone", in: Input{EventType: "call_completed", Data: callData(`"VOICEMAIL"`, `null`)},
			wantTypes: []string{"call_completed", "call_voicemail"}},
		{name: "busy", in: Input{EventType: "call_completed", Data: callData(`"BUSY"`, `"busy"`)},
			wantTypes: []string{"call_completed", "call_busy"}},
		{name: "failed", in: Input{EventType: "call_completed", Data: callData(`"FAILED"`, `"failed"`)},
			wantTypes: []string{"call_completed", "call_failed"}},
		{name: "contradicting disposition", in: Input{EventType: "call_completed", Data: callData(`"COMPLETED"`, `"busy"`)},
			wantErr: catalog.ErrInvalidDisposition},
		{name: "new_call derives nothing", in: Input{EventType: "new_call", Data: callData(`"NO_ANSWER"`, `null`)},
			wantTypes: []string{"new_call"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.in
			in.WorkflowID, in.CampaignID, in.OccurredAt = "wf_1", "cmp_1", occurred
			evs, err := prepare(in, now)
			if tt.wantErr != nil {
				t.Log(err)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				var ve *catalog.ValidationError
				if tt.wantField != "" && (!errors.As(err, &ve) || ve.Field != tt.wantField) {
					t.Errorf("error %#v, want a validation error on field %q", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, ev := range evs {
				types = append(types, ev.EventType)
			}
			if !slices.Equal(types, tt.wantTypes) {
				t.Fatalf("event types %v, want %v", types, tt.wantTypes)
			}
			first := evs[0]
			if !ids.HasPrefix(first.ID, ids.Event) || first.SourceEventID != "" {
				t.Errorf("event id %q, source %q; want an evt_ id and no source", first.ID, first.SourceEventID)
			}
			if !first.OccurredAt.Equal(occurred) || first.OccurredAt.Location() != time.UTC {
				t.Errorf("occurred at %v, want %v in UTC", first.OccurredAt, occurred)
			}
			if first.WorkflowID != "wf_1" || first.CampaignID != "cmp_1" {
				t.Errorf("scope %q/%q, want wf_1/cmp_1", first.WorkflowID, first.CampaignID)
			}
			for _, derived := range evs[1:] {
				if derived.SourceEventID != first.ID {
					t.Errorf("derived %s has source %q, want %q", derived.EventType, derived.SourceEventID, first.ID)
				}
				if derived.ID == first.ID || !ids.HasPrefix(derived.ID, ids.Event) {
					t.Errorf("derived id %q, want a fresh evt_ id", derived.ID)
				}
				if string(derived.Data) != string(first.Data) || !derived.OccurredAt.Equal(first.OccurredAt) ||
					derived.WorkflowID != first.WorkflowID || derived.CampaignID != first.CampaignID {
					t.Errorf("derived event %+v differs from its source %+v beyond id, type and source", derived, first)
				}
			}
		})
	}
}

func TestPrepareDefaultsOccurredAtToNow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	evs, err := prepare(Input{EventType: "sms_sent", Data: example(t, "sms_sent")}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !evs[0].OccurredAt.Equal(now) {
		t.Errorf("occurred at %v, want now %v", evs[0].OccurredAt, now)
	}
}

func TestPrepareCompactsButKeepsBytes(t *testing.T) {
	t.Parallel()
	in := "{\n  \"id\": \"ct_1\",\n  \"last_name\" : \"L\\u00f6we \\\"x\\\"\",\n\t\"first_name\": \"A  B\",\n  \"phone_number\": \"+15557654321\",\n" +
		"  \"email\": null,\n  \"created_at\": \"2026-06-30T19:30:00.000Z\",\n  \"score\": 1.50e2\n}\n"
	want := `{"id":"ct_1","last_name":"L\u00f6we \"x\"","first_name":"A  B","phone_number":"+15557654321","email":null,"created_at":"2026-06-30T19:30:00.000Z","score":1.50e2}`
	evs, err := prepare(Input{EventType: "contact_created", Data: []byte(in)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := string(evs[0].Data); got != want {
		t.Errorf("stored data\n%s\nwant (whitespace gone, order, escapes and numbers kept)\n%s", got, want)
	}
}

func TestIngestBatchSize(t *testing.T) {
	t.Parallel()
	one := Input{EventType: "sms_sent", Data: example(t, "sms_sent")}
	tests := []struct {
		name    string
		n       int
		wantErr bool
	}{
		{"empty", 0, true},
		{"one", 1, false},
		{"max", MaxBatch, false},
		{"over max", MaxBatch + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.run(t)
			got, _, err := f.svc.Ingest(t.Context(), f.ws, "", slices.Repeat([]Input{one}, tt.n), true)
			if tt.wantErr {
				if !errors.Is(err, ErrBatchSize) {
					t.Fatalf("error %v, want ErrBatchSize", err)
				}
				if n := len(f.st.callSizes()); n != 0 {
					t.Errorf("store called %d times for a refused batch", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.n {
				t.Errorf("%d ids for %d events", len(got), tt.n)
			}
		})
	}
}

func TestIngestInvalidEventIndex(t *testing.T) {
	t.Parallel()
	good := Input{EventType: "sms_sent", Data: example(t, "sms_sent")}
	bad := Input{EventType: "call_voicemail", Data: callData(`"VOICEMAIL"`, `null`)}
	tests := []struct {
		name      string
		inputs    []Input
		batch     bool
		wantIndex int
		wantMsg   string
	}{
		{"batch names the position", []Input{good, good, bad}, true, 2, "event 2: "},
		{"single event has no index", []Input{bad}, false, -1, "derived event type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			_, _, err := f.svc.Ingest(t.Context(), f.ws, "", tt.inputs, tt.batch)
			t.Log(err)
			var ie *InvalidEventError
			if !errors.As(err, &ie) || ie.Index != tt.wantIndex || !errors.Is(err, ErrDerivedType) {
				t.Fatalf("error %#v, want InvalidEventError at %d wrapping ErrDerivedType", err, tt.wantIndex)
			}
			if !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Errorf("message %q, want it to start %q", err, tt.wantMsg)
			}
			if n := len(f.st.callSizes()); n != 0 {
				t.Errorf("store called %d times for an invalid request", n)
			}
		})
	}
}

func TestIngestHandsOff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		room bool
	}{
		{"dispatcher with room gets leased jobs", true},
		{"dispatcher without room is woken", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.disp.room = tt.room
			subCall := f.subscribe(t, "call_completed")
			subBusy := f.subscribe(t, "call_busy")
			f.subscribe(t, "sms_sent") // matches nothing sent here
			f.run(t)
			start := time.Now()
			got, replayed, err := f.svc.Ingest(t.Context(), f.ws, "key-1", []Input{{EventType: "call_completed", Data: callData(`"BUSY"`, `"busy"`)}}, false)
			if err != nil || replayed || len(got) != 1 {
				t.Fatalf("Ingest = %v, %v, %v; want one id, not replayed", got, replayed, err)
			}
			// The response holds the sent event's id; the derived one is stored too.
			ev, err := f.st.GetEvent(t.Context(), f.ws, got[0])
			if err != nil || ev.EventType != "call_completed" {
				t.Fatalf("GetEvent(%s) = %+v, %v", got[0], ev, err)
			}
			events, err := f.st.ListEvents(t.Context(), store.ListEventsParams{WorkspaceID: f.ws, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 2 {
				t.Fatalf("%d events stored, want the call and its disposition", len(events))
			}
			if n := f.obs.total(); n != 2 {
				t.Errorf("observer counted %d events, want 2", n)
			}

			f.disp.mu.Lock()
			enqueued, leases, wakes := slices.Concat(f.disp.enqueued...), f.disp.leases, f.disp.wakes
			f.disp.mu.Unlock()
			f.note.mu.Lock()
			notified := f.note.notifed
			f.note.mu.Unlock()
			f.st.mu.Lock()
			params := f.st.calls[0][0]
			f.st.mu.Unlock()
			if tt.room {
				var subs []string
				for _, j := range enqueued {
					subs = append(subs, j.Subscription.ID)
				}
				slices.Sort(subs)
				want := []string{subCall.ID, subBusy.ID}
				slices.Sort(want)
				if !slices.Equal(subs, want) {
					t.Errorf("enqueued jobs for %v, want %v", subs, want)
				}
				if params.LeaseOwner != "proc-1" || params.LeaseUntil.Before(start.Add(time.Minute)) || !leases[0].Equal(params.LeaseUntil) {
					t.Errorf("stored with lease %q until %v, enqueued until %v; want proc-1 for a minute", params.LeaseOwner, params.LeaseUntil, leases)
				}
				if wakes != 0 || notified != 0 {
					t.Errorf("woken %d times, notified %d, with the work handed over", wakes, notified)
				}
			} else {
				if len(enqueued) != 0 {
					t.Errorf("enqueued %d jobs to a dispatcher without room", len(enqueued))
				}
				if params.LeaseOwner != "" || !params.LeaseUntil.IsZero() {
					t.Errorf("stored leased to %q until %v without room", params.LeaseOwner, params.LeaseUntil)
				}
				if wakes != 1 || notified != 1 {
					t.Errorf("woken %d times, notified %d; want 1 and 1", wakes, notified)
				}
			}

			// A replay returns the first ids and stores nothing.
			again, replayed, err := f.svc.Ingest(t.Context(), f.ws, "key-1", []Input{{EventType: "call_completed", Data: callData(`"BUSY"`, `"busy"`)}}, false)
			if err != nil || !replayed || !slices.Equal(again, got) {
				t.Errorf("replay = %v, %v, %v; want %v, true", again, replayed, err, got)
			}
			if n := f.obs.total(); n != 2 {
				t.Errorf("observer counted %d events after a replay, want still 2", n)
			}
		})
	}
}

// queueRequests starts Ingest calls before Run, so they are all waiting
// together when Run starts, and returns their results.
func queueRequests(t *testing.T, f *fixture, workspaces []string, inputs []Input) (results []chan error, ids []chan []string) {
	t.Helper()
	for _, ws := range workspaces {
		errc, idc := make(chan error, 1), make(chan []string, 1)
		results, ids = append(results, errc), append(ids, idc)
		go func() {
			got, _, err := f.svc.Ingest(context.Background(), ws, "", inputs, true)
			idc <- got
			errc <- err
		}()
	}
	testutil.Eventually(t, waitTimeout, func() (bool, string) {
		n := len(f.svc.queue)
		return n >= len(workspaces), fmt.Sprintf("%d of %d requests queued", n, len(workspaces))
	})
	return results, ids
}

func TestGroupCommit(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.subscribe(t, "sms_sent")
	in := []Input{{EventType: "sms_sent", Data: example(t, "sms_sent")}}
	results, idcs := queueRequests(t, f, slices.Repeat([]string{f.ws}, 20), in)
	f.run(t)
	for i, errc := range results {
		if err := <-errc; err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if got := <-idcs[i]; len(got) != 1 {
			t.Errorf("request %d got ids %v", i, got)
		}
	}
	if sizes := f.st.callSizes(); !slices.Equal(sizes, []int{20}) {
		t.Errorf("store calls of sizes %v, want all 20 requests in one", sizes)
	}
	f.disp.mu.Lock()
	defer f.disp.mu.Unlock()
	if len(f.disp.enqueued) != 1 || len(f.disp.enqueued[0]) != 20 {
		t.Errorf("handed off %d batches, want one of 20 jobs", len(f.disp.enqueued))
	}
	if f.obs.total() != 20 {
		t.Errorf("observer counted %d, want 20", f.obs.total())
	}
}

func TestGroupCommitIsBounded(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := slices.Repeat([]Input{{EventType: "sms_sent", Data: example(t, "sms_sent")}}, 600)
	results, _ := queueRequests(t, f, slices.Repeat([]string{f.ws}, 3), in)
	f.run(t)
	for _, errc := range results {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	// The first group stops once it reaches maxGroupEvents.
	if sizes := f.st.callSizes(); !slices.Equal(sizes, []int{2, 1}) {
		t.Errorf("store calls of sizes %v, want [2 1]", sizes)
	}
}

func TestFailingGroupIsRetriedOneByOne(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.subscribe(t, "sms_sent")
	in := []Input{{EventType: "sms_sent", Data: example(t, "sms_sent")}}
	// A workspace that does not exist fails its transaction (foreign key).
	workspaces := []string{f.ws, "ws_missing", f.ws, f.ws}
	results, idcs := queueRequests(t, f, workspaces, in)
	f.run(t)
	for i, errc := range results {
		err := <-errc
		got := <-idcs[i]
		t.Logf("request %d (%s): %v %v", i, workspaces[i], got, err)
		if workspaces[i] == "ws_missing" {
			if err == nil {
				t.Errorf("request %d for a missing workspace succeeded", i)
			}
			continue
		}
		if err != nil {
			t.Errorf("request %d failed with its group: %v", i, err)
			continue
		}
		if _, err := f.st.GetEvent(t.Context(), f.ws, got[0]); err != nil {
			t.Errorf("request %d's event %s not stored: %v", i, got[0], err)
		}
	}
	if sizes := f.st.callSizes(); !slices.Equal(sizes, []int{4, 1, 1, 1, 1}) {
		t.Errorf("store calls of sizes %v, want the group of 4, then each alone", sizes)
	}
	if n := f.obs.total(); n != 3 {
		t.Errorf("observer counted %d events, want the 3 stored", n)
	}
}

func TestStoppedServiceFailsQueued(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := []Input{{EventType: "sms_sent", Data: example(t, "sms_sent")}}
	results, _ := queueRequests(t, f, slices.Repeat([]string{f.ws}, 5), in)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.svc.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Every queued request gets an answer: stored (if Run took it before
	// seeing the end) or ErrStopped, never left waiting.
	for i, errc := range results {
		select {
		case err := <-errc:
			if err != nil && !errors.Is(err, ErrStopped) {
				t.Errorf("request %d: %v, want nil or ErrStopped", i, err)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("request %d left waiting after Run returned", i)
		}
	}
}

func TestIngestCanceledBeforeQueued(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// Fill the queue so the next request cannot be queued.
	for range cap(f.svc.queue) {
		f.svc.queue <- &request{done: make(chan outcome, 1)}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, _, err := f.svc.Ingest(ctx, f.ws, "", []Input{{EventType: "sms_sent", Data: example(t, "sms_sent")}}, false)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's", err)
	}
	if n := len(f.st.callSizes()); n != 0 {
		t.Errorf("store called %d times", n)
	}
}

// TestTestEventOfEveryType: the catalog's example of every type, disposition
// types included, makes a valid test event that reaches only the
// subscription it names, of that type and scope.
func TestTestEventOfEveryType(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.run(t)
	var number store.Subscription
	for _, et := range catalog.All() {
		sub := f.subscribe(t, et.Name)
		if et.Name == "number_purchased" {
			number = sub
		}
		sibling, err := f.st.CreateSubscription(t.Context(), store.CreateSubscriptionParams{WorkspaceID: f.ws, WebhookURL: "https://b.example.com/", EventType: et.Name, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		eventID, deliveryID, err := f.svc.Test(t.Context(), sub, et.Example)
		if err != nil || deliveryID == "" {
			t.Errorf("%s: Test = %q, %q, %v", et.Name, eventID, deliveryID, err)
			continue
		}
		ev, err := f.st.GetEvent(t.Context(), f.ws, eventID)
		if err != nil || !ev.Test || ev.EventType != et.Name {
			t.Errorf("%s: stored event %+v, %v", et.Name, ev, err)
		}
		if ds, err := f.st.ListDeliveries(t.Context(), store.ListDeliveriesParams{WorkspaceID: f.ws, SubscriptionID: sibling.ID}); err != nil || len(ds) != 0 {
			t.Errorf("%s: the sibling subscription got %d deliveries (%v)", et.Name, len(ds), err)
		}
	}
	if _, _, err := f.svc.Test(t.Context(), number, []byte(`{"id":1}`)); !errors.Is(err, catalog.ErrInvalidData) {
		t.Errorf("Test with invalid data: %v, want ErrInvalidData", err)
	}
}

// TestIngestAfterRunReturned: once Run has returned, Ingest answers at once
// with ErrStopped, whether or not the queue has room; nothing waits forever.
func TestIngestAfterRunReturned(t *testing.T) {
	t.Parallel()
	in := []Input{{EventType: "sms_sent", Data: example(t, "sms_sent")}}
	for _, full := range []bool{false, true} {
		t.Run(map[bool]string{false: "queue has room", true: "queue full"}[full], func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := f.svc.Run(ctx); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if full {
				for range cap(f.svc.queue) {
					f.svc.queue <- &request{done: make(chan outcome, 1)}
				}
			}
			errc := make(chan error, 1)
			go func() {
				_, _, err := f.svc.Ingest(t.Context(), f.ws, "", in, false)
				errc <- err
			}()
			select {
			case err := <-errc:
				if !errors.Is(err, ErrStopped) {
					t.Errorf("Ingest after Run returned: %v, want ErrStopped", err)
				}
			case <-time.After(waitTimeout):
				t.Fatal("Ingest after Run returned is still waiting")
			}
		})
	}
}

// hungStore never answers Ingest until its context ends, as a database
// that stopped answering.
type hungStore struct {
	store.Store
	entered chan struct{}
}

func (s *hungStore) Ingest(ctx context.Context, _ []store.IngestParams) ([]store.IngestResult, error) {
	close(s.entered)
	<-ctx.Done()
	return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, ctx.Err())
}

// TestStopAbortsHungCommit: the end of Run's context aborts a commit the
// database does not answer; the request fails (it was never acknowledged)
// and Run returns.
func TestStopAbortsHungCommit(t *testing.T) {
	t.Parallel()
	f := setup(t)
	hung := &hungStore{Store: f.st, entered: make(chan struct{})}
	svc := New(hung, f.disp, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	errc := make(chan error, 1)
	go func() {
		_, _, err := svc.Ingest(t.Context(), f.ws, "", []Input{{EventType: "sms_sent", Data: example(t, "sms_sent")}}, false)
		errc <- err
	}()
	select {
	case <-hung.entered:
	case <-time.After(waitTimeout):
		t.Fatal("the commit did not start")
	}
	cancel()
	for _, c := range []chan error{errc, done} {
		select {
		case err := <-c:
			if c == errc && !errors.Is(err, ErrStopped) {
				t.Errorf("Ingest: %v, want ErrStopped", err)
			}
		case <-time.After(waitTimeout):
			t.Fatal("a hung commit held up the stop")
		}
	}
}
