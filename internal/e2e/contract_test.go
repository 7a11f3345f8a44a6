package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// callRecord is the documentation's call example with an outcome, written
// with escapes and number spellings that must survive byte for byte.
func callRecord(id, status, category string) string {
	cat := "null"
	code := "null"
	if category != "" {
		cat = `"` + category + `"`
		code = `"` + category + `_reached"`
	}
	return `{"id":"` + id + `","from_number":"+15551234567","to_number":"+15557654321","direction":"outbound","duration_seconds":0,"status":"` + status + `","failure_code":` + code + `,"failure_category":` + cat + `,"disconnection_reason":null,"created_at":"2026-06-30T19:30:00.000Z","note":"caf\u00e9 \/ \"q\"","score":1.50e0}`
}

const smsRecord = `{"id":"msg_uuid","phone_number":"+15557654321","from_number":"+15551234567","direction":"outbound","status":"delivered","contact_token":"ct_1","provider_id":"pv_1","error_message":null,"channel":"sms","created_at":"2026-06-30T19:30:00.000Z"}`

const numberRecord = `{"id":4821,"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"org_1"}`

type contractEnv struct {
	srv *server
	rcv *receiver
	db  string
}

func setupContract(t *testing.T, args ...string) contractEnv {
	t.Helper()
	rcv := newReceiver(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "revdesk.db")
	// The receivers listen on loopback, which the guard refuses by default.
	srv := startServer(t, "rdk_contract_test_key", db, rcv.caFile(t), append([]string{"--allow-private-networks"}, args...)...)
	return contractEnv{srv: srv, rcv: rcv, db: db}
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// nodeVerify runs the documentation's verify function, verbatim, in Node.js.
func nodeVerify(t *testing.T, body []byte, header, secret string) (ran, ok bool) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is required in CI to run the documentation's verify")
		}
		t.Log("node not installed: the Go HMAC check stands alone")
		return false, false
	}
	script := `import crypto from "node:crypto";
function verify(rawBody, header, secret) {
const expected = crypto.createHmac("sha256", secret).update(rawBody).digest("hex");
return crypto.timingSafeEqual(Buffer.from(header), Buffer.from(expected));
}
const [body, header, secret] = process.argv.slice(1);
process.stdout.write(String(verify(Buffer.from(body, "base64"), header, secret)));`
	cmd := exec.Command(node, "--input-type=module", "-e", script, "--", b64(body), header, secret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node verify: %v\n%s", err, out)
	}
	return true, string(out) == "true"
}

