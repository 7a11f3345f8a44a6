package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/revdesk/webhooks/internal/receivercheck/checktest"
)

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/hooks"
}

// TestCheckReceiver runs the command against receivers in this process:
// the exit status and the report's findings for each.
func TestCheckReceiver(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.Handler
		args    []string
		code    int
		want    []string
	}{
		{"correct receiver", checktest.Correct(false), nil, 0,
			[]string{"ok      wrong_signature", "Result: passed"}},
		{"correct, Standard Webhooks", checktest.Correct(true), []string{"--standard-webhooks", "--event-type", "call_voicemail"}, 0,
			[]string{"ok      stale_timestamp", "Result: passed"}},
		{"accepts everything", http.HandlerFunc(checktest.AcceptsEverything), nil, 1,
			[]string{"FAILED  wrong_signature", "PROBLEM: Accepted with 200 OK: a delivery without any signature header", "How to fix it:", "FAILED with 5 problem(s)"}},
		{"ignores the timestamp", http.HandlerFunc(checktest.IgnoresTimestamp), []string{"--standard-webhooks"}, 1,
			[]string{"FAILED  stale_timestamp", "FAILED  future_timestamp", "ok      other_id", "replayed forever", "FAILED with 2 problem(s)"}},
		{"verifies a re-serialised body", http.HandlerFunc(checktest.Reserialises), nil, 1,
			[]string{"FAILED  genuine", "The genuine delivery was refused with 401 Unauthorized", "re-serialised JSON", "FAILED with 2 problem(s)"}},
		{"unsigned type", checktest.Correct(false), []string{"--event-type", "sms_failed"}, 0,
			[]string{"sms_failed is delivered unsigned: the receiver cannot authenticate it", "Opt in to Standard Webhooks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"check-receiver", serve(t, tt.handler), "--secret", checktest.Secret, "--allow-private-networks"}, tt.args...)
			res := revdesk(t, "", args...)
			if res.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %s", res.code, tt.code, res.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("report lacks %q:\n%s", w, res.stdout)
				}
			}
		})
	}
}

func TestCheckReceiverJSONAndErrors(t *testing.T) {
	t.Parallel()
	url := serve(t, http.HandlerFunc(checktest.AcceptsEverything))
	res := revdesk(t, "", "--json", "check-receiver", url, "--secret", "s", "--allow-private-networks")
	var report struct {
		Passed   bool `json:"passed"`
		Findings []struct {
			Request string `json:"request"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &report); err != nil || res.code != 1 || report.Passed || len(report.Findings) != 5 {
		t.Errorf("--json: exit %d, %v, %+v\n%s", res.code, err, report, res.stdout)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"loopback without the flag", []string{url, "--secret", "s"}, "needs --allow-private-networks"},
		{"no secret for a signed type", []string{url, "--allow-private-networks"}, "--secret is required"},
		{"unknown type", []string{url, "--secret", "s", "--event-type", "call_done"}, `unknown event type "call_done"`},
	} {
		res := revdesk(t, "", append([]string{"check-receiver"}, tt.args...)...)
		if res.code == 0 || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", tt.name, res.code, res.stderr, tt.want)
		}
	}
}

// TestSubscriptionCheck has the server check a subscription's receiver.
func TestSubscriptionCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.Handler
		code    int
		want    string
	}{
		{"correct receiver", checktest.Correct(true), 0, "Result: passed"},
		{"broken receiver", http.HandlerFunc(checktest.IgnoresTimestamp), 1, "FAILED  stale_timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sub := ok(t, "", "subscriptions", "create", "--url", serve(t, tt.handler), "--event-type", "new_appointment", "--secret", checktest.Secret, "--standard-webhooks")["id"].(string)
			res := revdesk(t, "", "subscriptions", "check", sub)
			if res.code != tt.code || !strings.Contains(res.stdout, tt.want) {
				t.Errorf("exit %d, want %d and %q:\n%s%s", res.code, tt.code, tt.want, res.stdout, res.stderr)
			}
		})
	}
}
