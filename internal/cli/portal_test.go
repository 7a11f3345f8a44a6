package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

func TestPortalURL(t *testing.T) {
	t.Parallel()
	res := revdesk(t, "", "portal-url", "--read-only", "--expires-in", "10m", "--event-type", "sms_sent", "--brand-name", "Acme")
	if res.code != 0 {
		t.Fatalf("portal-url: exit %d: %s", res.code, res.stderr)
	}
	link := strings.TrimSpace(res.stdout)
	base, token, found := strings.Cut(link, "/portal#token=")
	if !found || base != serverURL || !strings.HasPrefix(token, "rdp_") || strings.Contains(link, "\n") {
		t.Fatalf("portal-url printed %q, want one line %s/portal#token=rdp_…", res.stdout, serverURL)
	}
	if !strings.Contains(res.stderr, "portal session pts_") {
		t.Errorf("stderr %q does not name the session", res.stderr)
	}
	req, _ := http.NewRequest(http.MethodGet, serverURL+"/api/v1/portal_sessions/current", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		ReadOnly   bool      `json:"read_only"`
		EventTypes []string  `json:"event_types"`
		BrandName  string    `json:"brand_name"`
		ExpiresAt  time.Time `json:"expires_at"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET current with the link's token: %d, %v", resp.StatusCode, err)
	}
	if !s.ReadOnly || len(s.EventTypes) != 1 || s.EventTypes[0] != "sms_sent" || s.BrandName != "Acme" || time.Until(s.ExpiresAt) > 10*time.Minute {
		t.Errorf("session = %+v, want read-only, sms_sent only, Acme, 10 minutes", s)
	}
	if bad := revdesk(t, "", "portal-url", "--expires-in", "25h"); bad.code == 0 || !strings.Contains(bad.stderr, "expires_in must be from 1 to 86400") {
		t.Errorf("portal-url --expires-in 25h: exit %d, %q", bad.code, bad.stderr)
	}
}

// TestSubscriptionsTest: the test event reaches the subscription it was sent
// to, marked, and no other subscription of that type.
func TestSubscriptionsTest(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	got := map[string]http.Header{} // by delivery id: other tests send number_purchased too
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Header.Get("X-revdesk-Delivery-Id")] = r.Header.Clone()
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	run := strconv.FormatInt(time.Now().UnixNano(), 36) // the server outlives -count repetitions
	target := ok(t, "", "subscriptions", "create", "--url", hook.URL+"/target/"+run, "--event-type", "number_purchased")["id"].(string)
	sibling := ok(t, "", "subscriptions", "create", "--url", hook.URL+"/sibling/"+run, "--event-type", "number_purchased")["id"].(string)

	sent := ok(t, "", "subscriptions", "test", target)
	if !strings.HasPrefix(sent["event_id"].(string), "evt_") || !strings.HasPrefix(sent["delivery_id"].(string), "dlv_") {
		t.Fatalf("subscriptions test: %v", sent)
	}
	var h http.Header
	testutil.Eventually(t, 20*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		h = got[sent["delivery_id"].(string)]
		return h != nil, "no test delivery yet"
	})
	if h.Get("X-revdesk-Test") != "true" || h.Get("X-revdesk-Signature-256") == "" || h.Get("X-revdesk-Subscription-Id") != target {
		t.Errorf("test delivery headers: %v", h)
	}
	// Deliveries are created with the event in one transaction: the
	// sibling's would exist by now. Other tests share the server and send
	// number_purchased events of their own, so only this event counts.
	if list := items(ok(t, "", "deliveries", "list", "--subscription-id", sibling, "--event-id", sent["event_id"].(string))); len(list) != 0 {
		t.Errorf("the sibling subscription got %d deliveries of the test", len(list))
	}
	custom := ok(t, "", "subscriptions", "test", target, "--data", `{"id":1,"phone_number":"+15550000000","area_code":"555","status":"ACTIVE","organization_id":"o"}`)
	if custom["event_id"] == sent["event_id"] {
		t.Error("second test reused the event")
	}
	if bad := revdesk(t, "", "subscriptions", "test", target, "--data", `{"id":1}`); bad.code == 0 || !strings.Contains(bad.stderr, "invalid_data") {
		t.Errorf("test with invalid data: exit %d, %q", bad.code, bad.stderr)
	}
}
