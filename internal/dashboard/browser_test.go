package dashboard_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const apiKey = "rdk_dashboard_browser_test_key"

// TestDashboardInBrowser drives the dashboard in headless Chromium against
// the real binary: sign in, create a subscription, send a test event, follow
// its delivery and attempts, retry it, and watch the live view.
func TestDashboardInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	hook, hits := receiver(t)
	base := startServer(t, apiKey)
	ctx, problems := browser(t, chrome)

	step(t, ctx, "sign in",
		chromedp.EmulateViewport(1280, 860),
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.ID("api-key")),
		screenshot(t, "sign-in"),
		chromedp.SendKeys(chromedp.ID("api-key"), "rdk_wrong"),
		chromedp.Click(chromedp.CSS(".signin button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".signin .error")),
		fill("#api-key", apiKey),
		chromedp.Click(chromedp.CSS(".signin button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("sub-url")),
	)
	// The key was traded for a session token: the browser keeps only that.
	stored := eval[string](t, ctx, `JSON.stringify({...sessionStorage})`)
	if strings.Contains(stored, apiKey) || !strings.Contains(stored, `\"token\":\"rdp_`) {
		t.Fatalf("sessionStorage holds %s: want a session token and not the API key", stored)
	}
	checkLabels(t, ctx)

	// call_busy is derived: the dashboard must send a call_completed record
	// that produces it, scoped to the subscription's workflow. With Standard
	// Webhooks its deliveries are signed, so it has a secret to rotate.
	step(t, ctx, "create a subscription",
		chromedp.SendKeys(chromedp.ID("sub-url"), hook.URL+"/hooks"),
		fill("#sub-type", "call_busy"),
		chromedp.SendKeys(chromedp.ID("sub-wf"), "wf_demo"),
		chromedp.Click(chromedp.ID("sub-sw")),
		chromedp.Click(chromedp.CSS("form.create button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("li.sub")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=secret]`)),
	)
	if secret := text(t, ctx, `[data-testid=secret]`); !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("signing secret shown after create = %q, want whsec_…", secret)
	}
	step(t, ctx, "screenshot subscriptions", screenshot(t, "subscriptions"))

	step(t, ctx, "send a test event and open its deliveries",
		chromedp.Click(chromedp.CSS("li.sub .actions button.primary")),
		chromedp.WaitVisible(chromedp.CSS("li.sub .sent button")),
		chromedp.Click(chromedp.CSS("li.sub .sent button")),
		chromedp.WaitVisible(chromedp.CSS("li.event table.deliveries tbody tr")),
	)
	if typ := text(t, ctx, "li.event .type"); typ != "call_busy" {
		t.Fatalf("event opened after the test send is %q, want the derived call_busy", typ)
	}
	waitFor(t, ctx, "the delivery to succeed after the scheduled retry",
		`document.querySelector("table.deliveries tbody tr .badge")?.textContent === "succeeded"`)
	step(t, ctx, "screenshot event log", screenshot(t, "event-log"))

	step(t, ctx, "open the delivery's attempts",
		chromedp.Click(chromedp.CSS("table.deliveries tbody tr button")),
		chromedp.WaitVisible(chromedp.CSS("table.attempts tbody tr")),
	)
	waitFor(t, ctx, "two attempts", `document.querySelectorAll("table.attempts tbody tr").length === 2`)
	if got := statusCodes(t, ctx); got != "500,200" {
		t.Fatalf("attempt status codes = %s, want 500,200", got)
	}
	if body := text(t, ctx, `table.attempts tbody tr:first-child td[data-label="Response body"]`); !strings.Contains(body, "warming up") {
		t.Fatalf("first attempt's response body = %q", body)
	}
	step(t, ctx, "screenshot attempts", screenshot(t, "delivery-attempts"))

	step(t, ctx, "retry the delivery", chromedp.Click(chromedp.CSS(".delivery .actions button.primary")))
	waitFor(t, ctx, "a third attempt", `document.querySelectorAll("table.attempts tbody tr").length === 3`)
	if got := statusCodes(t, ctx); got != "500,200,200" {
		t.Fatalf("attempt status codes after retry = %s, want 500,200,200", got)
	}
	if n := hits.Load(); n != 3 {
		t.Fatalf("receiver got %d requests, want 3", n)
	}

	step(t, ctx, "open the live view",
		chromedp.Click(chromedp.Search(`//nav/button[normalize-space()="Live"]`)),
		chromedp.WaitVisible(chromedp.CSS("#chart-throughput canvas")),
		chromedp.WaitVisible(chromedp.CSS("#chart-latency canvas")),
	)
	before := eval[int](t, ctx, `Number(document.querySelector("#chart-throughput [data-points]").dataset.points)`)
	// Events flowing while the view is open, over two of its samples.
	for i, events := range []int{2, 3} {
		for range events {
			ingest(t, base)
		}
		waitFor(t, ctx, "the chart to take a new sample",
			`Number(document.querySelector("#chart-throughput [data-points]").dataset.points) >= `+strconv.Itoa(before+i+1))
	}
	waitFor(t, ctx, "the attempts tile to count the new deliveries",
		`[...document.querySelectorAll(".tile")].some(t => t.textContent === "Attempts since start8")`)
	step(t, ctx, "screenshot live view", screenshot(t, "live"))

	step(t, ctx, "open the endpoints view",
		chromedp.Click(chromedp.Search(`//nav/button[normalize-space()="Endpoints"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.endpoints tbody tr")),
	)
	// The receiver's endpoint, with the limit its deliveries taught it.
	endpoint := hook.URL // http://127.0.0.1:port, as a lane key
	waitFor(t, ctx, "the receiver's endpoint with its limit",
		`((r) => r && Number(r.querySelector('td[data-label="Limit"]').textContent) >= 1)(document.querySelector('table.endpoints tr[data-endpoint="`+endpoint+`"]'))`)
	step(t, ctx, "screenshot endpoints", screenshot(t, "endpoints"))

	step(t, ctx, "narrow screen",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Click(chromedp.Search(`//nav/button[normalize-space()="Subscriptions"]`)),
		chromedp.WaitVisible(chromedp.CSS("li.sub")),
	)
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("page is %d px wide at a 390 px viewport: it scrolls sideways", w)
	}
	step(t, ctx, "screenshot narrow screen", screenshot(t, "narrow-subscriptions"))
	step(t, ctx, "filter the event log on a narrow screen",
		chromedp.Click(chromedp.Search(`//nav/button[normalize-space()="Event log"]`)),
		chromedp.WaitVisible(chromedp.ID("ev-type")),
		fill("#ev-type", "call_busy"),
	)
	waitFor(t, ctx, "the filtered event log",
		`((l) => l.length > 0 && l.every(e => e.textContent === "call_busy"))([...document.querySelectorAll("li.event .type")])`)
	step(t, ctx, "open attempts on a narrow screen",
		chromedp.Click(chromedp.CSS(`li.event .event-head button`)),
		chromedp.Click(chromedp.CSS("table.deliveries tbody tr button")),
		chromedp.WaitVisible(chromedp.CSS("table.attempts tbody tr")),
	)
	checkLabels(t, ctx)
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("attempts page is %d px wide at a 390 px viewport", w)
	}
	step(t, ctx, "screenshot narrow attempts", screenshot(t, "narrow-attempts"))

	manageSubscription(t, ctx, text(t, ctx, `[data-testid=secret]`))

	// Signing out revokes the session token, not just forgets it.
	token := eval[string](t, ctx, `JSON.parse(sessionStorage.getItem("revdesk.session")).token`)
	step(t, ctx, "sign out",
		chromedp.Click(chromedp.CSS("button.signout")),
		chromedp.WaitVisible(chromedp.ID("api-key")),
	)
	if left := eval[int](t, ctx, `sessionStorage.length`); left != 0 {
		t.Errorf("sessionStorage holds %d items after signing out", left)
	}
	call(t, base, token, "GET", "/api/v1/event_types", "", http.StatusUnauthorized)

	var unexpected []string
	for _, p := range problems() {
		// The browser logs the 401 of the wrong key tried on purpose.
		if !strings.Contains(p, "status of 401") {
			unexpected = append(unexpected, p)
		}
	}
	if len(unexpected) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(unexpected, "\n"))
	}
}

// manageSubscription rotates the secret, disables and enables the
// subscription, asks for bulk recovery and deletes it, on the narrow screen.
func manageSubscription(t *testing.T, ctx context.Context, firstSecret string) {
	step(t, ctx, "rotate the secret",
		chromedp.Click(chromedp.Search(`//nav/button[normalize-space()="Subscriptions"]`)),
		chromedp.Click(chromedp.Search(`//li[contains(@class,"sub")]//button[normalize-space()="Rotate secret"]`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Rotate immediately"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=secret]`)),
	)
	if s := text(t, ctx, `[data-testid=secret]`); !strings.HasPrefix(s, "whsec_") || s == firstSecret {
		t.Fatalf("rotated secret = %q (first was %q)", s, firstSecret)
	}
	step(t, ctx, "edit: a rate limit, ordered delivery, a filter and a header",
		chromedp.Click(chromedp.Search(`//li[contains(@class,"sub")]//button[normalize-space()="Edit"]`)),
		chromedp.SendKeys(chromedp.CSS(`form.edit input[type=number]`), "20"),
		chromedp.Click(chromedp.Search(`//form[contains(@class,"edit")]//label[contains(.,"Ordered")]/input`)),
		chromedp.SendKeys(chromedp.CSS(`form.edit input[id$="-filter"]`), `data.status != "NONE"`),
		chromedp.SendKeys(chromedp.CSS(`form.edit textarea[id$="-headers"]`), "X-Team: blue"),
		screenshot(t, "edit-subscription"),
		chromedp.Click(chromedp.Search(`//form[contains(@class,"edit")]//button[normalize-space()="Save changes"]`)),
	)
	waitFor(t, ctx, "the changed subscription", `!document.querySelector("form.edit") &&
		document.querySelector("li.sub .meta").textContent.includes("20/s") &&
		document.querySelector("li.sub .meta").textContent.includes("per resource") &&
		document.querySelector("li.sub .meta").textContent.includes('data.status != "NONE"') &&
		document.querySelector("li.sub .meta").textContent.includes("X-Team: blue")`)
	step(t, ctx, "disable", chromedp.Click(chromedp.Search(`//li[contains(@class,"sub")]//button[normalize-space()="Disable"]`)))
	waitFor(t, ctx, "the disabled badge", `document.querySelector("li.sub .badge")?.textContent === "disabled"`)
	step(t, ctx, "enable", chromedp.Click(chromedp.Search(`//li[contains(@class,"sub")]//button[normalize-space()="Enable"]`)))
	waitFor(t, ctx, "the active badge", `document.querySelector("li.sub .badge")?.textContent === "active"`)
	step(t, ctx, "bulk recovery", chromedp.Click(chromedp.Search(`//li[contains(@class,"sub")]//button[normalize-space()="Retry failed"]`)))
	waitFor(t, ctx, "the recovery message", `document.querySelector("[role=status]").textContent.includes("queued again")`)
	step(t, ctx, "delete with confirmation",
		chromedp.Click(chromedp.Search(`//li[contains(@class,"sub")]//button[normalize-space()="Delete"]`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Delete subscription"]`)),
		chromedp.WaitVisible(chromedp.CSS("p.empty")),
	)
}

func step(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	return eval[string](t, ctx, `document.querySelector(`+quoteJS(css)+`)?.textContent.trim() ?? ""`)
}

func waitFor(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func statusCodes(t *testing.T, ctx context.Context) string {
	return eval[string](t, ctx, `[...document.querySelectorAll('table.attempts td[data-label="Status code"]')].map(td => td.textContent.trim()).join()`)
}

// checkLabels asserts that every form control has a label.
func checkLabels(t *testing.T, ctx context.Context) {
	t.Helper()
	unlabelled := eval[[]string](t, ctx, `[...document.querySelectorAll("input, select")].filter(e => !e.labels.length).map(e => e.id || e.outerHTML)`)
	if len(unlabelled) > 0 {
		t.Errorf("controls without a label: %v", unlabelled)
	}
}

// fill sets a control's value and fires the input and change events a user
// would, so the page's handlers run (chromedp's SetValue and Clear change
// only the DOM).
func fill(css, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector(`+quoteJS(css)+`);
			e.value = `+quoteJS(value)+`;
			for (const type of ["input", "change"]) e.dispatchEvent(new Event(type, {bubbles: true})); })()`))
		return err
	})
}

// screenshot writes docs/screenshots/NAME.png, only when asked to, so test
// runs do not change the checked-in images.
func screenshot(t *testing.T, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if os.Getenv("REVDESK_UPDATE_SCREENSHOTS") != "1" {
			return nil
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			return err
		}
		path := filepath.Join("..", "..", "docs", "screenshots", name+".png")
		t.Logf("writing %s", path)
		return os.WriteFile(path, png, 0o644)
	})
}

// ingest posts one more matching call record through the API.
func ingest(t *testing.T, base string) {
	body := `{"event_type":"call_completed","workflow_id":"wf_demo","data":{"id":"call_live","from_number":"+15551234567","to_number":"+15557654321",
		"direction":"outbound","duration_seconds":0,"status":"BUSY","failure_code":"user_busy","failure_category":"busy","disconnection_reason":null,"created_at":"2026-06-30T19:30:00.000Z"}}`
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest answered %d", resp.StatusCode)
	}
}

// quoteJS makes a JavaScript string literal (Go's quoting is valid JS for
// the ASCII selectors and values used here).
func quoteJS(s string) string { return strconv.Quote(s) }
