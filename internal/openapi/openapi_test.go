package openapi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/revdesk/webhooks/internal/api"
	"github.com/revdesk/webhooks/internal/apikey"
	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/internal/ingest"
	"github.com/revdesk/webhooks/internal/metrics"
	"github.com/revdesk/webhooks/internal/netguard"
	"github.com/revdesk/webhooks/internal/store"
	"github.com/revdesk/webhooks/internal/store/sqlite"
)

const docURL = "mem:///openapi.json"

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// spec is the parsed document (numbers as json.Number, as the validator
// wants them) with a compiler that resolves pointers into it.
type spec struct {
	root     map[string]any
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

func loadSpec(t *testing.T) *spec {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(document))
	if err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, doc); err != nil {
		t.Fatal(err)
	}
	return &spec{root: doc.(map[string]any), compiler: c, compiled: map[string]*jsonschema.Schema{}}
}

// schema compiles the schema at a JSON pointer into the document.
func (s *spec) schema(t *testing.T, pointer string) *jsonschema.Schema {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.compiled[pointer]; ok {
		return sch
	}
	sch, err := s.compiler.Compile(docURL + "#" + pointer)
	if err != nil {
		t.Fatalf("compiling %s: %v", pointer, err)
	}
	s.compiled[pointer] = sch
	return sch
}

// at returns the value at a JSON pointer.
func (s *spec) at(t *testing.T, pointer string) any {
	t.Helper()
	var v any = s.root
	for _, tok := range strings.Split(pointer, "/")[1:] {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object at %q", pointer, tok)
		}
		if v, ok = m[unescape(tok)]; !ok {
			t.Fatalf("%s: no %q", pointer, unescape(tok))
		}
	}
	return v
}

// operations lists "METHOD /path" of every documented operation.
func (s *spec) operations() []string {
	var ops []string
	for path, item := range s.root["paths"].(map[string]any) {
		for _, m := range methods {
			if _, ok := item.(map[string]any)[m]; ok {
				ops = append(ops, strings.ToUpper(m)+" "+path)
			}
		}
	}
	sort.Strings(ops)
	return ops
}

// opPointer is the pointer of an operation, e.g. /paths/~1healthz/get.
func opPointer(op string) string {
	method, path, _ := strings.Cut(op, " ")
	return "/paths/" + escape(path) + "/" + strings.ToLower(method)
}

func escape(tok string) string   { return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok) }
func unescape(tok string) string { return strings.NewReplacer("~1", "/", "~0", "~").Replace(tok) }

// nopDispatcher never takes work, so deliveries stay pending in the store.
type nopDispatcher struct{}

func (nopDispatcher) HasRoom() bool                  { return false }
func (nopDispatcher) Lease() time.Duration           { return time.Minute }
func (nopDispatcher) Owner() string                  { return "openapi-test" }
func (nopDispatcher) Enqueue([]store.Job, time.Time) {}
func (nopDispatcher) Wake()                          {}

