package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
	"github.com/revdesk/webhooks/webhook"
)

// opsSecret signs the operational events in these tests.
const opsSecret = "ops-secret-for-tests"

// selfhealArgs make a failing subscription disabled, probed and recovered
// within seconds.
var selfhealArgs = []string{"--retry-schedule", "100ms", "--disable-after", "700ms",
	"--maintenance-interval", "150ms", "--recovery-schedule", "300ms", "--failing-after", "2"}

// subscribeOps subscribes the receiver's /ops to every operational event.
func subscribeOps(e contractEnv) {
	for _, typ := range []string{"subscription_disabled", "subscription_enabled", "subscription_failing",
		"subscription_recovered", "delivery_exhausted"} {
		e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/ops") + `","event_type":"` + typ + `","signing_secret":"` + opsSecret + `"}`)
	}
}

// opsEvents verifies (with the Go SDK) and parses what reached /ops.
func opsEvents(t *testing.T, rcv *receiver) []*webhook.Event {
	t.Helper()
	var out []*webhook.Event
	for _, d := range rcv.at("/ops") {
		typ := d.Header.Get(webhook.HeaderEventType)
		if err := webhook.Verify(d.Body, d.Header.Get(webhook.HeaderSignature256), opsSecret); err != nil {
			t.Fatalf("operational %s delivery does not verify: %v", typ, err)
		}
		ev, err := webhook.Parse(typ, d.Body)
		if err != nil {
			t.Fatalf("operational %s: %v", typ, err)
		}
		out = append(out, ev)
	}
	return out
}

// waitOps waits until /ops got an event of each type in want about sub.
func waitOps(t *testing.T, rcv *receiver, sub string, want ...string) []*webhook.Event {
	t.Helper()
	var got []*webhook.Event
	testutil.Eventually(t, 20*time.Second, func() (bool, string) {
		got = opsEvents(t, rcv)
		var seen []string
		for _, ev := range got {
			id := ""
			if ev.Type == webhook.EventDeliveryExhausted {
				x, _ := ev.DeliveryExhausted()
				id = x.SubscriptionID
			} else {
				h, _ := ev.SubscriptionHealth()
				id = h.SubscriptionID
			}
			if id == sub {
				seen = append(seen, ev.Type)
			}
		}
		for _, w := range want {
			if !slices.Contains(seen, w) {
				return false, fmt.Sprintf("operational events about %s: %v", sub, seen)
			}
		}
		return true, ""
	})
	return got
}

// downReceiver answers /down with 503 while down, and records which of
// its requests it answered 200.
type downReceiver struct {
	*receiver
	down atomic.Bool
	mu   sync.Mutex
	ok   map[int]bool // n-th request to /down (1-based) answered 200
}

func newDownReceiver(rcv *receiver) *downReceiver {
	d := &downReceiver{receiver: rcv, ok: map[int]bool{}}
	d.down.Store(true)
	rcv.setAnswer(func(_ http.ResponseWriter, path string, n int) int {
		if path != "/down" {
			return http.StatusOK
		}
		if d.down.Load() {
			return http.StatusServiceUnavailable
		}
		d.mu.Lock()
		d.ok[n] = true
		d.mu.Unlock()
		return http.StatusOK
	})
	return d
}

// successes are the event ids /down answered 200, in arrival order.
func (d *downReceiver) successes() []string {
	all := d.at("/down")
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	for i, r := range all {
		if d.ok[i+1] {
			ids = append(ids, r.Header.Get(webhook.HeaderEventID))
		}
	}
	return ids
}

// A receiver down long enough to be disabled: what was sent meanwhile
// fails or is skipped; once it is back the subscription re-enables itself
// and every event of the outage arrives exactly once per event id, in order.
// The operator hears of it all through signed operational events.
func TestSelfHealing(t *testing.T) {
	t.Parallel()
	e := setupContract(t, selfhealArgs...)
	rcv := newDownReceiver(e.rcv)
	subscribeOps(e)
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/down") + `","event_type":"sms_sent"}`)
	var events []string
	for range 3 {
		events = append(events, e.srv.ingest(`{"event_type":"sms_sent","data":`+smsRecord+`}`))
	}
	waitOps(t, e.rcv, sub, webhook.EventSubscriptionFailing, webhook.EventDeliveryExhausted,
		webhook.EventSubscriptionDisabled)
	for range 3 { // skipped while disabled
		events = append(events, e.srv.ingest(`{"event_type":"sms_sent","data":`+smsRecord+`}`))
	}
	s := e.srv.do("GET", "/api/v1/webhook_subscriptions/"+sub, "").json(t)
	if s["status"] != "disabled" || s["disabled_by"] != "failing" || s["next_probe_at"] == nil {
		t.Fatalf("subscription while down: %v", s)
	}
	rcv.down.Store(false)
	got := waitOps(t, e.rcv, sub, webhook.EventSubscriptionEnabled, webhook.EventSubscriptionRecovered)
	for _, ev := range got {
		if ev.Type == webhook.EventSubscriptionEnabled {
			if h, _ := ev.SubscriptionHealth(); h.By != "automatic_recovery" {
				t.Errorf("enabled by %q, want automatic_recovery", h.By)
			}
		}
	}
	testutil.Eventually(t, 20*time.Second, func() (bool, string) {
		n := len(rcv.successes())
		return n >= len(events), fmt.Sprintf("%d of %d events arrived after the outage", n, len(events))
	})
	if got := rcv.successes(); !slices.Equal(got, events) {
		t.Errorf("after the outage the receiver got events\n%v\nwant each once, in order:\n%v", got, events)
	}
	s = e.srv.do("GET", "/api/v1/webhook_subscriptions/"+sub, "").json(t)
	if s["status"] != "active" || s["consecutive_failures"] != float64(0) {
		t.Errorf("subscription after recovery: %v", s)
	}
}
