package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/revdesk/webhooks/internal/api"
	"github.com/revdesk/webhooks/internal/delivery"
	"github.com/revdesk/webhooks/internal/limiter"
	"github.com/revdesk/webhooks/internal/maintenance"
	"github.com/revdesk/webhooks/internal/server"
)

// parseServe parses a serve command line without running it.
func parseServe(t *testing.T, args ...string) ServeCmd {
	t.Helper()
	var cli CLI
	parser, err := newParser(&cli, kong.Exit(func(int) { t.Fatalf("revdesk %v exited", args) }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse(append([]string{"serve"}, args...)); err != nil {
		t.Fatalf("revdesk serve %v: %v", args, err)
	}
	return cli.Serve
}

// TestServeDefaults: the flags' defaults are the owning packages' own.
func TestServeDefaults(t *testing.T) {
	t.Parallel()
	c := parseServe(t)
	schedule, err := delivery.ParseSchedule(c.RetrySchedule)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		flag      string
		got, want any
	}{
		{"retry-schedule", delivery.FormatSchedule(schedule), delivery.FormatSchedule(delivery.DefaultRetrySchedule)},
		{"max-ingest-body", c.MaxIngestBody, int64(api.DefaultMaxIngestBody)},
		{"maintenance-interval", c.MaintenanceInterval, maintenance.DefaultInterval},
		{"max-per-endpoint", c.MaxPerEndpoint, limiter.DefaultMax},
		{"max-in-flight", c.MaxInFlight, delivery.DefaultMaxInFlight},
		{"delivery-timeout", c.DeliveryTimeout, delivery.DefaultTimeout},
		{"shutdown-timeout", c.ShutdownTimeout, server.DefaultShutdownTimeout},
		{"read-header-timeout", c.ReadHeaderTimeout, server.DefaultReadHeaderTimeout},
		{"read-timeout", c.ReadTimeout, server.DefaultReadTimeout},
		{"idle-timeout", c.IdleTimeout, server.DefaultIdleTimeout},
		{"max-header-bytes", c.MaxHeaderBytes, server.DefaultMaxHeaderBytes},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("--%s defaults to %v, want %v", tt.flag, tt.got, tt.want)
		}
	}
}

// TestMaxBodyAlias: --max-ingest-body is also read under its old name, as
// a flag, an environment variable and a config file key.
func TestMaxBodyAlias(t *testing.T) {
	// Not parallel: it sets environment variables.
	config := func(key string) string {
		path := filepath.Join(t.TempDir(), "config.json")
		if err := os.WriteFile(path, []byte(`{"`+key+`": 4096}`), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name string
		env  string
		args []string
	}{
		{"new flag", "", []string{"--max-ingest-body", "4096"}},
		{"old flag", "", []string{"--max-body", "4096"}},
		{"new variable", "REVDESK_MAX_INGEST_BODY", nil},
		{"old variable", "REVDESK_MAX_BODY", nil},
		{"new config key", "", []string{"--config", config("max_ingest_body")}},
		{"old config key", "", []string{"--config", config("max_body")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv(tt.env, "4096")
			}
			if got := parseServe(t, tt.args...).MaxIngestBody; got != 4096 {
				t.Errorf("ingest body limit %d, want 4096", got)
			}
		})
	}
	t.Run("unset", func(t *testing.T) {
		if got := parseServe(t).MaxIngestBody; got != api.DefaultMaxIngestBody {
			t.Errorf("ingest body limit %d, want the default %d", got, api.DefaultMaxIngestBody)
		}
	})
}
