package bench

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// sentField is the data field carrying the send time of an event, so the
// sink can measure ingest-to-receipt latency from the body alone.
const sentField = `"bench_sent_ns":`

// Shape is how the receivers behave, as real ones do.
type Shape struct {
	// Receivers is the number of distinct endpoints (one listener, hence
	// one host:port, each); the subscriptions are spread over them by path.
	// 0: one endpoint per subscription.
	Receivers int
	Latency   time.Duration // each answer waits this long
	// ShedAbove: a receiver answers 503 while more than this many of its
	// requests are in flight; 0 never.
	ShedAbove int
	// RateLimit: a receiver answers 429 with Retry-After: 1 beyond this
	// many requests in a second; 0 never.
	RateLimit float64
}

// sink is the receiving end: listeners shaped as Shape says, counting
// deliveries and wasted requests and recording latencies.
type sink struct {
	shape     Shape
	servers   []*http.Server
	receivers []*receiver
	urls      []string // one per subscription
	received  atomic.Int64
	wasted    atomic.Int64 // requests answered other than 2xx
	inFlight  atomic.Int64 // in all receivers
	peak      atomic.Int64
	expected  int64
	done      chan struct{}
	doneOnce  sync.Once
	mu        sync.Mutex
	latencies []time.Duration
	down      atomic.Bool // answer 503 while set
}

// receiver is one endpoint's own state for shedding and rate limiting.
type receiver struct {
	inFlight atomic.Int64
	mu       sync.Mutex
	second   int64 // the Unix second counted
	count    int   // requests in it
}

func newSink(subscriptions int, shape Shape, expected int64) (*sink, error) {
	if shape.Receivers <= 0 || shape.Receivers > subscriptions {
		shape.Receivers = subscriptions
	}
	s := &sink{shape: shape, expected: expected, done: make(chan struct{}), latencies: make([]time.Duration, 0, expected)}
	var bases []string
	for range shape.Receivers {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.close()
			return nil, err
		}
		r := &receiver{}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { s.serve(r, w, req) }), ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		s.receivers = append(s.receivers, r)
		bases = append(bases, "http://"+ln.Addr().String())
		go func() { _ = srv.Serve(ln) }()
	}
	for i := range subscriptions {
		s.urls = append(s.urls, bases[i%len(bases)]+"/hook/"+strconv.Itoa(i))
	}
	return s, nil
}

// bodies are the sink's read buffers: the sink shares the machine with the
// server it measures, so it should spend as little as a lean receiver.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (s *sink) serve(r *receiver, w http.ResponseWriter, req *http.Request) {
	buf := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(buf)
	buf.Reset()
	_, _ = buf.ReadFrom(req.Body)
	body := buf.Bytes()
	now := time.Now()
	if req.URL.Path == "/raw" {
		w.WriteHeader(http.StatusOK)
		return
	}
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	mine := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	if s.shape.Latency > 0 {
		time.Sleep(s.shape.Latency)
	}
	switch {
	case s.down.Load():
		s.wasted.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case s.shape.ShedAbove > 0 && mine > int64(s.shape.ShedAbove):
		s.wasted.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case s.shape.RateLimit > 0 && !r.take(now, s.shape.RateLimit):
		s.wasted.Add(1)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if sent, ok := sentAt(body); ok {
		s.mu.Lock()
		s.latencies = append(s.latencies, now.Sub(sent))
		s.mu.Unlock()
	}
	if s.received.Add(1) == s.expected {
		s.doneOnce.Do(func() { close(s.done) })
	}
	w.WriteHeader(http.StatusOK)
}

// take counts a request in its second and reports whether it is within
// rate, as a receiver's fixed-window rate limiter would.
func (r *receiver) take(now time.Time, rate float64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sec := now.Unix(); sec != r.second {
		r.second, r.count = sec, 0
	}
	r.count++
	return float64(r.count) <= rate
}

// sentAt finds the send time in a delivered body.
func sentAt(body []byte) (time.Time, bool) {
	i := bytes.Index(body, []byte(sentField))
	if i < 0 {
		return time.Time{}, false
	}
	rest := body[i+len(sentField):]
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

func (s *sink) close() {
	for _, srv := range s.servers {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = srv.Shutdown(ctx)
		cancel()
	}
}

// rawPostRate measures how many plain POSTs per second this machine's
// loopback carries into the sink with 64 in flight: the ceiling any
// webhook sender on it can reach.
func rawPostRate(url string, d time.Duration) float64 {
	const inFlight = 64
	tr := &http.Transport{MaxIdleConnsPerHost: inFlight, MaxConnsPerHost: inFlight}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	body := bytes.Repeat([]byte("x"), 400)
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}
