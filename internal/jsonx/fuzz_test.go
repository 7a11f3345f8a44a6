package jsonx

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// FuzzDecode feeds arbitrary bytes to the ingest decoder. Invariants: it
// never panics; whatever it accepts is valid JSON of the expected shape
// whose objects have no keys differing only in case, and the data member
// is kept byte for byte as it stood in the input.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"event_type":"sms_sent","data":{"id":"m","x":1.50}}`,
		`{"event_type":"a","Event_Type":"b"}`,
		`{"data":{"a":1,"A":2}}`,
		`{"data":{"a":{"x":1,"x":2}}}`,
		`{"event_type":"a"} {}`,
		"{\"event_type\":\"\xff\"}",
		`{"count":1e400}`,
		`[{"event_type":"a"}]`,
		`{"data":{"k":"\u00e9\/\ud83d\ude00"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v input
		if err := Decode(body, &v); err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if len(v.Data) > 0 {
			if !bytes.Contains(body, v.Data) {
				t.Fatalf("data %q is not the input's bytes", v.Data)
			}
			if err := CheckKeys(v.Data); err != nil {
				t.Fatalf("accepted data failing the key check: %v", err)
			}
		}
		assertNoFoldedDuplicates(t, body)
	})
}

// assertNoFoldedDuplicates re-checks the case-fold rule independently, with
// the standard library's decoder.
func assertNoFoldedDuplicates(t *testing.T, body []byte) {
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			seen := map[string]bool{}
			for k, child := range x {
				if seen[strings.ToLower(k)] {
					t.Fatalf("accepted keys differing only in case: %q in %q", k, body)
				}
				seen[strings.ToLower(k)] = true
				walk(child)
			}
		case []any:
			for _, child := range x {
				walk(child)
			}
		}
	}
	var v any
	if err := json.Unmarshal(body, &v); err == nil {
		walk(v)
	}
	_ = jsontext.Value(body)
}
