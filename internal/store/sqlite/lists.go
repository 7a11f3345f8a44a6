package sqlite

import "strings"

// filters is a list's WHERE clause of the filters that are set. SQLite
// plans a statement once for any parameters, so a filter written
// "(? = ” OR col = ?)" hides from it which index fits: on a large log one
// event's deliveries then scanned the workspace's index (130 ms instead of
// well under one on 200,000 deliveries).
type filters struct {
	conds []string
	args  []any
}

// eq adds "col = v" when v is set.
func (f *filters) eq(col, v string) {
	if v != "" {
		f.add(col+" = ?", v)
	}
}

func (f *filters) add(cond string, arg any) {
	f.conds = append(f.conds, cond)
	f.args = append(f.args, arg)
}

func (f *filters) where() string { return " WHERE " + strings.Join(f.conds, " AND ") }
