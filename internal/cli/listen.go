package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/revdesk/webhooks/webhook"
)

// maxListenBody is above the largest delivery (a 10 MiB event plus envelope).
const maxListenBody = 16 << 20

// ListenCmd is a local webhook receiver for development: it verifies and
// prints deliveries and can forward them to the app being developed, so no
// third-party relay is needed.
type ListenCmd struct {
	Port      int      `default:"4000" help:"Port to listen on (0 picks a free one)."`
	Host      string   `default:"127.0.0.1" help:"Address to listen on; 0.0.0.0 to accept deliveries from other hosts or containers."`
	Secret    []string `env:"REVDESK_LISTEN_SECRET" sep:"none" help:"A signing secret to verify signatures with (without one they are only shown); repeat it to accept several, e.g. the old and new secret during a rotation."`
	ForwardTo string   `name:"forward-to" help:"Also POST every accepted delivery, body and headers unchanged, to this URL (e.g. http://localhost:3000/webhooks)."`
}

func (c *ListenCmd) Run() error {
	ln, err := net.Listen("tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)))
	if err != nil {
		return err
	}
	l := &listener{secrets: c.Secret, forwardTo: c.ForwardTo, out: os.Stdout, client: &http.Client{Timeout: 30 * time.Second}}
	fmt.Fprintf(os.Stdout, "Listening on http://%s (Ctrl-C to stop)\n", ln.Addr())
	if len(c.Secret) == 0 {
		fmt.Fprintln(os.Stdout, "No --secret: signatures are shown but not checked.")
	}
	if c.ForwardTo != "" {
		fmt.Fprintf(os.Stdout, "Forwarding accepted deliveries to %s\n", c.ForwardTo)
	}
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	// A connection a sender opened but never used holds Shutdown for 5 s;
	// nothing is lost by closing it.
	return srv.Close()
}

// listener verifies, prints and forwards each request.
type listener struct {
	secrets   []string
	forwardTo string
	client    *http.Client

	mu  sync.Mutex // one delivery's lines stay together
	out io.Writer
}

// check is one verification result.
type check struct {
	name, result string
	failed       bool
}

func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxListenBody))
	if err != nil {
		http.Error(w, "cannot read body: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	checks := l.verify(r.Header.Get(webhook.HeaderEventType), body, r.Header)
	status := http.StatusOK
	for _, c := range checks {
		if c.failed {
			status = http.StatusUnauthorized
		}
	}
	// A rejected delivery is not passed on: the app would act on a forgery.
	if status == http.StatusOK && l.forwardTo != "" {
		checks = append(checks, check{name: "forwarded", result: l.forward(r, body)})
	}
	l.print(r, body, checks, status)
	w.WriteHeader(status)
	if status != http.StatusOK {
		fmt.Fprintln(w, "signature verification failed")
	}
}

// verify checks the documented signature on signed event types and the
// Standard Webhooks headers whenever they are present.
func (l *listener) verify(eventType string, body []byte, h http.Header) []check {
	var checks []check
	switch {
	case eventType == "":
		checks = append(checks, check{name: "signature", result: "none: no " + webhook.HeaderEventType + " header (not a RevDesk delivery?)"})
	case !webhook.Signed(eventType):
		checks = append(checks, check{name: "signature", result: "none: " + eventType + " is delivered unsigned"})
	default:
		header := h.Get(webhook.HeaderSignature256)
		which, err := l.anySecret(func(secret string) error { return webhook.Verify(body, header, secret) })
		switch {
		case errors.Is(err, webhook.ErrNoSecret):
			checks = append(checks, check{name: "signature", result: "none: the subscription has no signing secret (" + webhook.NoSecret + ")"})
		case errors.Is(err, webhook.ErrMissingSignature):
			checks = append(checks, check{name: "signature", result: "INVALID: " + webhook.HeaderSignature256 + " is missing", failed: true})
		case len(l.secrets) == 0:
			checks = append(checks, check{name: "signature", result: "not checked (no --secret): " + header})
		case err != nil:
			checks = append(checks, check{name: "signature", result: "INVALID: " + err.Error(), failed: true})
		default:
			checks = append(checks, check{name: "signature", result: "valid (" + webhook.HeaderSignature256 + which + ")"})
		}
	}
	if h.Get(webhook.HeaderWebhookSignature) == "" && h.Get(webhook.HeaderWebhookTimestamp) == "" && h.Get(webhook.HeaderWebhookID) == "" {
		return checks
	}
	which, err := l.anySecret(func(secret string) error { return webhook.VerifyStandard(body, h, secret, 0, time.Time{}) })
	switch {
	case len(l.secrets) == 0:
		checks = append(checks, check{name: "standard", result: "not checked (no --secret)"})
	case err != nil:
		checks = append(checks, check{name: "standard", result: "INVALID: " + err.Error(), failed: true})
	default:
		checks = append(checks, check{name: "standard", result: "valid (Standard Webhooks, webhook-id " + h.Get(webhook.HeaderWebhookID) + which + ")"})
	}
	return checks
}

// anySecret runs verify with each secret until one succeeds. It returns
// which one did (", secret 2 of 2"; "" when only one is configured) or the
// first secret's error, which is the same for all of them unless it is a
// mismatch. Without secrets it runs verify once with none, so the header
// checks that need no secret still apply.
func (l *listener) anySecret(verify func(secret string) error) (string, error) {
	if len(l.secrets) == 0 {
		return "", verify("")
	}
	var first error
	for i, s := range l.secrets {
		err := verify(s)
		if err == nil {
			if len(l.secrets) == 1 {
				return "", nil
			}
			return fmt.Sprintf(", secret %d of %d", i+1, len(l.secrets)), nil
		}
		if first == nil {
			first = err
		}
	}
	return "", first
}

// forward posts the raw request to --forward-to and describes the outcome.
func (l *listener) forward(r *http.Request, body []byte) string {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, l.forwardTo, bytes.NewReader(body))
	if err != nil {
		return "failed: " + err.Error()
	}
	for k, v := range r.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Connection", "Keep-Alive", "Transfer-Encoding", "Te", "Trailer", "Upgrade", "Proxy-Connection", "Content-Length", "Host":
			// Hop-by-hop or recomputed by the client.
		default:
			req.Header[k] = v
		}
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return "failed: " + err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // drained so the connection is reused
	return fmt.Sprintf("%s answered %s", l.forwardTo, resp.Status)
}

func (l *listener) print(r *http.Request, body []byte, checks []check, status int) {
	var b strings.Builder
	eventType := r.Header.Get(webhook.HeaderEventType)
	fmt.Fprintf(&b, "\n%s  %s %s  %s\n", time.Now().Format("15:04:05"), r.Method, r.URL.RequestURI(), cmp.Or(eventType, "(no event type)"))
	for _, f := range [][2]string{
		{"event", r.Header.Get(webhook.HeaderEventID)},
		{"delivery", r.Header.Get(webhook.HeaderDeliveryID)},
		{"subscription", r.Header.Get(webhook.HeaderSubscriptionID)},
	} {
		if f[1] != "" {
			fmt.Fprintf(&b, "  %-13s%s\n", f[0], f[1])
		}
	}
	for _, c := range checks {
		fmt.Fprintf(&b, "  %-13s%s\n", c.name, c.result)
	}
	fmt.Fprintf(&b, "  %-13s%d\n", "answered", status)
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "  ", "  ") == nil {
		b.WriteString("  " + pretty.String() + "\n")
	} else {
		b.WriteString("  " + string(body) + "\n")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.out, b.String()) // nowhere better to report a broken terminal
}
