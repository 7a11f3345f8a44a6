package netguard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// receiver is a real local HTTP server counting the requests it gets.
type receiver struct {
	srv  *httptest.Server
	hits atomic.Int64
}

// startReceiver listens on listenAddr ("127.0.0.1:0", "[::1]:0", ...), or
// skips the test when this host cannot (no IPv6, no such address).
func startReceiver(t *testing.T, listenAddr string, h http.HandlerFunc) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", listenAddr, err)
	}
	r := &receiver{}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if h != nil {
			h(w, req)
		}
	}))
	r.srv.Listener.Close()
	r.srv.Listener = ln
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) port() string {
	_, port, _ := net.SplitHostPort(r.srv.Listener.Addr().String())
	return port
}

type dialCase struct {
	name   string
	listen string // where the receiver listens
	host   string // URL host, port appended
}

func dialCases(t *testing.T) []dialCase {
	cases := []dialCase{
		{"ipv4 loopback", "127.0.0.1:0", "127.0.0.1"},
		{"other ipv4 loopback", "127.0.0.2:0", "127.0.0.2"},
		{"ipv4 unspecified reaches loopback", "127.0.0.1:0", "0.0.0.0"},
		{"ipv6 loopback", "[::1]:0", "[::1]"},
		{"ipv6 unspecified reaches loopback", "[::1]:0", "[::]"},
		{"ipv4-mapped loopback", "127.0.0.1:0", "[::ffff:127.0.0.1]"},
		{"ipv4-mapped loopback hex", "127.0.0.1:0", "[::ffff:7f00:1]"},
		{"hostname resolving to loopback", "127.0.0.1:0", "localhost"},
	}
	// This host's own interface addresses (private, ULA, link-local with a
	// zone, ...): any the policy refuses must be unreachable too.
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Logf("listing interfaces: %v", err)
		return cases
	}
	for _, ifc := range ifaces {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil || pfx.Addr().IsLoopback() {
				continue
			}
			addr := pfx.Addr()
			if addr.Is6() && addr.IsLinkLocalUnicast() {
				addr = addr.WithZone(ifc.Name)
			}
			if (Policy{}).CheckAddr(addr) == nil {
				continue // a public address: not this test's business
			}
			ap := netip.AddrPortFrom(addr, 0).String()
			host := strings.TrimSuffix(ap, ":0")
			cases = append(cases, dialCase{"interface " + ifc.Name + " " + addr.String(), ap, strings.Replace(host, "%", "%25", 1)})
		}
	}
	return cases
}

func TestClientGuard(t *testing.T) {
	t.Parallel()
	for _, tc := range dialCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			t.Run("guard on", func(t *testing.T) {
				t.Parallel()
				r := startReceiver(t, tc.listen, nil)
				u := "http://" + tc.host + ":" + r.port() + "/hook"
				resp, err := roundTrip(t, NewTransport(Policy{}, 5*time.Second), u, 5*time.Second)
				if err == nil {
					resp.Body.Close()
					t.Fatalf("POST %s succeeded (%s), want it refused", u, resp.Status)
				}
				if !errors.Is(err, ErrForbiddenAddress) || ErrorClass(err) != ClassForbiddenAddress {
					t.Fatalf("POST %s: %v (class %q), want a forbidden_address error", u, err, ErrorClass(err))
				}
				if n := r.hits.Load(); n != 0 {
					t.Fatalf("receiver got %d requests, want none", n)
				}
			})
			t.Run("guard off", func(t *testing.T) {
				t.Parallel()
				r := startReceiver(t, tc.listen, nil)
				u := "http://" + tc.host + ":" + r.port() + "/hook"
				resp, err := roundTrip(t, NewTransport(Policy{AllowPrivate: true}, 5*time.Second), u, 5*time.Second)
				if err != nil {
					t.Fatalf("POST %s: %v", u, err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || r.hits.Load() != 1 {
					t.Fatalf("POST %s: %s, %d requests received, want 200 and 1", u, resp.Status, r.hits.Load())
				}
			})
		})
	}
}

func TestClientAllowPrefix(t *testing.T) {
	t.Parallel()
	v4 := startReceiver(t, "127.0.0.1:0", nil)
	tr := NewTransport(Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, 5*time.Second)
	resp, err := roundTrip(t, tr, "http://127.0.0.1:"+v4.port()+"/", 5*time.Second)
	if err != nil {
		t.Fatalf("allowed prefix: %v", err)
	}
	resp.Body.Close()
	if v4.hits.Load() != 1 {
		t.Fatalf("allowed receiver got %d requests, want 1", v4.hits.Load())
	}
	v6 := startReceiver(t, "[::1]:0", nil)
	if _, err := roundTrip(t, tr, "http://[::1]:"+v6.port()+"/", 5*time.Second); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("[::1] outside the allowed prefix: %v, want ErrForbiddenAddress", err)
	}
	if v6.hits.Load() != 0 {
		t.Fatalf("[::1] receiver got %d requests, want none", v6.hits.Load())
	}
}

// A reachable receiver answering 302 to a loopback URL must not make the
// transport follow, even when the guard would let the redirect target
// through.
func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	for _, p := range []Policy{
		{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
		{AllowPrivate: true},
	} {
		target := startReceiver(t, "127.0.0.1:0", nil)
		redirector := startReceiver(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:"+target.port()+"/internal", http.StatusFound)
		})
		resp, err := roundTrip(t, NewTransport(p, 5*time.Second), redirector.srv.URL, 5*time.Second)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("%+v: status %s, want 302 returned as is", p, resp.Status)
		}
		if redirector.hits.Load() != 1 || target.hits.Load() != 0 {
			t.Fatalf("%+v: redirector got %d, target got %d requests; want 1 and 0", p, redirector.hits.Load(), target.hits.Load())
		}
	}
}

func TestNewTransport(t *testing.T) {
	t.Parallel()
	tr := NewTransport(Policy{}, 7*time.Second)
	if tr == http.DefaultTransport {
		t.Fatal("shares http.DefaultTransport")
	}
	if tr.Proxy != nil {
		t.Error("Proxy is set; proxy environment variables must be ignored")
	}
	if cfg := tr.TLSClientConfig; cfg == nil || cfg.MinVersion < 0x0303 || cfg.RootCAs != nil || cfg.InsecureSkipVerify {
		t.Errorf("TLS config %+v, want TLS >= 1.2, system roots, verification on", cfg)
	}
	// Whole requests are bounded by their context, not by a per-request
	// timer of the transport.
	if tr.MaxIdleConnsPerHost < 64 || tr.DisableKeepAlives || !tr.ForceAttemptHTTP2 ||
		tr.TLSHandshakeTimeout != 7*time.Second || tr.ResponseHeaderTimeout != 0 || !tr.DisableCompression {
		t.Errorf("transport %+v", tr)
	}
}

// roundTrip POSTs {} to u through rt as the dispatcher sends: RoundTrip
// called directly, the request bounded by its context.
func roundTrip(t *testing.T, rt http.RoundTripper, u string, timeout time.Duration) (*http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	return rt.RoundTrip(req)
}
