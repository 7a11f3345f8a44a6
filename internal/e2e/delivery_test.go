package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

// deliveryOf reads the first delivery of a subscription, with its attempts,
// from the delivery log.
func (s *server) deliveryOf(t *testing.T, subscriptionID string) map[string]any {
	t.Helper()
	r := s.do("GET", "/api/v1/deliveries?subscription_id="+subscriptionID, "")
	rows := r.json(t)["data"].([]any)
	if len(rows) == 0 {
		t.Fatalf("no delivery for %s", subscriptionID)
	}
	id := rows[0].(map[string]any)["id"].(string)
	return s.do("GET", "/api/v1/deliveries/"+id, "").json(t)
}

// waitDelivery polls the delivery log until cond holds.
func (s *server) waitDelivery(t *testing.T, subscriptionID string, cond func(d map[string]any) bool) map[string]any {
	t.Helper()
	var d map[string]any
	testutil.Eventually(t, 15*time.Second, func() (bool, string) {
		d = s.deliveryOf(t, subscriptionID)
		return cond(d), fmt.Sprintf("delivery %v", d)
	})
	return d
}

func status(want string) func(map[string]any) bool {
	return func(d map[string]any) bool { return d["status"] == want }
}

func TestRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retry-schedule", "100ms,100ms,100ms")
	e.rcv.setAnswer(func(_ http.ResponseWriter, path string, n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/flaky") + `","event_type":"sms_sent"}`)
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	got := e.rcv.waitFor("/flaky", 3, 10*time.Second)
	for _, d := range got[1:] {
		if d.Header.Get("X-revdesk-Delivery-Id") != got[0].Header.Get("X-revdesk-Delivery-Id") {
			t.Errorf("attempts carry different delivery ids")
		}
	}
	d := e.srv.waitDelivery(t, sub, status("succeeded"))
	attempts := d["attempts"].([]any)
	if len(attempts) != 3 {
		t.Fatalf("log shows %d attempts, want 3: %v", len(attempts), d)
	}
	for i, want := range []float64{500, 500, 200} {
		a := attempts[i].(map[string]any)
		if a["status_code"] != want || a["number"] != float64(i+1) {
			t.Errorf("attempt %d: %v", i+1, a)
		}
		if a["latency_ms"] == nil || a["at"] == nil {
			t.Errorf("attempt %d lacks time or latency: %v", i+1, a)
		}
	}
	if attempts[0].(map[string]any)["error_class"] != "http_status" {
		t.Errorf("failed attempt class: %v", attempts[0])
	}
	// No wait is needed before this negative check: the log records the
	// success only after the receiver answered, and a delivery has one
	// attempt at a time, so every request made for it has already arrived.
	if n := len(e.rcv.at("/flaky")); n != len(attempts) {
		t.Errorf("receiver got %d requests by the time of the success, the log shows %d attempts", n, len(attempts))
	}
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retry-schedule", "50ms,50ms")
	e.rcv.setAnswer(func(http.ResponseWriter, string, int) int { return http.StatusBadGateway })
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/down") + `","event_type":"sms_sent"}`)
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	d := e.srv.waitDelivery(t, sub, status("failed"))
	if n := len(d["attempts"].([]any)); n != 3 {
		t.Errorf("%d attempts, want 3 (first + 2 retries): %v", n, d)
	}
	if d["next_attempt_at"] != nil {
		t.Errorf("a failed delivery has a next attempt: %v", d)
	}
}

func TestNoRetryScheduleIsFireAndForget(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retry-schedule", "")
	e.rcv.setAnswer(func(http.ResponseWriter, string, int) int { return http.StatusInternalServerError })
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/once") + `","event_type":"sms_sent"}`)
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	d := e.srv.waitDelivery(t, sub, status("failed"))
	if n := len(d["attempts"].([]any)); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retry-schedule", "")
	e.rcv.setAnswer(func(_ http.ResponseWriter, path string, n int) int {
		if path == "/moved" {
			return http.StatusFound
		}
		return http.StatusOK
	})
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/moved") + `","event_type":"sms_sent"}`)
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	d := e.srv.waitDelivery(t, sub, status("failed"))
	a := d["attempts"].([]any)[0].(map[string]any)
	if a["status_code"] != float64(302) || a["error_class"] != "redirect" {
		t.Errorf("redirect attempt: %v", a)
	}
	if _, _, n := e.rcv.tally(nil, nil); n != 1 {
		t.Errorf("receiver got %d requests, want only the first", n)
	}
}

