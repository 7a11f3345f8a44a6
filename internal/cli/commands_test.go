package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testserver"
	"github.com/revdesk/webhooks/internal/testutil"
	"github.com/revdesk/webhooks/webhook"
)

// The command tests run the real binary, as a person at a terminal would,
// against one real server started here.
var (
	binary    string
	serverURL string
)

const testKey = "rdk_cli_test_key"

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "revdesk-cli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if binary, err = testserver.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	addr := freeAddr()
	// No retries: a refused delivery fails at once, so tests need not wait.
	srv, err := testserver.Start(binary, addr, []string{"serve", "--dev", "--db", "sqlite:" + filepath.Join(dir, "cli.db"), "--addr", addr, "--retry-schedule="}, append(cleanEnv(), "REVDESK_API_KEY="+testKey))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	serverURL = srv.Base
	code := m.Run()
	srv.Stop()
	if srv.Raced() {
		fmt.Fprintln(os.Stderr, "the server had a data race")
		code = 1
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "server log:\n%s\n", srv.Logs)
	}
	return code
}

// cleanEnv is the environment without REVDESK_ settings of whoever runs the tests.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REVDESK_") {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr() string {
	addr, err := testserver.FreeAddr()
	if err != nil {
		panic(err)
	}
	return addr
}

type result struct {
	stdout, stderr string
	code           int
}

// revdesk runs the binary against the test server.
func revdesk(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return run(t, append(cleanEnv(), "REVDESK_SERVER="+serverURL, "REVDESK_API_KEY="+testKey), stdin, args...)
}

// run runs the binary with env.
func run(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		exitErr, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("revdesk %v: %v", args, err)
		}
		code = exitErr.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

