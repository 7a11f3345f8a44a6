package testutil

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// recorder is a T that records a failure instead of ending the test.
type recorder struct {
	failed  bool
	message string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.message = fmt.Sprintf(format, args...)
}

func TestEventually(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		holdsAfter int // polls before cond reports true; -1: never
		timeout    time.Duration
		wantFail   string
	}{
		{name: "holds at once", holdsAfter: 0, timeout: time.Second},
		{name: "holds after a few polls", holdsAfter: 5, timeout: 5 * time.Second},
		{name: "never holds", holdsAfter: -1, timeout: 100 * time.Millisecond, wantFail: "still not there after 100ms: poll "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r recorder
			polls := 0
			start := time.Now()
			Eventually(&r, tt.timeout, func() (bool, string) {
				polls++
				return tt.holdsAfter >= 0 && polls > tt.holdsAfter, fmt.Sprintf("poll %d", polls)
			})
			elapsed := time.Since(start)
			if r.failed != (tt.wantFail != "") {
				t.Fatalf("failed = %v (%q), want failure %q", r.failed, r.message, tt.wantFail)
			}
			if tt.wantFail == "" {
				if polls != tt.holdsAfter+1 {
					t.Errorf("cond polled %d times, want %d", polls, tt.holdsAfter+1)
				}
				return
			}
			// The message carries the last state cond described, not the first.
			if !strings.HasPrefix(r.message, tt.wantFail) || r.message == tt.wantFail+"1" {
				t.Errorf("message = %q, want %q followed by the last poll's number", r.message, tt.wantFail)
			}
			if last := fmt.Sprintf("poll %d", polls); !strings.HasSuffix(r.message, last) {
				t.Errorf("message = %q, want it to end with the last state %q", r.message, last)
			}
			if elapsed < tt.timeout {
				t.Errorf("gave up after %s, before the timeout %s", elapsed, tt.timeout)
			}
		})
	}
}
