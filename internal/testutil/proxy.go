package testutil

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
)

// ConnectProxy is a real HTTP CONNECT proxy on loopback for tests: it
// records the target and Proxy-Authorization of every CONNECT, and tunnels
// to the target, or to Remap[target] when set (standing in for the network
// beyond the proxy, so a test can reach "public" addresses on loopback).
type ConnectProxy struct {
	Addr  string
	Remap map[string]string // set before use

	ln      net.Listener
	mu      sync.Mutex
	targets []string
	auth    []string
}

// StartConnectProxy starts a proxy closed when the test ends.
func StartConnectProxy(t testing.TB, remap map[string]string) *ConnectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &ConnectProxy{Addr: ln.Addr().String(), Remap: remap, ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *ConnectProxy) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		return
	}
	p.mu.Lock()
	p.targets = append(p.targets, req.Host)
	p.auth = append(p.auth, req.Header.Get("Proxy-Authorization"))
	p.mu.Unlock()
	to := req.Host
	if r, ok := p.Remap[to]; ok {
		to = r
	}
	up, err := net.Dial("tcp", to)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		return
	}
	defer up.Close()
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() { _, _ = io.Copy(up, br) }()
	_, _ = io.Copy(c, up)
}

// Seen returns the CONNECT targets and Proxy-Authorization values so far.
func (p *ConnectProxy) Seen() (targets, auth []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...), append([]string(nil), p.auth...)
}