func TestGoneDisablesSubscription(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retry-schedule", "50ms")
	e.rcv.setAnswer(func(http.ResponseWriter, string, int) int { return http.StatusGone })
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/gone") + `","event_type":"sms_sent"}`)
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	d := e.srv.waitDelivery(t, sub, status("failed"))
	if n := len(d["attempts"].([]any)); n != 1 {
		t.Errorf("410 was retried: %d attempts", n)
	}
	s := e.srv.do("GET", "/api/v1/webhook_subscriptions/"+sub, "").json(t)
	if s["status"] != "disabled" || !strings.Contains(s["disabled_reason"].(string), "410") {
		t.Fatalf("subscription after 410: %v", s)
	}
	// New events for it are recorded as skipped, and nothing is sent.
	ev := e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	rows := e.srv.do("GET", "/api/v1/deliveries?event_id="+ev, "").json(t)["data"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["status"] != "skipped" {
		t.Errorf("delivery to a disabled subscription: %v", rows)
	}
	// Re-enabling brings it back.
	if r := e.srv.do("POST", "/api/v1/webhook_subscriptions/"+sub+"/enable", ""); r.Status != 200 || r.json(t)["status"] != "active" {
		t.Errorf("enable: %d %s", r.Status, r.Body)
	}
	if n := len(e.rcv.at("/gone")); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retry-schedule", "50ms,50ms")
	e.rcv.setAnswer(func(w http.ResponseWriter, _ string, n int) int {
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/busy") + `","event_type":"sms_sent"}`)
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	got := e.rcv.waitFor("/busy", 2, 10*time.Second)
	if gap := got[1].At.Sub(got[0].At); gap < 1900*time.Millisecond {
		t.Errorf("retry came %s after a 503 with Retry-After: 2", gap)
	}
	e.srv.waitDelivery(t, sub, status("succeeded"))
}

func TestHangingEndpointDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	hang := newReceiver(t)
	stop := make(chan struct{})
	hang.setAnswer(func(http.ResponseWriter, string, int) int { <-stop; return http.StatusOK })
	t.Cleanup(func() { close(stop) })
	e := setupContract(t, "--retry-schedule", "1s", "--delivery-timeout", "5s")
	// Both receivers use httptest's certificate; one CA file covers both.
	hangSub, _ := e.srv.subscribe(`{"webhook_url":"` + hang.url("/hang") + `","event_type":"sms_sent"}`)
	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/healthy") + `","event_type":"sms_sent"}`)

	const events = 200
	sent := map[string]time.Time{}
	for range events {
		start := time.Now()
		sent[e.srv.ingest(`{"event_type":"sms_sent","data":`+smsRecord+`}`)] = start
	}
	got := e.rcv.waitFor("/healthy", events, 20*time.Second)
	var worst time.Duration
	for _, d := range got {
		worst = max(worst, d.At.Sub(sent[d.Header.Get("X-revdesk-Event-Id")]))
	}
	t.Logf("worst ingest-to-receipt latency of the healthy endpoint while the other hangs: %s", worst)
	if worst > 2*time.Second {
		t.Errorf("the healthy endpoint waited %s: it is queued behind the hanging one", worst)
	}
	if n := len(hang.at("/hang")); n == 0 {
		t.Error("the hanging endpoint was never tried")
	}
	_ = hangSub
}

func TestFailingSubscriptionIsDisabledAndReenabled(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retry-schedule", strings.TrimSuffix(strings.Repeat("100ms,", 50), ","),
		"--disable-after", "1s", "--maintenance-interval", "100ms")
	e.rcv.setAnswer(func(http.ResponseWriter, string, int) int { return http.StatusInternalServerError })
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/failing") + `","event_type":"sms_sent"}`)
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	var s map[string]any
	testutil.Eventually(t, 15*time.Second, func() (bool, string) {
		s = e.srv.do("GET", "/api/v1/webhook_subscriptions/"+sub, "").json(t)
		return s["status"] == "disabled", fmt.Sprintf("a subscription failing for over 1s is not disabled: %v", s)
	})
	if reason, _ := s["disabled_reason"].(string); !strings.Contains(reason, "failed") {
		t.Errorf("disabled without a reason: %v", s)
	}
	// Its pending delivery is skipped rather than attempted again.
	e.srv.waitDelivery(t, sub, status("skipped"))
	r := e.srv.do("POST", "/api/v1/webhook_subscriptions/"+sub+"/enable", "")
	if r.Status != 200 || r.json(t)["status"] != "active" || r.json(t)["disabled_reason"] != nil {
		t.Errorf("re-enable: %d %s", r.Status, r.Body)
	}
}

