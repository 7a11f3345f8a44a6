package filter

import (
	"errors"
	"testing"
)

// FuzzCompile: any text either compiles to a filter that evaluates without
// panicking, or fails with ErrInvalid; nothing else.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{`data.status == "VOICEMAIL"`, `has(data.a) && data.b in [1, 2]`, `data.n > 3.5`} {
		f.Add(s)
	}
	data := NewData([]byte(call))
	f.Fuzz(func(t *testing.T, src string) {
		flt, err := Compile(src)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Compile(%q) = %v, not ErrInvalid", src, err)
			}
			return
		}
		flt.Match(data)
	})
}
