package liveness

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
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

// eventually polls cond until it holds or the wait times out.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
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
	eventually(t, "renewals failing make the process not alive", func() bool { return !h.Alive() })
	st.mu.Lock()
	st.fail = false
	st.mu.Unlock()
	eventually(t, "renewals succeeding again make it alive", h.Alive)
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
	eventually(t, "the takeover is told", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(told) == 1 && told[0] == 3
	})
}
