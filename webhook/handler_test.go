package webhook_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/webhook"
)

// delivery builds a request as RevDesk sends it; extra headers override.
func delivery(t *testing.T, eventType, body string, extra http.Header) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/hooks/revdesk", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if eventType != "" {
		r.Header.Set(webhook.HeaderEventType, eventType)
	}
	r.Header.Set(webhook.HeaderEventID, "evt_1")
	r.Header.Set(webhook.HeaderDeliveryID, "dlv_1")
	r.Header.Set(webhook.HeaderSubscriptionID, "whk_1")
	for k, v := range extra {
		r.Header[k] = v
	}
	return r
}

func signed(sig string) http.Header {
	return http.Header{http.CanonicalHeaderKey(webhook.HeaderSignature256): {sig}}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	now := time.Now()
	key := whsecKey(t, secret)
	withStandard := func(h http.Header, ts time.Time, body string) http.Header {
		for k, v := range standardHeaders(t, "dlv_1", ts, body, key) {
			h[k] = v
		}
		return h
	}
	tests := []struct {
		name   string
		req    func(t *testing.T) *http.Request
		opts   []webhook.Option
		status int
	}{
		{"signed valid", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventNumberPurchased, numberBody, signed(sign(secret, numberBody)))
		}, nil, http.StatusOK},
		{"signed bad signature", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventNumberPurchased, numberBody, signed(sign("other", numberBody)))
		}, nil, http.StatusUnauthorized},
		{"signed without header", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventNumberPurchased, numberBody, nil)
		}, nil, http.StatusUnauthorized},
		{"no-secret-provided refused", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventNumberPurchased, numberBody, signed(webhook.NoSecret))
		}, nil, http.StatusUnauthorized},
		{"no-secret-provided allowed", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventNumberPurchased, numberBody, signed(webhook.NoSecret))
		}, []webhook.Option{webhook.AllowNoSecret()}, http.StatusOK},
		{"previous secret during rotation", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventNumberPurchased, numberBody, signed(sign("old-secret", numberBody)))
		}, []webhook.Option{webhook.WithPreviousSecret("old-secret")}, http.StatusOK},
		{"relabelled signed body", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventNumberReleased, numberBody, signed(sign(secret, numberBody)))
		}, nil, http.StatusBadRequest},
		{"flat unsigned", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventCallVoicemail, callBody, nil)
		}, nil, http.StatusOK},
		{"flat with valid standard headers", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventCallVoicemail, callBody, withStandard(http.Header{}, now, callBody))
		}, nil, http.StatusOK},
		{"signed with both schemes", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventNumberPurchased, numberBody, withStandard(signed(sign(secret, numberBody)), now, numberBody))
		}, nil, http.StatusOK},
		{"standard signature wrong", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventCallVoicemail, callBody, withStandard(http.Header{}, now, callBody+" "))
		}, nil, http.StatusUnauthorized},
		{"standard timestamp stale", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventCallVoicemail, callBody, withStandard(http.Header{}, now.Add(-time.Hour), callBody))
		}, nil, http.StatusUnauthorized},
		{"standard timestamp within custom tolerance", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventCallVoicemail, callBody, withStandard(http.Header{}, now.Add(-time.Hour), callBody))
		}, []webhook.Option{webhook.WithTolerance(2 * time.Hour)}, http.StatusOK},
		{"flat unsigned refused when a signature is required", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventCallVoicemail, callBody, nil)
		}, []webhook.Option{webhook.Require(webhook.RequireSignature)}, http.StatusUnauthorized},
		{"flat with standard headers when a signature is required", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventCallVoicemail, callBody, withStandard(http.Header{}, now, callBody))
		}, []webhook.Option{webhook.Require(webhook.RequireSignature)}, http.StatusOK},
		{"signed type stripped of its standard headers", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventNumberPurchased, numberBody, signed(sign(secret, numberBody)))
		}, []webhook.Option{webhook.Require(webhook.RequireStandardWebhooks)}, http.StatusUnauthorized},
		{"no-secret-provided allowed but a signature required", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventNumberPurchased, numberBody, signed(webhook.NoSecret))
		}, []webhook.Option{webhook.AllowNoSecret(), webhook.Require(webhook.RequireSignature)}, http.StatusUnauthorized},
		{"missing event type", func(t *testing.T) *http.Request {
			return delivery(t, "", callBody, nil)
		}, nil, http.StatusBadRequest},
		{"unknown event type", func(t *testing.T) *http.Request {
			return delivery(t, "call_answered", callBody, nil)
		}, nil, http.StatusBadRequest},
		{"malformed flat body", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventCallCompleted, `{"id":`, nil)
		}, nil, http.StatusBadRequest},
		{"body too large", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventCallVoicemail, callBody, nil)
		}, []webhook.Option{webhook.WithMaxBodyBytes(64)}, http.StatusRequestEntityTooLarge},
		{"non-positive cap keeps the default", func(t *testing.T) *http.Request {
			return delivery(t, webhook.EventCallVoicemail, callBody, nil)
		}, []webhook.Option{webhook.WithMaxBodyBytes(0)}, http.StatusOK},
		{"GET refused", func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/hooks/revdesk", nil)
		}, nil, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got *webhook.Event
			var reread string
			h := webhook.Handler(secret, func(w http.ResponseWriter, r *http.Request, ev *webhook.Event) {
				got = ev
				b, _ := io.ReadAll(r.Body)
				reread = string(b)
				w.WriteHeader(http.StatusOK)
			}, tt.opts...)
			req := tt.req(t)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			t.Logf("%s → %d %s", tt.name, rec.Code, strings.TrimSpace(rec.Body.String()))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.status != http.StatusOK {
				if got != nil {
					t.Error("next was called on a refused delivery")
				}
				return
			}
			if got == nil {
				t.Fatal("next was not called")
			}
			if got.Type != req.Header.Get(webhook.HeaderEventType) || got.EventID != "evt_1" || got.DeliveryID != "dlv_1" || got.SubscriptionID != "whk_1" {
				t.Errorf("event %+v", got)
			}
			if reread == "" {
				t.Error("next cannot re-read the body")
			}
		})
	}
}

