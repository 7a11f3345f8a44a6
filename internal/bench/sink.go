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

// sink is the receiving end: one listener per subscription (each a separate
// endpoint, as distinct customers would be), counting deliveries and
// recording latencies.
type sink struct {
	servers   []*http.Server
	urls      []string
	received  atomic.Int64
	expected  int64
	done      chan struct{}
	doneOnce  sync.Once
	mu        sync.Mutex
	latencies []time.Duration
	down      atomic.Bool // answer 503 while set
}

func newSink(endpoints int, expected int64) (*sink, error) {
	s := &sink{expected: expected, done: make(chan struct{}), latencies: make([]time.Duration, 0, expected)}
	for range endpoints {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.close()
			return nil, err
		}
		srv := &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		s.urls = append(s.urls, "http://"+ln.Addr().String()+"/hook")
		go func() { _ = srv.Serve(ln) }()
	}
	return s, nil
}

// bodies are the sink's read buffers: the sink shares the machine with the
// server it measures, so it should spend as little as a lean receiver.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	buf := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(buf)
	buf.Reset()
	_, _ = buf.ReadFrom(r.Body)
	body := buf.Bytes()
	now := time.Now()
	if s.down.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path == "/raw" {
		w.WriteHeader(http.StatusOK)
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
