package storetest

import (
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// history is a store whose clock runs on simulated days, a few days ahead of
// now (a fresh PostgreSQL schema's first partition ends at the next real
// midnight), with its partitions made ahead as maintenance makes them.
type history struct {
	t    *testing.T
	s    store.Store
	ws   string
	sub  store.Subscription
	day0 time.Time
}

const day = 24 * time.Hour

func newHistory(t *testing.T, s store.Store) *history {
	h := &history{t: t, s: s, day0: time.Now().UTC().Truncate(day).Add(3 * day)}
	h.ws = newWorkspace(t, s)
	h.sub = newSub(t, s, h.ws, "https://example.com/history", "new_call")
	h.ensure(h.day0, 5*day)
	return h
}

// at is hour n of simulated day d.
func (h *history) at(d, n int) time.Time {
	return h.day0.Add(time.Duration(d)*day + time.Duration(n)*time.Hour)
}

func (h *history) ensure(now time.Time, ahead time.Duration) int {
	p, ok := h.s.(store.Partitioned)
	if !ok {
		return 0
	}
	return must[int](h.t)(p.EnsurePartitions(h.t.Context(), store.PartitionParams{Now: now, Interval: day, Ahead: ahead}))
}

// ingestAt ingests one event at t and returns its event and delivery ids.
func (h *history) ingestAt(t time.Time) (event, delivery string) {
	h.t.Helper()
	e := newEvent("new_call", "", "")
	e.ID = ids.NewAt(ids.Event, t)
	res := ingestReq(h.t, h.s, store.IngestParams{WorkspaceID: h.ws, Events: []store.NewEvent{e}, Now: t})
	if len(res.Jobs) != 1 {
		h.t.Fatalf("ingest at %v: %d jobs, want 1", t, len(res.Jobs))
	}
	return e.ID, res.Jobs[0].Delivery.ID
}

// finish claims every due delivery at t and completes those named with
// success.
func (h *history) finish(t time.Time, deliveries ...string) {
	h.t.Helper()
	done := map[string]bool{}
	for _, id := range deliveries {
		done[id] = true
	}
	var cs []store.Completion
	for _, j := range claim(h.t, h.s, "o", t, 100) {
		c := store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: h.sub.ID, Owner: "o",
			Status: store.DeliveryPending, NextAttemptAt: &t}
		if done[j.Delivery.ID] {
			c.Status, c.Attempt, c.NextAttemptAt = store.DeliverySucceeded, attempt(t, 200, ""), nil
		}
		cs = append(cs, c)
	}
	if _, err := h.s.CompleteDeliveries(h.t.Context(), store.CompleteParams{Now: t, Completions: cs}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *history) prune(before time.Time) store.PruneResult {
	h.t.Helper()
	return must[store.PruneResult](h.t)(h.s.Prune(h.t.Context(), before))
}

// kept reports whether the delivery and the event are still there.
func (h *history) kept(event, delivery string) (bool, bool) {
	_, _, derr := h.s.GetDelivery(h.t.Context(), h.ws, delivery)
	_, eerr := h.s.GetEvent(h.t.Context(), h.ws, event)
	return derr == nil, eerr == nil
}

// testPrune: final history older than the cutoff goes (a day's partitions
// whole, where partitioned), with the attempts and idempotency keys; the
// next day stays.
func testPrune(t *testing.T, s store.Store) {
	h := newHistory(t, s)
	oldEvent, oldDelivery := h.ingestAt(h.at(0, 1))
	orphan := newEvent("sms_sent", "", "")
	orphan.ID = ids.NewAt(ids.Event, h.at(0, 2))
	ingestReq(t, s, store.IngestParams{WorkspaceID: h.ws, IdempotencyKey: "k", Events: []store.NewEvent{orphan}, Now: h.at(0, 2)})
	h.finish(h.at(0, 3), oldDelivery)
	newEvent, newDelivery := h.ingestAt(h.at(1, 1))
	h.finish(h.at(1, 2), newDelivery)

	// (Partitioned: the empty partitions before day 0 may go.)
	if res := h.prune(h.at(0, 0)); res.Rows != 0 || res.Blocked != 0 {
		t.Errorf("Prune before everything = %+v, want nothing", res)
	}
	res := h.prune(h.at(1, 0))
	if d, e := h.kept(oldEvent, oldDelivery); d || e {
		t.Errorf("day 0 after Prune: delivery kept %v, event kept %v; want both gone", d, e)
	}
	if _, err := s.GetEvent(t.Context(), h.ws, orphan.ID); err == nil {
		t.Error("day 0's event without deliveries was kept")
	}
	if d, e := h.kept(newEvent, newDelivery); !d || !e {
		t.Errorf("day 1 after Prune: delivery kept %v, event kept %v; want both", d, e)
	}
	if res.Blocked != 0 || res.OldestBlocked != nil {
		t.Errorf("Prune = %+v, want nothing blocked", res)
	}
	if _, ok := s.(store.Partitioned); ok && res.Partitions != 1 {
		t.Errorf("Prune dropped %d partitions, want day 0's", res.Partitions)
	}
	// The key is gone: the same key stores again.
	again := ingestReq(t, s, store.IngestParams{WorkspaceID: h.ws, IdempotencyKey: "k",
		Events: []store.NewEvent{newEventAt(h.at(1, 3))}, Now: h.at(1, 3)})
	if again.Replayed {
		t.Error("idempotency key of day 0 survived Prune")
	}
}

func newEventAt(t time.Time) store.NewEvent {
	e := newEvent("sms_sent", "", "")
	e.ID = ids.NewAt(ids.Event, t)
	return e
}

// testPruneWaitsForPending: a pending delivery older than the cutoff is
// never pruned, nor its event (where partitioned, nor anything of its
// day), and Prune says what it waits for; once it is final it goes. A final
// delivery retried is pending again and waits too.
func testPruneWaitsForPending(t *testing.T, s store.Store) {
	h := newHistory(t, s)
	_, partitioned := s.(store.Partitioned)
	waitEvent, waiting := h.ingestAt(h.at(0, 1))
	doneEvent, done := h.ingestAt(h.at(0, 2))
	h.finish(h.at(0, 3), done)
	retriedEvent, retried := h.ingestAt(h.at(1, 1))
	h.finish(h.at(1, 2), retried)
	if _, err := s.RetryDelivery(t.Context(), h.ws, retried, h.at(1, 3)); err != nil {
		t.Fatal(err)
	}

	res := h.prune(h.at(2, 0))
	for _, c := range []struct{ name, event, delivery string }{
		{"pending", waitEvent, waiting}, {"retried", retriedEvent, retried},
	} {
		if d, e := h.kept(c.event, c.delivery); !d || !e {
			t.Errorf("%s delivery after Prune: kept %v, event kept %v; want both", c.name, d, e)
		}
	}
	if d, _ := h.kept(doneEvent, done); d != partitioned {
		t.Errorf("final delivery beside a pending one kept %v, want %v (partitioned %v)", d, partitioned, partitioned)
	}
	if res.Blocked != 2 || res.OldestBlocked == nil || !sameTime(*res.OldestBlocked, h.at(0, 0).Add(time.Hour)) {
		t.Errorf("Prune = %+v (oldest %v), want 2 blocked since %v", res, res.OldestBlocked, h.at(0, 1))
	}

	h.finish(h.at(2, 1), waiting, retried)
	res = h.prune(h.at(2, 0))
	for _, c := range []struct{ event, delivery string }{{waitEvent, waiting}, {doneEvent, done}, {retriedEvent, retried}} {
		if d, e := h.kept(c.event, c.delivery); d || e {
			t.Errorf("after the pending work ended, Prune kept delivery %v, event %v", d, e)
		}
	}
	if res.Blocked != 0 || res.OldestBlocked != nil {
		t.Errorf("Prune = %+v, want nothing blocked", res)
	}
}

// testPartitions: partitions are made ahead, contiguous, one per interval,
// and a second call makes none; rows of a day past every partition land in
// the default partition and move into theirs when it is made.
func testPartitions(t *testing.T, s store.Store) {
	p, ok := s.(store.Partitioned)
	if !ok {
		t.Skip("history is not partitioned in this store")
	}
	h := newHistory(t, s)
	parts := must[[]store.Partition](t)(p.Partitions(t.Context()))
	last := parts[len(parts)-1]
	if want := h.at(6, 0); !last.To.Equal(want) {
		t.Errorf("partitions end at %v, want %v (day0 + 5 days ahead, whole days)", last.To, want)
	}
	for i := 1; i < len(parts); i++ {
		if parts[i].From == nil || !parts[i].From.Equal(parts[i-1].To) {
			t.Errorf("partition %d starts at %v, want the end of the one before, %v", i, parts[i].From, parts[i-1].To)
		}
		if i > 1 && parts[i].To.Sub(*parts[i].From) != day {
			t.Errorf("partition %d spans %v, want a day", i, parts[i].To.Sub(*parts[i].From))
		}
	}
	if n := h.ensure(h.day0, 5*day); n != 0 {
		t.Errorf("EnsurePartitions again created %d", n)
	}

	// Beyond every partition: the default one takes it, then gives it up.
	event, delivery := h.ingestAt(h.at(8, 1))
	h.finish(h.at(8, 2), delivery)
	if n := h.ensure(h.at(8, 0), day); n != 3*3 {
		t.Errorf("EnsurePartitions through day 9 created %d, want 3 per table", n)
	}
	if d, e := h.kept(event, delivery); !d || !e {
		t.Errorf("rows moved out of the default partition: delivery %v, event %v", d, e)
	}
	res := h.prune(h.at(9, 0))
	if d, e := h.kept(event, delivery); d || e {
		t.Errorf("day 8 after Prune: delivery %v, event %v kept; want both gone", d, e)
	}
	if res.Partitions < 9 {
		t.Errorf("Prune dropped %d partitions, want every day through 8", res.Partitions)
	}
	for _, tc := range []store.PartitionParams{
		{Interval: day},
		{Now: h.day0, Interval: time.Second},
		{Now: h.day0, Interval: day, Ahead: -day},
	} {
		if _, err := p.EnsurePartitions(t.Context(), tc); err == nil {
			t.Errorf("EnsurePartitions(%+v) = nil error", tc)
		}
	}
}
