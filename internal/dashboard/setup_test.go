package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/revdesk/webhooks/internal/testserver"
)

// chromiumPath finds Debian's Chromium. Without it the browser test cannot
// run: in CI that is a broken setup and fails, elsewhere it skips.
func chromiumPath(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	const msg = "Chromium not found (looked for /usr/bin/chromium, chromium, chromium-browser); install it with: apt-get install -y chromium"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startServer builds the real binary and runs `revdesk serve` on a free
// port with a fresh SQLite database; it returns the base URL.
func startServer(t *testing.T, apiKey string) string {
	return startServerWith(t, apiKey).base
}

// running is a started server: its URL, binary and database.
type running struct {
	base, bin, db string
}

// startServerWith is startServer with extra serve flags.
func startServerWith(t *testing.T, apiKey string, args ...string) running {
	dir := t.TempDir()
	bin, err := testserver.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := testserver.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(dir, "x.db")
	proc, err := testserver.Start(bin, addr, append([]string{"serve", "--addr", addr, "--db", db, "--dev", "--retry-schedule", "200ms"}, args...),
		append(os.Environ(), "REVDESK_API_KEY="+apiKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proc.Stop()
		if proc.Raced() {
			t.Error("the server had a data race")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", proc.Logs)
		}
	})
	return running{base: proc.Base, bin: bin, db: db}
}

// receiver is a webhook endpoint that fails the first delivery with a 500
// and accepts every later one.
func receiver(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			http.Error(w, `{"error":"receiver is warming up"}`, http.StatusInternalServerError)
			return
		}
		w.Write([]byte(`{"received":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// browser starts headless Chromium with a throwaway profile and collects
// what the page logs as errors (exceptions, CSP violations, failed loads).
func browser(t *testing.T, execPath string) (context.Context, func() []string) {
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(execPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				problems = append(problems, strings.TrimSpace(string(m.Type)+": "+m.Text))
				mu.Unlock()
			}
		}
	}()
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}