// ok runs a command that must succeed with --json and decodes its output.
func ok(t *testing.T, stdin string, args ...string) map[string]any {
	t.Helper()
	args = append(args, "--json")
	res := revdesk(t, stdin, args...)
	if res.code != 0 {
		t.Fatalf("revdesk %s: exit %d: %s", strings.Join(args, " "), res.code, res.stderr)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("revdesk %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, res.stdout)
	}
	if !strings.HasPrefix(res.stdout, "{\n  \"") {
		t.Errorf("revdesk %s: output is not pretty-printed:\n%s", strings.Join(args, " "), res.stdout)
	}
	return out
}

func items(out map[string]any) []map[string]any {
	var list []map[string]any
	for _, v := range out["data"].([]any) {
		list = append(list, v.(map[string]any))
	}
	return list
}

func TestSubscriptionCommands(t *testing.T) {
	t.Parallel()
	const url = "https://example.com/cli/lifecycle"
	created := ok(t, "", "subscriptions", "create", "--url", url, "--event-type", "call_completed", "--workflow-id", "wf-life")
	id := created["id"].(string)
	if secret, _ := created["signing_secret"].(string); !strings.HasPrefix(secret, "whsec_") {
		t.Errorf("create shows secret %q, want a generated whsec_ secret", secret)
	}
	got := ok(t, "", "subscriptions", "get", id)
	if _, shown := got["signing_secret"]; shown || got["has_signing_secret"] != true || got["workflow_id"] != "wf-life" {
		t.Errorf("get: %v", got)
	}
	found := false
	for _, s := range items(ok(t, "", "subscriptions", "list", "--event-type", "call_completed", "--status", "active", "--limit", "100")) {
		found = found || s["id"] == id
	}
	if !found {
		t.Errorf("list does not show %s", id)
	}
	if s := ok(t, "", "subscriptions", "disable", id); s["status"] != "disabled" {
		t.Errorf("disable: %v", s)
	}
	if s := ok(t, "", "subscriptions", "enable", id); s["status"] != "active" {
		t.Errorf("enable: %v", s)
	}
	rotated := ok(t, "", "subscriptions", "rotate-secret", id, "--overlap", "1h")
	if at, _ := time.Parse(time.RFC3339, rotated["new_secret_active_at"].(string)); time.Until(at) < 59*time.Minute {
		t.Errorf("rotation with 1h overlap takes over at %v", at)
	}
	if s := ok(t, "", "subscriptions", "rotate-secret", id, "--immediate", "--secret", "fresh-secret"); s["signing_secret"] != "fresh-secret" {
		t.Errorf("immediate rotation: %v", s)
	}
	dup := revdesk(t, "", "subscriptions", "create", "--url", url, "--event-type", "call_completed", "--workflow-id", "wf-life")
	if want := "error: an identical active subscription exists: " + id + " (conflict)"; dup.code == 0 || !strings.Contains(dup.stderr, want) {
		t.Errorf("duplicate create: exit %d, stderr %q, want %q", dup.code, dup.stderr, want)
	}
	if s := ok(t, "", "subscriptions", "update", id, "--rate-limit", "2.5", "--ordered", "--workflow-id", ""); s["rate_limit"] != 2.5 || s["ordered"] != true || s["workflow_id"] != nil {
		t.Errorf("update --rate-limit 2.5 --ordered --workflow-id '': %v", s)
	}
	if s := ok(t, "", "subscriptions", "update", id, "--no-rate-limit", "--no-ordered"); s["rate_limit"] != nil || s["ordered"] != false {
		t.Errorf("update --no-rate-limit --no-ordered: %v", s)
	}
	if s := ok(t, "", "subscriptions", "update", id, "--no-auto-recover"); s["auto_recover"] != false {
		t.Errorf("update --no-auto-recover: %v", s)
	}
	replay := ok(t, "", "subscriptions", "replay", id, "--since", "24h", "--all")
	if replay["subscription_id"] != id || replay["all"] != true || replay["mode"] != "all" {
		t.Errorf("replay: %v", replay)
	}
	if r := ok(t, "", "replays", "show", replay["id"].(string)); r["id"] != replay["id"] {
		t.Errorf("replays show: %v", r)
	}
	if res := revdesk(t, "", "subscriptions", "update", id); res.code == 0 || !strings.Contains(res.stderr, "nothing to change") {
		t.Errorf("update without flags: exit %d, %q", res.code, res.stderr)
	}
	if d := ok(t, "", "subscriptions", "delete", id); d["deleted"] != true || d["id"] != id {
		t.Errorf("delete: %v", d)
	}
	if res := revdesk(t, "", "subscriptions", "get", id); res.code == 0 || !strings.Contains(res.stderr, "error: no such resource (not_found)") {
		t.Errorf("get after delete: exit %d, %q", res.code, res.stderr)
	}
}

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"unknown event type", "", []string{"subscriptions", "create", "--url", "https://example.com/x", "--event-type", "call_done"}, "(unknown_event_type)"},
		{"wrong API key", "", []string{"subscriptions", "list", "--api-key", "rdk_wrong"}, "error: invalid or revoked API key (unauthorized)"},
		{"derived type sent", `{"event_type":"call_busy","data":{}}`, []string{"events", "send"}, "(derived_event_type)"},
		{"invalid data", `{"event_type":"number_purchased","data":{"id":"x"}}`, []string{"events", "send", "-"}, "(invalid_data)"},
		{"empty input", "", []string{"events", "send"}, "the input is empty"},
		{"unknown trigger type", "", []string{"events", "trigger", "call_done"}, "unknown event type \"call_done\""},
		{"unknown delivery", "", []string{"deliveries", "show", "dlv_nope"}, "error: no such resource (not_found)"},
		{"bad status filter", "", []string{"deliveries", "list", "--status", "lost"}, "--status must be one of"},
		{"unreachable server", "", []string{"subscriptions", "list", "--server", "http://127.0.0.1:1"}, "cannot reach the server"},
		{"both secret flags", "", []string{"subscriptions", "create", "--url", "https://example.com/x", "--event-type", "new_call", "--secret", "s", "--no-secret"}, "can't be used together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := revdesk(t, tt.stdin, tt.args...)
			if res.code == 0 || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q, want it to contain %q", res.code, res.stderr, tt.want)
			}
		})
	}
}

