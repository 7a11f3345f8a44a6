package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

// TestSubscriptionOptionFlags: create and update carry every delivery
// option; secrets are never printed back.
func TestSubscriptionOptionFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := testutil.NewCA(t)
	cert, key := ca.ClientCert(t, "cli-client", time.Now().Add(time.Hour))
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, []byte(cert), 0o600)
	os.WriteFile(keyFile, []byte(key), 0o600)
	run := strings.ReplaceAll(t.Name(), "/", "-") + time.Now().Format("150405.000000")
	sub := ok(t, "", "subscriptions", "create", "--url", "https://example.com/options/"+run,
		"--event-types", "sms_sent,sms_failed", "--header", "X-Team=blue", "--secret-header", "X-Token=cli-secret-token",
		"--filter", `data.status == "failed"`, "--client-cert", certFile, "--client-key", keyFile)
	out := revdesk(t, "", "subscriptions", "get", sub["id"].(string), "--json")
	if strings.Contains(out.stdout, "cli-secret-token") || strings.Contains(out.stdout, "PRIVATE KEY") {
		t.Fatalf("a secret is printed: %s", out.stdout)
	}
	if types := sub["event_types"].([]any); len(types) != 2 || sub["filter"] != `data.status == "failed"` ||
		sub["headers"].(map[string]any)["X-Team"] != "blue" || sub["client_certificate"].(map[string]any)["subject"] != "CN=cli-client" {
		t.Fatalf("created %v", sub)
	}
	table := revdesk(t, "", "subscriptions", "list", "--event-type", "sms_failed")
	if !strings.Contains(table.stdout, "sms_sent,sms_failed") {
		t.Fatalf("the table does not show the types:\n%s", table.stdout)
	}
	up := ok(t, "", "subscriptions", "update", sub["id"].(string), "--no-headers", "--no-client-cert", "--filter", "")
	if len(up["headers"].(map[string]any)) != 0 || up["client_certificate"] != nil || up["filter"] != nil {
		t.Fatalf("updated %v", up)
	}
	for _, args := range [][]string{
		{"subscriptions", "create", "--url", "https://example.com/x", "--event-type", "sms_sent", "--event-types", "sms_sent"},
		{"subscriptions", "create", "--url", "https://example.com/x", "--event-type", "sms_sent", "--header", "novalue"},
		{"subscriptions", "create", "--url", "https://example.com/x", "--event-type", "sms_sent", "--client-cert", certFile},
		{"subscriptions", "create", "--url", "https://example.com/x", "--event-type", "sms_sent", "--filter", "data.x =="},
	} {
		if res := revdesk(t, "", args...); res.code == 0 {
			t.Errorf("%v succeeded", args)
		}
	}
}
