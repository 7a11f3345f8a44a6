package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/revdesk/webhooks/internal/delivery"
)

// EndpointSource reports the dispatcher's endpoints, busiest first.
type EndpointSource interface {
	Endpoints() []delivery.EndpointState
}

// TopEndpoints is how many endpoints get series of their own: label
// cardinality stays bounded however many receivers there are, and the
// totals cover the rest.
const TopEndpoints = 20

// WatchEndpoints adds the per-endpoint gauges, read from src when scraped.
func (m *Metrics) WatchEndpoints(src EndpointSource) {
	m.registry.MustRegister(&endpointCollector{src: src})
}

type endpointCollector struct{ src EndpointSource }

var (
	endpointsDesc = prometheus.NewDesc("revdesk_endpoints", "Endpoints (scheme://host:port) this process holds delivery state for.", nil, nil)
	pausedDesc    = prometheus.NewDesc("revdesk_endpoints_paused", "Endpoints paused after a 429 or 503.", nil, nil)
	inFlightDesc  = prometheus.NewDesc("revdesk_delivery_requests_in_flight", "Delivery requests in flight from this process.", nil, nil)
	queuedDesc    = prometheus.NewDesc("revdesk_deliveries_queued", "Deliveries queued in this process for their endpoint's turn.", nil, nil)

	endpointLabels     = []string{"endpoint"}
	epLimitDesc        = prometheus.NewDesc("revdesk_endpoint_concurrency_limit", "An endpoint's adaptive limit of requests in flight (busiest endpoints only).", endpointLabels, nil)
	epInFlightDesc     = prometheus.NewDesc("revdesk_endpoint_in_flight", "Requests in flight to an endpoint (busiest endpoints only).", endpointLabels, nil)
	epQueuedDesc       = prometheus.NewDesc("revdesk_endpoint_queued", "Deliveries queued for an endpoint (busiest endpoints only).", endpointLabels, nil)
	epLatencyDesc      = prometheus.NewDesc("revdesk_endpoint_latency_seconds", "An endpoint's smoothed answer time (busiest endpoints only).", endpointLabels, nil)
	epPausedUntilDesc  = prometheus.NewDesc("revdesk_endpoint_paused_until_seconds", "Unix time an endpoint's pause ends; 0 when not paused (busiest endpoints only).", endpointLabels, nil)
	endpointGaugeDescs = []*prometheus.Desc{epLimitDesc, epInFlightDesc, epQueuedDesc, epLatencyDesc, epPausedUntilDesc}
)

func (c *endpointCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range append([]*prometheus.Desc{endpointsDesc, pausedDesc, inFlightDesc, queuedDesc}, endpointGaugeDescs...) {
		ch <- d
	}
}

func (c *endpointCollector) Collect(ch chan<- prometheus.Metric) {
	eps := c.src.Endpoints()
	var paused, inFlight, queued int
	for i, e := range eps {
		inFlight += e.InFlight
		queued += e.Queued
		until := 0.0
		if !e.PausedUntil.IsZero() {
			paused++
			until = float64(e.PausedUntil.UnixMilli()) / 1000
		}
		if i >= TopEndpoints {
			continue
		}
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, e.Endpoint)
		}
		gauge(epLimitDesc, float64(e.Limit))
		gauge(epInFlightDesc, float64(e.InFlight))
		gauge(epQueuedDesc, float64(e.Queued))
		gauge(epLatencyDesc, e.Latency.Seconds())
		gauge(epPausedUntilDesc, until)
	}
	ch <- prometheus.MustNewConstMetric(endpointsDesc, prometheus.GaugeValue, float64(len(eps)))
	ch <- prometheus.MustNewConstMetric(pausedDesc, prometheus.GaugeValue, float64(paused))
	ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(inFlight))
	ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(queued))
}