func TestEventsSend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	single := filepath.Join(dir, "single.json")
	batch := filepath.Join(dir, "batch.json")
	event := `{"event_type":"contact_created","data":{"id":"ct_1","created_at":"2026-06-30T19:30:00Z"}}`
	if err := os.WriteFile(single, []byte(event), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(batch, []byte("["+event+","+event+"]"), 0o600); err != nil {
		t.Fatal(err)
	}
	evt := regexp.MustCompile(`^evt_[0-9a-z]{29}$`)
	if out := ok(t, "", "events", "send", single); !evt.MatchString(out["id"].(string)) {
		t.Errorf("send file: %v", out)
	}
	if out := items(ok(t, "", "events", "send", batch)); len(out) != 2 {
		t.Errorf("send batch: %v", out)
	}
	first := ok(t, event, "events", "send", "--idempotency-key", "cli-once")
	again := ok(t, event, "events", "send", "-", "--idempotency-key", "cli-once")
	if first["id"] != again["id"] {
		t.Errorf("idempotent send stored twice: %v, %v", first["id"], again["id"])
	}
}

// TestTriggerAndDeliveries triggers catalog examples at scoped subscriptions
// whose endpoint refuses connections, then inspects and retries the
// deliveries.
func TestTriggerAndDeliveries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, subscribe, trigger string
		scope                    []string
	}{
		{"derived disposition", "call_busy", "call_busy", []string{"--workflow-id", "wf-trigger-busy"}},
		{"enveloped type", "number_released", "number_released", []string{"--campaign-id", "cmp-trigger"}},
		{"flat type", "sms_failed", "sms_failed", []string{"--workflow-id", "wf-trigger-sms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A path of its own per run: the server outlives -count repetitions.
			url := "http://127.0.0.1:1/" + tt.subscribe + "/" + strconv.FormatInt(time.Now().UnixNano(), 36)
			sub := ok(t, "", append([]string{"subscriptions", "create", "--url", url, "--event-type", tt.subscribe}, tt.scope...)...)["id"].(string)
			ok(t, "", append([]string{"events", "trigger", tt.trigger}, tt.scope...)...)
			var dlv map[string]any
			testutil.Eventually(t, 20*time.Second, func() (bool, string) {
				list := items(ok(t, "", "deliveries", "list", "--subscription-id", sub, "--status", "failed"))
				if len(list) > 0 {
					dlv = list[0]
				}
				return dlv != nil, "no failed delivery yet"
			})
			if dlv["event_type"] != tt.subscribe {
				t.Errorf("delivery of %v, want %s", dlv["event_type"], tt.subscribe)
			}
			shown := ok(t, "", "deliveries", "show", dlv["id"].(string))
			if attempts := shown["attempts"].([]any); len(attempts) != 1 || attempts[0].(map[string]any)["error_class"] == nil {
				t.Errorf("show: %v", shown)
			}
			if retried := ok(t, "", "deliveries", "retry", dlv["id"].(string)); retried["status"] != "pending" {
				t.Errorf("retry: %v", retried)
			}
		})
	}
}