// newAPI builds the real API on a fresh SQLite file, with the extra routes
// the server mounts, and returns it with a valid API key.
func newAPI(t *testing.T) (*api.Server, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.New(st, nopDispatcher{}, nil, nil)
	done := make(chan struct{})
	go func() { defer close(done); _ = in.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })

	ws, err := st.CreateWorkspace(ctx, store.CreateWorkspaceParams{Name: "openapi", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	key := apikey.New()
	id, hash := apikey.Hash(key)
	if _, err := st.CreateAPIKey(ctx, store.CreateAPIKeyParams{ID: id, WorkspaceID: ws.ID, Hash: hash, Scopes: api.AllScopes, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	extra := map[string]http.Handler{"GET /openapi.json": Handler(), "GET /metrics": metrics.New(st).Handler()}
	// Loopback allowed: the receiver check reaches a receiver in this process.
	return api.New(api.Deps{Store: st, Ingest: in, Extra: extra}, api.Config{AllowHTTP: true, Policy: netguard.Policy{AllowPrivate: true}}), key
}

// extraRoutes are mounted by internal/server beside the API's own routes.
var extraRoutes = []string{"GET /metrics", "GET /openapi.json"}

func TestEveryRouteDocumented(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	srv, _ := newAPI(t)
	var registered []string
	for _, p := range srv.Routes() {
		if !strings.Contains(p, " ") {
			continue // a method-less catch-all ("/api/" answering a JSON 404), not an operation
		}
		registered = append(registered, p)
	}
	registered = append(registered, extraRoutes...)
	sort.Strings(registered)
	documented := s.operations()
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("openapi.json documents %s, which the server does not register", d)
		}
	}
}

func TestOperationsComplete(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	seen := map[string]bool{}
	for _, op := range s.operations() {
		o := s.at(t, opPointer(op)).(map[string]any)
		id, _ := o["operationId"].(string)
		if id == "" || seen[id] {
			t.Errorf("%s: operationId %q missing or repeated", op, id)
		}
		seen[id] = true
		responses := o["responses"].(map[string]any)
		if strings.Contains(op, " /api/") {
			if _, ok := responses["default"]; !ok {
				t.Errorf("%s: no default error response", op)
			}
			if _, ok := responses["401"]; !ok {
				t.Errorf("%s: needs a key but documents no 401", op)
			}
			if _, ok := responses["403"]; !ok {
				t.Errorf("%s: needs a scope but documents no 403", op)
			}
			// The scope each operation names is the one the server enforces.
			want := []any{map[string]any{"bearerAuth": []any{api.RouteScope(op)}}}
			if api.RouteScope(op) == "" || !reflect.DeepEqual(o["security"], want) {
				t.Errorf("%s: security %v, want %v (the route's scope)", op, o["security"], want)
			}
		} else if sec, ok := o["security"].([]any); !ok || len(sec) != 0 {
			t.Errorf("%s: answers without a key, so security must be []", op)
		}
	}
}

// TestExamplesMatchSchemas validates every example of a media type against
// that media type's schema.
func TestExamplesMatchSchemas(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	count := 0
	var walk func(pointer string, v any)
	walk = func(pointer string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["schema"]; ok {
				examples := map[string]any{}
				if ex, ok := v["example"]; ok {
					examples["example"] = ex
				}
				if exs, ok := v["examples"].(map[string]any); ok {
					for name, ex := range exs {
						examples[name] = ex.(map[string]any)["value"]
					}
				}
				for name, ex := range examples {
					count++
					if err := s.schema(t, pointer+"/schema").Validate(ex); err != nil {
						t.Errorf("example %s of %s does not match its schema: %v", name, unescape(pointer), err)
					}
				}
			}
			for k, child := range v {
				walk(pointer+"/"+escape(k), child)
			}
		case []any:
			for i, child := range v {
				walk(pointer+"/"+strconv.Itoa(i), child)
			}
		}
	}
	walk("", s.root)
	if count < 40 {
		t.Errorf("validated only %d examples; the document should have more", count)
	}
}

