package receivercheck

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/receivercheck/checktest"
	"github.com/revdesk/webhooks/webhook"
)

const secret = checktest.Secret

func findings(r *Report) []string {
	var names []string
	for _, f := range r.Findings {
		names = append(names, f.Severity+":"+f.Request)
	}
	return names
}

// receiver serves h and records the X-revdesk-Check header of each request.
func receiver(t *testing.T, h http.Handler) (string, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var marks []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		marks = append(marks, r.Header.Get(HeaderCheck))
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hooks", func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(marks)
	}
}

func check(t *testing.T, url, eventType string, standard bool) *Report {
	t.Helper()
	r, err := Run(context.Background(), Config{
		URL: url, Secret: secret, EventType: eventType, StandardWebhooks: standard,
		Policy: netguard.Policy{AllowPrivate: true}, AllowHTTP: true, UserAgent: "RevDesk-Webhooks/test",
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReceivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		handler   http.Handler
		eventType string
		standard  bool
		passed    bool
		findings  []string // severity:request of each finding, in order
		requests  int
	}{
		{"correct, documented signature", checktest.Correct(false), "number_purchased", false, true, nil, 7},
		{"correct, Standard Webhooks on a signed type", checktest.Correct(true), "number_purchased", true, true, nil, 10},
		{"correct, Standard Webhooks on an unsigned type", checktest.Correct(true), "call_completed", true, true, nil, 9},
		{"correct, unsigned type", checktest.Correct(false), "sms_delivered", false, true, []string{"warning:"}, 2},
		{"accepts everything", http.HandlerFunc(checktest.AcceptsEverything), "number_released", true, false, []string{
			"problem:wrong_signature", "problem:no_signature", "problem:no_secret_provided", "problem:other_body",
			"problem:truncated_body", "problem:stale_timestamp", "problem:future_timestamp", "problem:other_id",
		}, 10},
		{"compares with == but ignores the timestamp", http.HandlerFunc(checktest.IgnoresTimestamp), "contact_created", true, false,
			[]string{"problem:stale_timestamp", "problem:future_timestamp"}, 10},
		{"verifies a re-serialised body", http.HandlerFunc(checktest.Reserialises), "number_purchased", false, false,
			[]string{"problem:genuine", "problem:sorted_body"}, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, marks := receiver(t, tt.handler)
			r := check(t, url, tt.eventType, tt.standard)
			if testing.Verbose() {
				b, _ := json.MarshalIndent(r, "", "  ")
				t.Logf("%s", b)
			}
			if r.Passed != tt.passed || !slices.Equal(findings(r), tt.findings) || len(r.Requests) != tt.requests {
				b, _ := json.MarshalIndent(r, "", "  ")
				t.Errorf("passed %v, findings %v, %d requests; want %v, %v, %d\n%s", r.Passed, findings(r), len(r.Requests), tt.passed, tt.findings, tt.requests, b)
			}
			if r.Requests[0].DeliveryID == "" || r.Requests[1].DeliveryID != r.Requests[0].DeliveryID {
				t.Errorf("the repeat was not the same delivery: %s, %s", r.Requests[0].DeliveryID, r.Requests[1].DeliveryID)
			}
			for _, req := range r.Requests[2:] {
				if req.DeliveryID == r.Requests[0].DeliveryID {
					t.Errorf("%s reuses the genuine delivery's id", req.Name)
				}
			}
			got := marks()
			for i, req := range r.Requests {
				want := req.Kind
				if want == KindGenuine {
					want = "" // genuine deliveries carry exactly the real headers
				}
				if i >= len(got) || got[i] != want {
					t.Errorf("request %s arrived marked %q, want %q", req.Name, got, want)
				}
			}
		})
	}
}

