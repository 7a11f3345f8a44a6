package e2e

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

// orderSink is a receiver for ordered delivery: it records, per resource
// (the id in the flat SMS body), every request in arrival order, counts
// requests of one resource that overlap, and fails the first attempt of a
// third of the deliveries (chosen by delivery id, so a retry succeeds).
type orderSink struct {
	*httptest.Server
	mu        sync.Mutex
	inFlight  map[string]int
	arrivals  map[string][]string // resource → event ids, every attempt
	succeeded map[string]bool     // event ids
	tried     map[string]bool     // delivery ids
	overlaps  int
	failed    int
}

func newOrderSink(t *testing.T) *orderSink {
	s := &orderSink{inFlight: map[string]int{}, arrivals: map[string][]string{}, succeeded: map[string]bool{},
		tried: map[string]bool{}}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *orderSink) caFile(t *testing.T) string { return (&receiver{Server: s.Server}).caFile(t) }

func failsFirst(deliveryID string) bool {
	h := fnv.New32a()
	h.Write([]byte(deliveryID))
	return h.Sum32()%3 == 0
}

func (s *orderSink) serve(w http.ResponseWriter, r *http.Request) {
	var body struct{ ID string }
	_ = json.NewDecoder(r.Body).Decode(&body)
	event, dlv := r.Header.Get("X-revdesk-Event-Id"), r.Header.Get("X-revdesk-Delivery-Id")
	s.mu.Lock()
	s.inFlight[body.ID]++
	if s.inFlight[body.ID] > 1 {
		s.overlaps++
	}
	s.arrivals[body.ID] = append(s.arrivals[body.ID], event)
	first := !s.tried[dlv]
	s.tried[dlv] = true
	s.mu.Unlock()
	// A little time in flight, so two sends of one resource would overlap.
	time.Sleep(2 * time.Millisecond)
	status := http.StatusOK
	if first && failsFirst(dlv) {
		status = http.StatusInternalServerError
	}
	s.mu.Lock()
	s.inFlight[body.ID]--
	if status == http.StatusOK {
		s.succeeded[event] = true
	} else {
		s.failed++
	}
	s.mu.Unlock()
	w.WriteHeader(status)
}

// orderLoad sends, for each of keys resources, n events one after another
// (each once the previous was accepted), alternating sms_sent and
// sms_delivered, to the servers alive in turn; each event carries an
// Idempotency-Key, so one retried across a crash is still one event.
type orderLoad struct {
	mu       sync.Mutex
	accepted map[string][]string // resource → event ids in acceptance order
	count    atomic.Int64
}

func (l *orderLoad) run(t *testing.T, servers func() []*server, keys, n int) {
	l.accepted = map[string][]string{}
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for k := range keys {
		key := fmt.Sprintf("msg_%s_%d", strings.ReplaceAll(t.Name(), "/", "_"), k)
		wg.Go(func() {
			for i := range n {
				typ := []string{"sms_sent", "sms_delivered"}[i%2]
				data := strings.Replace(smsRecord, `"msg_uuid"`, `"`+key+`"`, 1)
				body := `{"event_type":"` + typ + `","data":` + data + `}`
				id := ""
				for deadline := time.Now().Add(60 * time.Second); id == "" && time.Now().Before(deadline); {
					list := servers()
					s := list[i%len(list)]
					req, _ := http.NewRequest("POST", s.base+"/api/v1/events", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+s.key)
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Idempotency-Key", fmt.Sprintf("%s-%d", key, i))
					resp, err := client.Do(req)
					if err != nil {
						time.Sleep(20 * time.Millisecond) // down: try again
						continue
					}
					var out struct{ ID string }
					if jsonDecode(resp, &out) == nil && resp.StatusCode == http.StatusAccepted {
						id = out.ID
					}
				}
				if id == "" {
					t.Errorf("event %d of %s never accepted", i, key)
					return
				}
				l.mu.Lock()
				l.accepted[key] = append(l.accepted[key], id)
				l.mu.Unlock()
				l.count.Add(1)
			}
		})
	}
	wg.Wait()
}

