package delivery

import (
	"slices"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/limiter"
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

func TestLaneFollowsItsLimiter(t *testing.T) {
	t.Parallel()
	const pause = 300 * time.Millisecond
	tests := []struct {
		name      string
		first     int // the status of the first answer; the other seven are 200
		wantLimit int // after all eight answers
		wantPause bool
	}{
		// One window is cut once: the later answers, sent before the cut,
		// neither cut again nor grow it back.
		{"5xx halves the limit", 500, 4, false},
		{"503 pauses the endpoint and restarts it from one", 503, 1, true},
		{"429 pauses the endpoint and restarts it from one", 429, 1, true},
		{"success grows it", 200, 16, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, Config{Limits: limiter.Config{Initial: 8, PauseBase: pause}, RetrySchedule: []time.Duration{time.Hour}})
			const url = "https://slow.example.com/hook"
			f.subscribe(t, url)
			leaseUntil := time.Now().Add(time.Hour)
			f.d.Enqueue(f.ingest(t, 40, leaseUntil), leaseUntil)
			var calls []*call
			for range 8 {
				calls = append(calls, f.doer.next(t))
			}
			f.doer.none(t)
			if in, limit, q := f.d.laneState(url); in != 8 || limit != 8 || q != 32 {
				t.Fatalf("lane in flight %d, limit %d, queued %d; want 8, 8, 32", in, limit, q)
			}
			answered := time.Now()
			calls[0].reply <- tt.first
			f.d.nextCompletion(t)
			for _, c := range calls[1:] {
				c.reply <- 200
				f.d.nextCompletion(t)
			}
			if !tt.wantPause {
				if _, limit, _ := f.d.laneState(url); limit != tt.wantLimit {
					t.Fatalf("limit %d, want %d", limit, tt.wantLimit)
				}
				for range tt.wantLimit {
					f.doer.next(t)
				}
				f.doer.none(t)
				return
			}
			// Paused: nothing starts before the pause ends (none waits
			// 100 ms, well within the 300 ms pause, unless the machine
			// stalled, which the elapsed check below tells apart).
			f.doer.none(t)
			if time.Since(answered) < pause {
				if in, _, _ := f.d.laneState(url); in != 0 {
					t.Fatalf("%d requests in flight during the pause", in)
				}
			}
			c := f.doer.next(t) // the pause ended: exactly one
			if since := time.Since(answered); since < pause {
				t.Fatalf("a request started %s after the 503/429, before the %s pause ended", since, pause)
			}
			f.doer.none(t)
			c.reply <- 200
			f.d.nextCompletion(t)
			f.doer.next(t)
			f.doer.next(t) // slow start: two next
			f.doer.none(t)
		})
	}
}

func TestLanesTakeTurnsUnderGlobalLimit(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{Limits: limiter.Config{Max: 4}, MaxInFlight: 2})
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

// A pause longer than what is left of a queued delivery's lease hands the
// delivery back, due when the pause ends, instead of holding it until the
// lease expires; deliveries leased for longer stay queued.
func TestPauseHandsBackWhatItsLeaseCannotCover(t *testing.T) {
	t.Parallel()
	const pause = 5 * time.Second
	f := setup(t, Config{Timeout: time.Second, Limits: limiter.Config{Initial: 1, PauseBase: pause}, RetrySchedule: []time.Duration{time.Hour}})
	f.subscribe(t, "https://busy.example.com/hook")
	short, long := time.Now().Add(4*time.Second), time.Now().Add(time.Hour)
	jobs := f.ingest(t, 3, long)
	f.d.Enqueue(jobs[:2], short)
	f.d.Enqueue(jobs[2:], long)
	answered := time.Now()
	f.doer.next(t).reply <- 503
	f.d.nextCompletion(t)
	rs := f.d.queuedReleases()
	if len(rs) != 1 || !slices.Equal(rs[0].ids, []string{jobs[1].Delivery.ID}) {
		t.Fatalf("released %+v, want only %s (its lease ends within the pause)", rs, jobs[1].Delivery.ID)
	}
	if due := rs[0].dueAt.Sub(answered); due < pause || due > pause+time.Second {
		t.Errorf("released due %s after the 503, want about %s", due, pause)
	}
	if in, limit, q := f.d.laneState("https://busy.example.com/hook"); in != 0 || limit != 1 || q != 1 {
		t.Errorf("lane in flight %d, limit %d, queued %d; want 0, 1, 1", in, limit, q)
	}
	// Work handed over during the pause is sorted the same way.
	more := f.ingest(t, 2, long)
	f.d.Enqueue(more[:1], short)
	f.d.Enqueue(more[1:], long)
	rs = f.d.queuedReleases()
	if len(rs) != 1 || !slices.Equal(rs[0].ids, []string{more[0].Delivery.ID}) || rs[0].dueAt.Sub(answered) < pause {
		t.Fatalf("released %+v, want %s due when the pause ends", rs, more[0].Delivery.ID)
	}
	if _, _, q := f.d.laneState("https://busy.example.com/hook"); q != 2 {
		t.Errorf("%d queued, want 2", q)
	}
	f.doer.none(t) // paused: nothing is sent
}
