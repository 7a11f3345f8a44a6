package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// BenchmarkIngestOrdered compares one ingest of benchEvents events, each
// about a resource of its own, to benchSubs subscriptions, unordered and
// ordered (the head check and the order index); CPU per op is the figure
// to compare on a shared machine.
func BenchmarkIngestOrdered(b *testing.B) {
	for _, ordered := range []bool{false, true} {
		b.Run(fmt.Sprintf("ordered=%v", ordered), func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			ws, err := s.CreateWorkspace(ctx, store.CreateWorkspaceParams{Name: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			for i := range benchSubs {
				if _, err := s.CreateSubscription(ctx, store.CreateSubscriptionParams{WorkspaceID: ws.ID,
					WebhookURL: fmt.Sprintf("https://example.com/%d", i), EventType: "new_call", Ordered: ordered}); err != nil {
					b.Fatal(err)
				}
			}
			n := 0
			cpu := cpuTime()
			for b.Loop() {
				b.StopTimer()
				p := store.IngestParams{WorkspaceID: ws.ID}
				for range benchEvents {
					n++
					e := store.NewEvent{ID: ids.New(ids.Event), EventType: "new_call", OccurredAt: time.Now(),
						Data: fmt.Appendf(nil, `{"id":"call_%d","direction":"inbound","status":"RINGING"}`, n)}
					p.Events = append(p.Events, e)
					p.ResponseIDs = append(p.ResponseIDs, e.ID)
				}
				b.StartTimer()
				if _, err := s.Ingest(ctx, []store.IngestParams{p}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
