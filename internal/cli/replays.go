package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// SubscriptionReplayCmd starts a replay of a window of a subscription's
// deliveries.
type SubscriptionReplayCmd struct {
	ID    string `arg:"" help:"Subscription id (whk_…)."`
	Since string `required:"" help:"Deliveries made since this time: RFC 3339 (2026-06-30T19:30:00Z) or a duration ago (24h)."`
	Until string `help:"And before this time (default: now)."`
	All   bool   `help:"Succeeded deliveries too, not only skipped and failed ones."`
}

func (c *SubscriptionReplayCmd) Run(cl *Client) error {
	now := time.Now()
	since, err := parseSince(c.Since, now)
	if err != nil {
		return err
	}
	body := map[string]any{"since": since.UTC().Format(time.RFC3339Nano), "all": c.All}
	if c.Until != "" {
		until, err := parseSince(c.Until, now)
		if err != nil {
			return fmt.Errorf("--until: %w", err)
		}
		body["until"] = until.UTC().Format(time.RFC3339Nano)
	}
	raw, err := cl.send(http.MethodPost, subscriptionPath(c.ID, "replay"), nil, body, nil)
	if err != nil {
		return err
	}
	return cl.Print(raw, func(w io.Writer, raw []byte) error {
		if err := Fields(w, raw); err != nil {
			return err
		}
		var out struct {
			ID string `json:"id"`
		}
		if err := decodeNumbers(raw, &out); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "\nFollow it with: revdesk replays show %s\n", out.ID)
		return err
	})
}

// ReplaysCmd groups the replay commands.
type ReplaysCmd struct {
	ClientFlags `embed:""`

	Show ReplayShowCmd `cmd:"" help:"Show a replay's progress: its deliveries by status."`
}

// ReplayShowCmd shows a replay.
type ReplayShowCmd struct {
	ID string `arg:"" help:"Replay id (rpl_…)."`
}

func (c *ReplayShowCmd) Run(cl *Client) error {
	return cl.show(http.MethodGet, "/api/v1/replays/"+url.PathEscape(c.ID), nil, nil, nil)
}
