package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revdesk/webhooks/internal/testserver"
	"github.com/revdesk/webhooks/internal/testutil"
)

// postgresDSN returns a DSN on the server of REVDESK_TEST_POSTGRES whose
// search_path is a fresh schema, dropped when the test ends.
func postgresDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("REVDESK_TEST_POSTGRES")
	if base == "" {
		t.Skip("set REVDESK_TEST_POSTGRES to a PostgreSQL DSN to run the PostgreSQL tests (.ci/run does)")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "e2e_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to REVDESK_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err == nil {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	return withSearchPath(t, base, schema)
}

func withSearchPath(t *testing.T, dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// ingester sends batches of events to a set of servers in turn and records
// which event ids were acknowledged.
type ingester struct {
	key   string
	mu    sync.Mutex
	acked map[string]bool
	count atomic.Int64
}

func newIngester(key string) *ingester {
	return &ingester{key: key, acked: map[string]bool{}}
}

// ingestTimeout bounds an ingester's run: servers that stop acknowledging
// fail the test instead of holding it until the go test timeout.
const ingestTimeout = 2 * time.Minute

// run sends batches from several workers to the base URLs bases returns,
// in turn, until target events are acknowledged. Bases are URLs rather
// than servers because a test restarts its servers while run reads them.
// run may be called from a goroutine other than the test's.
func (in *ingester) run(t *testing.T, bases func() []string, target int64, workers int) {
	const batch = 20
	body := "[" + strings.TrimSuffix(strings.Repeat(`{"event_type":"sms_sent","data":`+smsRecord+`},`, batch), ",") + "]"
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(ingestTimeout)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; in.count.Load() < target && time.Now().Before(deadline); i++ {
				list := bases()
				req, _ := http.NewRequest("POST", list[i%len(list)]+"/api/v1/events", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+in.key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					time.Sleep(20 * time.Millisecond) // down: not acknowledged, try again
					continue
				}
				var out struct{ Data []struct{ ID string } }
				if jsonDecode(resp, &out) != nil || resp.StatusCode != http.StatusAccepted {
					continue
				}
				in.mu.Lock()
				for _, d := range out.Data {
					in.acked[d.ID] = true
				}
				in.mu.Unlock()
				in.count.Add(int64(len(out.Data)))
			}
		}()
	}
	wg.Wait()
	if n := in.count.Load(); n < target {
		t.Errorf("only %d of %d events acknowledged after %s", n, target, ingestTimeout)
	}
}

// waitCount waits until at least n events are acknowledged.
func (in *ingester) waitCount(t *testing.T, n int64) {
	t.Helper()
	testutil.Eventually(t, ingestTimeout, func() (bool, string) {
		got := in.count.Load()
		return got >= n, fmt.Sprintf("%d of %d events acknowledged", got, n)
	})
}

// waitAllDelivered waits until every acknowledged event reached every path
// and returns the duplicate count and the total received.
func waitAllDelivered(t *testing.T, rcv *receiver, paths []string, acked map[string]bool, timeout time.Duration) (dups, total int) {
	t.Helper()
	testutil.Eventually(t, timeout, func() (bool, string) {
		var missing int
		missing, dups, total = rcv.tally(paths, acked)
		return missing == 0, fmt.Sprintf("%d acknowledged deliveries never arrived (of %d)", missing, len(acked)*len(paths))
	})
	return dups, total
}

