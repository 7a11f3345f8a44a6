package liveness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/revdesk/webhooks/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeStore answers like a database that can be made to fail.
type fakeStore struct {
	mu      sync.Mutex
	fail    bool
	renewed map[string]time.Time
	reaped  []int // what successive ReapWorkers calls hand back
	retired []string
}

var errDown = errors.New("database down")

func (s *fakeStore) RenewWorker(_ context.Context, owner string, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return false, errDown
	}
	_, had := s.renewed[owner]
	s.renewed[owner] = until
	return had, nil
}

func (s *fakeStore) ReapWorkers(context.Context, time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return 0, errDown
	}
	if len(s.reaped) == 0 {
		return 0, nil
	}
	n := s.reaped[0]
	s.reaped = s.reaped[1:]
	return n, nil
}

func (s *fakeStore) RetireWorker(_ context.Context, owner string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retired = append(s.retired, owner)
	delete(s.renewed, owner)
	return 0, nil
}

func setup(t *testing.T, st *fakeStore, cfg Config) *Heartbeat {
	t.Helper()
	st.renewed = map[string]time.Time{}
	cfg.Owner = "me"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return New(st, cfg)
}

func TestAliveFollowsRenewals(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	h := setup(t, st, Config{TTL: 400 * time.Millisecond, Interval: 20 * time.Millisecond})
	if h.Alive() {
		t.Fatal("alive before any record was written")
	}
	if err := h.Register(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !h.Alive() {
		t.Fatal("not alive right after registering")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	defer func() { cancel(); <-done }()

	st.mu.Lock()
	st.fail = true
	st.mu.Unlock()
	// Without renewals the record stops counting once less than half its
	// TTL is left.
	testutil.Eventually(t, 10*time.Second, func() (bool, string) { return !h.Alive(), "renewals failing leave the process alive" })
	st.mu.Lock()
	st.fail = false
	st.mu.Unlock()
	testutil.Eventually(t, 10*time.Second, func() (bool, string) { return h.Alive(), "renewals succeeding again leave it not alive" })
	if err := h.Retire(t.Context()); err != nil {
		t.Fatal(err)
	}
	if h.Alive() {
		t.Error("alive after retiring")
	}
}

func TestTookOverIsTold(t *testing.T) {
	t.Parallel()
	st := &fakeStore{reaped: []int{0, 3}}
	var mu sync.Mutex
	var told []int
	h := setup(t, st, Config{TTL: time.Second, Interval: 10 * time.Millisecond, TookOver: func(n int) {
		mu.Lock()
		told = append(told, n)
		mu.Unlock()
	}})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	defer func() { cancel(); <-done }()
	testutil.Eventually(t, 10*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(told) == 1 && told[0] == 3, fmt.Sprintf("told %v, want [3]", told)
	})
}
