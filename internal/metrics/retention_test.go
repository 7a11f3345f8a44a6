package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/revdesk/webhooks/internal/store"
)

// gauges gathers reg's gauges by name.
func gauges(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		out[f.GetName()] = f.GetMetric()[0].GetGauge().GetValue()
	}
	return out
}

// TestRetention: the gauges show the last round's result, and the age of
// what retention waits for is measured at scrape time.
func TestRetention(t *testing.T) {
	t.Parallel()
	r := &Retention{}
	reg := prometheus.NewRegistry()
	reg.MustRegister(r)
	if g := gauges(t, reg); g["revdesk_retention_blocked"] != 0 || g["revdesk_retention_blocked_oldest_age_seconds"] != 0 {
		t.Errorf("before any round: %v, want zeros", g)
	}
	oldest := time.Now().Add(-time.Hour)
	r.Retention(store.PruneResult{Blocked: 3, OldestBlocked: &oldest})
	g := gauges(t, reg)
	if g["revdesk_retention_blocked"] != 3 {
		t.Errorf("revdesk_retention_blocked = %v, want 3", g["revdesk_retention_blocked"])
	}
	if age := g["revdesk_retention_blocked_oldest_age_seconds"]; age < 3600 || age > 3700 {
		t.Errorf("oldest blocked age = %v s, want about an hour", age)
	}
	r.Retention(store.PruneResult{})
	if g := gauges(t, reg); g["revdesk_retention_blocked"] != 0 || g["revdesk_retention_blocked_oldest_age_seconds"] != 0 {
		t.Errorf("after a round with nothing blocked: %v, want zeros", g)
	}
}
