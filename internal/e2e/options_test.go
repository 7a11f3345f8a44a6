package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/store"
	"github.com/revdesk/webhooks/internal/store/postgres"
	"github.com/revdesk/webhooks/internal/store/sqlite"
	"github.com/revdesk/webhooks/internal/testutil"
)

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

const smsOf = `{"id":"msg_%d","phone_number":"+15557654321","from_number":"+15551234567","direction":"outbound",
	"status":%q,"contact_token":"c","provider_id":"p","error_message":null,"channel":"sms","created_at":"2026-06-30T19:30:00.000Z"}`

// deliveriesOf lists the deliveries of a subscription.
func deliveriesOf(t *testing.T, srv *server, sub string) []any {
	t.Helper()
	return srv.do("GET", "/api/v1/deliveries?subscription_id="+sub, "").json(t)["data"].([]any)
}

// TestDeliveryOptions: one subscription for several types gets each with
// its own shape and signature and its custom headers (which cannot
// replace ours); a filter routes exactly; no secret is in the database
// file, sealed under the key file created beside it.
func TestDeliveryOptions(t *testing.T) {
	t.Parallel()
	e := setupContract(t, "--retry-schedule", "")
	multi, created := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/multi") + `","event_types":["sms_sent","number_purchased"],
		"headers":{"X-Team":"blue","X-Receiver-Token":{"value":"tok-must-not-leak-1234","secret":true}}}`)
	secret := created["signing_secret"].(string)
	filtered, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/filtered") + `","event_type":"sms_sent",
		"filter":"data.status == \"delivered\" && data.id.startsWith(\"msg_\")"}`)

	// Refused overrides of ours, with a 400 naming the header.
	for _, h := range []string{"X-revdesk-Signature-256", "webhook-id", "Host", "Content-Length", "Transfer-Encoding"} {
		r := e.srv.do("POST", "/api/v1/webhook_subscriptions", `{"webhook_url":"`+e.rcv.url("/bad")+`","event_type":"sms_sent","headers":{`+quote(h)+`:"x"}}`)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), h) {
			t.Errorf("header %s: %d %s", h, r.Status, r.Body)
		}
	}

	e.srv.ingest(`{"event_type":"sms_sent","data":` + fmt.Sprintf(smsOf, 1, "sent") + `}`)
	e.srv.ingest(`{"event_type":"sms_sent","data":` + fmt.Sprintf(smsOf, 2, "delivered") + `}`)
	number := e.srv.ingest(`{"event_type":"number_purchased","data":{"id":4821,"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"o"}}`)

	got := e.rcv.waitFor("/multi", 3, 15*time.Second)
	types := map[string]int{}
	for _, d := range got {
		typ := d.Header.Get("X-revdesk-Event-Type")
		types[typ]++
		if d.Header.Get("X-Team") != "blue" || d.Header.Get("X-Receiver-Token") != "tok-must-not-leak-1234" {
			t.Errorf("custom headers missing: %v", d.Header)
		}
		if d.Header.Get("X-revdesk-Subscription-Id") != multi {
			t.Errorf("subscription header %q", d.Header.Get("X-revdesk-Subscription-Id"))
		}
		sig := d.Header.Get("X-revdesk-Signature-256")
		switch typ {
		case "sms_sent": // flat and unsigned, as its family is
			if sig != "" || !bytes.HasPrefix(d.Body, []byte(`{"id":"msg_`)) {
				t.Errorf("sms_sent delivered signed or enveloped: %q %s", sig, d.Body)
			}
		case "number_purchased": // enveloped and signed with the one secret
			if sig != sign(secret, d.Body) || !bytes.HasPrefix(d.Body, []byte(`{"triggerEvent":"number.purchased"`)) {
				t.Errorf("number_purchased: signature %q, body %s", sig, d.Body)
			}
			if d.Header.Get("X-revdesk-Event-Id") != number {
				t.Errorf("event id %q, want %s", d.Header.Get("X-revdesk-Event-Id"), number)
			}
		}
	}
	if types["sms_sent"] != 2 || types["number_purchased"] != 1 {
		t.Fatalf("the multi-type subscription got %v", types)
	}
	// Routing decided at ingest (before each 202): the filtered one has
	// exactly the matching event's delivery.
	if n := len(deliveriesOf(t, e.srv, filtered)); n != 1 {
		t.Fatalf("the filtered subscription has %d deliveries, want 1", n)
	}
	if d := e.rcv.waitFor("/filtered", 1, 15*time.Second)[0]; !bytes.Contains(d.Body, []byte(`"delivered"`)) {
		t.Fatalf("the filter let through %s", d.Body)
	}

	// At rest: the key file beside the database, and no secret in the
	// database file or its WAL.
	path := strings.TrimPrefix(e.db, "sqlite:")
	st, err := os.Stat(path + ".secrets-key")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v (mode %v)", err, st.Mode().Perm())
	}
	e.srv.stop() // its last writes are in the files now
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, s := range []string{secret, "tok-must-not-leak-1234"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q in clear", filepath.Base(f), s)
			}
		}
	}
}