// TestHandlerAuthenticated checks that the event says whether a signature
// was verified.
func TestHandlerAuthenticated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		eventType string
		body      string
		header    http.Header
		opts      []webhook.Option
		want      bool
	}{
		{"documented signature", webhook.EventNumberPurchased, numberBody, signed(sign(secret, numberBody)), nil, true},
		{"allowed no-secret-provided", webhook.EventNumberPurchased, numberBody, signed(webhook.NoSecret), []webhook.Option{webhook.AllowNoSecret()}, false},
		{"unsigned call", webhook.EventCallVoicemail, callBody, nil, nil, false},
		{"call with Standard Webhooks", webhook.EventCallVoicemail, callBody, standardHeaders(t, "dlv_1", time.Now(), callBody, whsecKey(t, secret)), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan bool, 1)
			h := webhook.Handler(secret, func(w http.ResponseWriter, r *http.Request, ev *webhook.Event) {
				got <- ev.Authenticated
			}, tt.opts...)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, delivery(t, tt.eventType, tt.body, tt.header))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if a := <-got; a != tt.want {
				t.Errorf("Authenticated = %v, want %v", a, tt.want)
			}
		})
	}
}

// TestHandlerTest: Event.Test says whether the delivery is a test send.
func TestHandlerTest(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]bool{"true": true, "": false, "false": false} {
		got := make(chan bool, 1)
		h := webhook.Handler(secret, func(w http.ResponseWriter, r *http.Request, ev *webhook.Event) { got <- ev.Test })
		extra := signed(sign(secret, numberBody))
		if header != "" {
			extra[http.CanonicalHeaderKey(webhook.HeaderTest)] = []string{header}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, delivery(t, webhook.EventNumberPurchased, numberBody, extra))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %q: status %d", webhook.HeaderTest, header, rec.Code)
		}
		if g := <-got; g != want {
			t.Errorf("%s %q: Test = %v, want %v", webhook.HeaderTest, header, g, want)
		}
	}
}

// TestHandlerOverHTTP runs the middleware behind a real server.
func TestHandlerOverHTTP(t *testing.T) {
	t.Parallel()
	calls := make(chan string, 1)
	srv := httptest.NewServer(webhook.Handler(secret, func(w http.ResponseWriter, r *http.Request, ev *webhook.Event) {
		n, err := ev.Number()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		calls <- n.PhoneNumber
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(numberBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(webhook.HeaderEventType, webhook.EventNumberPurchased)
	req.Header.Set(webhook.HeaderSignature256, sign(secret, numberBody))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := <-calls; got != "+15551234567" {
		t.Errorf("phone number %q", got)
	}
}
