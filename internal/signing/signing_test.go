package signing_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/signing"
)

const (
	nonASCIISecret = "sécret-ключ-🔑"
	// docBody is the documentation's number lifecycle example as delivered.
	docBody = `{"triggerEvent":"number.purchased","createdAt":"2026-06-30T19:30:00.000Z","payload":{"id":4821,"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"…"}}`
)

// nodeCase is one signature to compute with Node.js crypto.
type nodeCase struct {
	Kind   string `json:"kind"` // "hex": documented header; "standard": Standard Webhooks
	Secret string `json:"secret"`
	Key    string `json:"key"` // base64 HMAC key for "standard"
	MsgID  string `json:"msg_id"`
	TS     int64  `json:"ts"`
	Body   string `json:"body"` // base64, so arbitrary bytes reach node intact
}

// nodeScript signs like the documentation's verify (createHmac with the
// secret string, i.e. its UTF-8 bytes) and like the Standard Webhooks
// reference libraries.
const nodeScript = `
const crypto = require("node:crypto");
let input = "";
process.stdin.on("data", d => input += d).on("end", () => {
  const out = JSON.parse(input).map(c => {
    const body = Buffer.from(c.body, "base64");
    if (c.kind === "hex") return crypto.createHmac("sha256", c.secret).update(body).digest("hex");
    const mac = crypto.createHmac("sha256", Buffer.from(c.key, "base64"));
    mac.update(c.msg_id + "." + c.ts + "."); mac.update(body);
    return "v1," + mac.digest("base64");
  });
  process.stdout.write(JSON.stringify(out));
});`

