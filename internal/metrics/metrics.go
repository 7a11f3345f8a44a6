// Package metrics exposes the service's Prometheus metrics.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/revdesk/webhooks/internal/store"
)

// Metrics records ingest and delivery activity. It implements the observer
// interfaces of the ingest and delivery packages.
type Metrics struct {
	registry *prometheus.Registry
	ingested prometheus.Counter
	attempts *prometheus.CounterVec
	outcomes *prometheus.CounterVec
	latency  prometheus.Histogram
	streaks  *prometheus.GaugeVec
}

// New registers the metrics; pending reads queue depth at scrape time.
func New(st QueueStats) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		ingested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "revdesk_events_ingested_total", Help: "Events stored by ingest, derived ones included.",
		}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revdesk_delivery_attempts_total", Help: "Delivery attempts by error class (\"none\" for success).",
		}, []string{"error_class"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revdesk_deliveries_total", Help: "Delivery attempt outcomes: succeeded, pending (will retry), failed.",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "revdesk_delivery_attempt_duration_seconds", Help: "Time from request start to response read.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	m.streaks = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "revdesk_subscription_failure_streak",
		Help: "Consecutive failed attempts of a subscription seen by this process; only failing subscriptions are listed.",
	}, []string{"subscription_id"})
	m.registry.MustRegister(m.ingested, m.attempts, m.outcomes, m.latency, m.streaks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&queueCollector{store: st})
	return m
}

// Handler serves the metrics in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Ingested counts stored events.
func (m *Metrics) Ingested(events int) { m.ingested.Add(float64(events)) }

// Attempted records one finished attempt. A success ends the
// subscription's failure streak and removes its series, so the streak
// gauge lists only failing subscriptions (bounded cardinality).
func (m *Metrics) Attempted(subscriptionID string, a store.Attempt, status string) {
	class := a.ErrorClass
	if class == "" {
		class = "none"
		m.streaks.DeleteLabelValues(subscriptionID)
	} else {
		m.streaks.WithLabelValues(subscriptionID).Inc()
	}
	m.attempts.WithLabelValues(class).Inc()
	m.outcomes.WithLabelValues(status).Inc()
	m.latency.Observe(a.Latency.Seconds())
}

// QueueStats is what the metrics read of the store.
type QueueStats interface {
	PendingStats(ctx context.Context) (count int, oldest *time.Time, err error)
}

// queueCollector reads queue depth from the store when scraped.
type queueCollector struct {
	store QueueStats
}

var (
	pendingDesc = prometheus.NewDesc("revdesk_deliveries_pending", "Deliveries waiting for an attempt or a retry.", nil, nil)
	oldestDesc  = prometheus.NewDesc("revdesk_oldest_pending_delivery_age_seconds", "Age of the oldest pending delivery.", nil, nil)
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- oldestDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, oldest, err := c.store.PendingStats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(pendingDesc, err)
		return
	}
	age := 0.0
	if oldest != nil {
		age = time.Since(*oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
}

// Register adds collectors that other packages keep (e.g. the rate limits'
// share).
func (m *Metrics) Register(cs ...prometheus.Collector) { m.registry.MustRegister(cs...) }
