package jsonx

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

type input struct {
	EventType string         `json:"event_type"`
	Count     int            `json:"count"`
	Data      jsontext.Value `json:"data"`
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantErr string // substring; "" means success
	}{
		{"valid", `{"event_type":"a","count":1,"data":{"k":"v"}}`, ""},
		{"unknown field", `{"event_type":"a","evnt":1}`, `unknown field "evnt"`},
		{"duplicate key", `{"event_type":"a","event_type":"b"}`, "duplicate"},
		{"case-different key", `{"event_type":"a","Event_Type":"b"}`, "differ only in case"},
		{"case-different key nested in data", `{"data":{"id":1,"ID":2}}`, "differ only in case"},
		{"duplicate key nested in data", `{"data":{"a":{"x":1,"x":2}}}`, "duplicate"},
		{"trailing data", `{"event_type":"a"} {}`, "after the JSON value"},
		{"trailing garbage", `{"event_type":"a"}x`, "after the JSON value"},
		{"invalid utf-8", "{\"event_type\":\"a\xff\"}", "UTF-8"},
		{"truncated", `{"event_type":"a"`, "unexpected EOF"},
		{"empty", ``, "end of JSON"},
		{"wrong type", `{"count":"x"}`, `field "count"`},
		{"same key in sibling objects is fine", `{"data":{"a":{"id":1},"b":{"id":2}}}`, ""},
		{"arrays of objects", `{"data":[{"id":1},{"id":2,"ID":3}]}`, "differ only in case"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v input
			err := Decode([]byte(tt.body), &v)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Decode accepted %q", tt.body)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			t.Log(err)
		})
	}
}

func TestDecodeKeepsDataBytes(t *testing.T) {
	t.Parallel()
	data := `{"b":1.50,"a":"\u00e9\/","n":null,"big":12345678901234567890}`
	var v input
	if err := Decode([]byte(`{"data":`+data+`}`), &v); err != nil {
		t.Fatal(err)
	}
	if string(v.Data) != data {
		t.Fatalf("data changed:\n got %s\nwant %s", v.Data, data)
	}
}