// TestPostgresScaleOut runs three processes on one database. Undisturbed,
// they share the work and deliver nothing twice; with one killed midway,
// the others take over its leased deliveries and nothing is lost.
func TestPostgresScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three servers and thousands of events; not run with -short")
	}
	t.Parallel()
	dsn := postgresDSN(t)
	rcv := newReceiver(t)
	ca := rcv.caFile(t)
	args := []string{"--allow-private-networks", "--retry-schedule", "200ms,500ms,1s,2s", "--delivery-timeout", "2s", "--lease", "6s"}
	var servers []*server
	for range 3 {
		servers = append(servers, startServer(t, "rdk_scale_out_key", dsn, ca, args...))
	}
	paths := []string{"/p1", "/p2", "/p3"}
	for _, p := range paths {
		servers[0].subscribe(`{"webhook_url":"` + rcv.url(p) + `","event_type":"sms_sent"}`)
	}

	// Undisturbed: every delivery exactly once.
	first := newIngester("rdk_scale_out_key")
	bases := func(list []*server) []string {
		var out []string
		for _, s := range list {
			out = append(out, s.base)
		}
		return out
	}
	first.run(t, func() []string { return bases(servers) }, 1500, 6)
	dups, total := waitAllDelivered(t, rcv, paths, first.acked, 60*time.Second)
	t.Logf("undisturbed: %d events, %d deliveries received, %d duplicates", len(first.acked), total, dups)
	if dups != 0 {
		t.Errorf("%d deliveries were made twice with no process failing", dups)
	}
	for i, s := range servers {
		m := s.call("GET", "/metrics", "", "")
		if !strings.Contains(string(m.Body), `revdesk_delivery_attempts_total{error_class="none"}`) {
			t.Errorf("server %d made no delivery: the work is not shared", i)
		}
	}

	// One process killed midway.
	var mu sync.Mutex
	alive := servers
	second := newIngester("rdk_scale_out_key")
	done := make(chan struct{})
	t.Cleanup(func() { <-done }) // the workers report to t: it must outlive them
	go func() {
		defer close(done)
		second.run(t, func() []string { mu.Lock(); defer mu.Unlock(); return bases(alive) }, 1500, 6)
	}()
	second.waitCount(t, 750)
	servers[1].kill()
	mu.Lock()
	alive = []*server{servers[0], servers[2]}
	mu.Unlock()
	<-done
	all := map[string]bool{}
	for id := range first.acked {
		all[id] = true
	}
	for id := range second.acked {
		all[id] = true
	}
	dups, total = waitAllDelivered(t, rcv, paths, all, 90*time.Second)
	t.Logf("with one of three processes killed: %d events in all, %d deliveries received, %d duplicates", len(all), total, dups)
}

// ownPostgres is a PostgreSQL server of the test's own, so it can be
// stopped and started without disturbing other tests.
type ownPostgres struct {
	t       *testing.T
	bin     string
	dir     string
	port    string
	asOwner func(name string, args ...string) *exec.Cmd
}

