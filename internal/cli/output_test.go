package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

func TestHoistGlobalFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args, want []string
	}{
		{[]string{"--server", "http://s", "--api-key=k", "events", "list"}, []string{"events", "list", "--server", "http://s", "--api-key=k"}},
		{[]string{"--json", "check-receiver", "http://r"}, []string{"check-receiver", "http://r", "--json"}},
		{[]string{"--config", "c.json", "--server=http://s", "subscriptions", "list"}, []string{"--config", "c.json", "subscriptions", "list", "--server=http://s"}},
		{[]string{"--api-key", "k", "events", "send", "--", "-file"}, []string{"events", "send", "--api-key", "k", "--", "-file"}},
		{[]string{"subscriptions", "list", "--server", "http://s"}, []string{"subscriptions", "list", "--server", "http://s"}},
		{[]string{"--help"}, []string{"--help"}},
	}
	for _, tt := range tests {
		if got := hoistGlobalFlags(tt.args); !slices.Equal(got, tt.want) {
			t.Errorf("hoistGlobalFlags(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// bare runs the binary without REVDESK_SERVER and REVDESK_API_KEY.
func bare(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, cleanEnv(), "", args...)
}

func TestGlobalFlagsAnywhere(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"before the command", []string{"--server", serverURL, "--api-key", testKey, "subscriptions", "list", "--json"}, 0, `"has_more"`},
		{"--json first, = forms", []string{"--json", "--server=" + serverURL, "--api-key=" + testKey, "event-types", "list"}, 0, `"trigger_event": "number.purchased"`},
		{"after the command", []string{"deliveries", "list", "--server", serverURL, "--api-key", testKey, "--json"}, 0, `"has_more"`},
		{"mixed", []string{"--api-key", testKey, "event-types", "list", "--server", serverURL}, 0, "NAME"},
		{"a wrong key before the command", []string{"--api-key", "rdk_wrong", "--server", serverURL, "api-keys", "list"}, 1, "error: invalid or revoked API key (unauthorized)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := bare(t, tt.args...)
			if res.code != tt.code || !strings.Contains(res.stdout+res.stderr, tt.want) {
				t.Errorf("exit %d, want %d and %q:\n%s%s", res.code, tt.code, tt.want, res.stdout, res.stderr)
			}
		})
	}
}

// people runs a command that must succeed and returns what it printed for people.
func people(t *testing.T, args ...string) string {
	t.Helper()
	res := revdesk(t, "", args...)
	if res.code != 0 {
		t.Fatalf("revdesk %s: exit %d: %s", strings.Join(args, " "), res.code, res.stderr)
	}
	return res.stdout
}

