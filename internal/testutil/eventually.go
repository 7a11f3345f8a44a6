// Package testutil holds helpers shared by the tests of several packages.
package testutil

import "time"

// T is the part of testing.TB that Eventually needs; a small interface so
// the helper's own test can watch it fail.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
}

// maxInterval caps the pause between two polls: short enough that a test
// waits little past the moment its condition holds, long enough that a
// condition querying a database or a process does not busy-loop.
const maxInterval = 50 * time.Millisecond

// Eventually polls cond until it reports true, and fails the test with the
// state cond last described once timeout has passed. The pause between polls
// starts at 1 ms and doubles up to 50 ms, so a condition that holds at once
// costs nothing and a slow one is not polled in a tight loop.
func Eventually(t T, timeout time.Duration, cond func() (ok bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	interval := time.Millisecond
	for {
		ok, state := cond()
		if ok {
			return
		}
		if !time.Now().Before(deadline) {
			t.Fatalf("still not there after %s: %s", timeout, state)
			return
		}
		time.Sleep(min(interval, time.Until(deadline)))
		interval = min(2*interval, maxInterval)
	}
}