func TestFlatDeliveriesAndDispositions(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	for _, typ := range []string{"call_completed", "call_no_answer", "call_voicemail", "call_busy", "call_failed"} {
		e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/"+typ) + `","event_type":"` + typ + `"}`)
	}
	cases := []struct {
		status, category, fires string
	}{
		{"NO_ANSWER", "no_answer", "call_no_answer"},
		{"VOICEMAIL", "voicemail", "call_voicemail"},
		{"BUSY", "busy", "call_busy"},
		{"FAILED", "failed", "call_failed"},
		{"VOICEMAIL", "", "call_voicemail"}, // status alone decides
		{"COMPLETED", "", ""},
		{"ANSWERED", "", ""},
	}
	want := map[string]int{}
	var answered []string
	for i, c := range cases {
		data := callRecord("call_"+c.status+"_"+itoa(i), c.status, c.category)
		id := e.srv.ingest(`{"event_type":"call_completed","data":` + data + `}`)
		want["/call_completed"]++
		if c.fires == "" {
			answered = append(answered, id)
			continue
		}
		want["/"+c.fires]++
		got := e.rcv.waitFor("/"+c.fires, want["/"+c.fires], 10*time.Second)
		d := got[len(got)-1]
		if string(d.Body) != data {
			t.Errorf("%s body changed:\n got %s\nwant %s", c.fires, d.Body, data)
		}
		if d.Header.Get("X-revdesk-Event-Type") != c.fires {
			t.Errorf("event type header %q, want %q", d.Header.Get("X-revdesk-Event-Type"), c.fires)
		}
	}
	completed := e.rcv.waitFor("/call_completed", want["/call_completed"], 10*time.Second)
	for _, d := range completed {
		if !json.Valid(d.Body) || !strings.Contains(string(d.Body), `"note":"caf\u00e9 \/ \"q\"","score":1.50e0`) {
			t.Errorf("call_completed body not kept byte for byte: %s", d.Body)
		}
		for _, h := range []string{"X-revdesk-Signature-256", "Webhook-Signature"} {
			if _, ok := d.Header[http.CanonicalHeaderKey(h)]; ok {
				t.Errorf("flat delivery carries %s", h)
			}
		}
		for _, h := range []string{"X-revdesk-Event-Id", "X-revdesk-Delivery-Id", "X-revdesk-Subscription-Id"} {
			if d.Header.Get(h) == "" {
				t.Errorf("delivery lacks %s", h)
			}
		}
		if ct := d.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if ua := d.Header.Get("User-Agent"); !strings.HasPrefix(ua, "RevDesk-Webhooks/") {
			t.Errorf("User-Agent %q", ua)
		}
	}
	// An answered call emits nothing besides call_completed.
	for _, id := range answered {
		r := e.srv.do("GET", "/api/v1/deliveries?event_id="+id, "")
		if n := len(r.json(t)["data"].([]any)); n != 1 {
			t.Errorf("answered call %s has %d deliveries, want 1 (call_completed only)", id, n)
		}
	}
	for path, n := range want {
		if got := len(e.rcv.at(path)); got != n {
			t.Errorf("%s received %d deliveries, want %d", path, got, n)
		}
	}
}

func TestEnvelopeAndSignatures(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	const secret = "sécret-ключ-🔑"
	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/purchased") + `","event_type":"number_purchased","signing_secret":"` + secret + `"}`)
	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/released") + `","event_type":"number_released","signing_secret":""}`)
	_, created := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/contact") + `","event_type":"contact_created"}`)
	generated, _ := created["signing_secret"].(string)
	if !strings.HasPrefix(generated, "whsec_") {
		t.Fatalf("create without a secret should return a generated whsec_ secret once, got %v", created)
	}
	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/sms") + `","event_type":"sms_delivered"}`)

	e.srv.ingest(`{"event_type":"number_purchased","occurred_at":"2026-06-30T19:30:00Z","data":` + numberRecord + `}`)
	e.srv.ingest(`{"event_type":"number_released","occurred_at":"2026-06-30T21:30:00.123456+02:00","data":` + numberRecord + `}`)
	e.srv.ingest(`{"event_type":"contact_created","data":{"id":"ct_1","phone_number":"+15551234567","created_at":"2026-06-30T19:30:00.000Z"}}`)
	e.srv.ingest(`{"event_type":"sms_delivered","data":` + smsRecord + `}`)

	purchased := e.rcv.waitFor("/purchased", 1, 10*time.Second)[0]
	wantBody := `{"triggerEvent":"number.purchased","createdAt":"2026-06-30T19:30:00.000Z","payload":` + numberRecord + `}`
	if string(purchased.Body) != wantBody {
		t.Errorf("envelope:\n got %s\nwant %s", purchased.Body, wantBody)
	}
	header := purchased.Header.Get("X-revdesk-Signature-256")
	if header != sign(secret, purchased.Body) {
		t.Errorf("signature %q is not the HMAC-SHA256 of the body under the UTF-8 secret", header)
	}
	if ran, ok := nodeVerify(t, purchased.Body, header, secret); ran && !ok {
		t.Error("the documentation's Node.js verify rejects the delivery")
	}
	if ran, ok := nodeVerify(t, purchased.Body, sign("other", purchased.Body), secret); ran && ok {
		t.Error("the Node.js verify accepts a wrong signature: the check is not real")
	}

	released := e.rcv.waitFor("/released", 1, 10*time.Second)[0]
	if got := released.Header.Get("X-revdesk-Signature-256"); got != "no-secret-provided" {
		t.Errorf("subscription without secret: header %q, want no-secret-provided", got)
	}
	if !strings.HasPrefix(string(released.Body), `{"triggerEvent":"number.released","createdAt":"2026-06-30T19:30:00.123Z","payload":`) {
		t.Errorf("released envelope: %s", released.Body)
	}

	contact := e.rcv.waitFor("/contact", 1, 10*time.Second)[0]
	if !strings.HasPrefix(string(contact.Body), `{"triggerEvent":"contact.created","createdAt":"`) {
		t.Errorf("contact_created is enveloped: %s", contact.Body)
	}
	if got := contact.Header.Get("X-revdesk-Signature-256"); got != sign(generated, contact.Body) {
		t.Errorf("generated secret does not verify: %q", got)
	}

	sms := e.rcv.waitFor("/sms", 1, 10*time.Second)[0]
	if string(sms.Body) != smsRecord {
		t.Errorf("sms body:\n got %s\nwant %s", sms.Body, smsRecord)
	}
	if _, ok := sms.Header[http.CanonicalHeaderKey("X-revdesk-Signature-256")]; ok {
		t.Error("sms delivery is signed")
	}

	// The secret is never shown again.
	list := e.srv.do("GET", "/api/v1/webhook_subscriptions", "")
	for _, row := range list.json(t)["data"].([]any) {
		if _, shown := row.(map[string]any)["signing_secret"]; shown || strings.Contains(string(list.Body), generated) {
			t.Errorf("list shows a secret: %s", list.Body)
		}
		got := e.srv.do("GET", "/api/v1/webhook_subscriptions/"+row.(map[string]any)["id"].(string), "")
		if _, shown := got.json(t)["signing_secret"]; shown || strings.Contains(string(got.Body), generated) {
			t.Errorf("get shows a secret: %s", got.Body)
		}
	}
}