func startOwnPostgres(t *testing.T) *ownPostgres {
	t.Helper()
	if os.Getenv("REVDESK_TEST_POSTGRES") == "" {
		t.Skip("set REVDESK_TEST_POSTGRES to run the PostgreSQL tests (.ci/run does)")
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatal("PostgreSQL server binaries not found under /usr/lib/postgresql")
	}
	sort.Strings(bins)
	addr, err := testserver.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	pg := &ownPostgres{t: t, bin: filepath.Dir(bins[len(bins)-1]), port: port}
	dir, err := os.MkdirTemp("", "revdesk-pg")
	if err != nil {
		t.Fatal(err)
	}
	pg.dir = dir
	pg.asOwner = func(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
	// PostgreSQL refuses to run as root: run it as the postgres user then.
	if u, _ := user.Current(); u != nil && u.Uid == "0" {
		pgUser, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal("running as root and there is no postgres user to run PostgreSQL as")
		}
		if out, err := exec.Command("chown", pgUser.Username, dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
		pg.asOwner = func(name string, args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		}
	}
	t.Cleanup(func() {
		_ = pg.asOwner(filepath.Join(pg.bin, "pg_ctl"), "-D", pg.data(), "-m", "immediate", "-w", "stop").Run()
		os.RemoveAll(dir)
	})
	pg.run("initdb", "-D", pg.data(), "-A", "trust", "-U", "postgres")
	pg.start()
	return pg
}

func (pg *ownPostgres) data() string { return filepath.Join(pg.dir, "data") }

func (pg *ownPostgres) run(tool string, args ...string) {
	pg.t.Helper()
	if out, err := pg.asOwner(filepath.Join(pg.bin, tool), args...).CombinedOutput(); err != nil {
		pg.t.Fatalf("%s: %v\n%s", tool, err, out)
	}
}

func (pg *ownPostgres) start() {
	pg.t.Helper()
	pg.run("pg_ctl", "-D", pg.data(), "-w", "-l", filepath.Join(pg.dir, "log"),
		"-o", "-p "+pg.port+" -k "+pg.dir+" -c listen_addresses=127.0.0.1", "start")
}

func (pg *ownPostgres) stop() {
	pg.t.Helper()
	pg.run("pg_ctl", "-D", pg.data(), "-m", "fast", "-w", "stop")
}

func (pg *ownPostgres) dsn() string {
	return "postgres://postgres@127.0.0.1:" + pg.port + "/postgres?sslmode=disable"
}

// TestPostgresOutage stops the database under a running service: ingest
// answers 503 (never 202) while it is down, and the service recovers by
// itself with nothing lost.
func TestPostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a PostgreSQL server; not run with -short")
	}
	t.Parallel()
	pg := startOwnPostgres(t)
	rcv := newReceiver(t)
	srv := startServer(t, "rdk_outage_key", pg.dsn(), rcv.caFile(t), "--allow-private-networks", "--retry-schedule", "200ms,500ms,1s,2s,5s")
	srv.subscribe(`{"webhook_url":"` + rcv.url("/o") + `","event_type":"sms_sent"}`)
	before := srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	rcv.waitFor("/o", 1, 10*time.Second)

	pg.stop()
	for i := range 5 {
		r := srv.do("POST", "/api/v1/events", `{"event_type":"sms_sent","data":`+smsRecord+`}`)
		if r.Status == http.StatusAccepted {
			t.Fatalf("ingest answered 202 while the database was down: %s", r.Body)
		}
		if r.Status != http.StatusServiceUnavailable || r.errorCode(t) != "unavailable" {
			t.Errorf("ingest %d while down: %d %s, want 503", i, r.Status, r.Body)
		}
	}
	if r := srv.call("GET", "/readyz", "", ""); r.Status != http.StatusServiceUnavailable {
		t.Errorf("/readyz while down: %d", r.Status)
	}
	if r := srv.call("GET", "/healthz", "", ""); r.Status != http.StatusOK {
		t.Errorf("/healthz while down: %d (the process is up)", r.Status)
	}

	pg.start()
	var after string
	testutil.Eventually(t, 30*time.Second, func() (bool, string) {
		r := srv.do("POST", "/api/v1/events", `{"event_type":"sms_sent","data":`+smsRecord+`}`)
		if r.Status != http.StatusAccepted {
			return false, fmt.Sprintf("service did not recover after the database came back: %d %s", r.Status, r.Body)
		}
		after = r.json(t)["id"].(string)
		return true, ""
	})
	dups, total := waitAllDelivered(t, rcv, []string{"/o"}, map[string]bool{before: true, after: true}, 30*time.Second)
	t.Logf("after the outage: %d deliveries received, %d duplicates", total, dups)
	if r := srv.call("GET", "/readyz", "", ""); r.Status != http.StatusOK {
		t.Errorf("/readyz after recovery: %d", r.Status)
	}
}

// TestPostgresPartitionsAhead: a running server's maintenance makes the
// history partitions ahead of time (the rows of the coming days do not land
// in the default partition, which retention could never drop).
func TestPostgresPartitionsAhead(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	rcv := newReceiver(t)
	startServer(t, "rdk_partitions_key", dsn, rcv.caFile(t), "--maintenance-interval", "200ms")
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	testutil.Eventually(t, 30*time.Second, func() (bool, string) {
		var n int
		err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_inherits i
			JOIN pg_class parent ON parent.oid = i.inhparent
			JOIN pg_class child ON child.oid = i.inhrelid
			JOIN pg_namespace ns ON ns.oid = parent.relnamespace
			WHERE parent.relname = 'deliveries' AND ns.nspname = current_schema()
			  AND child.relname <> 'deliveries_first' AND child.relname NOT LIKE '%default%'`).Scan(&n)
		return err == nil && n >= 2, fmt.Sprintf("%d daily partitions of deliveries (err %v)", n, err)
	})
}
