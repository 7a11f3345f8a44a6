package postgres

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// BenchmarkRetention runs simulated days on a compressed clock: each day
// writes a day of final history (REVDESK_BENCH_DAY_DELIVERIES deliveries,
// default 200,000, with their events and attempts), then retention keeps
// two days and drops the rest. It reports the database time of the prune
// that drops a day and the size of the schema once retention is steady,
// at its start and at the end of a week: a prune that only drops
// partitions leaves no bloat behind, so the two are equal.
//
//	go test -run '^$' -bench Retention -benchtime 1x ./internal/store/postgres/
func BenchmarkRetention(b *testing.B) {
	perDay := 200_000
	if v := os.Getenv("REVDESK_BENCH_DAY_DELIVERIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("REVDESK_BENCH_DAY_DELIVERIES=%q: want a positive count", v)
		}
		perDay = n
	}
	const day, kept, week = 24 * time.Hour, 2, 7
	for range b.N {
		s := openFresh(b)
		ctx := b.Context()
		day0 := time.Now().UTC().Truncate(day).Add(2 * day)
		ws, err := s.CreateWorkspace(ctx, store.CreateWorkspaceParams{Name: "retention", Now: day0})
		if err != nil {
			b.Fatal(err)
		}
		sub, err := s.CreateSubscription(ctx, store.CreateSubscriptionParams{WorkspaceID: ws.ID, Now: day0,
			WebhookURL: "https://example.com/retention", EventType: "sms_sent"})
		if err != nil {
			b.Fatal(err)
		}
		var steady, end int64
		var worst time.Duration
		for d := range kept + 1 + week {
			now := day0.Add(time.Duration(d) * day)
			if _, err := s.EnsurePartitions(ctx, store.PartitionParams{Now: now, Interval: day, Ahead: day}); err != nil {
				b.Fatal(err)
			}
			for written := 0; written < perDay; {
				n := min(20_000, perDay-written)
				if err := s.WriteHistory(ctx, dayOfHistory(ws.ID, sub.ID, now, n, perDay, written)); err != nil {
					b.Fatal(err)
				}
				written += n
			}
			start := time.Now()
			res, err := s.Prune(ctx, now.Add(-(kept-1)*day).Truncate(day))
			took := time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			if d > kept {
				if res.Partitions != 1 {
					b.Fatalf("day %d: prune dropped %d partitions, want 1", d, res.Partitions)
				}
				worst = max(worst, took)
			}
			size, err := s.Size(ctx)
			if err != nil {
				b.Fatal(err)
			}
			switch d {
			case kept + 1:
				steady = size
			case kept + week:
				end = size
			}
			b.Logf("day %d: prune %v (dropped %d partitions, %d rows), schema %.1f MiB", d, took.Round(time.Millisecond),
				res.Partitions, res.Rows, float64(size)/(1<<20))
		}
		b.ReportMetric(float64(worst.Microseconds())/1000, "prune-ms/day")
		b.ReportMetric(float64(steady)/(1<<20), "MiB-steady")
		b.ReportMetric(float64(end)/(1<<20), "MiB-after-week")
	}
}

// dayOfHistory is n final deliveries (of perDay that day), with an event
// and an attempt each, spread over the day that starts at dayStart.
func dayOfHistory(ws, sub string, dayStart time.Time, n, perDay, offset int) store.History {
	var h store.History
	step := 24 * time.Hour / time.Duration(perDay)
	for i := range n {
		t := dayStart.Add(time.Duration(offset+i) * step)
		e := store.Event{ID: ids.NewAt(ids.Event, t), WorkspaceID: ws, EventType: "sms_sent", OccurredAt: t,
			Data: []byte(`{"id":"msg_1","to":"+15550101","body":"Your code is 123456","status":"sent"}`), CreatedAt: t}
		d := store.Delivery{ID: ids.NewAt(ids.Delivery, t), WorkspaceID: ws, EventID: e.ID, SubscriptionID: sub,
			EventType: e.EventType, Status: store.DeliverySucceeded, Attempts: 1, CreatedAt: t, UpdatedAt: t}
		h.Events, h.Deliveries = append(h.Events, e), append(h.Deliveries, d)
		h.Attempts = append(h.Attempts, store.Attempt{ID: ids.NewAt(ids.Attempt, t), DeliveryID: d.ID, Number: 1,
			At: t, StatusCode: 200, Latency: 40 * time.Millisecond, ResponseBody: "ok"})
	}
	return h
}
