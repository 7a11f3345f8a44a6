package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
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
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			testSelfHealing(t, setupEngine(t, engine, selfhealArgs...))
		})
	}
}

// setupEngine is setupContract on the given engine: a fresh SQLite file,
// or a fresh PostgreSQL schema (skipped without REVDESK_TEST_POSTGRES).
func setupEngine(t *testing.T, engine string, args ...string) contractEnv {
	t.Helper()
	if engine == "sqlite" {
		return setupContract(t, args...)
	}
	rcv := newReceiver(t)
	db := postgresDSN(t)
	srv := startServer(t, "rdk_contract_test_key", db, rcv.caFile(t), append([]string{"--allow-private-networks"}, args...)...)
	return contractEnv{srv: srv, rcv: rcv, db: db}
}

func testSelfHealing(t *testing.T, e contractEnv) {
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

// opsAbout returns the operational events of type typ about sub.
func opsAbout(t *testing.T, rcv *receiver, typ, sub string) []*webhook.Event {
	t.Helper()
	var out []*webhook.Event
	for _, ev := range opsEvents(t, rcv) {
		if ev.Type != typ {
			continue
		}
		if h, err := ev.SubscriptionHealth(); err == nil && h.SubscriptionID == sub {
			out = append(out, ev)
		}
	}
	return out
}

// 410 Gone disables for good: no probe is planned and none is sent.
func TestGoneDoesNotRecover(t *testing.T) {
	t.Parallel()
	e := setupContract(t, selfhealArgs...)
	subscribeOps(e)
	e.rcv.setAnswer(func(_ http.ResponseWriter, path string, _ int) int {
		if path == "/gone" {
			return http.StatusGone
		}
		return http.StatusOK
	})
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/gone") + `","event_type":"sms_sent"}`)
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	waitOps(t, e.rcv, sub, webhook.EventSubscriptionDisabled)
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`) // skipped
	s := e.srv.do("GET", "/api/v1/webhook_subscriptions/"+sub, "").json(t)
	if s["status"] != "disabled" || s["disabled_by"] != "gone" || s["next_probe_at"] != nil {
		t.Fatalf("subscription after 410: %v", s)
	}
	// A recovering subscription is probed within --recovery-schedule plus
	// --maintenance-interval (450 ms here); five times that without a
	// request shows no probe is coming.
	time.Sleep(2250 * time.Millisecond)
	if n := len(e.rcv.at("/gone")); n != 1 {
		t.Errorf("a subscription disabled by 410 got %d requests, want the 1 that was refused", n)
	}
	if got := opsAbout(t, e.rcv, webhook.EventSubscriptionEnabled, sub); len(got) != 0 {
		t.Errorf("a subscription disabled by 410 was enabled again: %d events", len(got))
	}
}

// Replay of a window: by default its skipped and failed deliveries, with
// "all" the succeeded ones too; each event in order, with its original id
// and body and a fresh delivery id; progress in GET /replays/{id}.
func TestManualReplay(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			testManualReplay(t, setupEngine(t, engine, "--retry-schedule=", "--maintenance-interval", "150ms"))
		})
	}
}

