package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testKey = "rdk_server_test_key"

// setup builds and runs a service on SQLite with the given HTTP limits; it
// stops when the test ends.
func setup(t *testing.T, cfg Config) *Service {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.DB = "sqlite:" + filepath.Join(t.TempDir(), "webhooks.db")
	cfg.APIKey = testKey
	cfg.ShutdownTimeout = 5 * time.Second
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(t.Context(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within its shutdown deadline")
		}
	})
	return s
}

// TestSlowBodyIsCutOff: a client that sent its headers and then dribbles
// the body a byte at a time loses the connection once the read timeout has
// passed, long before its body would be complete.
func TestSlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	const readTimeout = 500 * time.Millisecond
	s := setup(t, Config{ReadTimeout: readTimeout})
	start := time.Now() // before the server's clock for the request starts
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const bodySize = 1000 // at a byte per 20 ms: 20 s
	fmt.Fprintf(conn, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", testKey, bodySize)
	go func() {
		for range bodySize {
			if _, err := conn.Write([]byte(" ")); err != nil {
				return // cut off
			}
			time.Sleep(20 * time.Millisecond) // the slow client
		}
	}()
	// The server answers (or just closes) once its deadline passes; until
	// then this read waits.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	took := time.Since(start)
	switch {
	case err == nil:
		resp.Body.Close()
		t.Logf("answered %d after %v", resp.StatusCode, took)
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("a body sent too slowly: %d, want 408", resp.StatusCode)
		}
	case strings.Contains(err.Error(), "timeout"):
		t.Fatalf("the connection was still open after %v (read timeout %v)", took, readTimeout)
	default:
		t.Logf("connection closed after %v: %v", took, err)
	}
	if took < readTimeout {
		t.Errorf("cut off after %v, before the read timeout of %v", took, readTimeout)
	}
}

// TestOversizedHeadersAreRefused: headers past MaxHeaderBytes get 431.
func TestOversizedHeadersAreRefused(t *testing.T) {
	t.Parallel()
	s := setup(t, Config{MaxHeaderBytes: 8 << 10})
	tests := []struct {
		name   string
		size   int
		status int
	}{
		{"within the limit", 4 << 10, http.StatusOK},
		{"past the limit", 64 << 10, http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://"+s.Addr()+"/healthz", nil)
			req.Header.Set("X-Padding", strings.Repeat("a", tt.size))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("%d bytes of headers: %d, want %d", tt.size, resp.StatusCode, tt.status)
			}
		})
	}
}
