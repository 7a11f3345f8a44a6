package ids_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
)

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

func TestNewFormat(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{ids.Workspace, ids.APIKey, ids.Subscription, ids.Event, ids.Delivery, ids.Attempt} {
		t.Run(prefix, func(t *testing.T) {
			t.Parallel()
			id := ids.New(prefix)
			t.Log(id)
			rest, ok := strings.CutPrefix(id, prefix+"_")
			if !ok {
				t.Fatalf("id %q lacks prefix %q_", id, prefix)
			}
			if len(rest) != 29 {
				t.Errorf("id %q: %d characters after the prefix, want 29", id, len(rest))
			}
			if i := strings.IndexFunc(rest, func(r rune) bool { return !strings.ContainsRune(alphabet, r) }); i >= 0 {
				t.Errorf("id %q: character %q is not in the lowercase base32 alphabet", id, rest[i])
			}
			if !ids.HasPrefix(id, prefix) {
				t.Errorf("HasPrefix(%q, %q) = false", id, prefix)
			}
		})
	}
}

func TestHasPrefix(t *testing.T) {
	t.Parallel()
	valid := ids.New(ids.Event)
	tests := []struct {
		name, id, prefix string
		want             bool
	}{
		{"valid", valid, ids.Event, true},
		{"other prefix", valid, ids.Delivery, false},
		{"prefix of a prefix", ids.New("evtx"), ids.Event, false},
		{"no underscore", strings.Replace(valid, "_", "", 1), ids.Event, false},
		{"too short", valid[:len(valid)-1], ids.Event, false},
		{"too long", valid + "0", ids.Event, false},
		{"empty", "", ids.Event, false},
		{"prefix only", "evt_", ids.Event, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ids.HasPrefix(tt.id, tt.prefix); got != tt.want {
				t.Errorf("HasPrefix(%q, %q) = %v, want %v", tt.id, tt.prefix, got, tt.want)
			}
		})
	}
}

func TestNewAtSortsByTime(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 6, 30, 19, 30, 0, 0, time.UTC)
	steps := []time.Duration{0, time.Millisecond, 2 * time.Millisecond, time.Second, time.Hour, 24 * time.Hour, 365 * 24 * time.Hour}
	var want []string
	for _, s := range steps {
		// Many ids per instant: the random part must never outweigh time.
		for range 20 {
			want = append(want, ids.NewAt(ids.Event, base.Add(s)))
		}
	}
	for i := 20; i < len(want); i += 20 {
		for j := range 20 {
			if want[i+j] <= want[i-1-j] {
				t.Fatalf("id %q made later sorts before or equal to %q", want[i+j], want[i-1-j])
			}
		}
	}
	// Ids of the same millisecond share the time part (the first 9 characters
	// hold 45 of its 48 bits).
	a, b := ids.NewAt(ids.Event, base), ids.NewAt(ids.Event, base.Add(999*time.Microsecond))
	if a[:4+9] != b[:4+9] {
		t.Errorf("same-millisecond ids %q and %q differ in their time part", a, b)
	}
	if a == b {
		t.Errorf("two ids of the same instant are equal: %q", a)
	}
}

func TestNewAtSortsInCreationOrder(t *testing.T) {
	// Not parallel: ids made by other tests in between could start a
	// millisecond's sequence afresh.
	at := time.Now()
	made := make([]string, 1000)
	for i := range made {
		made[i] = ids.NewAt(ids.Delivery, at.Add(time.Duration(i%3)*time.Microsecond))
	}
	if !slices.IsSorted(made) {
		for i := 1; i < len(made); i++ {
			if made[i] <= made[i-1] {
				t.Fatalf("id %d %q sorts before id %d %q made before it", i, made[i], i-1, made[i-1])
			}
		}
	}
	// The tail stays random: consecutive ids differ beyond the counter.
	if made[0][len(made[0])-12:] == made[1][len(made[1])-12:] {
		t.Errorf("consecutive ids %q and %q share their random tail", made[0], made[1])
	}
}

func TestNewUsesCurrentTime(t *testing.T) {
	t.Parallel()
	before := ids.NewAt(ids.Delivery, time.Now().Add(-time.Second))
	id := ids.New(ids.Delivery)
	after := ids.NewAt(ids.Delivery, time.Now().Add(time.Second))
	if !(before < id && id < after) {
		t.Errorf("New = %q, want between %q and %q", id, before, after)
	}
}

func TestNewUnique(t *testing.T) {
	t.Parallel()
	const n = 20000
	seen := make(map[string]struct{}, n)
	at := time.Now() // one instant: uniqueness rests on the random bits alone
	for range n {
		id := ids.NewAt(ids.Attempt, at)
		if _, dup := seen[id]; dup {
			t.Fatalf("duplicate id %q after %d ids", id, len(seen))
		}
		seen[id] = struct{}{}
	}
}

func TestFloor(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	floor := ids.Floor(ids.Delivery, at)
	// The bound migration 00010 computed in SQL for this midnight.
	if want := "dlv_06h3838c000000000000000000000"; floor != want {
		t.Errorf("Floor = %s, want %s", floor, want)
	}
	tests := []struct {
		name  string
		at    time.Time
		after bool
	}{
		{"same millisecond", at, true},
		{"a millisecond later", at.Add(time.Millisecond), true},
		{"a day later", at.Add(24 * time.Hour), true},
		{"a millisecond earlier", at.Add(-time.Millisecond), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := ids.NewAt(ids.Delivery, tc.at)
			if got := id >= floor; got != tc.after {
				t.Errorf("%s >= %s is %v, want %v", id, floor, got, tc.after)
			}
			got, ok := ids.Time(id)
			if !ok || !got.Equal(tc.at.Truncate(time.Millisecond)) {
				t.Errorf("Time(%s) = %v, %v; want %v", id, got, ok, tc.at)
			}
		})
	}
	if _, ok := ids.Time("dlv_short"); ok {
		t.Error("Time of a malformed id is ok")
	}
}