// TestEventInputFollowsCatalog checks that the ingest schema accepts every
// ingestible type's catalog example, refuses the derived types, and that the
// data schemas it references are the catalog's.
func TestEventInputFollowsCatalog(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	input := s.schema(t, "/components/schemas/EventIngestRequest")
	dataRef := map[string]string{}
	for _, rule := range s.at(t, "/components/schemas/EventInput/allOf").([]any) {
		rule := rule.(map[string]any)
		ref := rule["then"].(map[string]any)["properties"].(map[string]any)["data"].(map[string]any)["$ref"].(string)
		for _, name := range rule["if"].(map[string]any)["properties"].(map[string]any)["event_type"].(map[string]any)["enum"].([]any) {
			dataRef[name.(string)] = strings.TrimPrefix(ref, "#")
		}
	}
	var names []any
	for _, et := range catalog.All() {
		names = append(names, et.Name)
		t.Run(et.Name, func(t *testing.T) {
			t.Parallel()
			var example any
			if err := json.Unmarshal(et.Example, &example); err != nil {
				t.Fatal(err)
			}
			event := map[string]any{"event_type": et.Name, "data": example}
			err := input.Validate(mustNumbers(t, event))
			if et.Derived || et.Family == catalog.FamilyOperational {
				if err == nil {
					t.Error("a derived type is accepted for ingest")
				}
				return
			}
			if err != nil {
				t.Errorf("catalog example is refused: %v", err)
			}
			ref, ok := dataRef[et.Name]
			if !ok {
				t.Fatal("no data schema for this type in EventInput")
			}
			var want map[string]any
			if err := json.Unmarshal(et.Schema, &want); err != nil {
				t.Fatal(err)
			}
			// The component is the catalog schema without its resource identity.
			delete(want, "$schema")
			delete(want, "$id")
			var got map[string]any
			b, _ := json.Marshal(s.at(t, ref))
			_ = json.Unmarshal(b, &got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s differs from the catalog schema of %s; copy it from internal/catalog/schemas", ref, et.Name)
			}
		})
	}
	enum := s.at(t, "/components/schemas/Subscription/properties/event_type/enum").([]any)
	if !reflect.DeepEqual(enum, names) {
		t.Errorf("event_type enum %v, catalog has %v", enum, names)
	}
}

