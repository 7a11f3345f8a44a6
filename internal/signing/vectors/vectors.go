// Package vectors is the layout of sdk/vectors/signatures.json, the test
// vectors shared by the receiver SDKs (Go, Node.js, Python): the generator in
// internal/signing writes it, the Go SDK's tests read it.
package vectors

import (
	"encoding/json"
	"fmt"
	"os"
)

// Verdicts, shared by the three SDKs (each maps its errors onto them).
const (
	OK               = "ok"
	MissingEventType = "missing_event_type"
	UnknownEventType = "unknown_event_type"
	MissingSignature = "missing_signature"
	NoSecret         = "no_secret"
	InvalidSignature = "invalid_signature"
	TimestampTooOld  = "timestamp_too_old"
	TimestampTooNew  = "timestamp_too_new"
)

// Requirements of a RequestCase.
const (
	RequireNone             = "none"
	RequireSignature        = "signature"
	RequireStandardWebhooks = "standard_webhooks"
)

// File is the whole document; sdk/vectors/README.md describes it.
type File struct {
	Comment    string          `json:"comment"`
	Signatures []SignatureCase `json:"signatures"`
	Requests   []RequestCase   `json:"requests"`
}

// SignatureCase checks one scheme with one secret: Scheme "documented"
// (X-revdesk-Signature-256) or "standard" (webhook-id, webhook-timestamp,
// webhook-signature).
type SignatureCase struct {
	Name       string            `json:"name"`
	Scheme     string            `json:"scheme"`
	BodyBase64 string            `json:"body_base64"`
	Headers    map[string]string `json:"headers"`
	Secret     string            `json:"secret"`
	Now        int64             `json:"now"`
	Tolerance  int64             `json:"tolerance_seconds"`
	Verdict    string            `json:"verdict"`
}

// RequestCase checks a whole delivery against a receiver's configuration:
// several secrets, no-secret-provided allowed or not, a signature required.
type RequestCase struct {
	Name          string            `json:"name"`
	BodyBase64    string            `json:"body_base64"`
	Headers       map[string]string `json:"headers"`
	Secrets       []string          `json:"secrets"`
	AllowNoSecret bool              `json:"allow_no_secret"`
	Require       string            `json:"require"`
	Now           int64             `json:"now"`
	Tolerance     int64             `json:"tolerance_seconds"`
	Verdict       string            `json:"verdict"`
	// Authenticated: on OK, whether a signature was verified (false for an
	// unsigned call/SMS delivery or an allowed no-secret-provided).
	Authenticated bool `json:"authenticated"`
}

// Load reads a vectors file and checks it has cases.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.Signatures) == 0 || len(f.Requests) == 0 {
		return nil, fmt.Errorf("%s has no cases", path)
	}
	return &f, nil
}
