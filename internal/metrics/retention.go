package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/revdesk/webhooks/internal/store"
)

var (
	retentionBlockedDesc = prometheus.NewDesc("revdesk_retention_blocked",
		"What retention keeps past its cutoff for pending deliveries: history partitions (PostgreSQL) or deliveries (SQLite), as of the last round.", nil, nil)
	retentionOldestDesc = prometheus.NewDesc("revdesk_retention_blocked_oldest_age_seconds",
		"Age of the oldest pending delivery older than the retention cutoff (0 when none): how far retention lags behind.", nil, nil)
)

// Retention is the collector of what the last round of retention found
// (maintenance reports it; it is empty in processes that do not lead).
type Retention struct {
	mu   sync.Mutex
	last store.PruneResult
}

// Retention records a round's result (maintenance.Reporter).
func (r *Retention) Retention(res store.PruneResult) {
	r.mu.Lock()
	r.last = res
	r.mu.Unlock()
}

func (r *Retention) Describe(ch chan<- *prometheus.Desc) {
	ch <- retentionBlockedDesc
	ch <- retentionOldestDesc
}

func (r *Retention) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	res := r.last
	r.mu.Unlock()
	age := 0.0
	if res.OldestBlocked != nil {
		age = time.Since(*res.OldestBlocked).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(retentionBlockedDesc, prometheus.GaugeValue, float64(res.Blocked))
	ch <- prometheus.MustNewConstMetric(retentionOldestDesc, prometheus.GaugeValue, age)
}