// TestMutualTLS: a receiver requiring a client certificate accepts the
// subscription that carries ours and refuses the one without.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	ca := testutil.NewCA(t)
	rcv := &receiver{t: t, notify: make(chan struct{}, 1), counts: map[string]int{}}
	rcv.Server = httptest.NewUnstartedServer(http.HandlerFunc(rcv.serve))
	rcv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool}
	rcv.StartTLS()
	t.Cleanup(rcv.Close)
	srv := startServer(t, "rdk_mtls_key", sqliteDB(t), rcv.caFile(t), "--allow-private-networks", "--retry-schedule", "")
	cert, key := ca.ClientCert(t, "revdesk-e2e", time.Now().Add(time.Hour))
	with, v := srv.subscribe(`{"webhook_url":"` + rcv.url("/mtls") + `","event_type":"sms_sent",
		"client_certificate":{"certificate":` + quote(cert) + `,"private_key":` + quote(key) + `}}`)
	if c := v["client_certificate"].(map[string]any); c["subject"] != "CN=revdesk-e2e" {
		t.Fatalf("client_certificate shown as %v", c)
	}
	without, _ := srv.subscribe(`{"webhook_url":"` + rcv.url("/plain") + `","event_type":"sms_sent"}`)
	srv.ingest(`{"event_type":"sms_sent","data":` + fmt.Sprintf(smsOf, 1, "sent") + `}`)

	if d := rcv.waitFor("/mtls", 1, 15*time.Second)[0]; d.Header.Get("X-revdesk-Subscription-Id") != with {
		t.Fatalf("delivery of %s", d.Header.Get("X-revdesk-Subscription-Id"))
	}
	testutil.Eventually(t, 15*time.Second, func() (bool, string) {
		ds := deliveriesOf(t, srv, without)
		if len(ds) != 1 {
			return false, fmt.Sprintf("%d deliveries", len(ds))
		}
		d := ds[0].(map[string]any)
		return d["status"] == "failed", fmt.Sprintf("status %v, last error %v", d["status"], d["last_error"])
	})
	if n := len(rcv.at("/plain")); n != 0 {
		t.Fatalf("the receiver accepted %d requests without a client certificate", n)
	}
	// The receiver check presents the certificate too: its genuine
	// delivery is the real one.
	report := srv.do("POST", "/api/v1/webhook_subscriptions/"+with+"/check", "").json(t)
	if first := report["requests"].([]any)[0].(map[string]any); first["status"] != float64(200) {
		t.Fatalf("the check's genuine delivery: %v", first)
	}
}

