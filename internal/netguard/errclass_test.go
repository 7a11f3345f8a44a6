package netguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestErrorClassSynthetic(t *testing.T) {
	t.Parallel()
	op := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://example.com/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{op(fmt.Errorf("%w: 10.0.0.1 is a private address", ErrForbiddenAddress)), ClassForbiddenAddress},
		{op(&net.DNSError{Err: "no such host", Name: "nope.example", IsNotFound: true}), ClassDNS},
		{op(&net.DNSError{Err: "i/o timeout", Name: "slow.example", IsTimeout: true}), ClassDNS},
		{op(os.ErrDeadlineExceeded), ClassTimeout},
		{context.DeadlineExceeded, ClassTimeout},
		{op(os.NewSyscallError("connect", syscall.ECONNREFUSED)), ClassConnectionRefused},
		{op(os.NewSyscallError("read", syscall.ECONNRESET)), ClassConnectionReset},
		{&url.Error{Op: "Post", URL: "https://example.com/", Err: io.EOF}, ClassConnectionReset},
		{op(errors.New("tls: server selected unsupported protocol version 301")), ClassTLS},
		{op(os.NewSyscallError("connect", syscall.ENETUNREACH)), ClassNetwork},
		{errors.New("something else"), ClassNetwork},
	}
	for _, tt := range tests {
		if got := ErrorClass(tt.err); got != tt.want {
			t.Errorf("ErrorClass(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// Real failures through a transport from NewTransport, as the dispatcher sees them.
func TestErrorClassReal(t *testing.T) {
	t.Parallel()
	open := Policy{AllowPrivate: true}
	post := func(t *testing.T, p Policy, u string, timeout time.Duration) error {
		resp, err := roundTrip(t, NewTransport(p, 5*time.Second), u, timeout)
		if err == nil {
			resp.Body.Close()
			return fmt.Errorf("unexpected success: %s", resp.Status)
		}
		return err
	}

	t.Run("forbidden", func(t *testing.T) {
		t.Parallel()
		r := startReceiver(t, "127.0.0.1:0", nil)
		if got := ErrorClass(post(t, Policy{}, r.srv.URL, 5*time.Second)); got != ClassForbiddenAddress {
			t.Errorf("class %q", got)
		}
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if err := post(t, open, "http://"+addr+"/", 5*time.Second); ErrorClass(err) != ClassConnectionRefused {
			t.Errorf("class %q for %v", ErrorClass(err), err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		r := startReceiver(t, "127.0.0.1:0", func(http.ResponseWriter, *http.Request) { <-release })
		t.Cleanup(func() { close(release) }) // runs before the server's Close
		if err := post(t, open, r.srv.URL, 200*time.Millisecond); ErrorClass(err) != ClassTimeout {
			t.Errorf("class %q for %v", ErrorClass(err), err)
		}
	})
	t.Run("tls", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewTLSServer(http.NotFoundHandler()) // not signed by a trusted root
		t.Cleanup(srv.Close)
		if err := post(t, open, srv.URL, 5*time.Second); ErrorClass(err) != ClassTLS {
			t.Errorf("class %q for %v", ErrorClass(err), err)
		}
	})
	t.Run("reset", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Read(make([]byte, 4096))
			c.(*net.TCPConn).SetLinger(0) // close with RST
			c.Close()
		}()
		if err := post(t, open, "http://"+ln.Addr().String()+"/", 5*time.Second); ErrorClass(err) != ClassConnectionReset {
			t.Errorf("class %q for %v", ErrorClass(err), err)
		}
	})
}