func TestManualRetryAndBulkRecovery(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retry-schedule", "")
	var healthy atomic.Bool
	e.rcv.setAnswer(func(http.ResponseWriter, string, int) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/outage") + `","event_type":"sms_sent"}`)
	for range 3 {
		e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	}
	e.rcv.waitFor("/outage", 3, 10*time.Second)
	var ids []string
	testutil.Eventually(t, 10*time.Second, func() (bool, string) {
		rows := e.srv.do("GET", "/api/v1/deliveries?status=failed&subscription_id="+sub, "").json(t)["data"].([]any)
		ids = ids[:0]
		for _, row := range rows {
			ids = append(ids, row.(map[string]any)["id"].(string))
		}
		return len(ids) == 3, fmt.Sprintf("%d failed deliveries, want 3", len(ids))
	})
	healthy.Store(true)

	// One by hand.
	if r := e.srv.do("POST", "/api/v1/deliveries/"+ids[0]+"/retry", ""); r.Status != http.StatusAccepted {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	e.rcv.waitFor("/outage", 4, 10*time.Second)
	// The rest in bulk, as after an outage.
	r := e.srv.do("POST", "/api/v1/webhook_subscriptions/"+sub+"/retry_failed", `{"since":"`+since+`"}`)
	if r.Status != http.StatusAccepted || r.json(t)["retried"] != float64(2) {
		t.Fatalf("bulk retry: %d %s", r.Status, r.Body)
	}
	e.rcv.waitFor("/outage", 6, 10*time.Second)
	for _, id := range ids {
		var d map[string]any
		testutil.Eventually(t, 10*time.Second, func() (bool, string) {
			d = e.srv.do("GET", "/api/v1/deliveries/"+id, "").json(t)
			return d["status"] == "succeeded", fmt.Sprintf("not succeeded after retry: %v", d)
		})
		if n := len(d["attempts"].([]any)); n != 2 {
			t.Errorf("%s: %d attempts, want 2", id, n)
		}
	}
}

func TestRetentionPrunesOldDeliveries(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retention", "1s", "--maintenance-interval", "200ms")
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/old") + `","event_type":"sms_sent"}`)
	ev := e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	d := e.srv.waitDelivery(t, sub, status("succeeded"))
	testutil.Eventually(t, 15*time.Second, func() (bool, string) {
		r := e.srv.do("GET", "/api/v1/deliveries/"+d["id"].(string), "")
		return r.Status == http.StatusNotFound, "delivery older than the retention still there: " + string(r.Body)
	})
	// Events go in a later transaction of the same pass than deliveries.
	testutil.Eventually(t, 15*time.Second, func() (bool, string) {
		r := e.srv.do("GET", "/api/v1/events/"+ev, "")
		return r.Status == http.StatusNotFound, fmt.Sprintf("event of a pruned delivery still there: %d", r.Status)
	})
	if r := e.srv.do("GET", "/api/v1/webhook_subscriptions/"+sub, ""); r.Status != http.StatusOK {
		t.Errorf("retention removed the subscription: %d", r.Status)
	}
}
