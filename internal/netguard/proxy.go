package netguard

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

// ErrProxy is wrapped by errors of the egress proxy itself (unreachable,
// or refusing the CONNECT), so an attempt's error says which hop failed.
var ErrProxy = errors.New("egress proxy")

// NewProxiedTransport is NewTransport with every connection made through
// an HTTP CONNECT proxy (--egress-proxy), so receivers see the proxy's
// fixed addresses. The SSRF guard still holds: we resolve the destination
// ourselves, check every address with p, and ask the proxy to CONNECT to
// the checked IP:port, never to a name it would resolve (and could resolve
// differently). TLS runs end to end inside the tunnel and is still verified
// against the URL's hostname. The proxy's own address is the operator's
// choice and is not checked.
func NewProxiedTransport(p Policy, timeout time.Duration, proxy *url.URL) (*http.Transport, error) {
	d, err := newConnectDialer(p, timeout, proxy)
	if err != nil {
		return nil, err
	}
	t := NewTransport(p, timeout)
	t.DialContext = d.DialContext
	return t, nil
}

func newConnectDialer(p Policy, timeout time.Duration, proxy *url.URL) (*connectDialer, error) {
	if proxy.Scheme != "http" || proxy.Host == "" || proxy.Port() == "" {
		return nil, fmt.Errorf("%w: %q must be http://host:port (a CONNECT proxy)", ErrProxy, proxy.Redacted())
	}
	d := &connectDialer{
		policy: p,
		proxy:  proxy.Host,
		dialer: &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second},
		lookup: net.DefaultResolver.LookupNetIP,
	}
	if u := proxy.User; u != nil {
		pw, _ := u.Password()
		d.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw))
	}
	return d, nil
}

type connectDialer struct {
	policy Policy
	proxy  string // host:port
	auth   string // Proxy-Authorization, "" for none
	dialer *net.Dialer
	lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DialContext resolves addr, refuses it when any of its addresses is
// forbidden (as the direct dialer refuses a mixed answer), and tunnels to
// the first address the proxy connects to.
func (d *connectDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else if addrs, err = d.lookup(ctx, "ip", host); err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if err := d.policy.CheckAddr(a); err != nil {
			return nil, err
		}
	}
	var errs []error
	for _, a := range addrs {
		conn, err := d.connect(ctx, a.Unmap().String(), port)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// connect opens a tunnel through the proxy to ip:port.
func (d *connectDialer) connect(ctx context.Context, ip, port string) (net.Conn, error) {
	target := net.JoinHostPort(ip, port)
	conn, err := d.dialer.DialContext(ctx, "tcp", d.proxy)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrProxy, d.proxy, err)
	}
	// The handshake is bounded by the dial's context.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target, Header: http.Header{}}
	if d.auth != "" {
		req.Header.Set("Proxy-Authorization", d.auth)
	}
	br := bufio.NewReader(conn)
	err = req.Write(conn)
	var resp *http.Response
	if err == nil {
		resp, err = http.ReadResponse(br, req)
	}
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%w %s refused CONNECT %s: %s", ErrProxy, d.proxy, target, resp.Status)
		}
	}
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if br.Buffered() > 0 {
		// The proxy sent bytes of the tunnel along with its answer.
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
