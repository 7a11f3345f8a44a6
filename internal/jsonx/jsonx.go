// Package jsonx decodes API input strictly: unknown fields, duplicate keys,
// keys that differ only in case, trailing data and invalid UTF-8 are all
// errors, so a typo never passes silently. It builds on the JSON v2
// experiment, whose defaults already reject duplicates and invalid UTF-8 and
// match names case-sensitively; the case-fold check is the one rule added here.
package jsonx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// ErrInvalid is wrapped by every decoding error.
var ErrInvalid = errors.New("invalid JSON")

// Error is a decoding error with a message fit for an API user.
type Error struct {
	Field   string // JSON pointer of the offending member, "" for the whole body
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return ErrInvalid }

// Decode unmarshals data into v strictly.
func Decode(data []byte, v any) error {
	if err := CheckKeys(data); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v, json.RejectUnknownMembers(true)); err != nil {
		return describe(err)
	}
	return nil
}

// IsArray reports whether the JSON text is an array (after whitespace).
func IsArray(data []byte) bool {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '['
}

// CheckKeys walks the whole value, including nested objects inside free-form
// members such as an event's data, and rejects keys that differ only in case
// within one object. Syntax errors are reported too.
func CheckKeys(data []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	type frame struct {
		isObject  bool
		expectKey bool
		seen      map[string]string
	}
	var stack []frame
	for started := false; ; started = true {
		if started && len(stack) == 0 {
			if _, err := dec.ReadToken(); err != io.EOF {
				return &Error{Message: fmt.Sprintf("unexpected data after the JSON value at byte %d", dec.InputOffset())}
			}
			return nil
		}
		tok, err := dec.ReadToken()
		if err == io.EOF {
			return &Error{Message: "unexpected end of JSON input"}
		}
		if err != nil {
			return describe(err)
		}
		kind := tok.Kind()
		if n := len(stack); n > 0 && stack[n-1].isObject && stack[n-1].expectKey && kind == '"' {
			top := &stack[n-1]
			name := tok.String()
			folded := strings.ToLower(name)
			if prev, ok := top.seen[folded]; ok {
				return &Error{Field: string(dec.StackPointer()), Message: fmt.Sprintf("keys %q and %q differ only in case", prev, name)}
			}
			top.seen[folded] = name
			top.expectKey = false
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].isObject {
			stack[n-1].expectKey = true
		}
		switch kind {
		case '{':
			stack = append(stack, frame{isObject: true, expectKey: true, seen: map[string]string{}})
		case '[':
			stack = append(stack, frame{})
		case '}', ']':
			stack = stack[:len(stack)-1]
			if n := len(stack); n > 0 && stack[n-1].isObject {
				stack[n-1].expectKey = true
			}
		}
	}
}

func describe(err error) error {
	var se *json.SemanticError
	if errors.As(err, &se) {
		field := string(se.JSONPointer)
		switch {
		case errors.Is(se.Err, json.ErrUnknownName):
			return &Error{Field: field, Message: fmt.Sprintf("unknown field %q", strings.TrimPrefix(field, "/"))}
		case se.GoType != nil && se.JSONKind != 0:
			return &Error{Field: field, Message: fmt.Sprintf("field %q: cannot use JSON %s as %s", strings.TrimPrefix(field, "/"), kindName(se.JSONKind), se.GoType)}
		}
		var syn *jsontext.SyntacticError
		if errors.As(se.Err, &syn) {
			return syntax(syn)
		}
		return &Error{Field: field, Message: "invalid JSON: " + se.Error()}
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		return syntax(syn)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Message: "unexpected end of JSON input"}
	}
	return &Error{Message: "invalid JSON: " + err.Error()}
}

func syntax(e *jsontext.SyntacticError) error {
	msg := e.Err.Error()
	if errors.Is(e.Err, jsontext.ErrDuplicateName) {
		return &Error{Field: string(e.JSONPointer), Message: fmt.Sprintf("duplicate key at %s", e.JSONPointer)}
	}
	return &Error{Field: string(e.JSONPointer), Message: fmt.Sprintf("invalid JSON at byte %d: %s", e.ByteOffset, msg)}
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}
