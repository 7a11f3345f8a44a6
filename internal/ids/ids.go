// Package ids makes resource identifiers: a type prefix, then 48 bits of
// millisecond time and 96 random bits in lowercase base32, so ids are
// URL-safe, unguessable and sort by creation time.
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// Prefixes of the resources the service hands out.
const (
	Workspace    = "ws"
	APIKey       = "rdk"
	Subscription = "whk"
	Event        = "evt"
	Delivery     = "dlv"
	Attempt      = "att"
)

var encoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// New returns prefix_ followed by 29 characters (18 bytes: 6 time, 12 random).
func New(prefix string) string {
	return NewAt(prefix, time.Now())
}

// NewAt is New with an explicit creation time.
func NewAt(prefix string, t time.Time) string {
	var b [18]byte
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(t.UnixMilli()))
	copy(b[:6], ms[2:])
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails on supported platforms
	return prefix + "_" + encoding.EncodeToString(b[:])
}

// HasPrefix reports whether id looks like an id of the given prefix.
func HasPrefix(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"_")
	return ok && len(rest) == 29
}
