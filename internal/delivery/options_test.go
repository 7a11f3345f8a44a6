package delivery

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/store"
	"github.com/revdesk/webhooks/internal/testutil"
)

// TestCustomHeadersNeverReplaceOurs: even a header stored without the
// API's check (an older server's row) cannot replace a delivery's own.
func TestCustomHeadersNeverReplaceOurs(t *testing.T) {
	t.Parallel()
	job := testJob(t, "number_purchased")
	job.Subscription.Headers = []store.Header{
		{Name: "x-team", Value: "blue"},
		{Name: "X-revdesk-Event-Type", Value: "forged"},
		{Name: "X-Revdesk-Signature-256", Value: "forged"},
		{Name: "Content-Type", Value: "text/plain"},
	}
	req, err := Request(context.Background(), job, "ua", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("X-Team") != "blue" || req.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", req.Header)
	}
	// Ours are under their documented spelling; a forged canonical
	// spelling must not travel beside them.
	for _, name := range []string{"X-Revdesk-Event-Type", "X-Revdesk-Signature-256"} {
		if v, ok := req.Header[name]; ok {
			t.Errorf("a custom %s = %v travels beside ours", name, v)
		}
	}
	//lint:ignore SA1008 deliveries carry the documented, non-canonical spelling
	if got := req.Header[HeaderEventType]; len(got) != 1 || got[0] != "number_purchased" {
		t.Errorf("event type header %v", got)
	}
}

func TestCheckHeaders(t *testing.T) {
	t.Parallel()
	ok := []store.Header{{Name: "X-Team", Value: "blue"}, {Name: "Authorization", Value: "Bearer t"}}
	if err := CheckHeaders(ok); err != nil {
		t.Fatal(err)
	}
	many := make([]store.Header, MaxHeaders+1)
	for i := range many {
		many[i] = store.Header{Name: "X-H" + strings.Repeat("a", i), Value: "v"}
	}
	for name, hs := range map[string][]store.Header{
		"host":      {{Name: "host", Value: "x"}},
		"ours":      {{Name: "x-REVDESK-anything", Value: "x"}},
		"standard":  {{Name: "Webhook-Timestamp", Value: "1"}},
		"hop":       {{Name: "Keep-Alive", Value: "1"}},
		"te":        {{Name: "TE", Value: "trailers"}},
		"empty":     {{Name: "", Value: "x"}},
		"newline":   {{Name: "X-A", Value: "a\nb"}},
		"too many":  many,
		"too large": {{Name: "X-A", Value: strings.Repeat("a", MaxHeaderBytes)}},
	} {
		if err := CheckHeaders(hs); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestClientCerts: a subscription's certificate is presented (one cached
// transport per certificate); others go without.
func TestClientCerts(t *testing.T) {
	t.Parallel()
	ca := testutil.NewCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 {
			w.Header().Set("X-Client", r.TLS.PeerCertificates[0].Subject.CommonName)
		}
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: ca.Pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	base := srv.Client().Transport.(*http.Transport).Clone()
	cc := NewClientCerts(base)
	cert, key := ca.ClientCert(t, "sub-a", time.Now().Add(time.Hour))
	with := &store.Subscription{ClientCert: cert, ClientKey: key}
	send := func(sub *store.Subscription) string {
		req, _ := http.NewRequestWithContext(withClientCert(context.Background(), sub), "POST", srv.URL, nil)
		resp, err := cc.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Client")
	}
	if got := send(with); got != "sub-a" {
		t.Fatalf("presented %q", got)
	}
	if got := send(&store.Subscription{}); got != "" {
		t.Fatalf("a subscription without a certificate presented %q", got)
	}
	send(with)
	if len(cc.m) != 1 {
		t.Fatalf("%d transports for one certificate", len(cc.m))
	}
	if _, _, err := ParseClientCert(cert, key, time.Now().Add(2*time.Hour)); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("an expired certificate was accepted: %v", err)
	}
}