// TestEgressProxyDeliveries: with --egress-proxy every delivery goes
// through a real CONNECT proxy, which is asked for checked addresses only;
// a name resolving to loopback is still refused, before the proxy hears
// of it.
func TestEgressProxyDeliveries(t *testing.T) {
	t.Parallel()
	// The receiver stands for a public host: its certificate names a
	// public address, and the proxy (the network beyond it) tunnels that
	// address to the receiver on loopback. No packet leaves the machine.
	const public = "93.184.216.34"
	ca := testutil.NewCA(t)
	rcv := &receiver{t: t, notify: make(chan struct{}, 1), counts: map[string]int{}}
	rcv.Server = httptest.NewUnstartedServer(http.HandlerFunc(rcv.serve))
	rcv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.ServerCert(t, net.ParseIP(public))}}
	rcv.StartTLS()
	t.Cleanup(rcv.Close)
	proxy := testutil.StartConnectProxy(t, map[string]string{public + ":443": rcv.Listener.Addr().String()})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	// No --allow-private-networks: the guard is fully on.
	srv := startServer(t, "rdk_proxy_key", sqliteDB(t), caFile, "--retry-schedule", "", "--egress-proxy", "http://"+proxy.Addr)
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if addrs, err := net.LookupHost(host); err != nil || len(addrs) == 0 || !net.ParseIP(addrs[0]).IsLoopback() {
		t.Skipf("this machine's name %q does not resolve to loopback (%v %v)", host, addrs, err)
	}
	ok, _ := srv.subscribe(`{"webhook_url":"https://` + public + `/hooks","event_type":"sms_sent"}`)
	refused, _ := srv.subscribe(`{"webhook_url":"https://` + host + `:` + fmt.Sprint(rcv.Listener.Addr().(*net.TCPAddr).Port) + `/hooks","event_type":"sms_sent"}`)
	for i := range 3 {
		srv.ingest(`{"event_type":"sms_sent","data":` + fmt.Sprintf(smsOf, i, "sent") + `}`)
	}
	rcv.waitFor("/hooks", 3, 15*time.Second)
	testutil.Eventually(t, 15*time.Second, func() (bool, string) {
		ds := deliveriesOf(t, srv, refused)
		failed := 0
		for _, d := range ds {
			if d.(map[string]any)["status"] == "failed" {
				failed++
			}
		}
		return failed == 3, fmt.Sprintf("%d of %d deliveries to the loopback name failed", failed, len(ds))
	})
	// The receiver check goes through the proxy too.
	before, _ := proxy.Seen()
	report := srv.do("POST", "/api/v1/webhook_subscriptions/"+ok+"/check", "").json(t)
	if first := report["requests"].([]any)[0].(map[string]any); first["status"] != float64(200) {
		t.Fatalf("the check's genuine delivery: %v", first)
	}
	targets, _ := proxy.Seen()
	if len(targets) <= len(before) {
		t.Fatalf("the check did not go through the proxy (%d CONNECTs before, %d after)", len(before), len(targets))
	}
	for _, tg := range targets {
		if tg != public+":443" {
			t.Errorf("the proxy was asked for %q: only the checked public address may be", tg)
		}
	}
	for _, d := range rcv.at("/hooks") {
		if d.Header.Get("X-revdesk-Subscription-Id") != ok {
			t.Errorf("a delivery of %s reached the receiver", d.Header.Get("X-revdesk-Subscription-Id"))
		}
	}
	first := deliveriesOf(t, srv, refused)[0].(map[string]any)["id"].(string)
	if a := srv.do("GET", "/api/v1/deliveries/"+first, "").json(t); !strings.Contains(string(mustJSON(a)), "forbidden_address") {
		t.Errorf("the refused delivery does not say forbidden_address: %v", a)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestSecretsMigrationAndRotation: a database written before encryption
// (its secret in clear) is sealed on the first start with a key; after a
// key rotation (new key first, then the new key alone) the subscription
// still signs with its original secret.
func TestSecretsMigrationAndRotation(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	path := filepath.Join(t.TempDir(), "revdesk.db")
	const secret = "whsec_c2VjcmV0LWZyb20tYmVmb3JlLWVuY3J5cHRpb24"
	// Before encryption: the subscription's row holds the secret in clear.
	old, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := old.EnsureWorkspace(t.Context(), store.CreateWorkspaceParams{Name: "default", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := old.CreateSubscription(t.Context(), store.CreateSubscriptionParams{WorkspaceID: ws.ID, Now: time.Now(),
		WebhookURL: rcv.url("/old"), EventType: "number_purchased", SigningSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	stored := func() string {
		st, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		got, err := st.GetSubscription(t.Context(), ws.ID, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.SigningSecret
	}
	k1, k2 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)), base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	event := `{"event_type":"number_purchased","data":{"id":1,"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"o"}}`
	srv := startServer(t, "rdk_migrate_key", "sqlite:"+path, rcv.caFile(t), "--allow-private-networks", "--secrets-key", k1)
	for i, keys := range [][]string{{k1}, {k2, k1}, {k2}} {
		if i > 0 {
			srv.stop()
			srv.args = []string{"--allow-private-networks"}
			for _, k := range keys {
				srv.args = append(srv.args, "--secrets-key", k)
			}
			srv.start()
		}
		srv.ingest(event)
		d := rcv.waitFor("/old", i+1, 15*time.Second)[i]
		if got := d.Header.Get("X-revdesk-Signature-256"); got != sign(secret, d.Body) {
			t.Fatalf("start %d (keys %d): signature %q does not verify with the original secret", i+1, len(keys), got)
		}
		srv.stop() // the store is read while no server runs
		if s := stored(); s == secret || !strings.HasPrefix(s, "rdk-enc:v1:") {
			t.Fatalf("start %d: stored secret %q", i+1, s)
		}
		srv.start()
	}
	// The old key alone no longer opens what the rotation re-sealed: the
	// server refuses to start rather than sign with garbage.
	srv.stop()
	res := run(t, binary, "serve", "--addr", "127.0.0.1:0", "--db", "sqlite:"+path, "--secrets-key", k1)
	if res.err == nil || !strings.Contains(res.out, "not configured") {
		t.Fatalf("start with the old key only: %v\n%s", res.err, res.out)
	}
}

type runResult struct {
	out string
	err error
}

// run runs the binary to its end (a start that must fail).
func run(t *testing.T, bin string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return runResult{string(out), err}
}

// TestDeliveryOptionsPostgres: on PostgreSQL a server refuses to start
// without a secrets key; two processes sharing one route a multi-type,
// filtered subscription made on one for events ingested on the other,
// and the database holds its secret sealed.
func TestDeliveryOptionsPostgres(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	res := run(t, binary, "serve", "--addr", "127.0.0.1:0", "--db", dsn)
	if res.err == nil || !strings.Contains(res.out, "PostgreSQL needs a secrets key") {
		t.Fatalf("start without a key: %v\n%s", res.err, res.out)
	}
	rcv := newReceiver(t)
	ca := rcv.caFile(t)
	args := []string{"--allow-private-networks", "--retry-schedule", ""}
	a, b := startServer(t, "rdk_options_pg_key", dsn, ca, args...), startServer(t, "rdk_options_pg_key", dsn, ca, args...)
	id, created := a.subscribe(`{"webhook_url":"` + rcv.url("/pg") + `","event_types":["sms_sent","sms_failed"],
		"headers":{"X-Token":{"value":"pg-header-secret","secret":true}},"filter":"data.status != \"sent\""}`)
	for i, status := range []string{"sent", "delivered", "failed"} {
		typ := "sms_sent"
		if status == "failed" {
			typ = "sms_failed"
		}
		b.ingest(`{"event_type":"` + typ + `","data":` + fmt.Sprintf(smsOf, i, status) + `}`)
	}
	got := rcv.waitFor("/pg", 2, 20*time.Second)
	for _, d := range got {
		if d.Header.Get("X-Token") != "pg-header-secret" || bytes.Contains(d.Body, []byte(`"status":"sent"`)) {
			t.Errorf("delivery %s %s", d.Header, d.Body)
		}
	}
	if n := len(deliveriesOf(t, b, id)); n != 2 {
		t.Fatalf("%d deliveries, want 2 (the filter drops the one sent)", n)
	}
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	subs, err := st.AllSubscriptions(t.Context())
	if err != nil || len(subs) != 1 {
		t.Fatalf("%d subscriptions, %v", len(subs), err)
	}
	if s := subs[0]; s.SigningSecret == created["signing_secret"] || !strings.HasPrefix(s.SigningSecret, "rdk-enc:v1:") ||
		!strings.HasPrefix(s.Headers[0].Value, "rdk-enc:v1:") {
		t.Fatalf("stored in PostgreSQL: %q, header %q", s.SigningSecret, s.Headers[0].Value)
	}
}
