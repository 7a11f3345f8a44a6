// Package apikey holds the API keys' crypto: making a key, deriving the id
// and hash it is stored under, reading it from a request's Authorization
// header and checking it against the stored hash in constant time. The
// store keeps only the hash; nothing here knows HTTP statuses.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/revdesk/webhooks/internal/ids"
)

// New makes a fresh API key: rdk_ and 256 random bits.
func New() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return ids.APIKey + "_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash returns the public id under which a key is stored and the hash kept
// for it. The id is a prefix of the hash, so any key string (including one
// set through REVDESK_API_KEY) can be looked up without storing the key.
func Hash(key string) (id string, hash []byte) {
	sum := sha256.Sum256([]byte(key))
	return "key_" + hex.EncodeToString(sum[:8]), sum[:]
}

// FromAuthorization reads the key of an "Authorization: Bearer <key>"
// header value; ok is false when there is none.
func FromAuthorization(header string) (key string, ok bool) {
	token, ok := strings.CutPrefix(header, "Bearer ")
	token = strings.TrimSpace(token)
	return token, ok && token != ""
}

// Matches reports whether key hashes to stored, in constant time so the
// comparison reveals nothing of the stored hash.
func Matches(stored []byte, key string) bool {
	_, hash := Hash(key)
	return subtle.ConstantTimeCompare(stored, hash) == 1
}
