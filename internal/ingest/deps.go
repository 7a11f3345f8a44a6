package ingest

import (
	"context"

	"github.com/revdesk/webhooks/internal/store"
)

// Store is the part of store.Store ingest uses.
type Store interface {
	Ingest(ctx context.Context, reqs []store.IngestParams) ([]store.IngestResult, error)
}

// Notifier tells other processes that new work exists: the sending half of
// a store.Waker.
type Notifier interface {
	Notify(ctx context.Context) error
}
