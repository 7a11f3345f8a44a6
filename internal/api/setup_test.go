package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/apikey"
	"github.com/revdesk/webhooks/internal/ingest"
	"github.com/revdesk/webhooks/internal/store"
	"github.com/revdesk/webhooks/internal/store/sqlite"
)

// idleDispatcher never takes work: deliveries stay pending in the store,
// which is all the API's tests look at.
type idleDispatcher struct{}

func (idleDispatcher) HasRoom() bool                  { return false }
func (idleDispatcher) Lease() time.Duration           { return time.Minute }
func (idleDispatcher) Owner() string                  { return "api-test" }
func (idleDispatcher) Enqueue([]store.Job, time.Time) {}
func (idleDispatcher) Wake()                          {}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fixture is the real API over a SQLite store of its own, with one
// workspace and its key.
type fixture struct {
	srv   *Server
	store store.Store
	ws    string
	key   string
}

// setup builds the API with cfg on a fresh SQLite file in a temporary
// directory, with the ingest service running.
func setup(t *testing.T, cfg Config) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.New(st, idleDispatcher{}, nil, nil)
	done := make(chan struct{})
	go func() { defer close(done); _ = in.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	f := &fixture{srv: New(Deps{Store: st, Ingest: in, Logger: discardLogger()}, cfg), store: st}
	f.ws, f.key = f.workspace(t, "api-test")
	return f
}

// workspace creates a workspace and a key for it.
func (f *fixture) workspace(t *testing.T, name string) (id, key string) {
	t.Helper()
	ws, err := f.store.CreateWorkspace(context.Background(), store.CreateWorkspaceParams{Name: name, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	key = apikey.New()
	keyID, hash := apikey.Hash(key)
	if _, err := f.store.CreateAPIKey(context.Background(), store.CreateAPIKeyParams{ID: keyID, WorkspaceID: ws.ID, Hash: hash, Scopes: AllScopes, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return ws.ID, key
}

// response is what the API answered.
type response struct {
	status int
	header http.Header
	body   []byte
}

// request sends a request with the fixture's key; headers are name, value
// pairs and may override Authorization.
func (f *fixture) request(t *testing.T, method, target, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	req.Header.Set("Authorization", "Bearer "+f.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// object decodes the body as a JSON object.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v\n%s", r.status, err, r.body)
	}
	return v
}

// apiError is the documented error body's inner object.
type apiError struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	Field      string `json:"field"`
	ExistingID string `json:"existing_id"`
}

// errorBody decodes the documented error body, {"error":{"code","message"}},
// failing the test if the answer is not one.
func (r response) errorBody(t *testing.T) apiError {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error answered with Content-Type %q", ct)
	}
	var v struct {
		Error *apiError `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil || v.Error == nil {
		t.Fatalf("answer %d is not an error body (%v): %s", r.status, err, r.body)
	}
	if v.Error.Code == "" || v.Error.Message == "" {
		t.Errorf("error body without code or message: %s", r.body)
	}
	return *v.Error
}

// wantError checks an answer's status and error code.
func (r response) wantError(t *testing.T, status int, code string) apiError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	e := r.errorBody(t)
	if e.Code != code {
		t.Errorf("error code %q, want %q: %s", e.Code, code, r.body)
	}
	return e
}

// subscribe creates a subscription of an event type to a path of
// example.com and returns its id.
func (f *fixture) subscribe(t *testing.T, eventType, path string) string {
	t.Helper()
	r := f.request(t, "POST", "/api/v1/webhook_subscriptions", `{"webhook_url":"https://example.com`+path+`","event_type":"`+eventType+`"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.status, r.body)
	}
	return r.object(t)["id"].(string)
}
