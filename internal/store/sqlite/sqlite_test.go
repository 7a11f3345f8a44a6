package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
	"github.com/revdesk/webhooks/internal/store/storetest"
)

func open(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(context.Background(), filepath.Join(tb.TempDir(), "revdesk.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestOpenTwiceKeepsData(t *testing.T) {
	ctx := context.Background()
	path := "file:" + filepath.Join(t.TempDir(), "revdesk.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := s.CreateWorkspace(ctx, store.CreateWorkspaceParams{Now: time.Now(), Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Reopening runs the migrations again, which must be a no-op.
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.GetWorkspace(ctx, ws.ID); err != nil || got.Name != "acme" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	var mode string
	if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var sync int
	if err := s.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	if _, err := Open(context.Background(), ":memory:"); err == nil {
		t.Fatal("Open(:memory:) succeeded; two pools would see two databases")
	}
}

const (
	benchEvents = 100
	benchSubs   = 10
	benchBatch  = 100
)

// benchSetup makes a workspace with benchSubs subscriptions to new_call.
func benchSetup(b *testing.B) (*Store, string) {
	s := open(b)
	ctx := context.Background()
	ws, err := s.CreateWorkspace(ctx, store.CreateWorkspaceParams{Now: time.Now(), Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range benchSubs {
		if _, err := s.CreateSubscription(ctx, store.CreateSubscriptionParams{Now: time.Now(), WorkspaceID: ws.ID,
			WebhookURL: fmt.Sprintf("https://example.com/%d", i), EventType: "new_call"}); err != nil {
			b.Fatal(err)
		}
	}
	return s, ws.ID
}

func benchRequest(ws string) []store.IngestParams {
	p := store.IngestParams{WorkspaceID: ws, Now: time.Now()}
	data := []byte(`{"id":"call_123","direction":"inbound","from":"+15555550100","to":"+15555550101",` +
		`"status":"RINGING","workflow_id":null,"campaign_id":null,"created_at":"2026-06-30T19:30:00.000Z"}`)
	for range benchEvents {
		e := store.NewEvent{ID: ids.New(ids.Event), EventType: "new_call", OccurredAt: time.Now(), Data: data}
		p.Events = append(p.Events, e)
		p.ResponseIDs = append(p.ResponseIDs, e.ID)
	}
	return []store.IngestParams{p}
}

// cpuTime is the CPU time this process has used. Benchmarks report CPU per
// op beside wall time because on a shared machine wall time mostly measures
// the neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIngest: one op is one request of 100 events, each fanned out to
// 10 subscriptions (100 event rows + 1,000 delivery rows).
func BenchmarkIngest(b *testing.B) {
	s, ws := benchSetup(b)
	ctx := context.Background()
	cpu := cpuTime()
	for b.Loop() {
		b.StopTimer()
		req := benchRequest(ws)
		b.StartTimer()
		if _, err := s.Ingest(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	cpuPerOp := float64(cpuTime()-cpu) / float64(b.N)
	secs := b.Elapsed().Seconds()
	b.ReportMetric(cpuPerOp, "cpu-ns/op")
	b.ReportMetric(float64(b.N*benchEvents*(1+benchSubs))/secs, "rows/s")
	b.ReportMetric(float64(benchEvents*(1+benchSubs))/(cpuPerOp/1e9), "rows/cpu-s")
}

// BenchmarkClaimComplete: one op claims 100 due deliveries and completes
// them as succeeded, each with an attempt row.
func BenchmarkClaimComplete(b *testing.B) {
	s, ws := benchSetup(b)
	ctx := context.Background()
	perIngest := benchEvents * benchSubs
	for range (b.N*benchBatch + perIngest - 1) / perIngest {
		if _, err := s.Ingest(ctx, benchRequest(ws)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		now := time.Now()
		jobs, err := s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "bench", Now: now,
			LeaseUntil: now.Add(time.Minute), Limit: benchBatch})
		if err != nil {
			b.Fatal(err)
		}
		if len(jobs) != benchBatch {
			b.Fatalf("claimed %d, want %d", len(jobs), benchBatch)
		}
		cs := make([]store.Completion, len(jobs))
		for i, j := range jobs {
			cs[i] = store.Completion{DeliveryID: j.Delivery.ID, SubscriptionID: j.Subscription.ID, Owner: "bench",
				Status: store.DeliverySucceeded, Attempt: &store.Attempt{At: now, StatusCode: 200,
					Latency: time.Millisecond, ResponseBody: "ok"}}
		}
		if _, err := s.CompleteDeliveries(ctx, store.CompleteParams{Now: now, Completions: cs}); err != nil {
			b.Fatal(err)
		}
	}
	cpuPerOp := float64(cpuTime()-cpu) / float64(b.N)
	b.ReportMetric(cpuPerOp, "cpu-ns/op")
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(benchBatch/(cpuPerOp/1e9), "rows/cpu-s")
}

// A first attempt recorded before migration 00002 is an attempts row; the
// deliveries it belongs to must read and complete as before.
func TestFirstAttemptFromBeforeInlining(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t)
	ws, err := s.CreateWorkspace(ctx, store.CreateWorkspaceParams{Now: time.Now(), Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.CreateSubscription(ctx, store.CreateSubscriptionParams{Now: time.Now(), WorkspaceID: ws.ID,
		WebhookURL: "https://example.com/a", EventType: "new_call"})
	if err != nil {
		t.Fatal(err)
	}
	req := benchRequest(ws.ID)
	req[0].Events, req[0].ResponseIDs = req[0].Events[:1], req[0].ResponseIDs[:1]
	if _, err := s.Ingest(ctx, req); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	jobs, err := s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "o", Now: now, LeaseUntil: now.Add(time.Hour), Limit: 1})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	id := jobs[0].Delivery.ID
	// What a completion wrote before the migration: attempt 1 as a row.
	if _, err := s.w.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', attempts = 1,
		lease_owner = NULL, lease_until = NULL, due_at = ?1, next_attempt_at = ?1 WHERE id = ?2`, ns(now), id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO attempts VALUES (?, 1, ?, ?, 500, 1000, 'http_status',
		'endpoint answered 500', x'')`, id, ids.New(ids.Attempt), ns(now)); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Second)
	if _, err := s.ClaimDeliveries(ctx, store.ClaimParams{Owner: "o", Now: later, LeaseUntil: later.Add(time.Hour), Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompleteDeliveries(ctx, store.CompleteParams{Now: later, Completions: []store.Completion{{
		DeliveryID: id, SubscriptionID: sub.ID, Owner: "o", Status: store.DeliverySucceeded,
		Attempt: &store.Attempt{At: later, StatusCode: 200}}}}); err != nil {
		t.Fatal(err)
	}
	d, attempts, err := s.GetDelivery(ctx, ws.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != store.DeliverySucceeded || d.Attempts != 2 || len(attempts) != 2 ||
		attempts[0].Number != 1 || attempts[0].StatusCode != 500 || attempts[1].Number != 2 || attempts[1].StatusCode != 200 {
		t.Errorf("delivery %+v with attempts %+v, want succeeded on attempt 2 after a 500", d, attempts)
	}
}
