package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/receivercheck"
	"github.com/revdesk/webhooks/internal/server"
)

// errCheckFailed makes the exit status non-zero after a report that says why.
var errCheckFailed = errors.New("the receiver check failed")

// CheckReceiverCmd checks that a receiver accepts genuine deliveries and
// refuses forged ones.
type CheckReceiverCmd struct {
	URL                  string        `arg:"" help:"The receiver's URL, as a subscription would have it."`
	Secret               string        `env:"REVDESK_CHECK_SECRET" help:"The signing secret the receiver holds (needed for signed event types and with --standard-webhooks)."`
	EventType            string        `name:"event-type" default:"number_purchased" help:"Event type to send (its catalog example)."`
	StandardWebhooks     bool          `name:"standard-webhooks" help:"Sign as a subscription with Standard Webhooks does, and also send replays (stale and future timestamps, another id)."`
	AllowPrivateNetworks bool          `name:"allow-private-networks" help:"Allow loopback and private addresses (a receiver on this machine or network)."`
	Timeout              time.Duration `default:"10s" help:"Time limit of each request."`
	Output               `embed:""`
}

func (c *CheckReceiverCmd) Run() error {
	et, err := lookupType(c.EventType)
	if err != nil {
		return err
	}
	if c.Secret == "" && (et.Signed || c.StandardWebhooks) {
		return errors.New("--secret is required: the signing secret the receiver verifies with")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	report, err := receivercheck.Run(ctx, receivercheck.Config{
		URL: c.URL, Secret: c.Secret, EventType: et.Name, StandardWebhooks: c.StandardWebhooks,
		Policy: netguard.Policy{AllowPrivate: c.AllowPrivateNetworks}, AllowHTTP: true,
		UserAgent: "RevDesk-Webhooks/" + server.Version, Timeout: c.Timeout,
	})
	if err != nil {
		if errors.Is(err, netguard.ErrInvalidURL) && !c.AllowPrivateNetworks {
			return fmt.Errorf("%w (a receiver on this machine or network needs --allow-private-networks)", err)
		}
		return err
	}
	raw, err := json.Marshal(report)
	if err != nil {
		return err
	}
	return printReport(&c.Output, raw)
}

// printReport shows a receiver check report (from this process or the
// server) and fails when the check did.
func printReport(out *Output, raw []byte) error {
	var r receivercheck.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("reading the report: %w", err)
	}
	if err := out.Print(raw, func(w io.Writer, _ []byte) error { return reportText(w, &r) }); err != nil {
		return err
	}
	if !r.Passed {
		return errCheckFailed
	}
	return nil
}

func reportText(w io.Writer, r *receivercheck.Report) error {
	scheme := "unsigned"
	switch {
	case r.StandardWebhooks && r.Signed:
		scheme = "signed with X-revdesk-Signature-256 and Standard Webhooks"
	case r.StandardWebhooks:
		scheme = "signed with Standard Webhooks"
	case r.Signed:
		scheme = "signed with X-revdesk-Signature-256"
	}
	if et, ok := catalog.Lookup(r.EventType); ok && !r.StandardWebhooks && !et.Signed {
		scheme = "unsigned by the documentation"
	}
	fmt.Fprintf(w, "Checked %s with %s deliveries (%s).\n\n", r.URL, r.EventType, scheme)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tREQUEST\tKIND\tANSWER\tSENT")
	for _, q := range r.Requests {
		verdict := "ok"
		if !q.OK {
			verdict = "FAILED"
		}
		answer := "no answer"
		if q.Status != 0 {
			answer = fmt.Sprintf("%d %s", q.Status, http.StatusText(q.Status))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", verdict, q.Name, q.Kind, answer, q.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	problems := 0
	for i, f := range r.Findings {
		if f.Severity == receivercheck.SeverityProblem {
			problems++
		}
		fmt.Fprintf(w, "\n%d. %s: %s\n   What it means: %s\n   How to fix it: %s\n", i+1, strings.ToUpper(f.Severity), f.Summary, f.Meaning, f.Fix)
	}
	switch {
	case r.Passed && !r.Authenticated:
		fmt.Fprintln(w, "\nResult: the receiver accepts genuine deliveries, but cannot authenticate them (see above).")
	case r.Passed:
		fmt.Fprintln(w, "\nResult: passed. The receiver accepts genuine deliveries, acknowledges repeats and refuses every forgery.")
	default:
		fmt.Fprintf(w, "\nResult: FAILED with %d problem(s).\n", problems)
	}
	return nil
}
