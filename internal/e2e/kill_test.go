package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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

	const target, batch, workers = 3000, 20, 4
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		count atomic.Int64
	)
	body := "[" + strings.TrimSuffix(strings.Repeat(`{"event_type":"sms_sent","data":`+smsRecord+`},`, batch), ",") + "]"
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for count.Load() < target {
				req, _ := http.NewRequest("POST", e.srv.base+"/api/v1/events", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+e.srv.key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					time.Sleep(20 * time.Millisecond) // down: not acknowledged, try again
					continue
				}
				var out struct{ Data []struct{ ID string } }
				decodeErr := jsonDecode(resp, &out)
				if resp.StatusCode != http.StatusAccepted || decodeErr != nil {
					continue
				}
				mu.Lock()
				for _, d := range out.Data {
					acked[d.ID] = true
				}
				mu.Unlock()
				count.Add(int64(len(out.Data)))
			}
		}()
	}
	for _, at := range []int64{target / 3, 2 * target / 3} {
		for count.Load() < at {
			time.Sleep(5 * time.Millisecond)
		}
		e.srv.kill()
		_, _, received := e.rcv.tally(nil, nil)
		t.Logf("killed with %d events acknowledged, %d requests received", count.Load(), received)
		e.srv.start()
	}
	wg.Wait()

	dups, total := waitAllDelivered(t, e.rcv, paths, acked, 90*time.Second)
	t.Logf("%d events acknowledged, %d deliveries expected, %d received, %d duplicates", len(acked), len(acked)*len(paths), total, dups)
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
