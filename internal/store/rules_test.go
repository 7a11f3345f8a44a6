package store

import (
	"slices"
	"testing"
	"time"
)

func TestReceives(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		sub                  Subscription
		typ, workflow, campa string
		want                 bool
	}{
		{"unscoped", Subscription{EventType: "a"}, "a", "wf", "c", true},
		{"other type", Subscription{EventType: "a"}, "b", "", "", false},
		{"workflow match", Subscription{EventType: "a", WorkflowID: "wf"}, "a", "wf", "", true},
		{"workflow missing", Subscription{EventType: "a", WorkflowID: "wf"}, "a", "", "", false},
		{"campaign mismatch", Subscription{EventType: "a", CampaignID: "c"}, "a", "", "d", false},
		{"both match", Subscription{EventType: "a", WorkflowID: "wf", CampaignID: "c"}, "a", "wf", "c", true},
		{"both, one missing", Subscription{EventType: "a", WorkflowID: "wf", CampaignID: "c"}, "a", "wf", "", false},
	}
	for _, tt := range tests {
		if got := Receives(&tt.sub, tt.typ, tt.workflow, tt.campa); got != tt.want {
			t.Errorf("%s: Receives = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNewDeliveryStatus(t *testing.T) {
	t.Parallel()
	if got := NewDeliveryStatus(&Subscription{Status: SubscriptionActive}); got != DeliveryPending {
		t.Errorf("active: %q", got)
	}
	if got := NewDeliveryStatus(&Subscription{Status: SubscriptionDisabled}); got != DeliverySkipped {
		t.Errorf("disabled: %q", got)
	}
}

func TestBatchReplays(t *testing.T) {
	t.Parallel()
	reqs := []IngestParams{
		{WorkspaceID: "w", IdempotencyKey: "k"}, {WorkspaceID: "w"}, {WorkspaceID: "w", IdempotencyKey: "k"},
		{WorkspaceID: "v", IdempotencyKey: "k"}, {WorkspaceID: "w"}, {WorkspaceID: "v", IdempotencyKey: "k"},
	}
	if got, want := BatchReplays(reqs), []int{-1, -1, 0, -1, -1, 3}; !slices.Equal(got, want) {
		t.Errorf("BatchReplays = %v, want %v", got, want)
	}
}

func TestFoldCompletions(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(m int) *Attempt { return &Attempt{At: t0.Add(time.Duration(m) * time.Minute)} }
	tm := func(m int) *time.Time { v := t0.Add(time.Duration(m) * time.Minute); return &v }
	c := func(sub, status string, a *Attempt, reason string) Completion {
		return Completion{SubscriptionID: sub, Status: status, Attempt: a, DisableReason: reason}
	}
	tests := []struct {
		name string
		cs   []Completion
		want []CompletionFold
	}{
		{"failures: the earliest attempt", []Completion{c("s", DeliveryFailed, at(5), ""), c("s", DeliveryPending, at(2), "")},
			[]CompletionFold{{SubscriptionID: "s", FirstFailure: tm(2)}}},
		{"a success restarts", []Completion{c("s", DeliveryFailed, at(1), ""), c("s", DeliverySucceeded, at(2), ""),
			c("s", DeliveryFailed, at(4), ""), c("s", DeliveryFailed, at(3), "")},
			[]CompletionFold{{SubscriptionID: "s", Succeeded: true, FirstFailure: tm(3)}}},
		{"skips count for nothing", []Completion{c("s", DeliverySkipped, nil, "")}, []CompletionFold{{SubscriptionID: "s"}}},
		{"last reason, per subscription", []Completion{c("s", DeliveryFailed, at(1), "a"), c("t", DeliverySucceeded, at(1), ""),
			c("s", DeliveryFailed, at(2), "b"), c("s", DeliveryFailed, at(3), "")},
			[]CompletionFold{{SubscriptionID: "s", FirstFailure: tm(1), DisableReason: "b"}, {SubscriptionID: "t", Succeeded: true}}},
	}
	for _, tt := range tests {
		got := FoldCompletions(tt.cs)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			g, w := got[i], tt.want[i]
			if g.SubscriptionID != w.SubscriptionID || g.Succeeded != w.Succeeded || g.DisableReason != w.DisableReason ||
				!sameTime(g.FirstFailure, w.FirstFailure) {
				t.Errorf("%s: fold %d = %+v, want %+v", tt.name, i, g, w)
			}
		}
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func TestApply(t *testing.T) {
	t.Parallel()
	t1, t2 := time.Unix(1, 0), time.Unix(2, 0)
	active := SubscriptionState{Status: SubscriptionActive}
	failing := SubscriptionState{Status: SubscriptionActive, FailingSince: &t1}
	disabled := SubscriptionState{Status: SubscriptionDisabled, DisabledReason: "by hand", FailingSince: &t1}
	recovering := SubscriptionState{Status: SubscriptionDisabled, DisabledReason: "failing", FailingSince: &t1,
		Failures: 7, Recovering: true}
	tests := []struct {
		name                      string
		fold                      CompletionFold
		cur, want                 SubscriptionState
		wantDisabled, wantEnabled bool
	}{
		{"failures add up", CompletionFold{FirstFailure: &t2, Failures: 2},
			SubscriptionState{Status: SubscriptionActive, FailingSince: &t1, Failures: 3},
			SubscriptionState{Status: SubscriptionActive, FailingSince: &t1, Failures: 5}, false, false},
		{"a success re-enables a recovering one", CompletionFold{Succeeded: true}, recovering, active, false, true},
		{"a success leaves one disabled by hand", CompletionFold{Succeeded: true}, disabled,
			SubscriptionState{Status: SubscriptionDisabled, DisabledReason: "by hand"}, false, false},
		{"first failure starts a streak", CompletionFold{FirstFailure: &t2}, active,
			SubscriptionState{Status: SubscriptionActive, FailingSince: &t2}, false, false},
		{"failures keep a running streak", CompletionFold{FirstFailure: &t2}, failing, failing, false, false},
		{"success ends it", CompletionFold{Succeeded: true}, failing, active, false, false},
		{"success then failures restart it", CompletionFold{Succeeded: true, FirstFailure: &t2}, failing,
			SubscriptionState{Status: SubscriptionActive, FailingSince: &t2}, false, false},
		{"disable request", CompletionFold{FirstFailure: &t2, DisableReason: "gone"}, active,
			SubscriptionState{Status: SubscriptionDisabled, DisabledReason: "gone", FailingSince: &t2}, true, false},
		{"already disabled keeps its reason", CompletionFold{DisableReason: "gone"}, disabled, disabled, false, false},
	}
	for _, tt := range tests {
		got, d, e := tt.fold.Apply(tt.cur)
		if got.Status != tt.want.Status || got.DisabledReason != tt.want.DisabledReason ||
			!sameTime(got.FailingSince, tt.want.FailingSince) || got.Failures != tt.want.Failures ||
			d != tt.wantDisabled || e != tt.wantEnabled {
			t.Errorf("%s: Apply = %+v, %v, %v; want %+v, %v, %v", tt.name, got, d, e, tt.want, tt.wantDisabled, tt.wantEnabled)
		}
	}
}

func TestFailingTooLong(t *testing.T) {
	t.Parallel()
	cutoff := time.Unix(100, 0)
	before, after := time.Unix(99, 0), time.Unix(101, 0)
	tests := []struct {
		cur  SubscriptionState
		want bool
	}{
		{SubscriptionState{Status: SubscriptionActive, FailingSince: &before}, true},
		{SubscriptionState{Status: SubscriptionActive, FailingSince: &after}, false},
		{SubscriptionState{Status: SubscriptionActive, FailingSince: &cutoff}, false},
		{SubscriptionState{Status: SubscriptionActive}, false},
		{SubscriptionState{Status: SubscriptionDisabled, FailingSince: &before}, false},
	}
	for i, tt := range tests {
		if got := FailingTooLong(tt.cur, cutoff); got != tt.want {
			t.Errorf("case %d: FailingTooLong = %v, want %v", i, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, s := range []string{SubscriptionActive, SubscriptionDisabled} {
		if err := ValidateSubscriptionStatus(s); err != nil {
			t.Errorf("ValidateSubscriptionStatus(%q) = %v", s, err)
		}
	}
	if err := ValidateSubscriptionStatus("paused"); err == nil {
		t.Error(`ValidateSubscriptionStatus("paused") = nil`)
	}
	ok := []Completion{{DeliveryID: "d", Status: DeliveryPending}, {DeliveryID: "e", Status: DeliverySkipped}}
	if err := ValidateCompletions(ok); err != nil {
		t.Errorf("ValidateCompletions(valid) = %v", err)
	}
	if err := ValidateCompletions(append(ok, Completion{DeliveryID: "f", Status: "done"})); err == nil {
		t.Error("ValidateCompletions(status done) = nil")
	}
}

func TestLastPerDelivery(t *testing.T) {
	t.Parallel()
	cs := []Completion{{DeliveryID: "a", Status: "1"}, {DeliveryID: "b"}, {DeliveryID: "a", Status: "2"}, {DeliveryID: "c"}}
	var got []string
	for _, c := range LastPerDelivery(cs) {
		got = append(got, c.DeliveryID+c.Status)
	}
	if want := []string{"b", "a2", "c"}; !slices.Equal(got, want) {
		t.Errorf("LastPerDelivery = %v, want %v", got, want)
	}
	if out := LastPerDelivery(cs[:2]); &out[0] != &cs[0] {
		t.Error("LastPerDelivery copied a batch without repeats")
	}
}

func TestStreakFacts(t *testing.T) {
	t.Parallel()
	st := func(n int) SubscriptionState { return SubscriptionState{Status: SubscriptionActive, Failures: n} }
	tests := []struct {
		name                       string
		succeeded                  bool
		cur, next                  SubscriptionState
		wantFailing, wantRecovered bool
	}{
		{"below the threshold", false, st(0), st(2), false, false},
		{"reaching it", false, st(2), st(3), true, false},
		{"past it: once per streak", false, st(3), st(5), false, false},
		{"a success ending a short streak", true, st(2), st(0), false, false},
		{"a success ending a long one", true, st(4), st(0), false, true},
		{"a success, then a new streak reaching it", true, st(4), st(3), true, true},
	}
	for _, tt := range tests {
		f, r := StreakFacts(tt.succeeded, tt.cur, tt.next, 3)
		if f != tt.wantFailing || r != tt.wantRecovered {
			t.Errorf("%s: failing %v recovered %v, want %v %v", tt.name, f, r, tt.wantFailing, tt.wantRecovered)
		}
	}
	if f, r := StreakFacts(true, st(9), st(9), 0); f || r {
		t.Error("failingAfter 0 makes facts")
	}
}

func TestPlanProbe(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	p := ProbeParams{Now: now, Schedule: []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}}
	tests := []struct {
		name      string
		sub       Subscription
		candidate string
		want      ProbePlan
	}{
		{"first probe", Subscription{}, "dlv_1", ProbePlan{Start: true, Probe: "dlv_1", Probes: 1, NextAt: now.Add(2 * time.Minute)}},
		{"probe still pending", Subscription{ProbeDeliveryID: "dlv_1", Probes: 1}, "",
			ProbePlan{Probe: "dlv_1", Probes: 1, NextAt: now.Add(2 * time.Minute)}},
		{"past the schedule's end: its last delay", Subscription{ProbeDeliveryID: "dlv_1", Probes: 5}, "dlv_1",
			ProbePlan{Start: true, Probe: "dlv_1", Probes: 6, NextAt: now.Add(4 * time.Minute)}},
	}
	for _, tt := range tests {
		if got := PlanProbe(&tt.sub, tt.candidate, p); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if d := ProbeDelay(nil, 0); d != time.Minute {
		t.Errorf("default schedule starts at %s, want 1m", d)
	}
}