// nodeSign computes the cases in one node process. CI installs Node.js, so
// there its absence fails the test; elsewhere the test skips (the fixed
// vectors computed once with node still run in TestSignVectors).
func nodeSign(t *testing.T, cases []nodeCase) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node is required for independent test vectors: %v", err)
		}
		t.Skip("node not installed: live Node.js vectors skipped (apt-get install nodejs)")
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), node, "-e", nodeScript)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var sigs []string
	if err := json.Unmarshal(out, &sigs); err != nil || len(sigs) != len(cases) {
		t.Fatalf("node output %q: %v", out, err)
	}
	return sigs
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestSignVectors pins values computed once with
// node -e 'crypto.createHmac("sha256", secret).update(body).digest("hex")'.
func TestSignVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, secret, body, want string
	}{
		{"doc body", "whsec_test", docBody, "84441c60ae60b2cf885b3aafe5fa8258fc14f4157e8648e5208ea99913043474"},
		{"non-ASCII secret", nonASCIISecret, docBody, "aa63b045193bb327b0d72220af9a716cb0da0dd55d177e42bf8c41f94481d189"},
		{"empty body", nonASCIISecret, "", "be88b51d5ee1636ce816c381c6b2fc98f1970ef8a3e79a619c6be6dd31d0dde4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := signing.Sign(tt.secret, []byte(tt.body))
			t.Logf("Sign = %s", got)
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSignMatchesNode(t *testing.T) {
	t.Parallel()
	secrets := []string{"s", nonASCIISecret, "whsec_" + base64.StdEncoding.EncodeToString(randomBytes(t, 32)), strings.Repeat("long-secret-", 20)}
	bodies := [][]byte{[]byte(docBody), {}, randomBytes(t, 400), []byte("{\"a\":\"\\u00e9 é\"}\n")}
	var cases []nodeCase
	for _, s := range secrets {
		for _, b := range bodies {
			cases = append(cases, nodeCase{Kind: "hex", Secret: s, Body: base64.StdEncoding.EncodeToString(b)})
		}
	}
	want := nodeSign(t, cases)
	for i, c := range cases {
		body, _ := base64.StdEncoding.DecodeString(c.Body)
		if got := signing.Sign(c.Secret, body); got != want[i] {
			t.Errorf("Sign(%q, %d bytes) = %s, node says %s", c.Secret, len(body), got, want[i])
		}
	}
	t.Logf("%d signatures agree with node", len(cases))
}

func TestDocumentedHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, secret, want string
	}{
		{"no secret", "", signing.NoSecret},
		{"secret", "whsec_test", "84441c60ae60b2cf885b3aafe5fa8258fc14f4157e8648e5208ea99913043474"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := signing.DocumentedHeader(tt.secret, []byte(docBody)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if signing.NoSecret != "no-secret-provided" {
		t.Errorf("NoSecret = %q", signing.NoSecret)
	}
}

func TestGenerateSecret(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`)
	seen := map[string]bool{}
	for range 100 {
		s := signing.GenerateSecret()
		if !shape.MatchString(s) {
			t.Fatalf("secret %q has the wrong shape", s)
		}
		if key := signing.StandardKey(s); len(key) != 32 {
			t.Fatalf("key of %q has %d bytes", s, len(key))
		}
		if seen[s] {
			t.Fatalf("secret %q repeated", s)
		}
		seen[s] = true
	}
	t.Log("100 distinct secrets, e.g.", signing.GenerateSecret()[:10]+"…")
}

func TestStandardKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, secret string
		want         []byte
	}{
		{"whsec decodes", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", mustB64(t, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")},
		{"whsec not base64", "whsec_not base64!", []byte("whsec_not base64!")},
		{"whsec empty", "whsec_", []byte("whsec_")},
		{"plain secret", nonASCIISecret, []byte(nonASCIISecret)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := signing.StandardKey(tt.secret); !bytes.Equal(got, tt.want) {
				t.Errorf("got %x, want %x", got, tt.want)
			}
		})
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStandardSignatureSpecVector is the example of the Standard Webhooks
// specification.
func TestStandardSignatureSpecVector(t *testing.T) {
	t.Parallel()
	key := signing.StandardKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	got := signing.StandardSignature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestStandardSignatureMatchesNode(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 6, 30, 19, 30, 0, 999_000_000, time.UTC) // sub-second part is not signed
	secrets := []string{signing.GenerateSecret(), nonASCIISecret}
	bodies := [][]byte{[]byte(docBody), randomBytes(t, 400)}
	var cases []nodeCase
	for _, s := range secrets {
		for _, b := range bodies {
			cases = append(cases, nodeCase{
				Kind: "standard", Key: base64.StdEncoding.EncodeToString(signing.StandardKey(s)),
				MsgID: "dlv_01jz", TS: ts.Unix(), Body: base64.StdEncoding.EncodeToString(b),
			})
		}
	}
	want := nodeSign(t, cases)
	for i, c := range cases {
		body, _ := base64.StdEncoding.DecodeString(c.Body)
		key, _ := base64.StdEncoding.DecodeString(c.Key)
		if got := signing.StandardSignature(key, c.MsgID, ts, body); got != want[i] {
			t.Errorf("case %d: got %s, node says %s", i, got, want[i])
		}
	}
	t.Logf("%d Standard Webhooks signatures agree with node", len(cases))
}

func TestStandardHeader(t *testing.T) {
	t.Parallel()
	ts := time.Unix(1782847800, 0)
	body := []byte(docBody)
	oldSecret, newSecret := signing.GenerateSecret(), nonASCIISecret
	sig := func(s string) string { return signing.StandardSignature(signing.StandardKey(s), "dlv_1", ts, body) }
	tests := []struct {
		name    string
		secrets []string
		want    string
	}{
		{"one secret", []string{newSecret}, sig(newSecret)},
		{"rotation overlap", []string{oldSecret, newSecret}, sig(oldSecret) + " " + sig(newSecret)},
		{"empty secret skipped", []string{"", newSecret}, sig(newSecret)},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := signing.StandardHeader("dlv_1", ts, body, tt.secrets...)
			t.Logf("webhook-signature: %s", got)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSetStandardHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	ts := time.Unix(1782847800, 500)
	signing.SetStandardHeaders(h, "dlv_1", ts, []byte(docBody), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if h.Get("webhook-id") != "dlv_1" || h.Get("webhook-timestamp") != "1782847800" {
		t.Errorf("headers %v", h)
	}
	if want := signing.StandardHeader("dlv_1", ts, []byte(docBody), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); h.Get("webhook-signature") != want {
		t.Errorf("signature %q, want %q", h.Get("webhook-signature"), want)
	}
}

func BenchmarkSign(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 400)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		signing.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", body)
	}
}

func BenchmarkStandardSignature(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 400)
	key := signing.StandardKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	ts := time.Unix(1782847800, 0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		signing.StandardSignature(key, "dlv_01jz0000000000000000000000", ts, body)
	}
}
