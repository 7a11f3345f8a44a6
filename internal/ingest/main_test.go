package ingest

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind (a commit
// or a request left waiting).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
