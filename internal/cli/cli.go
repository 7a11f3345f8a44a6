// Package cli is the revdesk command line: serve, workspace management, and
// the commands that talk to a running server.
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/revdesk/webhooks/internal/api"
	"github.com/revdesk/webhooks/internal/dashboard"
	"github.com/revdesk/webhooks/internal/delivery"
	"github.com/revdesk/webhooks/internal/limiter"
	"github.com/revdesk/webhooks/internal/maintenance"
	"github.com/revdesk/webhooks/internal/server"
)

// CLI is the whole command tree. Every flag also reads REVDESK_<FLAG>.
type CLI struct {
	Serve     ServeCmd     `cmd:"" help:"Run the API and the dispatcher."`
	Workspace WorkspaceCmd `cmd:"" help:"Manage workspaces."`
	Bench     BenchCmd     `cmd:"" help:"Measure deliveries/s, ingest rate and latency against this machine's loopback ceiling."`

	Subscriptions SubscriptionsCmd `cmd:"" help:"Manage webhook subscriptions on a running server."`
	Events        EventsCmd        `cmd:"" help:"Send events to a running server and read its event log."`
	Deliveries    DeliveriesCmd    `cmd:"" help:"Inspect and retry deliveries on a running server."`
	Replays       ReplaysCmd       `cmd:"" help:"Follow the replays of a running server."`
	EventTypes    EventTypesCmd    `cmd:"" name:"event-types" help:"The catalog of event types of a running server."`
	APIKeys       APIKeysCmd       `cmd:"" name:"api-keys" help:"Manage the API keys of your workspace on a running server."`
	CheckReceiver CheckReceiverCmd `cmd:"" name:"check-receiver" help:"Check that a webhook receiver accepts genuine deliveries and refuses forged ones."`
	Listen        ListenCmd        `cmd:"" help:"Receive, verify and print deliveries locally, optionally forwarding them."`
	PortalURL     PortalURLCmd     `cmd:"" name:"portal-url" help:"Create a customer portal session and print its link."`

	Config kong.ConfigFlag `env:"REVDESK_CONFIG" type:"existingfile" placeholder:"FILE" help:"JSON file of flag values keyed by flag name, dashes as underscores (e.g. {\"addr\": \":8080\", \"retry_schedule\": \"1s,5s\"}); command-line flags override it."`
}

