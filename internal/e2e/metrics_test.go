package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

// metric reads one sample from the Prometheus text of /metrics.
func metric(t *testing.T, s *server, series string) float64 {
	t.Helper()
	body := string(s.call("GET", "/metrics", "", "").Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v
}

func TestMetricsReflectDeliveries(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retry-schedule", "1h")
	e.rcv.setAnswer(func(_ http.ResponseWriter, path string, _ int) int {
		if path == "/bad" {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	good, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/good") + `","event_type":"sms_sent"}`)
	bad, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/bad") + `","event_type":"sms_sent"}`)
	for range 3 {
		e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	}
	e.rcv.waitFor("/good", 3, 10*time.Second)
	e.rcv.waitFor("/bad", 3, 10*time.Second)
	// Outcomes reach the database a few ms after the attempt.
	testutil.Eventually(t, 10*time.Second, func() (bool, string) {
		retrying := metric(t, e.srv, `revdesk_deliveries_total{outcome="pending"}`)
		pending := metric(t, e.srv, `revdesk_deliveries_pending`)
		return retrying >= 3 && pending <= 3, fmt.Sprintf("%v attempts set to retry, %v deliveries pending", retrying, pending)
	})
	checks := []struct {
		series string
		want   float64
	}{
		{`revdesk_events_ingested_total`, 3},
		{`revdesk_deliveries_total{outcome="succeeded"}`, 3},
		{`revdesk_deliveries_total{outcome="pending"}`, 3},
		{`revdesk_delivery_attempts_total{error_class="none"}`, 3},
		{`revdesk_delivery_attempts_total{error_class="http_status"}`, 3},
		{`revdesk_delivery_attempt_duration_seconds_count`, 6},
		{`revdesk_deliveries_pending`, 3},
		{`revdesk_subscription_failure_streak{subscription_id="` + bad + `"}`, 3},
		{`revdesk_subscription_failure_streak{subscription_id="` + good + `"}`, 0},
	}
	for _, c := range checks {
		if got := metric(t, e.srv, c.series); got != c.want {
			t.Errorf("%s = %v, want %v", c.series, got, c.want)
		}
	}
	if age := metric(t, e.srv, `revdesk_oldest_pending_delivery_age_seconds`); age <= 0 {
		t.Errorf("oldest pending age %v with 3 pending", age)
	}
}
