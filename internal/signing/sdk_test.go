package signing_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/signing"
	"github.com/revdesk/webhooks/webhook"
)

// TestSDKVerifies checks that what the server signs, the public SDK accepts.
func TestSDKVerifies(t *testing.T) {
	t.Parallel()
	body := []byte(docBody)
	ts := time.Unix(1782847800, 0)
	oldSecret, newSecret := signing.GenerateSecret(), nonASCIISecret
	h := http.Header{}
	signing.SetStandardHeaders(h, "dlv_1", ts, body, oldSecret, newSecret)
	tests := []struct {
		name   string
		verify func() error
	}{
		{"documented, generated secret", func() error { return webhook.Verify(body, signing.DocumentedHeader(oldSecret, body), oldSecret) }},
		{"documented, non-ASCII secret", func() error { return webhook.Verify(body, signing.DocumentedHeader(newSecret, body), newSecret) }},
		{"standard, old secret", func() error { return webhook.VerifyStandard(body, h, oldSecret, 0, ts) }},
		{"standard, new secret", func() error { return webhook.VerifyStandard(body, h, newSecret, 0, ts) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.verify(); err != nil {
				t.Error(err)
			}
		})
	}
	if err := webhook.Verify(body, signing.DocumentedHeader("", body), ""); err != webhook.ErrNoSecret {
		t.Errorf("no secret: %v", err)
	}
}
