package maintenance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/store"

	"github.com/revdesk/webhooks/internal/testutil"
)

// answers are what a fakeStore answers.
type answers struct {
	lead       bool
	leadErr    error
	disableN   int
	disableErr error
	pruneErr   error
	pruned     store.PruneResult
	ensureErr  error
}

// fakeStore records the calls maintenance makes and answers as told.
type fakeStore struct {
	mu sync.Mutex
	answers
	probes int

	leads    []string // "name owner until"
	disables []string // "before reason"
	prunes   []time.Time
}

func (f *fakeStore) TryLead(_ context.Context, p store.LeadParams) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leads = append(f.leads, fmt.Sprintf("%s %s %s", p.Name, p.Owner, p.Until.Format(time.RFC3339)))
	return f.lead, f.leadErr
}

func (f *fakeStore) DisableFailingSubscriptions(_ context.Context, p store.DisableFailingParams) ([]store.DisabledSubscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.disables = append(f.disables, p.FailingBefore.Format(time.RFC3339)+" "+p.Reason)
	return make([]store.DisabledSubscription, f.disableN), f.disableErr
}

func (f *fakeStore) Prune(_ context.Context, before time.Time) (store.PruneResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prunes = append(f.prunes, before)
	return f.pruned, f.pruneErr
}

func (f *fakeStore) StartProbes(_ context.Context, p store.ProbeParams) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.probes++
	return 0, nil
}

func (f *fakeStore) AdvanceReplays(context.Context, store.AdvanceReplaysParams) (int, error) {
	return 0, nil
}

// partitionedStore is a fakeStore that keeps history in partitions.
type partitionedStore struct {
	*fakeStore
	ensured []store.PartitionParams
}

func (p *partitionedStore) EnsurePartitions(_ context.Context, pp store.PartitionParams) (int, error) {
	p.ensured = append(p.ensured, pp)
	return 1, p.ensureErr
}

func (p *partitionedStore) Partitions(context.Context) ([]store.Partition, error) { return nil, nil }

type reports []store.PruneResult

func (r *reports) Retention(res store.PruneResult) { *r = append(*r, res) }

func (f *fakeStore) leadCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.leads)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestRunOnce(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	errDB := errors.New("database on fire")
	tests := []struct {
		name         string
		answers      answers
		disableAfter time.Duration
		retention    time.Duration
		wantErr      error
		wantDisables []string
		wantPrunes   []time.Time
	}{
		{name: "another process leads", answers: answers{lead: false}, disableAfter: time.Hour, retention: time.Hour},
		{name: "leads: disables and prunes", answers: answers{lead: true, disableN: 2}, disableAfter: 120 * time.Hour, retention: 720 * time.Hour,
			wantDisables: []string{"2026-06-25T12:00:00Z every delivery attempt failed for 120h0m0s"},
			wantPrunes:   []time.Time{now.Add(-720 * time.Hour)}},
		{name: "leads, both turned off", answers: answers{lead: true}},
		{name: "leads, retention only", answers: answers{lead: true}, retention: time.Hour, wantPrunes: []time.Time{now.Add(-time.Hour)}},
		{name: "lead fails", answers: answers{leadErr: errDB}, disableAfter: time.Hour, retention: time.Hour, wantErr: errDB},
		{name: "disabling fails: no pruning", answers: answers{lead: true, disableErr: errDB}, disableAfter: time.Hour, retention: time.Hour, wantErr: errDB,
			wantDisables: []string{"2026-06-30T11:00:00Z every delivery attempt failed for 1h0m0s"}},
		{name: "pruning fails", answers: answers{lead: true, pruneErr: errDB}, retention: time.Hour, wantErr: errDB,
			wantPrunes: []time.Time{now.Add(-time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := &fakeStore{answers: tt.answers}
			m := &Maintainer{Store: st, Owner: "proc-1", DisableAfter: tt.disableAfter, Retention: tt.retention, Logger: quiet}
			err := m.RunOnce(context.Background(), now, time.Minute)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			// The lead is held for two rounds, so one late round does not
			// hand it to another process.
			if want := "maintenance proc-1 2026-06-30T12:02:00Z"; len(st.leads) != 1 || st.leads[0] != want {
				t.Errorf("leads asked %v, want [%s]", st.leads, want)
			}
			if fmt.Sprint(st.disables) != fmt.Sprint(tt.wantDisables) {
				t.Errorf("disabled with %q, want %q", st.disables, tt.wantDisables)
			}
			if fmt.Sprint(st.prunes) != fmt.Sprint(tt.wantPrunes) {
				t.Errorf("pruned before %v, want %v", st.prunes, tt.wantPrunes)
			}
			if err != nil && !strings.Contains(err.Error(), errDB.Error()) {
				t.Errorf("error %q hides the cause", err)
			}
		})
	}
}

// TestRun works every interval, keeps going past a failed round and ends
// when its context does.
func TestRun(t *testing.T) {
	t.Parallel()
	st := &fakeStore{answers: answers{leadErr: errors.New("unreachable")}}
	m := &Maintainer{Store: st, Owner: "proc-1", Interval: time.Millisecond, Logger: quiet}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	testutil.Eventually(t, 10*time.Second, func() (bool, string) {
		n := st.leadCount()
		return n >= 3, fmt.Sprintf("%d rounds", n)
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v at the end of its context, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end with its context")
	}
}

// TestRunOncePartitions: a partitioned store gets its partitions made ahead
// before retention runs, every round, and what retention found is reported.
func TestRunOncePartitions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	oldest := now.Add(-800 * time.Hour)
	blocked := store.PruneResult{Partitions: 1, Blocked: 2, OldestBlocked: &oldest}
	tests := []struct {
		name      string
		interval  time.Duration
		ahead     time.Duration
		answers   answers
		want      store.PartitionParams
		wantErr   bool
		wantPrune bool
	}{
		{name: "defaults", answers: answers{lead: true, pruned: blocked},
			want:      store.PartitionParams{Now: now, Interval: 24 * time.Hour, Ahead: 48 * time.Hour},
			wantPrune: true},
		{name: "configured", interval: time.Hour, ahead: 3 * time.Hour, answers: answers{lead: true, pruned: blocked},
			want:      store.PartitionParams{Now: now, Interval: time.Hour, Ahead: 3 * time.Hour},
			wantPrune: true},
		{name: "creating fails: no pruning", answers: answers{lead: true, ensureErr: errors.New("disk full")},
			want:    store.PartitionParams{Now: now, Interval: 24 * time.Hour, Ahead: 48 * time.Hour},
			wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := &partitionedStore{fakeStore: &fakeStore{answers: tt.answers}}
			var got reports
			m := &Maintainer{Store: st, Owner: "proc-1", Retention: 720 * time.Hour, Logger: quiet,
				PartitionInterval: tt.interval, PartitionsAhead: tt.ahead, Reporter: &got}
			if err := m.RunOnce(context.Background(), now, time.Minute); (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if len(st.ensured) != 1 || st.ensured[0] != tt.want {
				t.Errorf("EnsurePartitions(%+v), want once with %+v", st.ensured, tt.want)
			}
			if (len(st.prunes) == 1) != tt.wantPrune || (len(got) == 1) != tt.wantPrune {
				t.Fatalf("pruned %v, reported %v; want pruning %v", st.prunes, got, tt.wantPrune)
			}
			if tt.wantPrune && (got[0].Blocked != 2 || got[0].OldestBlocked != &oldest) {
				t.Errorf("reported %+v, want %+v", got[0], blocked)
			}
		})
	}
}