// ServeCmd runs the service.
type ServeCmd struct {
	Addr                 string        `default:":8080" env:"REVDESK_ADDR" help:"Address to listen on (HOST:PORT)."`
	DB                   string        `default:"sqlite:revdesk.db" env:"REVDESK_DB" help:"Database URL: sqlite:PATH or postgres://…"`
	AllowHTTP            bool          `env:"REVDESK_ALLOW_HTTP" help:"Accept http:// webhook URLs."`
	AllowPrivateNetworks bool          `env:"REVDESK_ALLOW_PRIVATE_NETWORKS" help:"Allow deliveries to loopback and private addresses (development, tests)."`
	AllowCIDR            []string      `name:"allow-cidr" env:"REVDESK_ALLOW_CIDR" help:"Open one otherwise forbidden address range (repeatable), e.g. 10.1.2.0/24."`
	Dev                  bool          `env:"REVDESK_DEV" help:"Development mode: --allow-http, --allow-private-networks and readable logs."`
	RetrySchedule        string        `default:"${retry_schedule}" env:"REVDESK_RETRY_SCHEDULE" help:"Delays before each retry, comma-separated; empty for no retries."`
	DeliveryTimeout      time.Duration `default:"${delivery_timeout}" env:"REVDESK_DELIVERY_TIMEOUT" help:"Time limit of one delivery attempt."`
	Lease                time.Duration `env:"REVDESK_LEASE" help:"How long a process holds claimed deliveries before another may take them over; 0 means 2×delivery-timeout+30s."`
	MaxIngestBody        int64         `default:"${max_ingest_body}" aliases:"max-body" env:"REVDESK_MAX_INGEST_BODY,REVDESK_MAX_BODY" help:"Largest body of POST /api/v1/events in bytes (other requests: ${max_body} bytes). --max-body is its old name."`
	RateLimit            float64       `default:"2000" env:"REVDESK_RATE_LIMIT" help:"Requests per second allowed per API key; 0 for no limit."`
	DisableAfter         time.Duration `default:"120h" env:"REVDESK_DISABLE_AFTER" help:"Disable a subscription whose every attempt failed this long; 0 never."`
	Retention            time.Duration `default:"720h" env:"REVDESK_RETENTION" help:"Prune finished deliveries and their events after this long; 0 keeps all."`
	MaintenanceInterval  time.Duration `default:"${maintenance_interval}" env:"REVDESK_MAINTENANCE_INTERVAL" help:"How often retention, automatic disabling, recovery probes and replays run."`
	PartitionInterval    time.Duration `default:"${partition_interval}" env:"REVDESK_PARTITION_INTERVAL" help:"PostgreSQL: the time range of one history partition (events, deliveries, attempts); retention drops whole partitions."`
	PartitionsAhead      time.Duration `default:"${partitions_ahead}" env:"REVDESK_PARTITIONS_AHEAD" help:"PostgreSQL: how far ahead of now history partitions are kept ready."`
	FailingAfter         int           `default:"5" env:"REVDESK_FAILING_AFTER" help:"Send subscription_failing after this many failed attempts in a row (once per streak); 0 never."`
	RecoverySchedule     string        `default:"1m,2m,4m,8m,16m,32m,1h" env:"REVDESK_RECOVERY_SCHEDULE" help:"Delays between the probes of a subscription disabled for failing, comma-separated (the last repeats)."`
	RecoveryReplay       bool          `default:"true" negatable:"" env:"REVDESK_RECOVERY_REPLAY" help:"Replay what a subscription missed while disabled when automatic recovery re-enables it."`
	MaxInFlight          int           `default:"${max_in_flight}" env:"REVDESK_MAX_IN_FLIGHT" help:"Delivery requests in flight in all (a memory bound: some 50 KiB each)."`
	MaxPerEndpoint       int           `default:"${max_per_endpoint}" env:"REVDESK_MAX_PER_ENDPOINT" help:"Ceiling of an endpoint's adaptive limit of requests in flight."`
	APIKey               string        `name:"api-key" env:"REVDESK_API_KEY" help:"An API key made valid for the default workspace."`
	PortalFrameAncestors []string      `env:"REVDESK_PORTAL_FRAME_ANCESTORS" help:"Origins allowed to embed the customer portal (/portal) in an iframe, as CSP frame-ancestors sources (repeatable), e.g. https://app.example.com; none by default."`
	PublicURL            string        `env:"REVDESK_PUBLIC_URL" help:"Base URL of portal links (e.g. https://webhooks.example.com); default: the host each request came to."`
	LogLevel             slog.Level    `default:"info" env:"REVDESK_LOG_LEVEL" help:"debug, info, warn or error."`
	ShutdownTimeout      time.Duration `default:"${shutdown_timeout}" env:"REVDESK_SHUTDOWN_TIMEOUT" help:"Time limit of the whole stop sequence on SIGTERM; what is left is then taken over by other processes or the next start."`
	ReadHeaderTimeout    time.Duration `default:"${read_header_timeout}" env:"REVDESK_READ_HEADER_TIMEOUT" help:"Time limit for a client to send a request's headers."`
	ReadTimeout          time.Duration `default:"${read_timeout}" env:"REVDESK_READ_TIMEOUT" help:"Time limit for a client to send a whole request, body included."`
	IdleTimeout          time.Duration `default:"${idle_timeout}" env:"REVDESK_IDLE_TIMEOUT" help:"How long a kept-alive connection may wait for its next request."`
	MaxHeaderBytes       int           `default:"${max_header_bytes}" env:"REVDESK_MAX_HEADER_BYTES" help:"Largest request line and headers in bytes (431 beyond)."`
	SecretsKey           []string      `env:"REVDESK_SECRETS_KEY" placeholder:"BASE64" help:"Key sealing subscription secrets at rest (32 bytes, base64: openssl rand -base64 32); repeat for rotation: the first seals, the others only open. Required on PostgreSQL unless --secrets-key-file."`
	SecretsKeyFile       string        `env:"REVDESK_SECRETS_KEY_FILE" placeholder:"FILE" help:"File of base64 keys, one a line, the first sealing; default on SQLite: DB.secrets-key beside the database, created on first start."`
	EgressProxy          string        `env:"REVDESK_EGRESS_PROXY" placeholder:"URL" help:"Send every delivery through this HTTP CONNECT proxy (http://[user:password@]host:port); destinations are still resolved and checked here."`
}