func contains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// TestTablesForPeople: without --json every command prints a table or a
// list of fields, and says what an unsigned subscription means.
func TestTablesForPeople(t *testing.T) {
	t.Parallel()
	url := "http://127.0.0.1:1/tables/" + time.Now().Format("150405.000000000")
	created := people(t, "subscriptions", "create", "--url", url, "--event-type", "call_failed", "--workflow-id", "wf-tables")
	contains(t, "create", created, "signing_secret", "Store the signing secret now", "call_failed is delivered unsigned", "--standard-webhooks")
	sub := ok(t, "", "subscriptions", "list", "--event-type", "call_failed", "--limit", "100")
	var id string
	for _, s := range items(sub) {
		if s["webhook_url"] == url {
			id = s["id"].(string)
		}
	}
	contains(t, "list", people(t, "subscriptions", "list", "--event-type", "call_failed", "--limit", "100"),
		"ID ", "EVENT TYPE", "SIGNING", "SCOPE", id+"  call_failed  active  unsigned  workflow=wf-tables  "+url)
	shown := people(t, "subscriptions", "show", id)
	contains(t, "show", shown, "webhook_url           "+url, "has_signing_secret    yes", "campaign_id           -",
		"consecutive_failures  0", "auto_recover          yes", "is delivered unsigned")
	if strings.Contains(shown, "Store the signing secret") {
		t.Errorf("show claims to show the secret:\n%s", shown)
	}

	for range 2 { // two, so a page of one has more
		contains(t, "trigger", people(t, "events", "trigger", "call_failed", "--workflow-id", "wf-tables"), "Accepted event evt_")
	}
	events := people(t, "events", "list", "--event-type", "call_failed", "--order", "desc", "--limit", "1")
	contains(t, "events list", events, "ID ", "EVENT TYPE", "OCCURRED AT", "call_failed", "more: repeat with --after evt_")
	evt := strings.Fields(strings.Split(events, "\n")[1])[0]
	contains(t, "events show", people(t, "events", "show", evt), "id               "+evt, "source_event_id  evt_", "data:", `"failure_category": "failed"`)

	contains(t, "event-types list", people(t, "event-types", "list"), "NAME", "FAMILY", "number_purchased", "enveloped  yes", "call_busy")
	contains(t, "event-types show", people(t, "event-types", "show", "number_purchased"), "trigger_event  number.purchased", "schema:", "example:", `"area_code": "555"`)
	var et map[string]any
	if err := json.Unmarshal([]byte(revdesk(t, "", "event-types", "show", "sms_sent", "--json").stdout), &et); err != nil || et["signed"] != false {
		t.Errorf("event-types show --json: %v %v", et, err)
	}
	if res := revdesk(t, "", "event-types", "show", "sms_lost"); res.code == 0 || !strings.Contains(res.stderr, `unknown event type "sms_lost"; the server has: new_call`) {
		t.Errorf("unknown type: exit %d, %s", res.code, res.stderr)
	}

	var deliveries string
	testutil.Eventually(t, 20*time.Second, func() (bool, string) {
		deliveries = people(t, "deliveries", "list", "--subscription-id", id, "--status", "failed")
		return strings.Count(deliveries, "dlv_") == 2, "failed deliveries:\n" + deliveries
	})
	contains(t, "deliveries list", deliveries, "ATTEMPTS", "call_failed  failed  1 ", "connection refused")
	dlv := strings.Fields(strings.Split(deliveries, "\n")[1])[0]
	contains(t, "deliveries show", people(t, "deliveries", "show", dlv), "status           failed", "attempts:", "NUMBER", "ERROR CLASS", "connection_refused")

	contains(t, "retry-failed", people(t, "subscriptions", "retry-failed", id, "--since", "1h"), "2 failed deliveries of "+id+" since ")
	if res := revdesk(t, "", "subscriptions", "retry-failed", id, "--since", "yesterday"); res.code == 0 || !strings.Contains(res.stderr, "want an RFC 3339 time") {
		t.Errorf("bad --since: exit %d, %s", res.code, res.stderr)
	}
	contains(t, "delete", people(t, "subscriptions", "delete", id), "Deleted subscription "+id+".")
}

func TestAPIKeyCommands(t *testing.T) {
	t.Parallel()
	created := ok(t, "", "api-keys", "create")
	id, key := created["id"].(string), created["api_key"].(string)
	if !strings.HasPrefix(key, "rdk_") {
		t.Fatalf("create: %v", created)
	}
	contains(t, "create", people(t, "api-keys", "create"), "api_key", "Store the key now")
	contains(t, "list", people(t, "api-keys", "list"), "ID ", "CREATED AT", "REVOKED AT", id)
	if res := bare(t, "--server", serverURL, "--api-key", key, "events", "list", "--limit", "1"); res.code != 0 {
		t.Errorf("the new key does not work: %s", res.stderr)
	}
	contains(t, "revoke", people(t, "api-keys", "revoke", id), "Revoked API key "+id+".")
	if res := bare(t, "--server", serverURL, "--api-key", key, "events", "list"); res.code == 0 || !strings.Contains(res.stderr, "(unauthorized)") {
		t.Errorf("the revoked key still works: exit %d %s", res.code, res.stderr)
	}
	if res := revdesk(t, "", "api-keys", "revoke", "key_0000000000000000"); res.code == 0 || !strings.Contains(res.stderr, "error: no such resource (not_found)") {
		t.Errorf("revoke unknown: exit %d %s", res.code, res.stderr)
	}
}
