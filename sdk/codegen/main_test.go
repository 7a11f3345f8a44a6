package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesCurrent is the CI check that the SDKs' typed payloads
// match the catalog.
func TestGeneratedFilesCurrent(t *testing.T) {
	t.Parallel()
	files, err := render()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go run ./sdk/codegen from the repository root", name)
		}
	}
}

func TestTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prop   property
		ts, py string
	}{
		{"string", property{Type: []byte(`"string"`)}, "string", "str"},
		{"nullable", property{Type: []byte(`["string","null"]`)}, "string | null", "Optional[str]"},
		{"integer", property{Type: []byte(`"integer"`)}, "number", "int"},
		{"enum", property{Enum: []string{"brand", "campaign"}}, `"brand" | "campaign"`, `Literal["brand", "campaign"]`},
		{"array", property{Type: []byte(`"array"`), Items: &property{Type: []byte(`"string"`)}}, "string[]", "List[str]"},
		{"untyped", property{}, "unknown", "Any"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts, err := tsType(&tt.prop)
			if err != nil || ts != tt.ts {
				t.Errorf("tsType = %q, %v; want %q", ts, err, tt.ts)
			}
			py, err := pyType(&tt.prop)
			if err != nil || py != tt.py {
				t.Errorf("pyType = %q, %v; want %q", py, err, tt.py)
			}
		})
	}
	if _, err := tsType(&property{Type: []byte(`"object"`)}); err == nil {
		t.Error("an object property must be refused until the generator can type it")
	}
}