// Run serves until SIGINT or SIGTERM.
func (c *ServeCmd) Run() error {
	schedule, err := delivery.ParseSchedule(c.RetrySchedule)
	if err != nil {
		return err
	}
	recovery, err := delivery.ParseSchedule(c.RecoverySchedule)
	if err != nil {
		return fmt.Errorf("--recovery-schedule: %w", err)
	}
	if len(recovery) == 0 {
		return fmt.Errorf("--recovery-schedule: at least one delay is needed")
	}
	if c.FailingAfter < 0 {
		return fmt.Errorf("--failing-after %d: want 0 (never) or more", c.FailingAfter)
	}
	var cidrs []netip.Prefix
	for _, s := range c.AllowCIDR {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("--allow-cidr %q: %w", s, err)
		}
		cidrs = append(cidrs, p)
	}
	if err := dashboard.CheckFrameAncestors(c.PortalFrameAncestors); err != nil {
		return err
	}
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return fmt.Errorf("--public-url %q: want the server's base URL, such as https://webhooks.example.com", c.PublicURL)
	}
	var egress *url.URL
	if c.EgressProxy != "" {
		if egress, err = url.Parse(c.EgressProxy); err != nil || egress.Scheme != "http" || egress.Port() == "" {
			return fmt.Errorf("--egress-proxy: want http://host:port (an HTTP CONNECT proxy)")
		}
	}
	if c.Dev {
		c.AllowHTTP, c.AllowPrivateNetworks = true, true
	}
	log := newLogger(c.Dev, c.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return server.Run(ctx, server.Config{
		Addr:                 c.Addr,
		DB:                   c.DB,
		AllowHTTP:            c.AllowHTTP,
		AllowPrivateNetworks: c.AllowPrivateNetworks,
		AllowCIDRs:           cidrs,
		RetrySchedule:        schedule,
		DeliveryTimeout:      c.DeliveryTimeout,
		Lease:                c.Lease,
		MaxIngestBody:        c.MaxIngestBody,
		RateLimit:            c.RateLimit,
		DisableAfter:         c.DisableAfter,
		Retention:            c.Retention,
		MaintenanceInterval:  c.MaintenanceInterval,
		FailingAfter:         c.FailingAfter,
		RecoverySchedule:     recovery,
		NoRecoveryReplay:     !c.RecoveryReplay,
		PartitionInterval:    c.PartitionInterval,
		PartitionsAhead:      c.PartitionsAhead,
		MaxInFlight:          c.MaxInFlight,
		MaxPerEndpoint:       c.MaxPerEndpoint,
		APIKey:               c.APIKey,
		PublicURL:            c.PublicURL,
		ShutdownTimeout:      c.ShutdownTimeout,
		ReadHeaderTimeout:    c.ReadHeaderTimeout,
		ReadTimeout:          c.ReadTimeout,
		IdleTimeout:          c.IdleTimeout,
		MaxHeaderBytes:       c.MaxHeaderBytes,
		EgressProxy:          egress,
		SecretsKeys:          c.SecretsKey,
		SecretsKeyFile:       c.SecretsKeyFile,
		Extra:                dashboard.Routes(dashboard.Options{FrameAncestors: c.PortalFrameAncestors}),
	}, log)
}

