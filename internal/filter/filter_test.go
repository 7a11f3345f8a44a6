package filter

import (
	"errors"
	"strings"
	"testing"
)

const call = `{"id":"call_abc123","direction":"outbound","duration_seconds":42,"status":"VOICEMAIL",
	"failure_category":"voicemail","disconnection_reason":null,"tags":["vip","east"],
	"contact":{"id":7,"city":"Austin"}}`

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want bool
	}{
		{`data.status == "VOICEMAIL"`, true},
		{`data.status == "BUSY"`, false},
		{`data.status != "BUSY"`, true},
		{`data.duration_seconds > 30`, true},
		{`data.duration_seconds >= 42 && data.duration_seconds < 43`, true},
		{`data.duration_seconds > 42`, false},
		{`data.duration_seconds == 42`, true}, // a JSON number compares with an int literal
		{`data.direction in ["inbound", "outbound"]`, true},
		{`data.direction in ["inbound"]`, false},
		{`"vip" in data.tags`, true},
		{`has(data.failure_category)`, true},
		{`has(data.missing)`, false},
		{`data.disconnection_reason == null`, true},
		{`data.contact.city == "Austin" || data.status == "BUSY"`, true},
		{`data.contact.id == 7 && !(data.status == "VOICEMAIL")`, false},
		{`data.status.startsWith("VOICE")`, true},
		{`data.tags.exists(t, t == "east")`, true},
		// An error on this event's data is no match, never a delivery.
		{`data.missing == "x"`, false},
		{`data.status > 3`, false},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			f, err := Compile(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Match(NewData([]byte(call))); got != tc.want {
				t.Fatalf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ expr, says string }{
		{``, "empty"},
		{`   `, "empty"},
		{`data.status ==`, "Syntax error"},
		{`data.status == "a" &&`, "Syntax error"},
		{`1 + 2`, "not a bool"},
		{`"text"`, "not a bool"},
		{`nosuch == 1`, "undeclared reference"},
		{`data.status.nosuchfunction()`, "undeclared reference"},
		{strings.Repeat("(", 200) + "true" + strings.Repeat(")", 200), "recursion"},
		{`data.a == "` + strings.Repeat("x", MaxLen) + `"`, "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.says, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tc.expr)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Compile(%.40q) = %v, want ErrInvalid", tc.expr, err)
			}
			if !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q should say %q on one line", err, tc.says)
			}
		})
	}
}

// The cost limit stops an expression whose work grows with the data.
func TestCostLimit(t *testing.T) {
	t.Parallel()
	f, err := Compile(`data.items.all(a, data.items.all(b, a + b >= 0))`)
	if err != nil {
		t.Fatal(err)
	}
	small := `{"items":[1,2,3]}`
	if !f.Match(NewData([]byte(small))) {
		t.Fatal("small list should match")
	}
	big := `{"items":[` + strings.Repeat("1,", 999) + `1]}`
	if f.Match(NewData([]byte(big))) {
		t.Fatal("a million steps should hit the cost limit and not match")
	}
}

func TestBadData(t *testing.T) {
	t.Parallel()
	f, err := Compile(`true`)
	if err != nil {
		t.Fatal(err)
	}
	if f.Match(NewData([]byte(`{`))) {
		t.Fatal("undecodable data should not match")
	}
}

func TestCached(t *testing.T) {
	t.Parallel()
	a, err := Cached(`data.x == 1`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Cached(`data.x == 1`)
	if a != b {
		t.Fatal("the same text should give the same compiled filter")
	}
	if _, err := Cached(`data.x ==`); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Cached of a bad filter = %v", err)
	}
}
