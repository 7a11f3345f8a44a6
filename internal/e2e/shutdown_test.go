package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

// processes returns the pid of the test's PostgreSQL server and of its
// children (one per connection, plus its workers).
func (pg *ownPostgres) processes() []int {
	pg.t.Helper()
	b, err := os.ReadFile(filepath.Join(pg.data(), "postmaster.pid"))
	if err != nil {
		pg.t.Fatal(err)
	}
	main, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		pg.t.Fatal(err)
	}
	pids := []int{main}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // ended meanwhile
		}
		// pid (comm) state ppid …: comm may hold spaces, so split after ")".
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(main) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// freeze stops every process of the server with SIGSTOP: connections stay
// open and nothing answers, as with a hung database. It returns the
// function that resumes them (also run when the test ends).
func (pg *ownPostgres) freeze() (resume func()) {
	pg.t.Helper()
	pids := pg.processes() // the server first: it forks no more once stopped
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGSTOP)
	}
	var once sync.Once
	resume = func() {
		once.Do(func() {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGCONT)
			}
		})
	}
	pg.t.Cleanup(resume) // runs before the server's own cleanup stops it
	return resume
}

// TestShutdownWithHungDatabase: with ingests and deliveries in flight the
// database stops answering (SIGSTOP), and SIGTERM still ends revdesk within
// its shutdown deadline. Once the database answers again and revdesk is
// restarted, every event acknowledged with 202 is delivered.
func TestShutdownWithHungDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a PostgreSQL server; not run with -short")
	}
	t.Parallel()
	pg := startOwnPostgres(t)
	rcv, release := holdingReceiver(t)
	const deadline = 4 * time.Second
	srv := startServer(t, "rdk_hung_key", pg.dsn(), rcv.caFile(t), "--allow-private-networks",
		"--retry-schedule", "200ms,500ms,1s,2s", "--shutdown-timeout", deadline.String())
	srv.subscribe(`{"webhook_url":"` + rcv.url("/h") + `","event_type":"sms_sent"}`)

	// Ingest without pause from a few clients until revdesk stops.
	var mu sync.Mutex
	acked := map[string]bool{}
	stopIngest := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: time.Minute}
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stopIngest:
					return
				default:
				}
				req, _ := http.NewRequest("POST", srv.base+"/api/v1/events", strings.NewReader(`{"event_type":"sms_sent","data":`+smsRecord+`}`))
				req.Header.Set("Authorization", "Bearer "+srv.key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					return // revdesk is gone
				}
				var out struct{ ID string }
				if jsonDecode(resp, &out) == nil && resp.StatusCode == http.StatusAccepted {
					mu.Lock()
					acked[out.ID] = true
					mu.Unlock()
				}
			}
		})
	}
	defer func() { close(stopIngest); wg.Wait() }()
	rcv.waitFor("/h", 1, 10*time.Second) // deliveries in flight (held by the receiver)
	testutil.Eventually(t, 10*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 20, "fewer than 20 events acknowledged"
	})

	resume := pg.freeze()
	start := time.Now()
	srv.stop() // SIGTERM; killed after 20 s
	took := time.Since(start)
	t.Logf("SIGTERM with the database stopped: exited after %v (deadline %v)", took.Round(time.Millisecond), deadline)
	if took > deadline+3*time.Second {
		t.Errorf("revdesk took %v to stop with a %v deadline", took, deadline)
	}
	if !strings.Contains(srv.logs(), "stopped at the shutdown deadline") {
		t.Errorf("revdesk did not report stopping at its deadline")
	}

	release()
	resume()
	srv.start()
	mu.Lock()
	all := make(map[string]bool, len(acked))
	for id := range acked {
		all[id] = true
	}
	mu.Unlock()
	dups, total := waitAllDelivered(t, rcv, []string{"/h"}, all, 60*time.Second)
	t.Logf("after the restart: %d events acknowledged, %d requests received, %d duplicates", len(all), total, dups)
}
