package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/server"
	"github.com/revdesk/webhooks/internal/store"
)

// HistoryResult is what filling the history took, what it weighs, and how
// the delivery log's queries answer on top of it.
type HistoryResult struct {
	Deliveries       int     `json:"deliveries"`
	Seconds          float64 `json:"fill_seconds"`
	RowsPerSec       float64 `json:"fill_deliveries_per_sec"`
	DatabaseBytes    int64   `json:"database_bytes"`
	BytesPerDelivery float64 `json:"bytes_per_delivery"`
	// Queries are the delivery log's reads (store calls, as the API makes
	// them), by name: their latency percentiles over repeated runs.
	Queries map[string]QueryTimes `json:"queries"`
}

// QueryTimes are one query's latency percentiles, in milliseconds.
type QueryTimes struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// History's shape: workspaces of subscriptions, each event delivered to
// two of them, spread over the last week; statuses and attempts in the
// shares a healthy deployment sees.
const (
	historyWorkspaces = 5
	historySubs       = 10 // per workspace
	historyFanOut     = 2
	historySpan       = 7 * 24 * time.Hour
	historyBatch      = 20000 // deliveries per write
	queryRuns         = 200
)

// prepareHistory fills the database the run will use with n deliveries of
// history before the server starts, and measures it; it returns the
// database (a temporary SQLite file when o.DB is empty) and a cleanup.
func prepareHistory(ctx context.Context, o Options) (string, *HistoryResult, func(), error) {
	if o.Server != "" {
		return "", nil, nil, errors.New("--history fills the in-process server's database: it cannot be used with --server")
	}
	db, cleanup := o.DB, func() {}
	if db == "" {
		dir, err := os.MkdirTemp("", "revdesk-bench")
		if err != nil {
			return "", nil, nil, err
		}
		db, cleanup = "sqlite:"+filepath.Join(dir, "bench.db"), func() { os.RemoveAll(dir) }
	}
	st, err := server.OpenStore(ctx, db)
	if err != nil {
		cleanup()
		return "", nil, nil, err
	}
	defer st.Close()
	now := time.Now()
	subs, err := historySubscriptions(ctx, st, now.Add(-historySpan))
	if err != nil {
		cleanup()
		return "", nil, nil, err
	}
	res, err := fillHistory(ctx, st, subs, o.History, now, progressOut(o.Progress))
	if err != nil {
		cleanup()
		return "", nil, nil, fmt.Errorf("filling history: %w", err)
	}
	return db, res, cleanup, nil
}

// historySubscriptions makes the workspaces and subscriptions that the
// history belongs to.
func historySubscriptions(ctx context.Context, st store.Store, from time.Time) ([][]store.Subscription, error) {
	var subs [][]store.Subscription
	for w := range historyWorkspaces {
		ws, err := st.CreateWorkspace(ctx, store.CreateWorkspaceParams{Name: fmt.Sprintf("history-%d-%s", w, ids.New("h")), Now: from})
		if err != nil {
			return nil, err
		}
		var list []store.Subscription
		for i := range historySubs {
			sub, err := st.CreateSubscription(ctx, store.CreateSubscriptionParams{WorkspaceID: ws.ID, Now: from,
				WebhookURL: fmt.Sprintf("https://history-%d.example.com/hooks/%d", w, i), EventType: "sms_delivered"})
			if err != nil {
				return nil, err
			}
			list = append(list, sub)
		}
		subs = append(subs, list)
	}
	return subs, nil
}

