package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const portalKey = "rdk_portal_browser_test_key"

// TestPortalInBrowser: a page of the platform, on another site, embeds the
// portal in an iframe with a fresh session; the customer sees only their
// workspace, subscribes, sends a test event, follows its attempts and
// retries. A read-only session shows no write controls and its token cannot
// write; revoked, expired and missing tokens land on "Session expired".
func TestPortalInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	hook, hits := receiver(t)

	// The platform's page. It is served as localhost and the portal as
	// 127.0.0.1: two sites, so the iframe is a cross-site one.
	var mu sync.Mutex
	var portalURL string
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		src := portalURL
		mu.Unlock()
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Dental · Settings</title></head>
<body style="margin:0;font-family:system-ui,sans-serif;background:#f0f4f2">
<header style="background:#0a7c59;color:#fff;padding:14px 24px;font-weight:700">Acme Dental · Settings › Webhooks</header>
<iframe id="portal" title="Webhooks" src="%s" style="border:0;width:100%%;height:900px"></iframe></body></html>`, html.EscapeString(src))
	}))
	t.Cleanup(platform.Close)
	platformOrigin := strings.Replace(platform.URL, "127.0.0.1", "localhost", 1)

	srv := startServerWith(t, portalKey, "--portal-frame-ancestors", platformOrigin)
	other := otherWorkspace(t, srv)
	session := func(body string) map[string]any {
		t.Helper()
		return call(t, srv.base, portalKey, "POST", "/api/v1/portal_sessions", body, http.StatusCreated)
	}
	fresh := session(`{"brand_color":"#0a7c59","brand_name":"Acme Dental"}`)
	mu.Lock()
	portalURL = fresh["url"].(string)
	mu.Unlock()

	ctx, problems := browser(t, chrome)
	step(t, ctx, "open the platform's page", chromedp.EmulateViewport(1200, 960), chromedp.Navigate(platformOrigin))
	frame := iframeContext(t, ctx, srv.base+"/portal")
	step(t, frame, "portal loads in the iframe", chromedp.WaitVisible(chromedp.ID("sub-url")))
	if hash := eval[string](t, frame, `location.hash`); hash != "" {
		t.Errorf("the token stays in the address bar: %q", hash)
	}
	if brand := text(t, frame, ".topbar .brand"); brand != "Acme Dental" {
		t.Errorf("brand = %q, want Acme Dental", brand)
	}
	if accent := eval[string](t, frame, `getComputedStyle(document.querySelector("button.primary")).backgroundColor`); accent != "rgb(10, 124, 89)" {
		t.Errorf("primary buttons are %s, want the brand colour", accent)
	}
	if live := eval[int](t, frame, `[...document.querySelectorAll("nav button")].filter(b => b.textContent === "Live").length`); live != 0 {
		t.Error("the portal offers the live view (metrics of every workspace)")
	}
	checkLabels(t, frame)

	step(t, frame, "subscribe",
		// Set through the page rather than typed: key events to a
		// cross-site (out-of-process) iframe can land elsewhere on a busy
		// machine, leaving the required field empty.
		fill("#sub-url", hook.URL+"/portal"),
		fill("#sub-type", "number_purchased"),
		chromedp.Click(chromedp.CSS("form.create button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=secret]`)),
	)
	if page := text(t, frame, "main"); strings.Contains(page, other) {
		t.Errorf("the portal shows the other workspace's subscription %s", other)
	}
	if n := eval[int](t, frame, `document.querySelectorAll("li.sub").length`); n != 1 {
		t.Errorf("the portal lists %d subscriptions, want the customer's one", n)
	}
	step(t, ctx, "screenshot embedded portal", screenshot(t, "portal-embedded"))

	step(t, frame, "send a test event and follow it",
		chromedp.Click(chromedp.Search(`//li[contains(@class,"sub")]//button[normalize-space()="Send test event"]`)),
		chromedp.WaitVisible(chromedp.CSS("li.sub .sent button")),
		chromedp.Click(chromedp.CSS("li.sub .sent button")),
		chromedp.WaitVisible(chromedp.CSS("li.event table.deliveries tbody tr")),
	)
	waitFor(t, frame, "the test delivery to succeed after its retry",
		`document.querySelector("table.deliveries tbody tr .badge")?.textContent === "succeeded"`)
	step(t, frame, "open the attempts",
		chromedp.Click(chromedp.CSS("table.deliveries tbody tr button")),
		chromedp.WaitVisible(chromedp.CSS("table.attempts tbody tr")),
	)
	waitFor(t, frame, "two attempts", `document.querySelectorAll("table.attempts tbody tr").length === 2`)
	step(t, frame, "retry", chromedp.Click(chromedp.Search(`//button[normalize-space()="Retry now"]`)))
	waitFor(t, frame, "a third attempt", `document.querySelectorAll("table.attempts tbody tr").length === 3`)
	if got := statusCodes(t, frame); got != "500,200,200" {
		t.Errorf("attempt status codes = %s, want 500,200,200", got)
	}
	step(t, ctx, "screenshot portal attempts", screenshot(t, "portal-attempts"))
	if n := hits.Load(); n != 3 {
		t.Errorf("receiver got %d requests, want 3 (the test event reached one subscription)", n)
	}

	// A platform event, for the event log (test events stay out of it).
	call(t, srv.base, portalKey, "POST", "/api/v1/events", `{"event_type":"number_purchased","data":{"id":7,"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"org_1"}}`, http.StatusAccepted)

	// A read-only session, opened directly.
	readOnly := session(`{"read_only":true,"brand_color":"#0a7c59","brand_name":"Acme Dental"}`)
	step(t, ctx, "open a read-only portal",
		chromedp.Navigate(readOnly["url"].(string)),
		chromedp.WaitVisible(chromedp.CSS("li.sub")),
		screenshot(t, "portal-read-only"),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll("form.create, li.sub .actions, li.sub .recover").length`); n != 0 {
		t.Errorf("the read-only portal shows %d write controls", n)
	}
	step(t, ctx, "open a delivery read-only",
		chromedp.Click(chromedp.Search(`//nav/button[normalize-space()="Event log"]`)),
		chromedp.WaitVisible(chromedp.CSS(`li.event .event-head button`)),
		chromedp.Click(chromedp.CSS(`li.event .event-head button`)),
		chromedp.Click(chromedp.CSS("table.deliveries tbody tr button")),
		chromedp.WaitVisible(chromedp.CSS("table.attempts tbody tr")),
	)
	if n := eval[int](t, ctx, `[...document.querySelectorAll("button")].filter(b => b.textContent.includes("Retry")).length`); n != 0 {
		t.Error("the read-only portal offers a retry")
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/api/v1/webhook_subscriptions", {method: "POST",
		headers: {Authorization: "Bearer " + JSON.parse(sessionStorage.getItem("revdesk.portal")).token, "Content-Type": "application/json"},
		body: JSON.stringify({webhook_url: "https://example.com/h", event_type: "sms_sent"})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusForbidden {
		t.Errorf("the read-only token's write answered %d, want 403", status)
	}

	// Revoked: the open page lands on the expired page at its next request.
	call(t, srv.base, portalKey, "DELETE", "/api/v1/portal_sessions/"+readOnly["id"].(string), "", http.StatusNoContent)
	step(t, ctx, "revoked session", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".expired")))
	expiredPage(t, ctx)
	step(t, ctx, "screenshot expired", screenshot(t, "portal-expired"))

	// Expired: an open page turns into the expired page at the end of its
	// session, without waiting for a request to fail.
	short := session(`{"expires_in":3}`)
	step(t, ctx, "open a short session", chromedp.Navigate(short["url"].(string)), chromedp.WaitVisible(chromedp.CSS("li.sub")))
	step(t, ctx, "the short session ends", chromedp.WaitVisible(chromedp.CSS(".expired")))
	expiredPage(t, ctx)
	waitExpired(t, srv.base, short["token"].(string))
	step(t, ctx, "an expired link", chromedp.Navigate(short["url"].(string)), chromedp.WaitVisible(chromedp.CSS(".expired")))
	step(t, ctx, "no token at all", chromedp.Navigate(srv.base+"/portal"), chromedp.Evaluate[chromedp.Void](`sessionStorage.clear()`),
		chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".expired")))

	var unexpected []string
	for _, p := range problems() {
		if !strings.Contains(p, "status of 401") && !strings.Contains(p, "status of 403") {
			unexpected = append(unexpected, p)
		}
	}
	if len(unexpected) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(unexpected, "\n"))
	}
}