// lineBuffer collects a child process's output as it arrives.
type lineBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *lineBuffer) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		b.mu.Lock()
		b.lines = append(b.lines, sc.Text())
		b.mu.Unlock()
	}
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// TestListenReceivesDeliveries: the running server delivers number_purchased
// to `revdesk listen` twice, once signed with the secret listen knows
// (verified, answered 200, forwarded) and once with another (401, not
// forwarded).
func TestListenReceivesDeliveries(t *testing.T) {
	t.Parallel()
	const secret = "listen-secret"
	type request struct {
		header http.Header
		body   []byte
	}
	forwarded := make(chan request, 4)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		forwarded <- request{r.Header.Clone(), b}
	}))
	t.Cleanup(target.Close)

	listen := exec.Command(binary, "listen", "--port", "0", "--secret", secret, "--forward-to", target.URL+"/app/hooks")
	listen.Env = cleanEnv()
	stdout, err := listen.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	listen.Stderr = os.Stderr
	if err := listen.Start(); err != nil {
		t.Fatal(err)
	}
	var out lineBuffer
	go out.read(stdout)
	t.Cleanup(func() { _ = listen.Process.Kill() })
	ready := regexp.MustCompile(`Listening on (http://\S+)`)
	var listenURL string
	testutil.Eventually(t, 20*time.Second, func() (bool, string) {
		if m := ready.FindStringSubmatch(out.String()); m != nil {
			listenURL = m[1]
		}
		return listenURL != "", "listen has not started; it printed:\n" + out.String()
	})

	// Scoped to a workflow no other test uses, so only this trigger reaches them.
	good := ok(t, "", "subscriptions", "create", "--url", listenURL+"/good", "--event-type", "number_purchased", "--secret", secret, "--workflow-id", "wf-listen")["id"].(string)
	bad := ok(t, "", "subscriptions", "create", "--url", listenURL+"/bad", "--event-type", "number_purchased", "--secret", "not-the-listen-secret", "--workflow-id", "wf-listen")["id"].(string)
	event := ok(t, "", "events", "trigger", "number_purchased", "--workflow-id", "wf-listen")["id"].(string)

	select {
	case r := <-forwarded:
		if err := webhook.Verify(r.body, r.header.Get(webhook.HeaderSignature256), secret); err != nil {
			t.Errorf("forwarded delivery does not verify: %v", err)
		}
		if r.header.Get(webhook.HeaderEventID) != event || r.header.Get(webhook.HeaderSubscriptionID) != good {
			t.Errorf("forwarded headers: %v", r.header)
		}
		ev, err := webhook.Parse(r.header.Get(webhook.HeaderEventType), r.body)
		if err != nil || ev.TriggerEvent != "number.purchased" {
			t.Errorf("forwarded body %s: %v", r.body, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("nothing forwarded; listen printed:\n%s", out.String())
	}

	status := func(sub string) string {
		list := items(ok(t, "", "deliveries", "list", "--event-id", event, "--subscription-id", sub))
		if len(list) != 1 {
			return ""
		}
		return list[0]["status"].(string)
	}
	for _, want := range []struct{ sub, status string }{{good, "succeeded"}, {bad, "failed"}} {
		testutil.Eventually(t, 20*time.Second, func() (bool, string) {
			got := status(want.sub)
			return got == want.status, fmt.Sprintf("delivery to %s is %q, want %q", want.sub, got, want.status)
		})
	}
	badDlv := items(ok(t, "", "deliveries", "list", "--subscription-id", bad))[0]["id"].(string)
	attempts := ok(t, "", "deliveries", "show", badDlv)["attempts"].([]any)
	if code := attempts[0].(map[string]any)["status_code"]; code != float64(http.StatusUnauthorized) {
		t.Errorf("listen answered the badly signed delivery %v, want 401", code)
	}
	select {
	case r := <-forwarded:
		t.Errorf("the badly signed delivery was forwarded: %v", r.header)
	default:
	}

	printed := out.String()
	for _, want := range []string{"POST /good  number_purchased", "signature    valid (X-revdesk-Signature-256)", "POST /bad  number_purchased", "INVALID", event, `"triggerEvent": "number.purchased"`} {
		if !strings.Contains(printed, want) {
			t.Errorf("listen output lacks %q:\n%s", want, printed)
		}
	}

	_ = listen.Process.Signal(syscall.SIGTERM)
	if err := listen.Wait(); err != nil {
		t.Errorf("listen did not stop cleanly on SIGTERM: %v", err)
	}
}

// TestConfigFile starts a server from a JSON config file alone and points
// client commands at it with another; flags given on the command line win.
func TestConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := freeAddr()
	const key = "rdk_from_config_file"
	write := func(name string, v any) string {
		b, _ := json.Marshal(v)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	serverConfig := write("server.json", map[string]any{"addr": addr, "db": "sqlite:" + filepath.Join(dir, "cfg.db"), "dev": true, "api_key": key, "retry_schedule": ""})
	srv, err := testserver.Start(binary, addr, []string{"serve", "--config", serverConfig}, cleanEnv())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Stop()
		if srv.Raced() {
			t.Errorf("the server had a data race:\n%s", srv.Logs)
		}
	})
	clientConfig := write("client.json", map[string]any{"server": "http://" + addr, "api_key": key})

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"everything from the files", []string{"subscriptions", "list", "--config", clientConfig, "--json"}, 0, `"has_more": false`},
		{"a flag overrides the file", []string{"subscriptions", "list", "--config", clientConfig, "--api-key", "rdk_other"}, 1, "(unauthorized)"},
		{"a missing file", []string{"subscriptions", "list", "--config", filepath.Join(dir, "none.json")}, 2, "none.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(binary, tt.args...)
			cmd.Env = cleanEnv()
			outb, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != tt.wantCode || !strings.Contains(string(outb), tt.want) {
				t.Errorf("exit %d, output %s; want exit %d and %q", code, outb, tt.wantCode, tt.want)
			}
		})
	}
}