// TestSchemasRefuseWrongInput guards against schemas so loose that the
// example checks above prove nothing.
func TestSchemasRefuseWrongInput(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	tests := []struct {
		name, schema, value string
	}{
		{"data of another type", "EventIngestRequest", `{"event_type":"number_purchased","data":{"id":"call_1"}}`},
		{"unknown event field", "EventIngestRequest", `{"event_type":"contact_created","data":{"id":"c","created_at":"2026-06-30T19:30:00Z"},"typo":1}`},
		{"empty batch", "EventIngestRequest", `[]`},
		{"missing webhook_url", "SubscriptionCreate", `{"event_type":"call_completed"}`},
		{"unknown event type", "SubscriptionCreate", `{"webhook_url":"https://example.com","event_type":"call_done"}`},
		{"error without code", "Error", `{"error":{"message":"x"}}`},
		{"bad subscription id", "Subscription", `{"id":"sub_1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.value))
			if err != nil {
				t.Fatal(err)
			}
			if s.schema(t, "/components/schemas/"+tt.schema).Validate(v) == nil {
				t.Errorf("%s accepts %s", tt.schema, tt.value)
			}
		})
	}
}

// harness makes real requests and checks each answer against the documented
// response for its operation and status.
type harness struct {
	t      *testing.T
	s      *spec
	url    string
	key    string
	called map[string]bool
}

type request struct {
	op      string            // documented operation, "POST /api/v1/webhook_subscriptions/{id}/enable"
	id      string            // fills {id}
	query   string            // appended after ?
	body    any               // marshalled unless []byte
	header  map[string]string // extra headers
	noKey   bool
	key     string // a credential other than the harness's key
	want    int
	ctype   string // Content-Type of the body; default application/json
	resHead func(http.Header)
}

func (h *harness) do(r request) map[string]any {
	t := h.t
	t.Helper()
	method, path, _ := strings.Cut(r.op, " ")
	url := h.url + strings.ReplaceAll(path, "{id}", r.id)
	if r.query != "" {
		url += "?" + r.query
	}
	var body io.Reader
	if r.body != nil {
		b, ok := r.body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(r.body); err != nil {
				t.Fatal(err)
			}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", cmp.Or(r.ctype, "application/json"))
	}
	if !r.noKey {
		req.Header.Set("Authorization", "Bearer "+cmp.Or(r.key, h.key))
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != r.want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, r.want, raw)
	}
	h.called[r.op] = true
	if r.resHead != nil {
		r.resHead(resp.Header)
	}

	responses := h.s.at(t, opPointer(r.op)+"/responses").(map[string]any)
	code := strconv.Itoa(resp.StatusCode)
	pointer := opPointer(r.op) + "/responses/" + code
	doc, ok := responses[code].(map[string]any)
	if !ok {
		if doc, ok = responses["default"].(map[string]any); !ok || resp.StatusCode < 400 {
			t.Fatalf("%s: status %d is not documented", r.op, resp.StatusCode)
		}
		pointer = opPointer(r.op) + "/responses/default"
	}
	if ref, ok := doc["$ref"].(string); ok {
		pointer = strings.TrimPrefix(ref, "#")
		doc = h.s.at(t, pointer).(map[string]any)
	}
	content, hasContent := doc["content"].(map[string]any)
	if !hasContent {
		if len(raw) != 0 {
			t.Errorf("%s %d: documented without a body, got %s", r.op, resp.StatusCode, raw)
		}
		return nil
	}
	ct := resp.Header.Get("Content-Type")
	if _, ok := content["application/json"]; !ok {
		for mt := range content {
			if !strings.HasPrefix(ct, mt) {
				t.Errorf("%s: Content-Type %q, documented %q", r.op, ct, mt)
			}
		}
		return nil
	}
	if ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", r.op, ct)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: answer is not JSON: %v: %s", r.op, err, raw)
	}
	if err := h.s.schema(t, pointer+"/content/application~1json/schema").Validate(v); err != nil {
		t.Errorf("%s %d: answer does not match the documented schema: %v\n%s", r.op, resp.StatusCode, err, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// example returns the named request example of an operation.
func (h *harness) example(op, name string) any {
	h.t.Helper()
	return h.s.at(h.t, opPointer(op)+"/requestBody/content/application~1json/examples/"+escape(name)+"/value")
}

func (h *harness) exampleNames(op string) []string {
	var names []string
	for name := range h.s.at(h.t, opPointer(op)+"/requestBody/content/application~1json/examples").(map[string]any) {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// TestRealResponsesMatchDocument sends the documented request examples (and
// error cases) to the real server and validates every answer against the
// documented schema for its status; every documented operation is called.
func TestRealResponsesMatchDocument(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	srv, key := newAPI(t)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	h := &harness{t: t, s: s, url: ts.URL, key: key, called: map[string]bool{}}

	const (
		createSub  = "POST /api/v1/webhook_subscriptions"
		listSubs   = "GET /api/v1/webhook_subscriptions"
		sub        = "GET /api/v1/webhook_subscriptions/{id}"
		deleteSub  = "DELETE /api/v1/webhook_subscriptions/{id}"
		rotate     = "POST /api/v1/webhook_subscriptions/{id}/rotate_secret"
		ingestOp   = "POST /api/v1/events"
		delivery   = "GET /api/v1/deliveries/{id}"
		deliveries = "GET /api/v1/deliveries"
		keys       = "POST /api/v1/api_keys"
	)

	for _, op := range []string{"GET /healthz", "GET /readyz", "GET /openapi.json", "GET /metrics"} {
		h.do(request{op: op, noKey: true, want: http.StatusOK})
	}
	// Every /api operation refuses a request without a key, as documented.
	for _, op := range s.operations() {
		if strings.Contains(op, " /api/") {
			h.do(request{op: op, id: "x", noKey: true, want: http.StatusUnauthorized})
		}
	}
	h.called = map[string]bool{} // the 401s alone do not count as exercising an operation

	subs := map[string]string{}
	for _, name := range h.exampleNames(createSub) {
		created := h.do(request{op: createSub, body: h.example(createSub, name), want: http.StatusCreated})
		subs[name] = created["id"].(string)
	}
	conflict := h.do(request{op: createSub, body: h.example(createSub, "documented"), want: http.StatusConflict})
	if got := conflict["error"].(map[string]any)["existing_id"]; got != subs["documented"] {
		t.Errorf("409 names %v, want %s", got, subs["documented"])
	}
	h.do(request{op: createSub, body: map[string]any{"webhook_ur": "https://example.com"}, want: http.StatusBadRequest})
	h.do(request{op: createSub, body: []byte(`{}`), ctype: "text/plain", want: http.StatusUnsupportedMediaType})
	h.do(request{op: createSub, body: bytes.Repeat([]byte(" "), 1<<20+1), want: http.StatusRequestEntityTooLarge})

	page := h.do(request{op: listSubs, query: "limit=2", want: http.StatusOK})
	h.do(request{op: listSubs, query: "after=" + page["next_after"].(string) + "&event_type=number_purchased", want: http.StatusOK})
	h.do(request{op: listSubs, query: "status=active&limt=1", want: http.StatusBadRequest})
	h.do(request{op: sub, id: subs["scoped"], want: http.StatusOK})
	h.do(request{op: sub, id: "whk_unknown", want: http.StatusNotFound})
	for _, name := range h.exampleNames(rotate) {
		h.do(request{op: rotate, id: subs["scoped"], body: h.example(rotate, name), want: http.StatusOK})
	}
	h.do(request{op: rotate, id: subs["scoped"], want: http.StatusOK})
	h.do(request{op: rotate, id: subs["scoped"], body: map[string]any{"mode": "later"}, want: http.StatusBadRequest})
	patch := "PATCH /api/v1/webhook_subscriptions/{id}"
	h.do(request{op: patch, id: subs["scoped"], body: h.example(patch, "move"), want: http.StatusOK})
	h.do(request{op: patch, id: subs["scoped"], body: map[string]any{"rate_limit": -1}, want: http.StatusBadRequest})
	h.do(request{op: patch, id: "whk_unknown", body: map[string]any{}, want: http.StatusNotFound})
	h.do(request{op: "POST /api/v1/webhook_subscriptions/{id}/disable", id: subs["documented"], want: http.StatusOK})
	h.do(request{op: "POST /api/v1/webhook_subscriptions/{id}/enable", id: subs["documented"], want: http.StatusOK})
	retryFailed := "POST /api/v1/webhook_subscriptions/{id}/retry_failed"
	h.do(request{op: retryFailed, id: subs["documented"], body: h.example(retryFailed, "since"), want: http.StatusAccepted})
	replayOp := "POST /api/v1/webhook_subscriptions/{id}/replay"
	started := h.do(request{op: replayOp, id: subs["documented"], body: map[string]any{"since": "2026-01-01T00:00:00Z", "all": true}, want: http.StatusAccepted})
	h.do(request{op: replayOp, id: subs["documented"], body: map[string]any{"since": "yesterday"}, want: http.StatusBadRequest})
	h.do(request{op: "GET /api/v1/replays/{id}", id: started["id"].(string), want: http.StatusOK})
	h.do(request{op: "GET /api/v1/replays/{id}", id: "rpl_unknown", want: http.StatusNotFound})
	careless := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(careless.Close)
	checked := h.do(request{op: createSub, body: map[string]any{"webhook_url": careless.URL + "/hooks", "event_type": "number_released"}, want: http.StatusCreated})
	check := "POST /api/v1/webhook_subscriptions/{id}/check"
	if report := h.do(request{op: check, id: checked["id"].(string), want: http.StatusOK}); report["passed"] != false || len(report["findings"].([]any)) != 5 {
		t.Errorf("check of a receiver accepting everything: %v", report)
	}
	h.do(request{op: check, id: "whk_unknown", want: http.StatusNotFound})

	var eventID string
	for _, name := range h.exampleNames(ingestOp) {
		res := h.do(request{op: ingestOp, body: h.example(ingestOp, name), want: http.StatusAccepted})
		if id, ok := res["id"].(string); ok {
			eventID = id
		}
	}
	replay := request{op: ingestOp, body: h.example(ingestOp, "number_purchased"), header: map[string]string{"Idempotency-Key": "k1"}, want: http.StatusAccepted}
	first := h.do(replay)
	replay.resHead = func(hd http.Header) {
		if hd.Get("Idempotent-Replayed") != "true" {
			t.Error("a replayed ingest does not say Idempotent-Replayed: true")
		}
	}
	if again := h.do(replay); again["id"] != first["id"] {
		t.Errorf("replayed ingest answered %v, first %v", again["id"], first["id"])
	}
	h.do(request{op: ingestOp, body: map[string]any{"event_type": "call_busy", "data": map[string]any{}}, want: http.StatusBadRequest})
	h.do(request{op: "GET /api/v1/events", query: "event_type=call_busy", want: http.StatusOK})
	h.do(request{op: "GET /api/v1/events/{id}", id: eventID, want: http.StatusOK})

	// The batch example holds a contact_created event, which reaches the
	// standard_webhooks example's subscription.
	list := h.do(request{op: deliveries, query: "subscription_id=" + subs["standard_webhooks"] + "&status=pending", want: http.StatusOK})
	data := list["data"].([]any)
	if len(data) == 0 {
		t.Fatal("no delivery for the contact_created subscription")
	}
	dlv := data[0].(map[string]any)["id"].(string)
	h.do(request{op: delivery, id: dlv, want: http.StatusOK})
	h.do(request{op: "POST /api/v1/deliveries/{id}/retry", id: dlv, want: http.StatusAccepted})
	h.do(request{op: deliveries, query: "status=lost", want: http.StatusBadRequest})
	h.do(request{op: "GET /api/v1/event_types", want: http.StatusOK})
	h.do(request{op: "GET /api/v1/endpoints", want: http.StatusOK})
	h.do(request{op: "GET /api/v1/endpoints", query: "limit=2", want: http.StatusBadRequest})

	h.do(request{op: "GET /api/v1/api_keys", want: http.StatusOK})
	newKey := h.do(request{op: keys, want: http.StatusCreated})
	h.do(request{op: "DELETE /api/v1/api_keys/{id}", id: newKey["id"].(string), want: http.StatusNoContent})
	h.do(request{op: "DELETE /api/v1/api_keys/{id}", id: "key_0000000000000000", want: http.StatusNotFound})

	testOp := "POST /api/v1/webhook_subscriptions/{id}/test"
	for _, name := range h.exampleNames(testOp) {
		h.do(request{op: testOp, id: subs["scoped"], body: h.example(testOp, name), want: http.StatusAccepted})
	}
	h.do(request{op: testOp, id: subs["documented"], body: map[string]any{"data": map[string]any{"id": "x"}}, want: http.StatusBadRequest})
	h.do(request{op: testOp, id: "whk_unknown", want: http.StatusNotFound})
	reader := h.do(request{op: keys, body: map[string]any{"scopes": []string{"read"}}, want: http.StatusCreated})
	h.do(request{op: ingestOp, key: reader["api_key"].(string), body: h.example(ingestOp, "number_purchased"), want: http.StatusForbidden})
	h.do(request{op: keys, body: map[string]any{"scopes": []string{"reed"}}, want: http.StatusBadRequest})

	sessions := "POST /api/v1/portal_sessions"
	var session map[string]any
	for _, name := range h.exampleNames(sessions) {
		session = h.do(request{op: sessions, body: h.example(sessions, name), want: http.StatusCreated})
	}
	h.do(request{op: sessions, body: map[string]any{"expires_in": 86401}, want: http.StatusBadRequest})
	token := session["token"].(string)
	h.do(request{op: "GET /api/v1/portal_sessions/current", key: token, want: http.StatusOK})
	h.do(request{op: "GET /api/v1/portal_sessions/current", want: http.StatusNotFound})
	h.do(request{op: "DELETE /api/v1/portal_sessions/{id}", id: session["id"].(string), want: http.StatusNoContent})
	h.do(request{op: "DELETE /api/v1/portal_sessions/{id}", id: "pts_0000000000000000", want: http.StatusNotFound})
	h.do(request{op: "GET /api/v1/portal_sessions/current", key: token, want: http.StatusUnauthorized})

	h.do(request{op: deleteSub, id: subs["documented"], want: http.StatusNoContent})
	h.do(request{op: deleteSub, id: subs["documented"], want: http.StatusNotFound})

	for _, op := range s.operations() {
		if !h.called[op] && strings.Contains(op, " /api/") {
			t.Errorf("%s is documented but never exercised here", op)
		}
	}
}

// mustNumbers round-trips v so numbers are json.Number, as the validator
// expects of decoded JSON.
func mustNumbers(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