// checkOrder waits until every accepted event succeeded, then checks that
// no resource saw an event before an earlier one (every attempt counts) or
// two requests at once.
func (s *orderSink) checkOrder(t *testing.T, accepted map[string][]string, timeout time.Duration) {
	t.Helper()
	testutil.Eventually(t, timeout, func() (bool, string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		missing := 0
		for _, ids := range accepted {
			for _, id := range ids {
				if !s.succeeded[id] {
					missing++
				}
			}
		}
		return missing == 0, fmt.Sprintf("%d accepted events not delivered yet", missing)
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for key, ids := range accepted {
		last := -1
		for _, ev := range s.arrivals[key] {
			i := slices.Index(ids, ev)
			if i < 0 {
				t.Errorf("%s: an event that was never accepted arrived: %s", key, ev)
				continue
			}
			if i < last {
				t.Errorf("%s: event #%d arrived after #%d (arrivals %v, accepted %v)", key, i, last, s.arrivals[key], ids)
				break
			}
			last = i
		}
		total += len(ids)
	}
	if s.overlaps > 0 {
		t.Errorf("%d requests overlapped another of the same resource", s.overlaps)
	}
	// A third of first attempts fail: the test must have exercised retries.
	if s.failed < total/6 {
		t.Errorf("only %d of %d first attempts failed: the failure path was not exercised", s.failed, total)
	}
	t.Logf("%d events of %d resources in order; %d first attempts failed and were retried", total, len(accepted), s.failed)
}

// subscribeOrdered makes ordered sms_sent and sms_delivered subscriptions to
// one URL: a message's events of both types share an order.
func subscribeOrdered(t *testing.T, srv *server, url string) {
	t.Helper()
	for _, typ := range []string{"sms_sent", "sms_delivered"} {
		srv.subscribe(`{"webhook_url":"` + url + `","event_type":"` + typ + `","ordered":true}`)
	}
}

const orderedRetries = "100ms,200ms,300ms,500ms,1s,1s,1s,1s,1s,1s"

func TestOrderedDeliveryWithFailures(t *testing.T) {
	t.Parallel()
	sink := newOrderSink(t)
	srv := startServer(t, "rdk_ordered_key", sqliteDB(t), sink.caFile(t), "--allow-private-networks",
		"--retry-schedule", orderedRetries)
	subscribeOrdered(t, srv, sink.URL+"/ordered")
	var load orderLoad
	load.run(t, func() []*server { return []*server{srv} }, 20, 10)
	sink.checkOrder(t, load.accepted, 60*time.Second)
}

func TestOrderedDeliveryAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the server; not run with -short")
	}
	t.Parallel()
	sink := newOrderSink(t)
	srv := startServer(t, "rdk_ordered_key", sqliteDB(t), sink.caFile(t), "--allow-private-networks",
		"--retry-schedule", orderedRetries)
	subscribeOrdered(t, srv, sink.URL+"/ordered")
	var load orderLoad
	done := make(chan struct{})
	go func() { defer close(done); load.run(t, func() []*server { return []*server{srv} }, 20, 12) }()
	testutil.Eventually(t, ingestTimeout, func() (bool, string) {
		n := load.count.Load()
		return n >= 120, fmt.Sprintf("%d of 120 events accepted before the kill", n)
	})
	srv.kill()
	srv.start()
	<-done
	sink.checkOrder(t, load.accepted, 90*time.Second)
}

func TestOrderedDeliveryPostgresTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two servers; not run with -short")
	}
	t.Parallel()
	dsn := postgresDSN(t)
	sink := newOrderSink(t)
	ca := sink.caFile(t)
	args := []string{"--allow-private-networks", "--retry-schedule", orderedRetries, "--delivery-timeout", "2s", "--lease", "6s"}
	servers := []*server{startServer(t, "rdk_ordered_pg_key", dsn, ca, args...), startServer(t, "rdk_ordered_pg_key", dsn, ca, args...)}
	subscribeOrdered(t, servers[0], sink.URL+"/ordered")
	// Consecutive events of a resource go to alternate processes: each
	// ingest must see the other's pending delivery of the key. Midway one
	// process is killed: the heads it held are taken over by the other
	// once its liveness record lapses, still one at a time per resource.
	var load orderLoad
	var mu sync.Mutex
	alive := servers
	done := make(chan struct{})
	go func() {
		defer close(done)
		load.run(t, func() []*server { mu.Lock(); defer mu.Unlock(); return alive }, 20, 12)
	}()
	testutil.Eventually(t, ingestTimeout, func() (bool, string) {
		n := load.count.Load()
		return n >= 120, fmt.Sprintf("%d of 120 events accepted before the kill", n)
	})
	servers[1].kill()
	mu.Lock()
	alive = servers[:1]
	mu.Unlock()
	<-done
	sink.checkOrder(t, load.accepted, 90*time.Second)
}

// sqliteDB is a fresh SQLite database of the test's own.
func sqliteDB(t *testing.T) string {
	return "sqlite:" + t.TempDir() + "/revdesk.db"
}

