package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestReceiverCheckInBrowser: an unsigned subscription says so and offers
// no secret to rotate, and "Check receiver" shows the server's report, for
// it and for a signed subscription whose receiver accepts anything.
func TestReceiverCheckInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	careless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(careless.Close)
	base := startServer(t, apiKey)
	ctx, problems := browser(t, chrome)

	step(t, ctx, "sign in",
		chromedp.EmulateViewport(1280, 860),
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.ID("api-key")),
		fill("#api-key", apiKey),
		chromedp.Click(chromedp.CSS(".signin button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("sub-url")),
	)
	card := func(path string) string {
		return `//li[contains(@class,"sub")][.//h3[normalize-space()="` + careless.URL + path + `"]]`
	}
	create := func(path, eventType string) {
		step(t, ctx, "create a "+eventType+" subscription",
			fill("#sub-url", careless.URL+path),
			fill("#sub-type", eventType),
			chromedp.Click(chromedp.CSS("form.create button[type=submit]")),
			chromedp.WaitVisible(chromedp.Search(card(path))),
		)
	}

	create("/sms", "sms_sent")
	unsigned := eval[string](t, ctx, `document.querySelector("li.sub").textContent`)
	for _, want := range []string{"Signingunsigned", "sms_sent is delivered unsigned", "Standard Webhooks"} {
		if !strings.Contains(unsigned, want) {
			t.Errorf("unsigned subscription card lacks %q: %s", want, unsigned)
		}
	}
	if strings.Contains(unsigned, "Rotate secret") || strings.Contains(unsigned, "Secretset") {
		t.Errorf("unsigned subscription offers a secret: %s", unsigned)
	}
	step(t, ctx, "check the unsigned subscription's receiver",
		chromedp.Click(chromedp.Search(card("/sms")+`//button[normalize-space()="Check receiver"]`)),
		chromedp.WaitVisible(chromedp.Search(card("/sms")+`//section[contains(@class,"check")]`)),
	)
	if got := text(t, ctx, "section.check"); !strings.Contains(got, "passed, but unauthenticated") || !strings.Contains(got, "cannot authenticate") {
		t.Errorf("report of the unsigned receiver: %s", got)
	}

	create("/numbers", "number_released")
	step(t, ctx, "check the careless receiver",
		chromedp.Click(chromedp.Search(card("/numbers")+`//button[normalize-space()="Rotate secret"]`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Cancel"]`)),
		chromedp.Click(chromedp.Search(card("/numbers")+`//button[normalize-space()="Check receiver"]`)),
		chromedp.WaitVisible(chromedp.Search(card("/numbers")+`//section[contains(@class,"check")]//div[contains(@class,"finding")]`)),
	)
	step(t, ctx, "screenshot the report", chromedp.ScrollIntoView(chromedp.Search(card("/numbers")+`//section`)), screenshot(t, "receiver-check"))
	report := eval[string](t, ctx, `document.evaluate(`+quoteJS(card("/numbers")+`//section`)+`, document, null, 9, null).singleNodeValue.textContent`)
	for _, want := range []string{"failed", "wrong_signature", "Accepted with 200 OK: a delivery signed with another secret", "Fix:"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q: %s", want, report)
		}
	}
	checkLabels(t, ctx)
	if p := problems(); len(p) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(p, "\n"))
	}
}
