// Package testserver runs the real revdesk binary for tests: build it, start
// `revdesk serve` on a free port, wait until it answers, stop it gracefully
// or kill it as a crash would.
package testserver

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build compiles cmd/revdesk into dir and returns the binary's path. Under
// the race detector (go test -race) the binary is built with it as well;
// see Process.Raced.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "revdesk")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, "github.com/revdesk/webhooks/cmd/revdesk")...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building revdesk: %w\n%s", err, out)
	}
	return bin, nil
}

// FreeAddr returns a loopback address with a port free at the moment.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Process is a running revdesk.
type Process struct {
	Base string  // http://addr
	Logs *Buffer // what it wrote to stdout and stderr
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs bin with args and env (the whole environment) and waits until
// GET /healthz answers at addr.
func Start(bin, addr string, args, env []string) (*Process, error) {
	p := &Process{Base: "http://" + addr, Logs: &Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.Logs, p.Logs
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if resp, err := http.Get(p.Base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("revdesk exited at start:\n%s", p.Logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	p.Kill()
	return nil, errors.New("revdesk did not become healthy:\n" + p.Logs.String())
}

// Stop ends the process with SIGTERM and waits for it, killing it if it
// takes longer than 20 s.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.Kill()
	}
}

// Raced reports whether the race detector found a data race in the
// process (only a binary that Build made under go test -race has one).
func (p *Process) Raced() bool {
	return strings.Contains(p.Logs.String(), "WARNING: DATA RACE")
}

// Kill ends the process with SIGKILL, as a crash would: no shutdown code runs.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Buffer is a bytes.Buffer safe for a process and a test to share.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
