package store

import (
	"slices"
	"testing"
)

func TestResourceID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		data string
		want string // "" for none
	}{
		{`{"id":"call_1","x":2}`, `"call_1"`},
		{`{"id": 4821}`, `4821`},
		{`{"x":1, "id" : "a b"}`, `"a b"`},
		{`{"id":null}`, ``},
		{`{"other":"x"}`, ``},
		{`[1,2]`, ``},
		{`not json`, ``},
	}
	for _, tc := range tests {
		if got := string(ResourceID([]byte(tc.data))); got != tc.want {
			t.Errorf("ResourceID(%s) = %q, want %q", tc.data, got, tc.want)
		}
	}
}

func TestOrderKey(t *testing.T) {
	t.Parallel()
	sub := func(ws, url string, ordered bool) *Subscription {
		return &Subscription{WorkspaceID: ws, WebhookURL: url, Ordered: ordered}
	}
	key := func(s *Subscription, data string) string { return NewResource([]byte(data)).OrderKey(s) }
	a := key(sub("ws_1", "https://x/h", true), `{"id":"m1"}`)
	if a == "" || len(a) != 16 {
		t.Fatalf("key = %q, want 16 hex digits", a)
	}
	tests := []struct {
		name string
		key  string
		same bool
	}{
		{"another subscription to the same url", key(sub("ws_1", "https://x/h", true), `{"id": "m1", "s": 1}`), true},
		{"another resource", key(sub("ws_1", "https://x/h", true), `{"id":"m2"}`), false},
		{"another url", key(sub("ws_1", "https://x/other", true), `{"id":"m1"}`), false},
		{"another workspace", key(sub("ws_2", "https://x/h", true), `{"id":"m1"}`), false},
		{"a number id is not the same string", key(sub("ws_1", "https://x/h", true), `{"id":1}`), false},
	}
	for _, tc := range tests {
		if (tc.key == a) != tc.same {
			t.Errorf("%s: key %q vs %q, want same=%v", tc.name, tc.key, a, tc.same)
		}
	}
	if k := key(sub("ws_1", "https://x/h", false), `{"id":"m1"}`); k != "" {
		t.Errorf("unordered subscription has key %q", k)
	}
	if k := key(sub("ws_1", "https://x/h", true), `{"no":"id"}`); k != "" {
		t.Errorf("data without id has key %q", k)
	}
}

func TestLockIDsAndHeads(t *testing.T) {
	t.Parallel()
	keys := []string{"ffffffffffffffff0000", "0000000000000001ab", "ffffffffffffffff0000", "not-hex"}
	ids := LockIDs(keys)
	if len(ids) != 3 || !slices.IsSorted(ids) {
		t.Errorf("LockIDs = %v, want 3 sorted distinct ids", ids)
	}
	h := NewHeads([]string{"busy"})
	got := []bool{h.Take("busy"), h.Take("k"), h.Take("k"), h.Take(""), h.Take("")}
	if want := []bool{false, true, false, true, true}; !slices.Equal(got, want) {
		t.Errorf("Heads.Take = %v, want %v", got, want)
	}
}
