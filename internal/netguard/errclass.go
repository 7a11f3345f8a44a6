package netguard

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// Error classes recorded with delivery attempts.
const (
	ClassForbiddenAddress  = "forbidden_address"
	ClassTimeout           = "timeout"
	ClassDNS               = "dns"
	ClassConnectionRefused = "connection_refused"
	ClassConnectionReset   = "connection_reset"
	ClassTLS               = "tls"
	ClassNetwork           = "network"
)

// ErrorClass classifies an error of a round trip through NewTransport (or of
// reading its response body) into one of the Class constants, for recording
// with a delivery attempt. It returns "" for a nil error. Redirects are never
// followed, so there is no redirect class: a 3xx is an HTTP status, not an error.
func ErrorClass(err error) string {
	if err == nil {
		return ""
	}
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrForbiddenAddress):
		return ClassForbiddenAddress
	// Before timeout: a lookup that timed out is still a DNS problem for
	// the subscriber to look at.
	case errors.As(err, &dnsErr):
		return ClassDNS
	case errors.As(err, &netErr) && netErr.Timeout():
		return ClassTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassConnectionRefused
	// A receiver closing the connection without answering (EOF) is a reset
	// for the subscriber's purposes.
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ClassConnectionReset
	case isTLS(err):
		return ClassTLS
	}
	return ClassNetwork
}

func isTLS(err error) bool {
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	if errors.As(err, &verify) || errors.As(err, &record) {
		return true
	}
	// Other crypto/tls failures (alerts from the peer, version or cipher
	// mismatch) are untyped; the package prefixes them all with "tls: ".
	return strings.Contains(err.Error(), "tls: ")
}
