package e2e

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

// holdingReceiver is a receiver whose requests wait, unanswered, until
// release is called: deliveries stay in flight at their sender.
func holdingReceiver(t *testing.T) (rcv *receiver, release func()) {
	rcv = newReceiver(t)
	held := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	t.Cleanup(release) // before the receiver's Close, which waits for its handlers
	rcv.mu.Lock()
	rcv.answer = func(http.ResponseWriter, string, int) int {
		<-held
		return http.StatusOK
	}
	rcv.mu.Unlock()
	return rcv, release
}

// receivedSince returns, per event id, when a request for it to path
// first arrived at or after since.
func (r *receiver) receivedSince(path string, since time.Time) map[string]time.Time {
	first := map[string]time.Time{}
	for _, d := range r.at(path) {
		id := d.Header.Get("X-revdesk-Event-Id")
		if d.At.Before(since) {
			continue
		}
		if at, ok := first[id]; !ok || d.At.Before(at) {
			first[id] = d.At
		}
	}
	return first
}

// TestPostgresTakeover kills (SIGKILL) one of two processes on one database
// while it holds deliveries, some in flight (the receiver does not answer
// them) and the rest queued behind them. The other process must send them
// all within seconds, long before their leases (50 s by default) end.
func TestPostgresTakeover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two servers and kills one; not run with -short")
	}
	t.Parallel()
	dsn := postgresDSN(t)
	rcv, release := holdingReceiver(t)
	ca := rcv.caFile(t)
	// Default delivery timeout and lease: the takeover must not come from
	// leases running out.
	victim := startServer(t, "rdk_takeover_key", dsn, ca, "--allow-private-networks")
	other := startServer(t, "rdk_takeover_key", dsn, ca, "--allow-private-networks")
	victim.subscribe(`{"webhook_url":"` + rcv.url("/t") + `","event_type":"sms_sent"}`)

	// Ingested through the victim, the deliveries are leased to it at once.
	const events = 40
	acked := map[string]bool{}
	for range events {
		acked[victim.ingest(`{"event_type":"sms_sent","data":`+smsRecord+`}`)] = true
	}
	rcv.waitFor("/t", 1, 10*time.Second) // the victim has requests in flight
	victim.kill()
	killed := time.Now()
	release() // from now on every request is answered at once

	var took time.Duration
	testutil.Eventually(t, 30*time.Second, func() (bool, string) {
		got := rcv.receivedSince("/t", killed)
		missing := 0
		for id := range acked {
			at, ok := got[id]
			if !ok {
				missing++
				continue
			}
			took = max(took, at.Sub(killed))
		}
		return missing == 0, "deliveries of the killed process not sent again: " + itoa(missing) + " of " + itoa(events)
	})
	t.Logf("the other process sent all %d deliveries of the killed one %v after the kill", events, took.Round(time.Millisecond))
	// The goal is 10 s; the bound is generous for a loaded machine, and
	// still far below the 50 s a lease takes to run out.
	if took > 20*time.Second {
		t.Errorf("takeover took %v, want under 10 s (failing only past 20 s, for a loaded machine)", took)
	}
	if r := other.call("GET", "/readyz", "", ""); r.Status != http.StatusOK {
		t.Errorf("the surviving process is not ready: %d", r.Status)
	}
}