// iframeContext attaches to the cross-site iframe whose URL starts with
// prefix: Chromium runs it as a target of its own.
func iframeContext(t *testing.T, ctx context.Context, prefix string) context.Context {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, prefix) {
				frame, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID))
				t.Cleanup(cancel)
				return frame
			}
		}
		time.Sleep(100 * time.Millisecond) // polling the browser's target list
	}
	t.Fatalf("no iframe target at %s", prefix)
	return nil
}

func expiredPage(t *testing.T, ctx context.Context) {
	t.Helper()
	if h := text(t, ctx, ".expired h1"); h != "Session expired" {
		t.Errorf("expired page heading = %q", h)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("nav, form, li.sub").length`); n != 0 {
		t.Errorf("the expired page still shows %d parts of the portal", n)
	}
}

// waitExpired polls the API until the token is refused.
func waitExpired(t *testing.T, base, token string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/portal_sessions/current", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session still answers %d", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// otherWorkspace creates a second workspace with a subscription and returns
// that subscription's URL, which the portal must never show.
func otherWorkspace(t *testing.T, srv running) string {
	t.Helper()
	out, err := exec.Command(srv.bin, "workspace", "create", "other", "--db", srv.db).Output()
	if err != nil {
		t.Fatalf("workspace create: %v", err)
	}
	var ws struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(out, &ws); err != nil {
		t.Fatal(err)
	}
	const url = "https://other-workspace.example/hook"
	call(t, srv.base, ws.APIKey, "POST", "/api/v1/webhook_subscriptions", `{"webhook_url":"`+url+`","event_type":"number_purchased"}`, http.StatusCreated)
	return url
}

func call(t *testing.T, base, key, method, path, body string, want int) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v) // 204 has no body
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %v, want %d", method, path, resp.StatusCode, v, want)
	}
	return v
}