// fillHistory writes n deliveries of history ending at now for subs, then
// measures the database's size and the delivery log's queries.
func fillHistory(ctx context.Context, st store.Store, subs [][]store.Subscription, n int, now time.Time, progress io.Writer) (*HistoryResult, error) {
	w, ok := st.(store.HistoryWriter)
	if !ok {
		return nil, errors.New("this store cannot take history written directly")
	}
	from := now.Add(-historySpan)
	if p, ok := st.(store.Partitioned); ok {
		// Partitions for the run (maintenance would make them).
		if _, err := p.EnsurePartitions(ctx, store.PartitionParams{Now: now, Interval: 24 * time.Hour,
			Ahead: 48 * time.Hour}); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	g := &historyGen{subs: subs, from: from, step: historySpan / time.Duration(max(1, n/historyFanOut)), now: now}
	for written := 0; written < n; {
		h := g.next(min(historyBatch, n-written))
		if err := w.WriteHistory(ctx, h); err != nil {
			return nil, err
		}
		written += len(h.Deliveries)
		fmt.Fprintf(progress, "\rhistory %d/%d deliveries", written, n)
	}
	fmt.Fprintln(progress)
	if err := w.SettleHistory(ctx); err != nil {
		return nil, err
	}
	res := &HistoryResult{Deliveries: n, Seconds: time.Since(start).Seconds()}
	res.RowsPerSec = float64(n) / res.Seconds
	size, err := w.Size(ctx)
	if err != nil {
		return nil, err
	}
	res.DatabaseBytes, res.BytesPerDelivery = size, float64(size)/float64(max(1, n))
	res.Queries, err = measureQueries(ctx, st, subs[0], g)
	return res, err
}

// historyGen makes history in time order (ids then append to the indexes,
// as live ingest does).
type historyGen struct {
	subs      [][]store.Subscription
	from, now time.Time
	step      time.Duration
	i         int
	// lastFailed and lastEvent are what the queries look up.
	lastEvent store.Event
}

var historyData = []byte(`{"id":"msg_01","direction":"outbound","from":"+15550100","to":"+15550101",` +
	`"body":"Your appointment is confirmed for tomorrow at 10:00.","status":"delivered","segments":1,` +
	`"contact_id":"ct_1234","workflow_id":null,"campaign_id":null,"created_at":"2026-12-01T10:00:00Z"}`)

func (g *historyGen) next(n int) store.History {
	var h store.History
	for len(h.Deliveries) < n {
		t := g.from.Add(time.Duration(g.i) * g.step)
		subs := g.subs[g.i%len(g.subs)]
		e := store.Event{ID: ids.NewAt(ids.Event, t), WorkspaceID: subs[0].WorkspaceID, EventType: "sms_delivered",
			OccurredAt: t, Data: historyData, CreatedAt: t}
		h.Events = append(h.Events, e)
		g.lastEvent = e
		for k := range historyFanOut {
			sub := subs[(g.i+k)%len(subs)]
			d := store.Delivery{ID: ids.NewAt(ids.Delivery, t), WorkspaceID: e.WorkspaceID, EventID: e.ID,
				SubscriptionID: sub.ID, EventType: e.EventType, CreatedAt: t, UpdatedAt: t}
			// Per 1,000: 940 succeeded at once, 40 failed after 3
			// attempts, 15 skipped, 5 pending a retry.
			switch r := (g.i*historyFanOut + k) % 1000; {
			case r < 940:
				d.Status, d.Attempts = store.DeliverySucceeded, 1
			case r < 980:
				d.Status, d.Attempts, d.LastError = store.DeliveryFailed, 3, "http_5xx"
			case r < 995:
				d.Status = store.DeliverySkipped
			default:
				next := g.now.Add(10 * time.Hour)
				d.Status, d.Attempts, d.LastError, d.NextAttemptAt = store.DeliveryPending, 1, "timeout", &next
			}
			for a := 1; a <= d.Attempts; a++ {
				code, class := 200, ""
				if d.Status != store.DeliverySucceeded {
					code, class = 503, "http_5xx"
				}
				at := t.Add(time.Duration(a-1) * 5 * time.Second)
				h.Attempts = append(h.Attempts, store.Attempt{ID: ids.NewAt(ids.Attempt, at), DeliveryID: d.ID,
					Number: a, At: at, StatusCode: code, Latency: 80 * time.Millisecond, ErrorClass: class,
					ResponseBody: "ok"})
			}
			h.Deliveries = append(h.Deliveries, d)
		}
		g.i++
	}
	return h
}

// measureQueries runs each delivery-log query queryRuns times on one
// workspace of the history.
func measureQueries(ctx context.Context, st store.Store, subs []store.Subscription, g *historyGen) (map[string]QueryTimes, error) {
	ws, sub := subs[0].WorkspaceID, subs[0]
	queries := map[string]func() error{
		"subscription_failed_newest_page": func() error {
			_, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{WorkspaceID: ws, SubscriptionID: sub.ID,
				Status: store.DeliveryFailed, Newest: true, Limit: 51})
			return err
		},
		"event_deliveries": func() error {
			_, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{WorkspaceID: g.lastEvent.WorkspaceID,
				EventID: g.lastEvent.ID, Limit: 51})
			return err
		},
		"event_log_newest_page": func() error {
			_, err := st.ListEvents(ctx, store.ListEventsParams{WorkspaceID: ws, Newest: true, Limit: 51})
			return err
		},
		"workspace_failed_newest_page": func() error {
			_, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{WorkspaceID: ws, Status: store.DeliveryFailed,
				Newest: true, Limit: 51})
			return err
		},
	}
	out := map[string]QueryTimes{}
	for name, q := range queries {
		times := make([]time.Duration, 0, queryRuns)
		for range queryRuns {
			start := time.Now()
			if err := q(); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			times = append(times, time.Since(start))
		}
		slices.Sort(times)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		out[name] = QueryTimes{P50: ms(times[len(times)/2]), P99: ms(times[len(times)*99/100]), Max: ms(times[len(times)-1])}
	}
	return out, nil
}