func testManualReplay(t *testing.T, e contractEnv) {
	var failThird atomic.Bool
	failThird.Store(true)
	e.rcv.setAnswer(func(_ http.ResponseWriter, path string, n int) int {
		if path == "/r" && n == 3 && failThird.Load() {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/r") + `","event_type":"sms_sent"}`)
	since := time.Now().UTC().Add(-time.Second).Format(time.RFC3339Nano)
	var events []string
	for i := range 3 { // succeeded, succeeded, failed: one at a time, so the third is the one refused
		events = append(events, e.srv.ingest(`{"event_type":"sms_sent","data":`+smsRecord+`}`))
		e.rcv.waitFor("/r", i+1, 10*time.Second)
	}
	e.srv.waitDelivery(t, sub, status("succeeded")) // the log is written
	if r := e.srv.do("POST", "/api/v1/webhook_subscriptions/"+sub+"/disable", ""); r.Status != 200 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	events = append(events, e.srv.ingest(`{"event_type":"sms_sent","data":`+smsRecord+`}`)) // skipped
	replayBody := `{"since":"` + since + `"}`
	if r := e.srv.do("POST", "/api/v1/webhook_subscriptions/"+sub+"/replay", replayBody); r.Status != http.StatusConflict {
		t.Errorf("replay of a disabled subscription: %d %s, want 409", r.Status, r.Body)
	}
	if r := e.srv.do("POST", "/api/v1/webhook_subscriptions/"+sub+"/enable", ""); r.Status != 200 {
		t.Fatalf("enable: %d %s", r.Status, r.Body)
	}
	original := map[string]string{} // event id → the first delivery id that reached the receiver
	for _, d := range e.rcv.at("/r") {
		original[d.Header.Get(webhook.HeaderEventID)] = d.Header.Get(webhook.HeaderDeliveryID)
	}

	replay := func(body string, want []string) {
		t.Helper()
		before := len(e.rcv.at("/r"))
		r := e.srv.do("POST", "/api/v1/webhook_subscriptions/"+sub+"/replay", body)
		if r.Status != http.StatusAccepted {
			t.Fatalf("replay %s: %d %s", body, r.Status, r.Body)
		}
		id := r.json(t)["id"].(string)
		got := e.rcv.waitFor("/r", before+len(want), 20*time.Second)[before:]
		var gotEvents []string
		for _, d := range got {
			ev := d.Header.Get(webhook.HeaderEventID)
			gotEvents = append(gotEvents, ev)
			if dlv := d.Header.Get(webhook.HeaderDeliveryID); dlv == original[ev] {
				t.Errorf("replay of %s reused delivery id %s", ev, dlv)
			}
			if string(d.Body) != smsRecord {
				t.Errorf("replayed body %s, want the original %s", d.Body, smsRecord)
			}
		}
		if !slices.Equal(gotEvents, want) {
			t.Errorf("replay %s sent events\n%v\nwant in order\n%v", body, gotEvents, want)
		}
		testutil.Eventually(t, 10*time.Second, func() (bool, string) {
			v := e.srv.do("GET", "/api/v1/replays/"+id, "").json(t)
			counts := v["deliveries"].(map[string]any)
			return v["status"] == "finished" && counts["succeeded"] == float64(len(want)), fmt.Sprintf("replay %v", v)
		})
	}
	failThird.Store(false)
	replay(replayBody, events[2:]) // the failed one and the skipped one
	replay(`{"since":"`+since+`","all":true}`, events)
}

// The disabling and its operational event are one transaction: a process
// killed right after the disabling has both after its restart, and the
// event reaches its subscriber.
func TestKillAfterDisablingKeepsItsEvent(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			// Retries long enough that the refused operational delivery is
			// still pending when the process dies.
			testKillAfterDisabling(t, setupEngine(t, engine, "--retry-schedule", "500ms,500ms,500ms,500ms,500ms"))
		})
	}
}

func testKillAfterDisabling(t *testing.T, e contractEnv) {
	var opsDown atomic.Bool
	opsDown.Store(true)
	e.rcv.setAnswer(func(_ http.ResponseWriter, path string, _ int) int {
		switch {
		case path == "/gone":
			return http.StatusGone
		case path == "/ops" && opsDown.Load():
			return http.StatusServiceUnavailable // the event stays pending across the kill
		}
		return http.StatusOK
	})
	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/ops") + `","event_type":"subscription_disabled","signing_secret":"` + opsSecret + `"}`)
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/gone") + `","event_type":"sms_sent"}`)
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	testutil.Eventually(t, 15*time.Second, func() (bool, string) {
		s := e.srv.do("GET", "/api/v1/webhook_subscriptions/"+sub, "").json(t)
		return s["status"] == "disabled", fmt.Sprintf("subscription %v", s)
	})
	e.srv.kill()
	e.srv.start()
	opsDown.Store(false)
	waitOps(t, e.rcv, sub, webhook.EventSubscriptionDisabled)
	if got := opsAbout(t, e.rcv, webhook.EventSubscriptionDisabled, sub); len(got) == 0 {
		t.Fatal("no subscription_disabled event after the restart")
	} else if h, _ := got[0].SubscriptionHealth(); !strings.Contains(h.Reason, "410") || h.By != "automatic" {
		t.Errorf("subscription_disabled payload %+v", h)
	}
}
