// Package bench drives a RevDesk server through its public API and measures
// what it moves: deliveries per second, ingest rate, ingest-to-receipt
// latency and memory, against the loopback ceiling of the same machine.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/revdesk/webhooks/internal/server"
)

// Options describe one run.
type Options struct {
	Server        string  // URL of a running server; "" starts one in-process
	APIKey        string  // for Server
	DB            string  // database of the in-process server; "" a temporary SQLite file
	Subscriptions int     // each its own endpoint
	Events        int     // total events ingested
	Batch         int     // events per ingest request
	Concurrency   int     // ingest requests in flight
	Rate          float64 // events per second; 0 as fast as possible
	Backlog       bool    // receivers down during ingest; measures draining a backlog
	Shape         Shape   // how the receivers behave
	History       int     // deliveries of history written before the run (history.go)
	Progress      io.Writer
	// Ordered makes the subscriptions ordered; every event is about a
	// resource of its own (a distinct data id), so keys never wait.
	Ordered bool
}

// Result is what a run measured.
type Result struct {
	Engine             string  `json:"engine"`
	Subscriptions      int     `json:"subscriptions"`
	Receivers          int     `json:"receivers"`
	ReceiverLatencyMS  float64 `json:"receiver_latency_ms"`
	Events             int     `json:"events"`
	Deliveries         int64   `json:"deliveries"`
	Seconds            float64 `json:"seconds"`
	DeliveriesPerSec   float64 `json:"deliveries_per_sec"`
	IngestEventsPerSec float64 `json:"ingest_events_per_sec"`
	LatencyMS          struct {
		P50 float64 `json:"p50"`
		P90 float64 `json:"p90"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"latency_ms"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// PeakInFlight is the most requests the receivers held at once.
	PeakInFlight int64 `json:"peak_in_flight"`
	// Requests is every delivery request the receivers answered, and
	// WastedShare the part of them answered other than 2xx (shed, rate
	// limited, or down).
	Requests    int64   `json:"requests"`
	WastedShare float64 `json:"wasted_share"`
	// CPUMicrosPerDelivery is this process's CPU time (server, sink and
	// load generator when in-process) per delivery over the measured
	// phase: steadier than the rates on a shared machine, so it is what
	// to compare when judging a change.
	CPUMicrosPerDelivery float64        `json:"cpu_us_per_delivery"`
	RawPostsPerSec       float64        `json:"raw_loopback_posts_per_sec"`
	CeilingRatio         float64        `json:"ratio_to_loopback_ceiling"`
	History              *HistoryResult `json:"history,omitempty"`
}

const benchKey = "rdk_bench_local_key"

// Run performs one benchmark.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Subscriptions < 1 || o.Events < 1 || o.Batch < 1 || o.Concurrency < 1 {
		return nil, errors.New("subscriptions, events, batch and concurrency must be at least 1")
	}
	expected := int64(o.Subscriptions) * int64(o.Events)
	if o.Shape.Latency < 0 || o.Shape.ShedAbove < 0 || o.Shape.RateLimit < 0 || o.Shape.Receivers < 0 {
		return nil, errors.New("receivers, receiver latency, shed-above and receiver rate limit cannot be negative")
	}
	sk, err := newSink(o.Subscriptions, o.Shape, expected)
	if err != nil {
		return nil, err
	}
	defer sk.close()
	res := &Result{Subscriptions: o.Subscriptions, Receivers: sk.shape.Receivers, Events: o.Events,
		ReceiverLatencyMS: float64(o.Shape.Latency.Microseconds()) / 1000}
	res.RawPostsPerSec = rawPostRate(sk.urls[0][:strings.Index(sk.urls[0], "/hook")]+"/raw", 2*time.Second)

	base, key := o.Server, o.APIKey
	res.Engine = "remote"
	if base == "" {
		var stop func()
		// Quick retries keep a backlog (receivers down) pending rather than
		// failing it, so it drains as soon as they are back.
		schedule := []time.Duration{time.Second, time.Second, 5 * time.Second}
		if o.Shape.ShedAbove > 0 || o.Shape.RateLimit > 0 {
			// Refused deliveries come back until they are taken.
			schedule = slices.Repeat([]time.Duration{time.Second}, 10000)
		}
		if o.Backlog {
			schedule = slices.Repeat([]time.Duration{2 * time.Second}, 10000)
		}
		db := o.DB
		if o.History > 0 {
			var cleanup func()
			if db, res.History, cleanup, err = prepareHistory(ctx, o); err != nil {
				return nil, err
			}
			defer cleanup()
		}
		base, res.Engine, stop, err = startEmbedded(ctx, db, schedule)
		if err != nil {
			return nil, err
		}
		defer stop()
		key = benchKey
	}
	c := &client{base: base, key: key, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2}}}
	for _, u := range sk.urls {
		if err := c.post(ctx, "/api/v1/webhook_subscriptions", fmt.Sprintf(`{"webhook_url":%q,"event_type":"sms_sent","signing_secret":"","ordered":%t}`, u, o.Ordered), nil); err != nil {
			return nil, fmt.Errorf("creating subscription: %w", err)
		}
	}

	bar := progressbar.NewOptions64(expected, progressbar.OptionSetWriter(progressOut(o.Progress)),
		progressbar.OptionSetDescription("deliveries"), progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionShowIts(), progressbar.OptionSetItsString("dlv"))
	stopBar := make(chan struct{})
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = bar.Set64(sk.received.Load())
			case <-stopBar:
				_ = bar.Set64(sk.received.Load())
				_ = bar.Finish()
				return
			}
		}
	}()
	defer close(stopBar)

	sk.down.Store(o.Backlog)
	start, cpuStart := time.Now(), cpuTime()
	if err := ingestAll(ctx, c, o); err != nil {
		return nil, err
	}
	ingestDur := time.Since(start)
	res.IngestEventsPerSec = float64(o.Events) / ingestDur.Seconds()
	if o.Backlog {
		sk.down.Store(false)
		start, cpuStart = time.Now(), cpuTime() // measure the drain
	}
	select {
	case <-sk.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("stopped with %d of %d deliveries received: %w", sk.received.Load(), expected, ctx.Err())
	}
	elapsed := time.Since(start)
	res.Deliveries = sk.received.Load()
	res.CPUMicrosPerDelivery = float64((cpuTime() - cpuStart).Microseconds()) / float64(res.Deliveries)
	res.Seconds = elapsed.Seconds()
	res.DeliveriesPerSec = float64(res.Deliveries) / elapsed.Seconds()
	res.CeilingRatio = res.DeliveriesPerSec / res.RawPostsPerSec
	res.PeakInFlight = sk.peak.Load()
	res.Requests = res.Deliveries + sk.wasted.Load()
	res.WastedShare = float64(sk.wasted.Load()) / float64(res.Requests)
	sk.mu.Lock()
	lat := slices.Clone(sk.latencies)
	sk.mu.Unlock()
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		ms := func(q float64) float64 { return float64(lat[min(n-1, int(q*float64(n)))].Microseconds()) / 1000 }
		res.LatencyMS.P50, res.LatencyMS.P90, res.LatencyMS.P99 = ms(0.50), ms(0.90), ms(0.99)
		res.LatencyMS.Max = float64(lat[n-1].Microseconds()) / 1000
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		res.PeakRSSMiB = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	return res, nil
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func progressOut(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// ingestAll sends the events in batches from Concurrency workers, paced to
// Rate when set. Each event carries its send time for the sink.
func ingestAll(ctx context.Context, c *client, o Options) error {
	batches := (o.Events + o.Batch - 1) / o.Batch
	next := make(chan int)
	errc := make(chan error, o.Concurrency)
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for b := range next {
				n := min(o.Batch, o.Events-b*o.Batch)
				buf.Reset()
				buf.WriteByte('[')
				sent := strconv.FormatInt(time.Now().UnixNano(), 10)
				for i := range n {
					if i > 0 {
						buf.WriteByte(',')
					}
					fmt.Fprintf(&buf, `{"event_type":"sms_sent","data":{"id":"msg_%d_%d","phone_number":"+15557654321","from_number":"+15551234567","direction":"outbound","status":"sent","contact_token":"ct","provider_id":"pv","error_message":null,"channel":"sms","created_at":"2026-06-30T19:30:00.000Z",%s%s}}`, b, i, sentField, sent)
				}
				buf.WriteByte(']')
				if err := c.post(ctx, "/api/v1/events", buf.String(), nil); err != nil {
					if failed.CompareAndSwap(false, true) {
						errc <- err
					}
					return
				}
			}
		}()
	}
	var pace *time.Ticker
	if o.Rate > 0 {
		pace = time.NewTicker(time.Duration(float64(time.Second) * float64(o.Batch) / o.Rate))
		defer pace.Stop()
	}
feed:
	for b := range batches {
		if pace != nil {
			<-pace.C
		}
		select {
		case next <- b:
		case err := <-errc:
			errc <- err
			break feed
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errc:
		return fmt.Errorf("ingest: %w", err)
	default:
		return ctx.Err()
	}
}

type client struct {
	base, key string
	http      *http.Client
}

func (c *client) post(ctx context.Context, path, body string, out any) error {
	for try := 0; ; try++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader([]byte(body)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.key)
		resp, err := c.http.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && try < 100 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s: %d %s", path, resp.StatusCode, b)
		}
		if out != nil {
			return json.Unmarshal(b, out)
		}
		return nil
	}
}

// startEmbedded runs a server in this process on a free port.
func startEmbedded(ctx context.Context, db string, schedule []time.Duration) (base, engine string, stop func(), err error) {
	var tmp string
	if db == "" {
		tmp, err = os.MkdirTemp("", "revdesk-bench")
		if err != nil {
			return "", "", nil, err
		}
		db = "sqlite:" + filepath.Join(tmp, "bench.db")
	}
	engine = "sqlite"
	if len(db) > 8 && db[:8] == "postgres" {
		engine = "postgres"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	secretsKey := make([]byte, 32)
	_, _ = rand.Read(secretsKey)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() {
		done <- server.Run(runCtx, server.Config{
			Addr: addr, DB: db, AllowHTTP: true, AllowPrivateNetworks: true, APIKey: benchKey,
			RetrySchedule: schedule, DeliveryTimeout: 10 * time.Second,
			// The run's database is its own: a key of its own seals it.
			SecretsKeys: []string{base64.StdEncoding.EncodeToString(secretsKey)},
		}, log)
	}()
	base = "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-done:
			cancel()
			return "", "", nil, fmt.Errorf("server stopped: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			return "", "", nil, errors.New("server did not start")
		}
	}
	stop = func() {
		cancel()
		<-done
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}
	return base, engine, stop, nil
}
