// Package secrets keeps subscription secrets encrypted at rest: signing
// secrets (current and previous), secret header values and client
// certificate keys are sealed with AES-256-GCM before they reach the
// database, so a dump or a copy of the database file alone reveals none.
//
// A Keyring holds one or more 32-byte keys: the first seals, every one
// opens (key rotation: put the new key first, keep the old ones until
// Migrate has re-sealed everything under the new one, then drop them).
// Each sealed value names the key that sealed it.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrKey is wrapped by errors about keys: malformed, missing, unknown.
var ErrKey = errors.New("secrets key")

// prefix marks a sealed value: "rdk-enc:v1:<key id>:<base64 nonce+ciphertext>".
// Values without it are secrets stored in clear by a version before
// encryption; Open returns them as they are and Migrate seals them.
const prefix = "rdk-enc:v1:"

// KeySize is the size of a key: AES-256.
const KeySize = 32

type key struct {
	id   string // first 4 bytes of SHA-256 of the key, hex
	aead cipher.AEAD
}

// Keyring seals with its first key and opens with any.
type Keyring struct {
	keys []key
}

// NewKeyring makes a keyring of raw keys, the first one sealing.
func NewKeyring(raw ...[]byte) (*Keyring, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: none given", ErrKey)
	}
	k := &Keyring{}
	for i, r := range raw {
		if len(r) != KeySize {
			return nil, fmt.Errorf("%w %d: %d bytes, want %d", ErrKey, i+1, len(r), KeySize)
		}
		block, err := aes.NewCipher(r)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(r)
		k.keys = append(k.keys, key{id: hex.EncodeToString(sum[:4]), aead: aead})
	}
	return k, nil
}

// ParseKeys decodes base64 keys (standard or URL alphabet, padded or not).
func ParseKeys(encoded ...string) (*Keyring, error) {
	var raw [][]byte
	for i, e := range encoded {
		b, err := decode(strings.TrimSpace(e))
		if err != nil {
			return nil, fmt.Errorf("%w %d: not base64 (make one with: openssl rand -base64 32)", ErrKey, i+1)
		}
		raw = append(raw, b)
	}
	return NewKeyring(raw...)
}

func decode(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// LoadFile reads a key file: base64 keys one a line, the first sealing;
// blank lines and lines starting with # are skipped.
func LoadFile(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w file: %w", ErrKey, err)
	}
	var keys []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			keys = append(keys, line)
		}
	}
	k, err := ParseKeys(keys...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadOrCreateFile reads the key file at path, or creates it with a fresh
// key (mode 0600) when it does not exist; created reports which.
func LoadOrCreateFile(path string) (k *Keyring, created bool, err error) {
	k, err = LoadFile(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, false, err
	}
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("%w file: %w", ErrKey, err)
	}
	_, err = fmt.Fprintf(f, "# RevDesk secrets key (AES-256, base64): back it up with the database; without it\n# no signing secret can be read. See the README, \"Secrets at rest\".\n%s\n",
		base64.StdEncoding.EncodeToString(raw))
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return nil, false, err
	}
	k, err = NewKeyring(raw)
	return k, true, err
}

// Seal encrypts a secret under the first key. "" stays "" (no secret).
func (k *Keyring) Seal(plain string) string {
	if plain == "" {
		return ""
	}
	w := k.keys[0]
	nonce := make([]byte, w.aead.NonceSize(), w.aead.NonceSize()+len(plain)+w.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported systems
	}
	head := prefix + w.id + ":"
	sealed := w.aead.Seal(nonce, nonce, []byte(plain), []byte(head))
	return head + base64.RawURLEncoding.EncodeToString(sealed)
}

// Open decrypts a sealed value; a value stored in clear (no prefix) is
// returned as it is.
func (k *Keyring) Open(s string) (string, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return s, nil
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok {
		return "", fmt.Errorf("%w: malformed sealed value", ErrKey)
	}
	for _, c := range k.keys {
		if c.id != id {
			continue
		}
		b, err := base64.RawURLEncoding.DecodeString(body)
		if err != nil || len(b) < c.aead.NonceSize() {
			return "", fmt.Errorf("%w: malformed sealed value", ErrKey)
		}
		n := c.aead.NonceSize()
		plain, err := c.aead.Open(nil, b[:n], b[n:], []byte(prefix+id+":"))
		if err != nil {
			return "", fmt.Errorf("%w %s: the value does not open (damaged, or another key with that id)", ErrKey, id)
		}
		return string(plain), nil
	}
	return "", fmt.Errorf("%w: a secret is sealed with key %s, which is not configured (give it with --secrets-key after the current one)", ErrKey, id)
}

// Current reports whether s needs no re-sealing: empty, or sealed with
// the first key.
func (k *Keyring) Current(s string) bool {
	return s == "" || strings.HasPrefix(s, prefix+k.keys[0].id+":")
}
