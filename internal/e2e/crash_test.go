package e2e

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

// TestKilledAfterAcceptStillDelivers kills the server with SIGKILL right
// after ingest answers 202, while the receiver is holding the first attempt
// open, restarts it on the same file, and expects the delivery to arrive.
func TestKilledAfterAcceptStillDelivers(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	var (
		crashed atomic.Bool
		release = make(chan struct{})
	)
	e.rcv.setAnswer(func(http.ResponseWriter, string, int) int {
		if !crashed.Load() {
			<-release // an attempt begun before the crash never answers
		}
		return http.StatusOK
	})
	t.Cleanup(func() { close(release) })

	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/crash") + `","event_type":"sms_delivered"}`)
	id := e.srv.ingest(`{"event_type":"sms_delivered","data":` + smsRecord + `}`)
	e.srv.kill()
	crashed.Store(true)
	t.Logf("killed after 202 for %s", id)

	before := len(e.rcv.at("/crash")) // 0, or 1 held open when the crash came
	t.Logf("attempts begun before the crash: %d", before)
	e.srv.start()
	got := e.rcv.waitFor("/crash", before+1, 20*time.Second)
	last := got[len(got)-1]
	if last.Header.Get("X-revdesk-Event-Id") != id {
		t.Errorf("delivered event %s, want %s", last.Header.Get("X-revdesk-Event-Id"), id)
	}
	if last.Header.Get("X-revdesk-Delivery-Id") != got[0].Header.Get("X-revdesk-Delivery-Id") {
		t.Errorf("redelivery has another delivery id: %s vs %s", got[0].Header.Get("X-revdesk-Delivery-Id"), last.Header.Get("X-revdesk-Delivery-Id"))
	}
	// The log records the success after the restart.
	testutil.Eventually(t, 10*time.Second, func() (bool, string) {
		r := e.srv.do("GET", "/api/v1/deliveries?event_id="+id, "")
		rows := r.json(t)["data"].([]any)
		return len(rows) == 1 && rows[0].(map[string]any)["status"] == "succeeded", "delivery log: " + string(r.Body)
	})
}

// TestGracefulShutdownFinishesInFlight stops the server with SIGTERM while
// attempts are in flight and more are queued: the ones in flight finish and
// are recorded, the queued ones are handed back and sent after a restart,
// and nothing is sent twice.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--max-per-endpoint", "2")
	started := make(chan struct{}, 100)
	e.rcv.setAnswer(func(http.ResponseWriter, string, int) int {
		started <- struct{}{}
		time.Sleep(300 * time.Millisecond) // a slow receiver: attempts are still in flight at the stop
		return http.StatusOK
	})
	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/slow") + `","event_type":"sms_sent"}`)
	const events = 10
	for range events {
		e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	}
	<-started
	e.srv.stop() // SIGTERM, waits for the exit
	sentBefore := len(e.rcv.at("/slow"))
	if sentBefore == 0 || sentBefore == events {
		t.Fatalf("%d of %d sent before the stop; the test needs some in flight and some queued", sentBefore, events)
	}
	succeeded := len(e.srv.reopen(t).do("GET", "/api/v1/deliveries?status=succeeded", "").json(t)["data"].([]any))
	if succeeded < sentBefore {
		t.Errorf("%d attempts finished before the stop but only %d recorded as succeeded", sentBefore, succeeded)
	}
	e.rcv.waitFor("/slow", events, 20*time.Second)
	// Once the log shows every delivery succeeded, any resend has already
	// reached the receiver: success is recorded after the receiver answered,
	// and a succeeded delivery is never sent again.
	testutil.Eventually(t, 20*time.Second, func() (bool, string) {
		n := len(e.srv.do("GET", "/api/v1/deliveries?status=succeeded", "").json(t)["data"].([]any))
		return n == events, fmt.Sprintf("%d of %d deliveries succeeded", n, events)
	})
	if _, dups, total := e.rcv.tally([]string{"/slow"}, nil); dups != 0 || total != events {
		t.Errorf("%d requests for %d events (%d duplicates): a graceful stop must not resend", total, events, dups)
	}
}

// reopen starts the stopped server again on the same database.
func (s *server) reopen(t *testing.T) *server {
	t.Helper()
	s.start()
	return s
}

// TestGuardRefusesAtConnectionTime subscribes a loopback receiver while
// private networks are allowed, then restarts the server with the default
// guard: the attempt is refused when dialling, recorded with its class, and
// the receiver gets nothing.
func TestGuardRefusesAtConnectionTime(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/private") + `","event_type":"sms_sent"}`)
	e.srv.stop()
	e.srv.args = nil // the default: loopback forbidden
	e.srv.start()
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	d := e.srv.waitDelivery(t, sub, status("failed"))
	a := d["attempts"].([]any)
	if len(a) != 1 || a[0].(map[string]any)["error_class"] != "forbidden_address" {
		t.Errorf("attempts: %v", a)
	}
	if n := len(e.rcv.at("/private")); n != 0 {
		t.Errorf("the receiver got %d requests", n)
	}
}
