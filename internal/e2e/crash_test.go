package e2e

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"
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
	e.rcv.mu.Lock()
	e.rcv.answer = func(http.ResponseWriter, string, int) int {
		if !crashed.Load() {
			<-release // an attempt begun before the crash never answers
		}
		return http.StatusOK
	}
	e.rcv.mu.Unlock()
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
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.srv.do("GET", "/api/v1/deliveries?event_id="+id, "")
		rows := r.json(t)["data"].([]any)
		if len(rows) == 1 && rows[0].(map[string]any)["status"] == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery not recorded as succeeded: %s", r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
