package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestKillDuringIngestAndDelivery ingests thousands of events for several
// subscriptions while the server is killed with SIGKILL twice and
// restarted. Every event acknowledged with 202 must reach every
// subscription at least once; duplicates are counted and reported.
func TestKillDuringIngestAndDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the server several times; not run with -short")
	}
	t.Parallel()
	e := setupContract(t, "--retry-schedule", "200ms,500ms,1s,2s")
	paths := []string{"/k1", "/k2", "/k3"}
	for _, p := range paths {
		e.srv.subscribe(`{"webhook_url":"` + e.rcv.url(p) + `","event_type":"sms_sent"}`)
	}

	const target, workers = 3000, 4
	in := newIngester(e.srv.key)
	base := e.srv.base // a restart keeps the port, so the address stays
	done := make(chan struct{})
	t.Cleanup(func() { <-done }) // the workers report to t: it must outlive them
	go func() {
		defer close(done)
		in.run(t, func() []string { return []string{base} }, target, workers)
	}()
	for _, at := range []int64{target / 3, 2 * target / 3} {
		in.waitCount(t, at)
		e.srv.kill()
		_, _, received := e.rcv.tally(nil, nil)
		t.Logf("killed with %d events acknowledged, %d requests received", in.count.Load(), received)
		e.srv.start()
	}
	<-done

	dups, total := waitAllDelivered(t, e.rcv, paths, in.acked, 90*time.Second)
	t.Logf("%d events acknowledged, %d deliveries expected, %d received, %d duplicates", len(in.acked), len(in.acked)*len(paths), total, dups)
}

// tally counts acknowledged events missing at each path and the duplicate
// deliveries (same event at the same path more than once).
func (r *receiver) tally(paths []string, acked map[string]bool) (missing, dups, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]int{}
	for _, d := range r.got {
		seen[d.Path+" "+d.Header.Get("X-revdesk-Event-Id")]++
		total++
	}
	for id := range acked {
		for _, p := range paths {
			if seen[p+" "+id] == 0 {
				missing++
			}
		}
	}
	for _, n := range seen {
		dups += n - 1
	}
	return missing, dups, total
}

func jsonDecode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decoding %d response: %w", resp.StatusCode, err)
	}
	return nil
}
