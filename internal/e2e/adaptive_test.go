package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

// gauge tracks how many requests a receiver holds at once, and the most.
type gauge struct{ now, peak atomic.Int64 }

func (g *gauge) enter() int64 {
	n := g.now.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	return n
}

func (g *gauge) leave() { g.now.Add(-1) }

// ingestMany sends n sms_sent events in batches of up to 1,000.
func (s *server) ingestMany(t *testing.T, n int) {
	t.Helper()
	for sent := 0; sent < n; {
		k := min(1000, n-sent)
		batch := strings.TrimSuffix(strings.Repeat(`{"event_type":"sms_sent","data":`+smsRecord+`},`, k), ",")
		if r := s.do("POST", "/api/v1/events", "["+batch+"]"); r.Status != http.StatusAccepted {
			t.Fatalf("ingest: %d %s", r.Status, r.Body)
		}
		sent += k
	}
}

// endpoint reads the workspace's one endpoint from GET /api/v1/endpoints.
func (s *server) endpoint(t *testing.T) map[string]any {
	t.Helper()
	r := s.do("GET", "/api/v1/endpoints", "")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /api/v1/endpoints: %d %s", r.Status, r.Body)
	}
	rows := r.json(t)["data"].([]any)
	if len(rows) != 1 {
		t.Fatalf("endpoints %s, want one", r.Body)
	}
	return rows[0].(map[string]any)
}

// succeeded counts the subscription's succeeded deliveries (up to 100 a
// page, all pages).
func (s *server) succeeded(t *testing.T, sub string) int {
	t.Helper()
	n := 0
	for after := ""; ; {
		v := s.do("GET", "/api/v1/deliveries?status=succeeded&limit=100&subscription_id="+sub+after, "").json(t)
		n += len(v["data"].([]any))
		if v["has_more"] != true {
			return n
		}
		after = "&after=" + v["next_after"].(string)
	}
}

func TestLimitGrowsForSlowHealthyReceiverAndShrinksWhenItDegrades(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--max-per-endpoint", "64")
	var g gauge
	var latency atomic.Int64
	latency.Store(int64(100 * time.Millisecond))
	e.rcv.setAnswer(func(http.ResponseWriter, string, int) int {
		g.enter()
		defer g.leave()
		time.Sleep(time.Duration(latency.Load()))
		return http.StatusOK
	})
	const path = "/slow"
	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url(path) + `","event_type":"sms_sent"}`)

	// Healthy at 100 ms (long beside the scheduling delays of a loaded
	// machine, which the limiter would read as the receiver slowing): the
	// limit grows from 8 to the ceiling.
	e.srv.ingestMany(t, 1500)
	e.rcv.waitFor(path, 1500, 90*time.Second)
	grown := e.srv.endpoint(t)["limit"].(float64)
	if peak := g.peak.Load(); peak < 32 || grown < 32 {
		t.Fatalf("peak in flight %d, limit %v at a healthy 100 ms receiver; want both at least 32 (from 8)", peak, grown)
	}

	// /metrics shows it too, labelled with the endpoint.
	metrics := string(e.srv.call("GET", "/metrics", "", "").Body)
	series := fmt.Sprintf(`revdesk_endpoint_concurrency_limit{endpoint=%q} %v`, e.rcv.URL, grown)
	if !strings.Contains(metrics, series) || !strings.Contains(metrics, "revdesk_endpoints 1") {
		t.Errorf("/metrics lacks %q or revdesk_endpoints 1", series)
	}

	// Degraded to 1 s: the limit shrinks while the backlog drains.
	latency.Store(int64(time.Second))
	e.srv.ingestMany(t, 1000)
	testutil.Eventually(t, 30*time.Second, func() (bool, string) {
		ep := e.srv.endpoint(t)
		return ep["limit"].(float64) <= grown/2, fmt.Sprintf("endpoint %v, want limit at most %v", ep, grown/2)
	})
}

func TestRetryAfterPausesTheEndpoint(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retry-schedule", "100ms,100ms,100ms")
	const limited = 1500 * time.Millisecond
	var mu sync.Mutex
	var first time.Time
	var early, refused atomic.Int64 // requests within the limited span; 429s
	e.rcv.setAnswer(func(w http.ResponseWriter, _ string, _ int) int {
		mu.Lock()
		if first.IsZero() {
			first = time.Now()
		}
		since := time.Since(first)
		mu.Unlock()
		if since < limited {
			early.Add(1)
			refused.Add(1)
			w.Header().Set("Retry-After", "2")
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	})
	const path = "/limited"
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url(path) + `","event_type":"sms_sent"}`)
	e.srv.ingestMany(t, 500)
	testutil.Eventually(t, 10*time.Second, func() (bool, string) {
		ep := e.srv.endpoint(t)
		return ep["paused_until"] != nil, fmt.Sprintf("endpoint %v, want paused", ep)
	})
	testutil.Eventually(t, 60*time.Second, func() (bool, string) {
		n := e.srv.succeeded(t, sub)
		return n == 500, fmt.Sprintf("%d of 500 deliveries succeeded", n)
	})
	// The first answers paused the endpoint for 2 s: only the first
	// window of requests (the initial limit, 8) was sent in the 1.5 s the
	// receiver refused, and so refused, not the backlog of 500.
	if n := early.Load(); n < 1 || n > 8 {
		t.Fatalf("%d requests while the receiver asked to wait, want 1 to 8", n)
	}
	if n := refused.Load(); n > 8 {
		t.Fatalf("%d requests answered 429, want at most 8", n)
	}
}

func TestSheddingReceiverGetsFew503s(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retry-schedule", strings.TrimSuffix(strings.Repeat("100ms,", 30), ","))
	const capacity = 8
	var g gauge
	var shed, served atomic.Int64
	e.rcv.setAnswer(func(http.ResponseWriter, string, int) int {
		n := g.enter()
		defer g.leave()
		time.Sleep(20 * time.Millisecond)
		if n > capacity {
			shed.Add(1)
			return http.StatusServiceUnavailable
		}
		served.Add(1)
		return http.StatusOK
	})
	const path = "/shedding"
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url(path) + `","event_type":"sms_sent"}`)
	e.srv.ingestMany(t, 600)
	testutil.Eventually(t, 90*time.Second, func() (bool, string) {
		n := e.srv.succeeded(t, sub)
		return n == 600, fmt.Sprintf("%d of 600 deliveries succeeded", n)
	})
	total := shed.Load() + served.Load()
	if share := float64(shed.Load()) / float64(total); share > 0.10 {
		t.Fatalf("%d of %d requests answered 503 (%.0f %%), want at most 10 %%", shed.Load(), total, 100*share)
	}
	t.Logf("%d of %d requests answered 503", shed.Load(), total)
}
