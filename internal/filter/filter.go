// Package filter is the payload filter of a subscription: a CEL expression
// (github.com/google/cel-go) over the event's data, such as
//
//	data.status == "VOICEMAIL" && data.duration_seconds > 30
//	data.direction in ["inbound", "outbound"] && has(data.contact_token)
//
// An expression is compiled once (Compile, or Cached for routing) and then
// evaluated per event with a cost limit, so no expression can hold ingest.
// CEL rather than a language of our own: it is kept, documented, typed and
// bounded (parse depth, size and evaluation cost), which is what a filter
// that runs inside every ingest transaction needs.
package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
)

// Limits of an expression. MaxLen bounds what is stored and parsed; the
// parser limits bound its depth; CostLimit bounds one evaluation (CEL's cost
// units, roughly one per operation and per list element or string byte
// visited), so a filter over a large list stops instead of burning CPU.
const (
	MaxLen         = 2048
	maxRecursion   = 32
	CostLimit      = 10_000
	maxCacheLength = 10_000
)

// ErrInvalid is wrapped by every error of Compile: the text names what is
// wrong and where, for the API's 400.
var ErrInvalid = errors.New("invalid filter")

// Filter is one compiled expression; safe for concurrent use.
type Filter struct {
	src string
	prg cel.Program
}

// env is shared by every compilation: building it costs far more than a
// compile.
var env = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("data", cel.DynType),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(MaxLen),
		cel.ParserRecursionLimit(maxRecursion),
	)
})

// Compile checks and compiles an expression, which must be boolean.
func Compile(src string) (*Filter, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("%w: the expression is empty", ErrInvalid)
	}
	if len(src) > MaxLen {
		return nil, fmt.Errorf("%w: the expression is longer than %d bytes", ErrInvalid, MaxLen)
	}
	e, err := env()
	if err != nil {
		return nil, err
	}
	ast, iss := e.Compile(src)
	if iss.Err() != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, oneLine(iss.Err().Error()))
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, fmt.Errorf("%w: the expression gives %s, not a bool", ErrInvalid, t)
	}
	prg, err := e.Program(ast, cel.CostLimit(CostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, oneLine(err.Error()))
	}
	return &Filter{src: src, prg: prg}, nil
}

// oneLine folds CEL's multi-line messages (with a caret under the column)
// into one line for a JSON error body.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " | ")), " ")
}

// String is the expression's text.
func (f *Filter) String() string { return f.src }

// Match reports whether the event's data passes. An expression that fails
// on this data (a missing field without has(), a type mismatch, the cost
// limit) does not match: a filter only lets through what it vouches for.
func (f *Filter) Match(d *Data) bool {
	act, ok := d.activation()
	if !ok {
		return false
	}
	out, _, err := f.prg.Eval(act)
	if err != nil {
		return false
	}
	return out == types.True
}

// Data is one event's data, decoded at most once however many filters look
// at it (an event routed to a thousand filtered subscriptions is parsed
// once).
type Data struct {
	raw  []byte
	once sync.Once
	act  interpreter.Activation
	ok   bool
}

// NewData wraps an event's data JSON; nothing is decoded until a filter
// needs it.
func NewData(raw []byte) *Data { return &Data{raw: raw} }

// activation converts the data to CEL values once: handing CEL the Go map
// instead would convert it again in every evaluation.
func (d *Data) activation() (interpreter.Activation, bool) {
	d.once.Do(func() {
		var v any
		if err := json.Unmarshal(d.raw, &v); err != nil {
			return
		}
		act, err := interpreter.NewActivation(map[string]any{"data": types.DefaultTypeAdapter.NativeToValue(v)})
		d.act, d.ok = act, err == nil
	})
	return d.act, d.ok
}

// cache maps expression text to its compiled filter. It is keyed by text
// rather than subscription so that a PATCHed filter is compiled anew and
// identical filters share one program; it is emptied when it grows past
// maxCacheLength (stale texts of changed filters would otherwise pile up).
var cache struct {
	sync.RWMutex
	m map[string]*Filter
}

// Cached returns the compiled filter of src, compiling it on first use.
func Cached(src string) (*Filter, error) {
	cache.RLock()
	f, ok := cache.m[src]
	cache.RUnlock()
	if ok {
		return f, nil
	}
	f, err := Compile(src)
	if err != nil {
		return nil, err
	}
	cache.Lock()
	if cache.m == nil || len(cache.m) >= maxCacheLength {
		cache.m = map[string]*Filter{}
	}
	cache.m[src] = f
	cache.Unlock()
	return f, nil
}