func TestScopingFanOutAndUnsubscribe(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	wf, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/wf") + `","event_type":"new_call","workflow_id":"wf_1"}`)
	cmp, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/cmp") + `","event_type":"new_call","campaign_id":"cmp_1"}`)
	all, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/all") + `","event_type":"new_call"}`)
	both, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/both") + `","event_type":"new_call","workflow_id":"wf_1","campaign_id":"cmp_1"}`)
	other, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/other") + `","event_type":"sms_sent"}`)

	call := callRecord("call_1", "COMPLETED", "")
	e.srv.ingest(`{"event_type":"new_call","workflow_id":"wf_1","data":` + call + `}`)
	e.srv.ingest(`{"event_type":"new_call","campaign_id":"cmp_1","data":` + call + `}`)
	e.srv.ingest(`{"event_type":"new_call","workflow_id":"wf_2","data":` + call + `}`)
	e.srv.ingest(`{"event_type":"new_call","workflow_id":"wf_1","campaign_id":"cmp_1","data":` + call + `}`)

	want := map[string]int{wf: 2, cmp: 2, all: 4, both: 1, other: 0}
	for sub, n := range want {
		r := e.srv.do("GET", "/api/v1/deliveries?subscription_id="+sub, "")
		if got := len(r.json(t)["data"].([]any)); got != n {
			t.Errorf("subscription %s has %d deliveries, want %d", sub, got, n)
		}
	}
	e.rcv.waitFor("/all", 4, 10*time.Second)
	e.rcv.waitFor("/wf", 2, 10*time.Second)

	// Fan-out: two URLs for one type both receive.
	e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/fan-a") + `","event_type":"sms_sent"}`)
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	e.rcv.waitFor("/fan-a", 1, 10*time.Second)
	e.rcv.waitFor("/other", 1, 10*time.Second)

	// An identical active subscription is a conflict naming the first.
	dup := e.srv.do("POST", "/api/v1/webhook_subscriptions", `{"webhook_url":"`+e.rcv.url("/fan-a")+`","event_type":"sms_sent"}`)
	if dup.Status != http.StatusConflict || dup.json(t)["error"].(map[string]any)["existing_id"] == nil {
		t.Errorf("duplicate subscription: %d %s", dup.Status, dup.Body)
	}

	// Unsubscribe: 204, then nothing more for it.
	if r := e.srv.do("DELETE", "/api/v1/webhook_subscriptions/"+other, ""); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := e.srv.do("GET", "/api/v1/webhook_subscriptions/"+other, ""); r.Status != http.StatusNotFound {
		t.Errorf("deleted subscription still readable: %d", r.Status)
	}
	if r := e.srv.do("DELETE", "/api/v1/webhook_subscriptions/"+other, ""); r.Status != http.StatusNotFound {
		t.Errorf("second delete: %d, want 404", r.Status)
	}
	e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	e.rcv.waitFor("/fan-a", 2, 10*time.Second)
	r := e.srv.do("GET", "/api/v1/deliveries?subscription_id="+other, "")
	if got := len(r.json(t)["data"].([]any)); got != 1 {
		t.Errorf("deleted subscription got a new delivery: %d rows", got)
	}
	if got := len(e.rcv.at("/other")); got != 1 {
		t.Errorf("deleted subscription's URL received %d deliveries, want 1", got)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	sub, _ := e.srv.subscribe(`{"webhook_url":"` + e.rcv.url("/a") + `","event_type":"sms_sent"}`)
	ev := e.srv.ingest(`{"event_type":"sms_sent","data":` + smsRecord + `}`)
	e.rcv.waitFor("/a", 1, 10*time.Second)
	dl := e.srv.do("GET", "/api/v1/deliveries?subscription_id="+sub, "").json(t)["data"].([]any)[0].(map[string]any)["id"].(string)

	_, keyB := workspaceCreate(t, e.db, "other tenant")
	b := func(method, path, body string) response { return e.srv.call(method, path, keyB, body) }
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/webhook_subscriptions/" + sub, ""},
		{"DELETE", "/api/v1/webhook_subscriptions/" + sub, ""},
		{"POST", "/api/v1/webhook_subscriptions/" + sub + "/disable", ""},
		{"POST", "/api/v1/webhook_subscriptions/" + sub + "/rotate_secret", ""},
		{"GET", "/api/v1/events/" + ev, ""},
		{"GET", "/api/v1/deliveries/" + dl, ""},
		{"POST", "/api/v1/deliveries/" + dl + "/retry", ""},
	} {
		if r := b(c.method, c.path, c.body); r.Status != http.StatusNotFound || r.errorCode(t) != "not_found" {
			t.Errorf("workspace B %s %s: %d %s, want 404", c.method, c.path, r.Status, r.Body)
		}
	}
	for _, path := range []string{"/api/v1/webhook_subscriptions", "/api/v1/events", "/api/v1/deliveries"} {
		if r := b("GET", path, ""); len(r.json(t)["data"].([]any)) != 0 {
			t.Errorf("workspace B sees A's rows at %s: %s", path, r.Body)
		}
	}
	// B's events never reach A's subscription.
	if r := b("POST", "/api/v1/events", `{"event_type":"sms_sent","data":`+smsRecord+`}`); r.Status != http.StatusAccepted {
		t.Fatalf("B ingest: %d %s", r.Status, r.Body)
	}
	if r := e.srv.do("GET", "/api/v1/deliveries?subscription_id="+sub, ""); len(r.json(t)["data"].([]any)) != 1 {
		t.Errorf("B's event was routed to A: %s", r.Body)
	}
	if r := e.srv.do("GET", "/api/v1/webhook_subscriptions/"+sub, ""); r.Status != http.StatusOK {
		t.Errorf("A's subscription after B's attempts: %d", r.Status)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	url := e.rcv.url("/x")
	tests := []struct {
		name, method, path, key, body string
		contentType                   string
		status                        int
		code                          string
	}{
		{"missing key", "GET", "/api/v1/webhook_subscriptions", "-", "", "", 401, "unauthorized"},
		{"wrong key", "GET", "/api/v1/webhook_subscriptions", "rdk_wrong", "", "", 401, "unauthorized"},
		{"malformed JSON", "POST", "/api/v1/webhook_subscriptions", "", `{"webhook_url":`, "", 400, "invalid_json"},
		{"unknown field", "POST", "/api/v1/webhook_subscriptions", "", `{"webhook_url":"` + url + `","event_type":"sms_sent","evnt_type":"x"}`, "", 400, "invalid_json"},
		{"case-variant field", "POST", "/api/v1/webhook_subscriptions", "", `{"webhook_url":"` + url + `","Event_Type":"sms_sent"}`, "", 400, "invalid_json"},
		{"duplicate key", "POST", "/api/v1/webhook_subscriptions", "", `{"webhook_url":"` + url + `","event_type":"sms_sent","event_type":"sms_sent"}`, "", 400, "invalid_json"},
		{"trailing data", "POST", "/api/v1/webhook_subscriptions", "", `{"webhook_url":"` + url + `","event_type":"sms_sent"}{}`, "", 400, "invalid_json"},
		{"missing url", "POST", "/api/v1/webhook_subscriptions", "", `{"event_type":"sms_sent"}`, "", 400, "missing_field"},
		{"missing type", "POST", "/api/v1/webhook_subscriptions", "", `{"webhook_url":"` + url + `"}`, "", 400, "missing_field"},
		{"unknown type", "POST", "/api/v1/webhook_subscriptions", "", `{"webhook_url":"` + url + `","event_type":"call_ended"}`, "", 400, "unknown_event_type"},
		{"http url", "POST", "/api/v1/webhook_subscriptions", "", `{"webhook_url":"http://example.com/h","event_type":"sms_sent"}`, "", 400, "invalid_webhook_url"},
		{"not json", "POST", "/api/v1/webhook_subscriptions", "", `webhook_url=x`, "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		{"ingest unknown type", "POST", "/api/v1/events", "", `{"event_type":"call_ended","data":{}}`, "", 400, "unknown_event_type"},
		{"ingest derived type", "POST", "/api/v1/events", "", `{"event_type":"call_busy","data":` + callRecord("c", "BUSY", "busy") + `}`, "", 400, "derived_event_type"},
		{"ingest missing data", "POST", "/api/v1/events", "", `{"event_type":"sms_sent"}`, "", 400, "missing_field"},
		{"ingest schema violation", "POST", "/api/v1/events", "", `{"event_type":"sms_sent","data":{"id":"m"}}`, "", 400, "invalid_data"},
		{"ingest wrong field type", "POST", "/api/v1/events", "", `{"event_type":"call_completed","data":` + strings.Replace(callRecord("c", "COMPLETED", ""), `"duration_seconds":0`, `"duration_seconds":"0"`, 1) + `}`, "", 400, "invalid_data"},
		{"contradictory call record", "POST", "/api/v1/events", "", `{"event_type":"call_completed","data":` + callRecord("c", "BUSY", "voicemail") + `}`, "", 400, "invalid_call_record"},
		{"unknown call status", "POST", "/api/v1/events", "", `{"event_type":"call_completed","data":` + callRecord("c", "EXPLODED", "") + `}`, "", 400, "invalid_call_record"},
		{"bad occurred_at", "POST", "/api/v1/events", "", `{"event_type":"sms_sent","occurred_at":"yesterday","data":` + smsRecord + `}`, "", 400, "invalid_field"},
		{"empty batch", "POST", "/api/v1/events", "", `[]`, "", 400, "invalid_batch"},
		{"unknown route", "GET", "/api/v1/nothing", "", "", "", 404, "not_found"},
		{"unknown subscription", "GET", "/api/v1/webhook_subscriptions/whk_nope", "", "", "", 404, "not_found"},
		{"unknown query parameter", "GET", "/api/v1/deliveries?subscription=whk_x", "", "", "", 400, "unknown_parameter"},
		{"bad order", "GET", "/api/v1/events?order=newest", "", "", "", 400, "invalid_parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := e.srv.key
			switch tt.key {
			case "-":
				key = ""
			case "":
			default:
				key = tt.key
			}
			headers := []string{}
			if tt.contentType != "" {
				headers = append(headers, "Content-Type", tt.contentType)
			}
			r := e.srv.call(tt.method, tt.path, key, tt.body, headers...)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			if code := r.errorCode(t); code != tt.code {
				t.Errorf("code %q, want %q: %s", code, tt.code, r.Body)
			}
			t.Logf("%s", r.Body)
		})
	}

	// A batch with one bad event stores nothing.
	before := len(e.srv.do("GET", "/api/v1/events?limit=100", "").json(t)["data"].([]any))
	batch := `[{"event_type":"sms_sent","data":` + smsRecord + `},{"event_type":"sms_sent","data":{"id":1}}]`
	if r := e.srv.do("POST", "/api/v1/events", batch); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "event 1") {
		t.Errorf("bad batch: %d %s", r.Status, r.Body)
	}
	if after := len(e.srv.do("GET", "/api/v1/events?limit=100", "").json(t)["data"].([]any)); after != before {
		t.Errorf("a rejected batch stored %d events", after-before)
	}
	if r := e.srv.do("GET", "/api/v1/webhook_subscriptions", ""); len(r.json(t)["data"].([]any)) != 0 {
		t.Errorf("rejected creates stored subscriptions: %s", r.Body)
	}
}

