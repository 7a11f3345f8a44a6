package apikey

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		key := New()
		random, ok := strings.CutPrefix(key, "rdk_")
		if !ok {
			t.Fatalf("key %q lacks the rdk_ prefix", key)
		}
		if b, err := base64.RawURLEncoding.DecodeString(random); err != nil || len(b) != 32 {
			t.Fatalf("key %q: want 32 random bytes in URL-safe base64, got %d (%v)", key, len(b), err)
		}
		if seen[key] {
			t.Fatalf("key %q made twice", key)
		}
		seen[key] = true
	}
}

func TestHash(t *testing.T) {
	t.Parallel()
	// Ids and hashes are stored in databases: they must not change between
	// releases. The figures are SHA-256 of the key, by sha256sum.
	const want = "655b6e0fa0ec98a45c405558b7b9e4abb58fc4892dc46d2808a8dea394878c19"
	id, hash := Hash("rdk_local_dev_key")
	if id != "key_"+want[:16] {
		t.Errorf("id %q, want key_%s", id, want[:16])
	}
	if hex.EncodeToString(hash) != want {
		t.Errorf("hash %x, want %s", hash, want)
	}
}

func TestFromAuthorization(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer rdk_abc", "rdk_abc", true},
		{"Bearer  rdk_abc ", "rdk_abc", true},
		{"", "", false},
		{"Bearer ", "", false},
		{"Bearer    ", "", false},
		{"bearer rdk_abc", "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"rdk_abc", "", false},
	}
	for _, tt := range tests {
		got, ok := FromAuthorization(tt.header)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("FromAuthorization(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	key := New()
	_, stored := Hash(key)
	tests := []struct {
		name   string
		stored []byte
		key    string
		want   bool
	}{
		{"its own hash", stored, key, true},
		{"another key", stored, New(), false},
		{"a truncated hash", stored[:16], key, false},
		{"no hash", nil, key, false},
	}
	for _, tt := range tests {
		if got := Matches(tt.stored, tt.key); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}
