package delivery

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/revdesk/webhooks/internal/store"
)

// ErrInvalidOption is wrapped by the errors of CheckHeaders and
// ParseClientCert: what a caller asked for cannot be delivered.
var ErrInvalidOption = errors.New("invalid delivery option")

// Bounds of a subscription's custom headers.
const (
	MaxHeaders     = 20
	MaxHeaderBytes = 8 << 10 // names and values together
)

// reservedHeaders are set by the sender or the connection, or would change
// how the request travels: a subscription cannot set them.
var reservedHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Content-Type": true, "User-Agent": true,
	"Transfer-Encoding": true, "Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Proxy-Authorization": true, "Proxy-Authenticate": true, "Te": true, "Trailer": true,
	"Upgrade": true, "Expect": true, "Content-Encoding": true,
}

// CheckHeaders accepts custom headers that are valid HTTP, not ours (no
// X-revdesk-* or webhook-*, which carry the event and its signatures), not
// hop-by-hop or framing headers, not repeated, and within the bounds.
func CheckHeaders(hs []store.Header) error {
	if len(hs) > MaxHeaders {
		return fmt.Errorf("%w: at most %d headers", ErrInvalidOption, MaxHeaders)
	}
	size, seen := 0, map[string]bool{}
	for _, h := range hs {
		canon := http.CanonicalHeaderKey(h.Name)
		switch {
		case !httpguts.ValidHeaderFieldName(h.Name):
			return fmt.Errorf("%w: %q is not a valid header name", ErrInvalidOption, h.Name)
		case !httpguts.ValidHeaderFieldValue(h.Value):
			return fmt.Errorf("%w: the value of %s holds a character a header cannot carry", ErrInvalidOption, h.Name)
		case reservedHeaders[canon]:
			return fmt.Errorf("%w: %s is set by the sender or the connection and cannot be overridden", ErrInvalidOption, h.Name)
		case ours(h.Name):
			return fmt.Errorf("%w: %s is one of the delivery's own headers (X-revdesk-*, webhook-*) and cannot be overridden", ErrInvalidOption, h.Name)
		case seen[canon]:
			return fmt.Errorf("%w: %s is given twice", ErrInvalidOption, h.Name)
		}
		seen[canon] = true
		size += len(h.Name) + len(h.Value)
	}
	if size > MaxHeaderBytes {
		return fmt.Errorf("%w: the headers hold more than %d bytes", ErrInvalidOption, MaxHeaderBytes)
	}
	return nil
}

// ours reports whether a header name is one of a delivery's own.
func ours(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(lower, "x-revdesk-") || strings.HasPrefix(lower, "webhook-")
}

// setCustomHeaders adds a subscription's headers, before the documented
// ones are set. Those CheckHeaders refuses are skipped: a row stored by an
// older, laxer server must not send a second X-Revdesk-… spelling beside
// ours (which keep their documented spelling as map keys).
func setCustomHeaders(h http.Header, hs []store.Header) {
	for _, c := range hs {
		canon := http.CanonicalHeaderKey(c.Name)
		if reservedHeaders[canon] || ours(c.Name) {
			continue
		}
		h[canon] = []string{c.Value}
	}
}

// CertInfo is what is shown of a client certificate: never the key.
type CertInfo struct {
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"not_after"`
}

// ParseClientCert checks a PEM certificate (chain) and its private key:
// they parse, belong together, and the certificate has not expired.
func ParseClientCert(certPEM, keyPEM string, now time.Time) (tls.Certificate, CertInfo, error) {
	cert, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		return cert, CertInfo{}, fmt.Errorf("%w: client certificate: %v", ErrInvalidOption, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return cert, CertInfo{}, fmt.Errorf("%w: client certificate: %v", ErrInvalidOption, err)
	}
	if now.After(leaf.NotAfter) {
		return cert, CertInfo{}, fmt.Errorf("%w: the client certificate expired at %s", ErrInvalidOption, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	cert.Leaf = leaf
	return cert, CertInfo{Subject: leaf.Subject.String(), NotAfter: leaf.NotAfter.UTC()}, nil
}

// DescribeCert is what is shown of a stored certificate (its leaf).
func DescribeCert(certPEM string) (CertInfo, error) {
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil {
		return CertInfo{}, fmt.Errorf("%w: no PEM certificate", ErrInvalidOption)
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return CertInfo{}, fmt.Errorf("%w: client certificate: %v", ErrInvalidOption, err)
	}
	return CertInfo{Subject: leaf.Subject.String(), NotAfter: leaf.NotAfter.UTC()}, nil
}

// certKey carries a delivery's client certificate from newRequest to
// ClientCerts.
type certKey struct{}

// withClientCert marks the request's context with the subscription's
// certificate, if it has one.
func withClientCert(ctx context.Context, sub *store.Subscription) context.Context {
	if sub.ClientCert == "" {
		return ctx
	}
	return context.WithValue(ctx, certKey{}, sub)
}

// ClientCerts sends requests of subscriptions with a client certificate
// through a transport of their own that presents it (cached per
// certificate, so connections are kept as for any other endpoint), and the
// others through base. A transport per certificate rather than one
// GetClientCertificate callback: a kept TLS connection is bound to the
// certificate it was opened with, and the pool of one transport would hand
// one subscription's connection to another's request.
type ClientCerts struct {
	base *http.Transport
	mu   sync.Mutex
	m    map[[32]byte]*http.Transport
}

// NewClientCerts wraps base (netguard's transport).
func NewClientCerts(base *http.Transport) *ClientCerts {
	return &ClientCerts{base: base, m: map[[32]byte]*http.Transport{}}
}

// maxCertTransports bounds the cache: past it, transports are dropped (and
// their idle connections closed) and made again on use.
const maxCertTransports = 1000

func (c *ClientCerts) RoundTrip(req *http.Request) (*http.Response, error) {
	sub, ok := req.Context().Value(certKey{}).(*store.Subscription)
	if !ok {
		return c.base.RoundTrip(req)
	}
	t, err := c.transport(sub)
	if err != nil {
		return nil, err
	}
	return t.RoundTrip(req)
}

func (c *ClientCerts) transport(sub *store.Subscription) (*http.Transport, error) {
	key := sha256.Sum256([]byte(sub.ClientCert + "\x00" + sub.ClientKey))
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.m[key]; ok {
		return t, nil
	}
	// The expiry was checked when the certificate was stored; a receiver
	// refusing an expired one is an attempt's error like any other.
	cert, err := tls.X509KeyPair([]byte(sub.ClientCert), []byte(sub.ClientKey))
	if err != nil {
		return nil, fmt.Errorf("%w: client certificate: %v", ErrInvalidOption, err)
	}
	if len(c.m) >= maxCertTransports {
		for k, t := range c.m {
			t.CloseIdleConnections()
			delete(c.m, k)
		}
	}
	t := c.base.Clone()
	t.TLSClientConfig.Certificates = []tls.Certificate{cert}
	c.m[key] = t
	return t, nil
}

// CloseIdleConnections closes the idle connections of every transport.
func (c *ClientCerts) CloseIdleConnections() {
	c.base.CloseIdleConnections()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.m {
		t.CloseIdleConnections()
	}
}
