package delivery

import (
	"slices"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

func TestLaneKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"https://Hooks.Example.com/a?b=c", "https://hooks.example.com:443"},
		{"https://hooks.example.com:443/other", "https://hooks.example.com:443"},
		{"http://hooks.example.com/x", "http://hooks.example.com:80"},
		{"https://hooks.example.com:8443/x", "https://hooks.example.com:8443"},
		{"http://[::1]:9000/x", "http://::1:9000"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			d := New(nil, nil, Config{Owner: "me"})
			if got := d.target(tt.url).lane; got != tt.want {
				t.Errorf("lane of %q = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

func TestPerEndpointLimitHalvesOnFailureAndGrowsBack(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{PerEndpoint: 8, MaxInFlight: 64, RetrySchedule: []time.Duration{time.Hour}})
	const url = "https://slow.example.com/hook"
	f.subscribe(t, url)
	leaseUntil := time.Now().Add(time.Hour)
	f.d.Enqueue(f.ingest(t, 20, leaseUntil), leaseUntil)

	var calls []*call
	for range 8 {
		calls = append(calls, f.doer.next(t))
	}
	f.doer.none(t)
	if in, limit, q := f.d.laneState(url); in != 8 || limit != 8 || q != 12 {
		t.Fatalf("lane in flight %d, limit %d, queued %d; want 8, 8, 12", in, limit, q)
	}

	// Each failure halves the limit: 4, 2, 1, 1, … so nothing new starts
	// until the in-flight requests have drained below one.
	wantLimits := []int{4, 2, 1, 1, 1, 1, 1}
	for i, c := range calls[:7] {
		c.reply <- 500
		if got := f.d.nextCompletion(t); got.Status != store.DeliveryPending {
			t.Fatalf("completion %+v, want pending", got)
		}
		in, limit, _ := f.d.laneState(url)
		t.Logf("after failure %d: in flight %d, limit %d", i+1, in, limit)
		if limit != wantLimits[i] || in != 7-i {
			t.Fatalf("after failure %d: in flight %d, limit %d; want %d, %d", i+1, in, limit, 7-i, wantLimits[i])
		}
	}
	f.doer.none(t)
	calls[7].reply <- 500
	f.d.nextCompletion(t)
	c := f.doer.next(t) // the lane is idle: exactly one request goes out
	f.doer.none(t)

	// Successes grow the limit back by one each.
	c.reply <- 200
	if got := f.d.nextCompletion(t); got.Status != store.DeliverySucceeded {
		t.Fatalf("completion %+v, want succeeded", got)
	}
	a, b := f.doer.next(t), f.doer.next(t)
	f.doer.none(t)
	if in, limit, _ := f.d.laneState(url); in != 2 || limit != 2 {
		t.Fatalf("after a success: in flight %d, limit %d; want 2, 2", in, limit)
	}
	// Each success adds one slot, and the freed slot is reused too.
	for i, c := range []*call{a, b} {
		c.reply <- 200
		f.d.nextCompletion(t)
		if in, limit, _ := f.d.laneState(url); in != 3+i || limit != 3+i {
			t.Errorf("after success %d: in flight %d, limit %d; want %d, %d", i+2, in, limit, 3+i, 3+i)
		}
	}
	// 20 - 8 - 1 - 2 deliveries remain, some of them in flight.
	for range 9 {
		f.doer.next(t).reply <- 200
		f.d.nextCompletion(t)
	}
	f.doer.none(t)
}

func TestLanesTakeTurnsUnderGlobalLimit(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{PerEndpoint: 4, MaxInFlight: 2})
	const urlA, urlB = "https://a.example.com/hook", "https://b.example.com/hook"
	f.subscribe(t, urlA)
	leaseUntil := time.Now().Add(time.Hour)
	jobsA := f.ingest(t, 4, leaseUntil)
	f.subscribe(t, urlB)
	// From here each event goes to both subscriptions; keep B's jobs only.
	var jobsB []store.Job
	for _, j := range f.ingest(t, 4, leaseUntil) {
		if j.Subscription.WebhookURL == urlB {
			jobsB = append(jobsB, j)
		} else {
			jobsA = append(jobsA, j)
		}
	}
	// A's whole backlog is enqueued before B's: B must still get every
	// other slot rather than wait behind A.
	f.d.Enqueue(slices.Concat(jobsA, jobsB), leaseUntil)

	var order []string
	for range (len(jobsA) + len(jobsB)) / 2 {
		first, second := f.doer.next(t), f.doer.next(t)
		f.doer.none(t) // never more than MaxInFlight
		order = append(order, first.req.URL.Host[:1], second.req.URL.Host[:1])
		first.reply <- 200
		second.reply <- 200
		f.d.nextCompletion(t)
		f.d.nextCompletion(t)
	}
	t.Logf("send order %v", order)
	// While both have work, every pair of slots goes one to each lane.
	for i := 0; i < 2*len(jobsB); i += 2 {
		if order[i] == order[i+1] {
			t.Fatalf("slots %d and %d both went to %s while the other lane waited: %v", i, i+1, order[i], order)
		}
	}
}