func newLogger(dev bool, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if dev {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// WorkspaceCmd groups workspace commands.
type WorkspaceCmd struct {
	Create WorkspaceCreateCmd `cmd:"" help:"Create a workspace and print its id and a fresh API key as JSON."`
}

// WorkspaceCreateCmd creates a workspace directly in the database.
type WorkspaceCreateCmd struct {
	Name string `arg:"" help:"Workspace name."`
	DB   string `default:"sqlite:revdesk.db" env:"REVDESK_DB" help:"Database URL."`
}

func (c *WorkspaceCreateCmd) Run() error {
	ctx := context.Background()
	st, err := server.OpenStore(ctx, c.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	ws, key, err := server.CreateWorkspace(ctx, st, c.Name)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]string{"workspace_id": ws.ID, "api_key": key})
}

// defaults fill the flags' ${…} defaults from the packages that own them,
// so each default is written once.
var defaults = kong.Vars{
	"retry_schedule":       delivery.FormatSchedule(delivery.DefaultRetrySchedule),
	"max_ingest_body":      strconv.Itoa(api.DefaultMaxIngestBody),
	"max_body":             strconv.Itoa(api.DefaultMaxBody),
	"maintenance_interval": maintenance.DefaultInterval.String(),
	"delivery_timeout":     delivery.DefaultTimeout.String(),
	"partition_interval":   maintenance.DefaultPartitionInterval.String(),
	"partitions_ahead":     maintenance.DefaultPartitionsAhead.String(),
	"max_per_endpoint":     strconv.Itoa(limiter.DefaultMax),
	"max_in_flight":        strconv.Itoa(delivery.DefaultMaxInFlight),
	"shutdown_timeout":     server.DefaultShutdownTimeout.String(),
	"read_header_timeout":  server.DefaultReadHeaderTimeout.String(),
	"read_timeout":         server.DefaultReadTimeout.String(),
	"idle_timeout":         server.DefaultIdleTimeout.String(),
	"max_header_bytes":     strconv.Itoa(server.DefaultMaxHeaderBytes),
}

// configJSON is kong.JSON that also reads a flag under its aliases, so a
// config file written for a flag's old name keeps working.
func configJSON(r io.Reader) (kong.Resolver, error) {
	byName, err := kong.JSON(r)
	if err != nil {
		return nil, err
	}
	return kong.ResolverFunc(func(kctx *kong.Context, parent *kong.Path, flag *kong.Flag) (any, error) {
		v, err := byName.Resolve(kctx, parent, flag)
		for _, alias := range flag.Aliases {
			if v != nil || err != nil {
				break
			}
			value := *flag.Value
			value.Name = alias
			aliased := *flag
			aliased.Value = &value
			v, err = byName.Resolve(kctx, parent, &aliased)
		}
		return v, err
	}), nil
}

// newParser builds the command line's parser into cli.
func newParser(cli *CLI, options ...kong.Option) (*kong.Kong, error) {
	return kong.New(cli, append([]kong.Option{
		kong.Name("revdesk"),
		kong.Description("RevDesk Webhooks: subscriptions, event ingest and durable webhook delivery.\n\nCommands that talk to a server take --server and --api-key (or REVDESK_SERVER and REVDESK_API_KEY) and --json, before or after the command; without --json they print tables."),
		kong.UsageOnError(),
		kong.Configuration(configJSON),
		defaults,
	}, options...)...)
}

// Main runs the command line and returns the exit code.
func Main(args []string) int {
	var cli CLI
	parser, err := newParser(&cli)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	kctx, err := parser.Parse(hoistGlobalFlags(args))
	if err != nil {
		parser.Errorf("%s", err)
		return 2
	}
	if err := kctx.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "revdesk:", err)
		return 1
	}
	return 0
}

// globalFlags may be given before the command as well as after it.
var globalFlags = map[string]bool{"--server": true, "--api-key": true, "--json": false} // true: takes a value

// hoistGlobalFlags moves global flags written before the command to the end
// of the arguments. Kong accepts a flag only after the command declaring
// it, and these cannot be declared once at the root: serve and bench have
// --api-key and --server of their own, and kong refuses a flag declared
// twice on one command path.
func hoistGlobalFlags(args []string) []string {
	var moved, rest []string
	i := 0
	for ; i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--"; i++ {
		name, _, hasValue := strings.Cut(args[i], "=")
		takesValue, global := globalFlags[name]
		switch {
		case global:
			moved = append(moved, args[i])
			if takesValue && !hasValue && i+1 < len(args) {
				i++
				moved = append(moved, args[i])
			}
		case name == "--config" && !hasValue && i+1 < len(args):
			rest = append(rest, args[i], args[i+1])
			i++
		default:
			rest = append(rest, args[i])
		}
	}
	rest = append(rest, args[i:]...)
	if end := slices.Index(rest, "--"); end >= 0 {
		return slices.Concat(rest[:end], moved, rest[end:])
	}
	return append(rest, moved...)
}
