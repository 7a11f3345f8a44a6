package netguard

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// NewClient returns the HTTP client every outbound delivery (test sends
// included) must use. Its dialer applies p on every connection attempt;
// timeout bounds the dial, the TLS handshake and the wait for response
// headers. Callers bound a whole request, body included, with its context:
// Client.Timeout would do the same at the cost of a timer goroutine per
// request, which shows in delivery throughput.
func NewClient(p Policy, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{
		Timeout:   timeout,
		KeepAlive: 30 * time.Second,
		Control:   p.Control,
	}
	tr := &http.Transport{
		// No proxy: HTTP(S)_PROXY would move the connection (and thus the
		// guard) to the proxy, letting it reach what the guard refuses.
		Proxy:       nil,
		DialContext: dialer.DialContext,
		// RootCAs stays nil so the system pool is used, which on Linux
		// honours SSL_CERT_FILE and SSL_CERT_DIR.
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: timeout,
		// Receivers must answer within the delivery timeout.
		ResponseHeaderTimeout: timeout,
		// No Accept-Encoding on deliveries: receivers see the documented
		// headers, and the short response kept needs no gzip reader.
		DisableCompression:    true,
		ExpectContinueTimeout: time.Second,
		// Keep a connection per in-flight request (the dispatcher allows up
		// to 64 per endpoint) instead of redialling after each one.
		MaxIdleConnsPerHost: 64,
		// Bounds idle descriptors across many endpoints.
		MaxIdleConns:    1024,
		IdleConnTimeout: 90 * time.Second,
		// Webhook receivers answer with a few headers; a huge header block
		// is either broken or hostile.
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: tr,
		// 3xx is a failed attempt (SPEC §4); following would also let a
		// public endpoint bounce us elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
