// Command revdesk runs the RevDesk webhook service and talks to it.
package main

import (
	"os"

	"github.com/revdesk/webhooks/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
