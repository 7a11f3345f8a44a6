package netguard

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// NewTransport returns the HTTP transport every outbound delivery (test
// sends included) must use. Its dialer applies p on every connection
// attempt; timeout bounds the dial and the TLS handshake. Callers bound a
// whole request with its context and call RoundTrip directly: an
// http.Client would copy each request's headers (for redirects, which
// deliveries never follow) and run a timer per request, costs that show in
// delivery throughput. Without a Client nothing follows redirects: a 3xx
// comes back as is (SPEC §4), and following would also let a public
// endpoint bounce a delivery elsewhere.
func NewTransport(p Policy, timeout time.Duration) *http.Transport {
	dialer := &net.Dialer{
		Timeout:   timeout,
		KeepAlive: 30 * time.Second,
		Control:   p.Control,
	}
	return &http.Transport{
		// No proxy: HTTP(S)_PROXY would move the connection (and thus the
		// guard) to the proxy, letting it reach what the guard refuses.
		Proxy:       nil,
		DialContext: dialer.DialContext,
		// RootCAs stays nil so the system pool is used, which on Linux
		// honours SSL_CERT_FILE and SSL_CERT_DIR.
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: timeout,
		// No Accept-Encoding on deliveries: receivers see the documented
		// headers, and the short response kept needs no gzip reader.
		DisableCompression:    true,
		ExpectContinueTimeout: time.Second,
		// Keep an idle connection for each request in flight to one endpoint
		// instead of redialling after each one: --per-endpoint is 16 by
		// default, and 64 leaves room for raising it.
		MaxIdleConnsPerHost: 64,
		// Bounds idle descriptors across many endpoints.
		MaxIdleConns:    1024,
		IdleConnTimeout: 90 * time.Second,
		// Webhook receivers answer with a few headers; a huge header block
		// is either broken or hostile.
		MaxResponseHeaderBytes: 64 << 10,
	}
}
