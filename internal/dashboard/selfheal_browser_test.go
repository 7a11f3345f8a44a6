package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestSelfHealingInBrowser: a subscription shows its health; a disabled one
// comes first with its reason and an "Enable and replay" control that
// replays and shows the replay's progress; "View deliveries" lists that
// subscription's deliveries with its URL; the event log's "Failed only"
// lists failed deliveries, and a delivery shows the request it sent.
func TestSelfHealingInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(ok.Close)
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) }))
	t.Cleanup(gone.Close)
	base := startServerWith(t, apiKey, "--maintenance-interval", "200ms").base
	ctx, problems := browser(t, chrome)
	card := func(url string) string {
		return `//li[contains(@class,"sub")][.//h3[normalize-space()="` + url + `/hooks"]]`
	}
	step(t, ctx, "sign in and create two subscriptions",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.ID("api-key")),
		fill("#api-key", apiKey),
		chromedp.Click(chromedp.CSS(".signin button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("sub-url")),
		fill("#sub-url", ok.URL+"/hooks"),
		fill("#sub-type", "number_released"),
		chromedp.Click(chromedp.CSS("form.create button[type=submit]")),
		chromedp.WaitVisible(chromedp.Search(card(ok.URL))),
		fill("#sub-url", gone.URL+"/hooks"),
		fill("#sub-type", "number_released"),
		chromedp.Click(chromedp.CSS("form.create button[type=submit]")),
		chromedp.WaitVisible(chromedp.Search(card(gone.URL))),
	)
	step(t, ctx, "a test event: the 410 disables one subscription",
		chromedp.Click(chromedp.Search(card(gone.URL)+`//button[normalize-space()="Send test event"]`)),
		chromedp.Navigate(base), // a reload lists it again, disabled
		chromedp.WaitVisible(chromedp.Search(card(gone.URL)+`//span[normalize-space()="disabled"]`)),
		// The health is read from the delivery log after the card shows.
		chromedp.WaitVisible(chromedp.Search(card(gone.URL)+`//dl[contains(@class,"health")][contains(.,"% of")]`)),
	)
	first := eval[string](t, ctx, `document.querySelector("li.sub h3").textContent`)
	if first != gone.URL+"/hooks" {
		t.Errorf("first subscription listed is %q, want the disabled one", first)
	}
	health := eval[string](t, ctx, `document.querySelector("li.sub dl.health").textContent`)
	for _, want := range []string{"Healthdisabled", "Last attempt", "failed", "Success, 24 h0 % of 1"} {
		if !strings.Contains(health, want) {
			t.Errorf("health of the disabled subscription lacks %q: %s", want, health)
		}
	}
	step(t, ctx, "enable and replay",
		chromedp.Click(chromedp.Search(card(gone.URL)+`//button[normalize-space()="Enable and replay"]`)),
		chromedp.WaitVisible(chromedp.Search(card(gone.URL)+`//p[contains(.,"Replay") and contains(.,"finished")]`)),
	)
	step(t, ctx, "view the deliveries of the other subscription",
		chromedp.Click(chromedp.Search(card(ok.URL)+`//button[normalize-space()="Send test event"]`)),
		chromedp.WaitVisible(chromedp.Search(card(ok.URL)+`//p[contains(@class,"sent")]`)),
		chromedp.Click(chromedp.Search(card(ok.URL)+`//p/button[contains(.,"View deliveries of")]`)),
		chromedp.WaitVisible(chromedp.CSS("table.delivery-list tbody tr")),
	)
	if got := text(t, ctx, "table.delivery-list tbody"); !strings.Contains(got, ok.URL+"/hooks") {
		t.Errorf("the subscription's deliveries do not name its URL: %s", got)
	}
	step(t, ctx, "failed only",
		chromedp.Click(chromedp.Search(`//nav/button[normalize-space()="Event log"]`)),
		chromedp.WaitVisible(chromedp.ID("ev-failed")),
		chromedp.Click(chromedp.ID("ev-failed")),
		chromedp.WaitVisible(chromedp.CSS("table.delivery-list tbody tr")),
		chromedp.Click(chromedp.CSS("table.delivery-list tbody tr button")),
		chromedp.WaitVisible(chromedp.CSS("details.request")),
	)
	req := eval[string](t, ctx, `document.querySelector("details.request").textContent`)
	for _, want := range []string{"POST " + gone.URL + "/hooks", "X-revdesk-Signature-256", "\"triggerEvent\":\"number.released\""} {
		if !strings.Contains(req, want) {
			t.Errorf("the request shown lacks %q: %s", want, req)
		}
	}
	checkLabels(t, ctx)
	if p := problems(); len(p) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(p, "\n"))
	}
}
