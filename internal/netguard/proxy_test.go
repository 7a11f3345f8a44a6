package netguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/testutil"
)

func proxyURL(p *testutil.ConnectProxy, user string) *url.URL {
	u := &url.URL{Scheme: "http", Host: p.Addr}
	if user != "" {
		u.User = url.UserPassword(user, "pw")
	}
	return u
}

// proxied is a transport through the proxy whose lookups answer with
// answers (name → addresses), trusting the receiver's certificate.
func proxied(t *testing.T, p Policy, proxy *url.URL, srv *httptest.Server, answers map[string][]string) *http.Transport {
	t.Helper()
	tr, err := NewProxiedTransport(p, 5*time.Second, proxy)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := newConnectDialer(p, 5*time.Second, proxy)
	d.lookup = func(_ context.Context, _, host string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, a := range answers[host] {
			out = append(out, netip.MustParseAddr(a))
		}
		if out == nil {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return out, nil
	}
	tr.DialContext = d.DialContext
	tr.TLSClientConfig.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	return tr
}

func TestEgressProxy(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	// The test receiver lives on loopback: open it explicitly, as an
	// operator would open an internal range.
	open := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	answers := map[string][]string{"example.com": {"127.0.0.1"}, "internal.example": {"127.0.0.2"}, "mixed.example": {"127.0.0.1", "10.0.0.1"}}
	target := func(host string) string { return "https://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/" }

	tests := []struct {
		name, url  string
		wantErr    error
		wantTarget string
	}{
		// The certificate names example.com: TLS is verified against the
		// hostname while the proxy is asked for the checked address.
		{"name", target("example.com"), nil, "127.0.0.1:" + strconv.Itoa(port)},
		{"loopback name refused", target("internal.example"), ErrForbiddenAddress, ""},
		{"mixed answer refused", target("mixed.example"), ErrForbiddenAddress, ""},
		{"loopback literal refused", "https://127.0.0.3:" + strconv.Itoa(port) + "/", ErrForbiddenAddress, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			proxy := testutil.StartConnectProxy(t, nil)
			tr := proxied(t, open, proxyURL(proxy, ""), srv, answers)
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest("POST", tc.url, strings.NewReader("{}"))
			resp, err := tr.RoundTrip(req)
			targets, _ := proxy.Seen()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("RoundTrip = %v, want %v", err, tc.wantErr)
				}
				if len(targets) != 0 {
					t.Fatalf("the proxy was asked for %v", targets)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(targets) != 1 || targets[0] != tc.wantTarget {
				t.Fatalf("proxy saw CONNECT %v, want [%s]", targets, tc.wantTarget)
			}
		})
	}

	t.Run("hostname still verified", func(t *testing.T) {
		t.Parallel()
		proxy := testutil.StartConnectProxy(t, nil)
		tr := proxied(t, open, proxyURL(proxy, ""), srv, map[string][]string{"other.test": {"127.0.0.1"}})
		req, _ := http.NewRequest("POST", target("other.test"), strings.NewReader("{}"))
		_, err := tr.RoundTrip(req)
		if ErrorClass(err) != ClassTLS {
			t.Fatalf("a certificate for another name = %v (class %q), want a TLS error", err, ErrorClass(err))
		}
	})
	t.Run("proxy refusing", func(t *testing.T) {
		t.Parallel()
		proxy := testutil.StartConnectProxy(t, nil)
		tr := proxied(t, open, proxyURL(proxy, ""), srv, answers)
		req, _ := http.NewRequest("POST", "https://127.0.0.1:1/", strings.NewReader("{}"))
		if _, err := tr.RoundTrip(req); !errors.Is(err, ErrProxy) || !strings.Contains(err.Error(), "502") {
			t.Fatalf("RoundTrip = %v, want the proxy's refusal", err)
		}
	})
	t.Run("bad proxy URL", func(t *testing.T) {
		t.Parallel()
		for _, u := range []string{"https://p:1", "http://p", "socks5://p:1"} {
			pu, _ := url.Parse(u)
			if _, err := NewProxiedTransport(open, time.Second, pu); !errors.Is(err, ErrProxy) {
				t.Errorf("%s: %v", u, err)
			}
		}
	})
}

// TestEgressProxyAuth: credentials in the proxy URL go as Basic auth.
func TestEgressProxyAuth(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	proxy := testutil.StartConnectProxy(t, nil)
	tr, err := NewProxiedTransport(Policy{AllowPrivate: true}, 5*time.Second, proxyURL(proxy, "egress"))
	if err != nil {
		t.Fatal(err)
	}
	tr.TLSClientConfig.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader("{}"))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, auth := proxy.Seen(); len(auth) != 1 || auth[0] != "Basic ZWdyZXNzOnB3" {
		t.Fatalf("Proxy-Authorization %q", auth)
	}
}
