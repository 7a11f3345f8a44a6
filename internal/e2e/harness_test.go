// Package e2e runs the real revdesk binary as a child process against real
// HTTPS receivers: what a user of the service sees, crashes included.
package e2e

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testserver"
)

// binary is the revdesk binary built once for all tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "revdesk-e2e")
	if err == nil {
		binary, err = testserver.Build(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// delivery is one request a receiver got.
type delivery struct {
	Path   string
	Header http.Header
	Body   []byte
	At     time.Time
}

// receiver is a real HTTPS endpoint recording what it receives. Its answer
// per path can be set; the default is 200.
type receiver struct {
	*httptest.Server
	t      *testing.T
	mu     sync.Mutex
	got    []delivery
	notify chan struct{}
	// answer gives the status for the n-th request (1-based) to path; it
	// may set response headers on w. Guarded by mu: set it with setAnswer.
	answer func(w http.ResponseWriter, path string, n int) int
	counts map[string]int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, notify: make(chan struct{}, 1), counts: map[string]int{}}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.counts[req.URL.Path]++
	n := r.counts[req.URL.Path]
	r.got = append(r.got, delivery{Path: req.URL.Path, Header: req.Header.Clone(), Body: body, At: time.Now()})
	answer := r.answer
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	status := http.StatusOK
	if answer != nil {
		status = answer(w, req.URL.Path, n)
	}
	w.WriteHeader(status)
}

// setAnswer sets how the receiver answers from now on.
func (r *receiver) setAnswer(answer func(w http.ResponseWriter, path string, n int) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = answer
}

// url is the receiver URL for a path.
func (r *receiver) url(path string) string { return r.URL + path }

// at returns what arrived at a path so far.
func (r *receiver) at(path string) []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []delivery
	for _, d := range r.got {
		if d.Path == path {
			out = append(out, d)
		}
	}
	return out
}

// waitFor waits until at least n deliveries reached path.
func (r *receiver) waitFor(path string, n int, timeout time.Duration) []delivery {
	r.t.Helper()
	deadline := time.After(timeout)
	for {
		if got := r.at(path); len(got) >= n {
			return got
		}
		select {
		case <-r.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			r.t.Fatalf("waited %s for %d deliveries to %s, got %d", timeout, n, path, len(r.at(path)))
		}
	}
}

// caFile writes the receiver's certificate where the server's TLS client will
// trust it (SSL_CERT_FILE), as an operator would with a private CA.
func (r *receiver) caFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate().Raw})
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// server is a revdesk process the test can stop, kill and start again on
// the same database and port.
type server struct {
	t    *testing.T
	proc *testserver.Process
	base string
	port string
	key  string
	db   string
	args []string
	env  []string
}

// testSecretsKey seals the secrets of the PostgreSQL servers of the tests.
const testSecretsKey = "cmV2ZGVzay1lMmUtdGVzdC1zZWNyZXRzLWtleS0zMmI="

// startServer runs `revdesk serve` on the given database with args.
func startServer(t *testing.T, key, db, caFile string, args ...string) *server {
	t.Helper()
	s := &server{t: t, key: key, db: db, args: args}
	s.env = append(os.Environ(), "REVDESK_API_KEY="+key, "SSL_CERT_FILE="+caFile)
	if strings.HasPrefix(db, "postgres") {
		// PostgreSQL needs the secrets key every process shares.
		s.env = append(s.env, "REVDESK_SECRETS_KEY="+testSecretsKey)
	}
	s.start()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs())
		}
	})
	return s
}

func (s *server) start() {
	s.t.Helper()
	// A restart keeps the port, so clients need not learn a new address.
	if s.port == "" {
		addr, err := testserver.FreeAddr()
		if err != nil {
			s.t.Fatal(err)
		}
		_, s.port, _ = net.SplitHostPort(addr)
	}
	addr := "127.0.0.1:" + s.port
	args := append([]string{"serve", "--addr", addr, "--db", s.db, "--log-level", "debug"}, s.args...)
	proc, err := testserver.Start(binary, addr, args, s.env)
	if err != nil {
		s.t.Fatal(err)
	}
	s.proc = proc
	// A restart keeps the address, so base is written once: load goroutines
	// read it while the test restarts the server.
	if s.base == "" {
		s.base = proc.Base
	}
}

// kill ends the process with SIGKILL: a crash, no shutdown code runs.
func (s *server) kill() {
	s.proc.Kill()
	s.checkRaces()
}

// stop ends the process gracefully.
func (s *server) stop() {
	s.proc.Stop()
	s.checkRaces()
}

// checkRaces fails the test if the race detector found a race in the
// process just ended (under go test -race only).
func (s *server) checkRaces() {
	if s.proc.Raced() {
		s.t.Errorf("the server had a data race:\n%s", s.logs())
	}
}

func (s *server) logs() string { return s.proc.Logs.String() }

// response is an API answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("response %d is not a JSON object: %v\n%s", r.Status, err, r.Body)
	}
	return v
}

// errorCode returns error.code of an error body.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.Body)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Fatalf("error without message: %s", r.Body)
	}
	return e["code"].(string)
}

// call makes an API request with a key ("" for none) and a raw body.
func (s *server) call(method, path, key, body string, headers ...string) response {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// do is call with the server's own key.
func (s *server) do(method, path, body string, headers ...string) response {
	s.t.Helper()
	return s.call(method, path, s.key, body, headers...)
}

// subscribe creates a subscription and returns its id and create response.
func (s *server) subscribe(body string) (string, map[string]any) {
	s.t.Helper()
	r := s.do("POST", "/api/v1/webhook_subscriptions", body)
	if r.Status != http.StatusCreated {
		s.t.Fatalf("subscribe %s: %d %s", body, r.Status, r.Body)
	}
	v := r.json(s.t)
	return v["id"].(string), v
}

// ingest sends one event and returns its id.
func (s *server) ingest(body string) string {
	s.t.Helper()
	r := s.do("POST", "/api/v1/events", body)
	if r.Status != http.StatusAccepted {
		s.t.Fatalf("ingest %s: %d %s", body, r.Status, r.Body)
	}
	return r.json(s.t)["id"].(string)
}

// workspaceCreate runs `revdesk workspace create` against the same database.
func workspaceCreate(t *testing.T, db, name string) (string, string) {
	t.Helper()
	out, err := exec.Command(binary, "workspace", "create", name, "--db", db).Output()
	if err != nil {
		t.Fatalf("workspace create: %v", err)
	}
	var v struct {
		WorkspaceID string `json:"workspace_id"`
		APIKey      string `json:"api_key"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("workspace create printed %q: %v", out, err)
	}
	return v.WorkspaceID, v.APIKey
}
