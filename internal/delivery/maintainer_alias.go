package delivery

import "github.com/revdesk/webhooks/internal/maintenance"

// Maintainer has moved to internal/maintenance; the alias lets
// internal/server, being rewritten on another branch, build until it uses
// maintenance.Maintainer itself. Delete this file then (issue 12).
type Maintainer = maintenance.Maintainer