func TestSubscriptionPatch(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	sub := func(body string) string { id, _ := e.srv.subscribe(body); return id }
	a := sub(`{"webhook_url":"` + e.rcv.url("/a") + `","event_type":"sms_sent","signing_secret":""}`)
	b := sub(`{"webhook_url":"` + e.rcv.url("/b") + `","event_type":"sms_sent"}`)
	patch := func(id, body string) response { return e.srv.do("PATCH", "/api/v1/webhook_subscriptions/"+id, body) }
	sms := `{"event_type":"sms_sent","data":` + smsRecord + `}`

	// A new URL takes the next deliveries.
	if r := patch(a, `{"webhook_url":"`+e.rcv.url("/a2")+`"}`); r.Status != http.StatusOK || r.json(t)["webhook_url"] != e.rcv.url("/a2") {
		t.Fatalf("PATCH webhook_url: %d %s", r.Status, r.Body)
	}
	e.srv.ingest(sms)
	e.rcv.waitFor("/a2", 1, 30*time.Second)
	e.rcv.waitFor("/b", 1, 30*time.Second)

	// A scope: events outside it are not routed to the subscription.
	if r := patch(a, `{"workflow_id":"wf_patch"}`); r.Status != http.StatusOK || r.json(t)["workflow_id"] != "wf_patch" {
		t.Fatalf("PATCH workflow_id: %d %s", r.Status, r.Body)
	}
	outside := e.srv.ingest(sms)
	inside := e.srv.ingest(`{"event_type":"sms_sent","workflow_id":"wf_patch","data":` + smsRecord + `}`)
	routed := func(event string) int {
		r := e.srv.do("GET", "/api/v1/deliveries?subscription_id="+a+"&event_id="+event, "")
		return len(r.json(t)["data"].([]any))
	}
	if routed(outside) != 0 || routed(inside) != 1 {
		t.Errorf("after scoping to wf_patch: %d deliveries of the unscoped event, %d of the scoped one; want 0 and 1",
			routed(outside), routed(inside))
	}
	if r := patch(a, `{"workflow_id":null}`); r.Status != http.StatusOK || r.json(t)["workflow_id"] != nil {
		t.Errorf("PATCH workflow_id null: %d %s", r.Status, r.Body)
	}

	// rate_limit and ordered, set and cleared.
	if v := patch(a, `{"rate_limit":12.5,"ordered":true}`).json(t); v["rate_limit"] != 12.5 || v["ordered"] != true {
		t.Errorf("PATCH rate_limit, ordered: %v", v)
	}
	if v := e.srv.do("GET", "/api/v1/webhook_subscriptions/"+a, "").json(t); v["rate_limit"] != 12.5 || v["ordered"] != true {
		t.Errorf("GET after PATCH: %v", v)
	}
	if v := patch(a, `{"rate_limit":null}`).json(t); v["rate_limit"] != nil || v["ordered"] != true {
		t.Errorf("PATCH rate_limit null: %v", v)
	}

	_, otherKey := workspaceCreate(t, e.db, "patch-other")
	tests := []struct {
		name, id, key, body string
		status              int
		code                string
	}{
		{"unknown field", a, "", `{"webhook_ur":"https://example.com"}`, 400, "invalid_json"},
		{"not JSON", a, "", `{"rate_limit":}`, 400, "invalid_json"},
		{"bad url", a, "", `{"webhook_url":"ftp://example.com/x"}`, 400, "invalid_webhook_url"},
		{"plain http", a, "", `{"webhook_url":"http://example.com/x"}`, 400, "invalid_webhook_url"},
		{"empty url", a, "", `{"webhook_url":""}`, 400, "invalid_field"},
		{"zero rate", a, "", `{"rate_limit":0}`, 400, "invalid_field"},
		{"negative rate", a, "", `{"rate_limit":-3}`, 400, "invalid_field"},
		{"rate as text", a, "", `{"rate_limit":"5"}`, 400, "invalid_json"},
		{"ordered null", a, "", `{"ordered":null}`, 400, "invalid_field"},
		{"standard webhooks without a secret", a, "", `{"standard_webhooks":true}`, 400, "invalid_field"},
		{"identical to another active one", a, "", `{"webhook_url":"` + e.rcv.url("/b") + `"}`, 409, "conflict"},
		{"another workspace's subscription", a, otherKey, `{"rate_limit":1}`, 404, "not_found"},
		{"unknown id", "whk_06fhm0m2r3pbckzd3dknnj9cxcs7c", "", `{}`, 404, "not_found"},
	}
	for _, tc := range tests {
		key := tc.key
		if key == "" {
			key = e.srv.key
		}
		r := e.srv.call("PATCH", "/api/v1/webhook_subscriptions/"+tc.id, key, tc.body)
		if r.Status != tc.status || r.errorCode(t) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.Status, r.Body, tc.status, tc.code)
		}
		if tc.status == 409 {
			if got := r.json(t)["error"].(map[string]any)["existing_id"]; got != b {
				t.Errorf("409 names %v, want %s", got, b)
			}
		}
	}
	// None of the refused changes was applied.
	if v := e.srv.do("GET", "/api/v1/webhook_subscriptions/"+a, "").json(t); v["webhook_url"] != e.rcv.url("/a2") || v["standard_webhooks"] != false {
		t.Errorf("after refused changes: %v", v)
	}
}

