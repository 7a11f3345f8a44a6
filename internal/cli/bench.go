package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"

	"github.com/revdesk/webhooks/internal/bench"
)

// BenchCmd measures throughput and latency through the public API.
type BenchCmd struct {
	Server        string `env:"REVDESK_SERVER" help:"URL of a running server; empty starts one in this process."`
	APIKey        string `name:"api-key" env:"REVDESK_API_KEY" help:"API key for --server."`
	DB            string `help:"Database of the in-process server (sqlite:PATH or postgres://…); default a temporary SQLite file."`
	Subscriptions int    `default:"10" help:"Subscriptions, spread over --receivers endpoints."`
	Receivers     int    `help:"Distinct receiving endpoints (one port each); 1 is one host with a path per subscription; 0 one endpoint per subscription."`
	// Receiver shapes: how the receiving endpoints behave.
	ReceiverLatency   time.Duration `help:"Each receiver answers after this long, e.g. 50ms."`
	ShedAbove         int           `help:"A receiver answers 503 while more than this many of its requests are in flight; 0 never."`
	ReceiverRateLimit float64       `help:"A receiver answers 429 with Retry-After: 1 beyond this many requests a second; 0 never."`
	Events            int           `default:"20000" help:"Events to ingest."`
	Batch             int           `default:"100" help:"Events per ingest request."`
	Concurrency       int           `default:"8" help:"Ingest requests in flight."`
	Rate              float64       `help:"Events per second; 0 for as fast as possible."`
	Ordered           bool          `help:"Make the subscriptions ordered (every event about a resource of its own)."`
	Backlog           bool          `help:"Keep receivers down during ingest, then measure draining the backlog."`
	History           int           `help:"Fill the in-process server's database with this many deliveries of history (a week of it: several workspaces, every status, attempts) before measuring; also measures the delivery log's queries and the bytes per delivery."`
	JSON              bool          `name:"json" help:"Print the result as JSON."`
	CPUProfile        string        `help:"Write a CPU profile of this process (server included when in-process) to FILE."`
	MemProfile        string        `help:"Write a heap profile at the end of the run to FILE."`
}

func (c *BenchCmd) Run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := bench.Run(ctx, bench.Options{
		Server: c.Server, APIKey: c.APIKey, DB: c.DB, Subscriptions: c.Subscriptions, Events: c.Events,
		Batch: c.Batch, Concurrency: c.Concurrency, Rate: c.Rate, Backlog: c.Backlog, History: c.History, Progress: os.Stderr,
		Shape:   bench.Shape{Receivers: c.Receivers, Latency: c.ReceiverLatency, ShedAbove: c.ShedAbove, RateLimit: c.ReceiverRateLimit},
		Ordered: c.Ordered,
	})
	if err != nil {
		return err
	}
	if c.MemProfile != "" {
		f, err := os.Create(c.MemProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Printf(`
engine             %s
subscriptions      %d on %d receivers answering after %.0f ms
events             %d
deliveries         %d in %.2fs
deliveries/s       %.0f
ingest events/s    %.0f
latency ms         p50 %.2f  p90 %.2f  p99 %.2f  max %.2f
peak RSS           %.0f MiB (this process)
CPU per delivery   %.1f µs (this process)
peak in flight     %d (at the receivers)
wasted requests    %.1f %% of %d (answered other than 2xx)
loopback ceiling   %.0f POST/s
ratio to ceiling   %.2f
`, res.Engine, res.Subscriptions, res.Receivers, res.ReceiverLatencyMS, res.Events, res.Deliveries, res.Seconds, res.DeliveriesPerSec, res.IngestEventsPerSec,
		res.LatencyMS.P50, res.LatencyMS.P90, res.LatencyMS.P99, res.LatencyMS.Max, res.PeakRSSMiB, res.CPUMicrosPerDelivery,
		res.PeakInFlight, 100*res.WastedShare, res.Requests, res.RawPostsPerSec, res.CeilingRatio)
	printHistory(res.History)
	return nil
}
