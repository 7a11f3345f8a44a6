package delivery

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind (a send,
// loop or drain that does not end).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