// TestRateLimitAtReceiver: a subscription limited to 20 deliveries/s is
// sent at that pace while another subscription to the same receiver host
// is not held back by it.
func TestRateLimitAtReceiver(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/limited") + `","event_type":"sms_sent","rate_limit":20}`)
	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/free") + `","event_type":"sms_sent"}`)
	// One first, so connections are up: a handshake delays the first
	// arrivals and would bunch the ones behind it.
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	e.rcv.waitFor("/limited", 1, 30*time.Second)
	e.rcv.waitFor("/free", 1, 30*time.Second)
	const n = 60
	e.srv.do("POST", "/api/v1/events", "["+strings.TrimSuffix(strings.Repeat(`{"event_type":"sms_sent","data":`+smsRecord+`},`, n), ",")+"]")
	limited := e.rcv.waitFor("/limited", n+1, 60*time.Second)[1:]
	free := e.rcv.at("/free")[1:]
	checkPace(t, limited, 20)
	if len(free) != n || !free[n-1].At.Before(limited[n/2].At) {
		t.Errorf("the unlimited subscription got %d of %d by the time the limited one was half done", len(free), n)
	}
}

// checkPace checks arrivals against a rate limit: overall and in every
// one-second window, at most 10 % over; and overall not far under it.
func checkPace(t *testing.T, got []delivery, perSecond float64) {
	t.Helper()
	span := got[len(got)-1].At.Sub(got[0].At).Seconds()
	rate := float64(len(got)-1) / span
	t.Logf("%d deliveries in %.2fs: %.1f/s at a limit of %.0f/s", len(got), span, rate, perSecond)
	if rate > perSecond*1.1 || rate < perSecond*0.7 {
		t.Errorf("delivered at %.1f/s, want %.0f/s (at most 10 %% over)", rate, perSecond)
	}
	for i := range got {
		j := i
		for j < len(got) && got[j].At.Sub(got[i].At) < time.Second {
			j++
		}
		if float64(j-i) > perSecond*1.1+1 {
			t.Errorf("%d deliveries within one second from #%d, limit %.0f/s", j-i, i, perSecond)
			break
		}
	}
}

// TestRateLimitPostgresTwoProcesses: with two processes sending, the limit
// holds for the service: each takes half of it.
func TestRateLimitPostgresTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two servers; not run with -short")
	}
	t.Parallel()
	dsn := postgresDSN(t)
	rcv := newReceiver(t)
	ca := rcv.caFile(t)
	// A lease long enough that each process holds its half of the backlog
	// until its slots come (see the README on rate limits).
	args := []string{"--allow-private-networks", "--delivery-timeout", "2s", "--lease", "30s"}
	servers := []*server{startServer(t, "rdk_rate_pg_key", dsn, ca, args...), startServer(t, "rdk_rate_pg_key", dsn, ca, args...)}
	servers[0].subscribe(`{"webhook_url":"` + rcv.url("/limited") + `","event_type":"sms_sent","rate_limit":20}`)
	// Each process learns that there are two within its share interval.
	for i, s := range servers {
		testutil.Eventually(t, 10*time.Second, func() (bool, string) {
			m := string(s.call("GET", "/metrics", "", "").Body)
			return strings.Contains(m, "revdesk_rate_limit_share 2"), fmt.Sprintf("server %d: revdesk_rate_limit_share is not 2 yet", i)
		})
	}
	// One through each process first, so connections are up.
	for i, s := range servers {
		s.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
		rcv.waitFor("/limited", i+1, 30*time.Second)
	}
	const n = 80
	batch := "[" + strings.TrimSuffix(strings.Repeat(`{"event_type":"sms_sent","data":`+smsRecord+`},`, n/2), ",") + "]"
	for _, s := range servers {
		if r := s.do("POST", "/api/v1/events", batch); r.Status != http.StatusAccepted {
			t.Fatalf("ingest: %d %s", r.Status, r.Body)
		}
	}
	checkPace(t, rcv.waitFor("/limited", n+2, 60*time.Second)[2:], 20)
}