func TestIdempotentBatchIngest(t *testing.T) {
	t.Parallel()
	e := setupContract(t)
	batch := `[{"event_type":"sms_sent","data":` + smsRecord + `},{"event_type":"sms_delivered","data":` + smsRecord + `}]`
	first := e.srv.do("POST", "/api/v1/events", batch, "Idempotency-Key", "k-1")
	second := e.srv.do("POST", "/api/v1/events", batch, "Idempotency-Key", "k-1")
	if first.Status != 202 || second.Status != 202 {
		t.Fatalf("statuses %d %d: %s %s", first.Status, second.Status, first.Body, second.Body)
	}
	if string(first.Body) != string(second.Body) {
		t.Errorf("replay answered differently:\n%s\n%s", first.Body, second.Body)
	}
	if second.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("replay not marked")
	}
	if n := len(e.srv.do("GET", "/api/v1/events", "").json(t)["data"].([]any)); n != 2 {
		t.Errorf("%d events stored, want 2", n)
	}
	// The log lists oldest first by default and newest first on request.
	ids := func(query string) []string {
		var out []string
		for _, row := range e.srv.do("GET", "/api/v1/events"+query, "").json(t)["data"].([]any) {
			out = append(out, row.(map[string]any)["id"].(string))
		}
		return out
	}
	asc, desc := ids(""), ids("?order=desc")
	if len(asc) != 2 || len(desc) != 2 || asc[0] != desc[1] || asc[1] != desc[0] || asc[0] >= asc[1] {
		t.Errorf("oldest first %v, newest first %v", asc, desc)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