// TestNoSecret: a signed type's subscription without a secret sends
// no-secret-provided, which nothing can tell from a forgery.
func TestNoSecret(t *testing.T) {
	t.Parallel()
	url, _ := receiver(t, http.HandlerFunc(checktest.AcceptsEverything))
	r, err := Run(context.Background(), Config{URL: url, EventType: "number_purchased", Policy: netguard.Policy{AllowPrivate: true}, AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Passed || r.Authenticated || len(r.Requests) != 2 || !slices.Equal(findings(r), []string{"warning:"}) || !strings.Contains(r.Findings[0].Summary, "no signing secret") {
		t.Errorf("report %+v", r)
	}
}

// TestRotationOverlap: during an overlap the genuine delivery is signed as
// real ones are, with the previous secret in X-revdesk-Signature-256.
func TestRotationOverlap(t *testing.T) {
	t.Parallel()
	until := time.Now().Add(time.Hour)
	run := func(h http.Handler) *Report {
		url, _ := receiver(t, h)
		r, err := Run(context.Background(), Config{URL: url, Secret: "the-new-secret", PreviousSecret: secret, PreviousUntil: &until,
			Policy: netguard.Policy{AllowPrivate: true}, AllowHTTP: true})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := run(checktest.Correct(false)); !r.Passed {
		t.Errorf("a receiver holding the previous secret fails: %v", findings(r))
	}
	onlyNew := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if webhook.Verify(body, r.Header.Get(webhook.HeaderSignature256), "the-new-secret") != nil {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	r := run(onlyNew)
	if r.Passed || len(r.Findings) == 0 || !strings.Contains(r.Findings[0].Fix, "rotation is overlapping") {
		t.Errorf("a receiver holding only the new secret: %+v", r.Findings)
	}
}

func TestDuplicateRefused(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]bool{}
	strict := checktest.Correct(false)
	url, _ := receiver(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		dup := seen[r.Header.Get(webhook.HeaderDeliveryID)]
		seen[r.Header.Get(webhook.HeaderDeliveryID)] = true
		mu.Unlock()
		if dup {
			http.Error(w, "duplicate", http.StatusConflict)
			return
		}
		strict(w, r)
	}))
	r := check(t, url, "number_purchased", false)
	if r.Passed || !slices.Equal(findings(r), []string{"problem:duplicate"}) || r.Requests[1].Status != http.StatusConflict {
		t.Errorf("passed %v, findings %v, duplicate answered %d", r.Passed, findings(r), r.Requests[1].Status)
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/hooks"
	ln.Close() // nothing listens there now
	r := check(t, url, "", false)
	if r.Passed || len(r.Requests) != 1 || r.Requests[0].Error == "" || !slices.Equal(findings(r), []string{"problem:genuine"}) {
		t.Errorf("report %+v", r)
	}
	if r.EventType != DefaultEventType {
		t.Errorf("checked %s, want the default %s", r.EventType, DefaultEventType)
	}
}

// TestGuardedAtConnection: a name that passes URL validation but resolves
// to loopback is refused when dialled, as deliveries are.
func TestGuardedAtConnection(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := net.LookupHost(host)
	if err != nil || len(addrs) == 0 || !netip.MustParseAddr(addrs[0]).IsLoopback() {
		t.Skipf("%s does not resolve to loopback here (%v, %v)", host, addrs, err)
	}
	url, _ := receiver(t, http.HandlerFunc(checktest.AcceptsEverything))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimSuffix(url, "/hooks"), "http://"))
	r, err := Run(context.Background(), Config{URL: "http://" + net.JoinHostPort(host, port) + "/hooks", Secret: secret, AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Requests) != 1 || !strings.Contains(r.Requests[0].Error, netguard.ErrForbiddenAddress.Error()) || r.Passed {
		t.Errorf("report %+v", r)
	}
}

func TestInvalidConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"unknown event type", Config{URL: "https://example.com/h", Secret: "s", EventType: "call_done"}},
		{"Standard Webhooks without a secret", Config{URL: "https://example.com/h", StandardWebhooks: true}},
		{"loopback without --allow-private-networks", Config{URL: "https://127.0.0.1/h", Secret: "s"}},
		{"localhost without --allow-private-networks", Config{URL: "https://localhost/h", Secret: "s"}},
		{"http without AllowHTTP", Config{URL: "http://example.com/h", Secret: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Run(context.Background(), tt.cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("err %v, want ErrInvalidConfig", err)
			}
		})
	}
}
