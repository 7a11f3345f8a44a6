package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Output is how every command prints what it has to say: tables and
// field lists for people by default, and with --json the server's JSON
// answer as is (indented), so scripts see the documented API shapes.
// Commands embed it (ClientFlags does) and call Print; a command with a
// view of its own passes its own text function. A new server command is
// usually one line:
//
//	return cl.show(http.MethodGet, path, query, nil, List(Col("id"), Col("status")))  // a page
//	return cl.show(http.MethodPost, path, nil, body, nil)                              // one resource
//
// and an answer without a body prints what happened with
// PrintValue(map[string]any{…}, Done("Deleted …")).
type Output struct {
	JSON bool `name:"json" help:"Print JSON instead of tables, for scripts (a server's answer as it sent it)."`

	w io.Writer
}

// writer is where output goes (stdout unless a test set another).
func (o *Output) writer() io.Writer {
	if o.w == nil {
		return os.Stdout
	}
	return o.w
}

// Print writes raw, a JSON answer: indented with --json, otherwise through
// text (nil: the fields of one object, see Fields).
func (o *Output) Print(raw []byte, text func(w io.Writer, raw []byte) error) error {
	w := o.writer()
	if o.JSON {
		return printJSON(w, raw)
	}
	if text == nil {
		text = Fields
	}
	return text(w, raw)
}

// PrintValue is Print for a value the command made itself.
func (o *Output) PrintValue(v any, text func(w io.Writer, raw []byte) error) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return o.Print(raw, text)
}

// printJSON indents JSON without re-encoding it, so the server's key order
// and number spelling are what the user sees.
func printJSON(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		_, err = w.Write(raw)
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// Column is one column of a table: a field of each row, or a value
// computed from the row.
type Column struct {
	Header string
	Field  string
	Value  func(row map[string]any) string // instead of Field, when set
}

// Col is a column showing a field, headed by the field's name in capitals.
func Col(field string) Column {
	return Column{Header: strings.ToUpper(strings.ReplaceAll(field, "_", " ")), Field: field}
}

// List returns the text view of a list answer ({"data":[…],"has_more",
// "next_after"}): a table of cols, and how to get the next page.
func List(cols ...Column) func(io.Writer, []byte) error {
	return func(w io.Writer, raw []byte) error {
		var page struct {
			Data      []map[string]any `json:"data"`
			HasMore   bool             `json:"has_more"`
			NextAfter string           `json:"next_after"`
		}
		if err := decodeNumbers(raw, &page); err != nil {
			return err
		}
		if len(page.Data) == 0 {
			_, err := fmt.Fprintln(w, "(none)")
			return err
		}
		if err := Table(w, page.Data, cols...); err != nil {
			return err
		}
		if page.HasMore {
			_, err := fmt.Fprintf(w, "more: repeat with --after %s\n", page.NextAfter)
			return err
		}
		return nil
	}
}

// Table writes rows as aligned columns.
func Table(w io.Writer, rows []map[string]any, cols ...Column) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = c.Header
	}
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, row := range rows {
		cells := make([]string, len(cols))
		for i, c := range cols {
			if c.Value != nil {
				cells[i] = c.Value(row)
			} else {
				cells[i] = cell(row[c.Field])
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// maxCell keeps table rows on one line.
const maxCell = 60

// cell is a value as a table shows it: one short line.
func cell(v any) string {
	s := text(v)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxCell {
		s = string([]rune(s)[:maxCell-1]) + "…"
	}
	return s
}

// text is a decoded JSON value for people: null as "-", times shortened,
// objects and arrays as compact JSON.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.UTC().Format("2006-01-02 15:04:05Z")
		}
		return v
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case json.Number:
		return v.String()
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// Fields is the text view of one object: its scalar fields as aligned
// "name  value" lines in the server's order, then each array of objects as
// a table and each object as indented JSON, under its name.
func Fields(w io.Writer, raw []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return printJSON(w, raw) // not an object: show it as it is
	}
	type block struct {
		name  string
		value jsontext.Value
	}
	var blocks []block
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String() // before the next read, which reuses the token's buffer
		value, err := dec.ReadValue()
		if err != nil {
			return err
		}
		switch value.Kind() {
		case '{', '[':
			if string(value) != "[]" && string(value) != "{}" {
				blocks = append(blocks, block{name, value.Clone()})
				continue
			}
		}
		var v any
		if err := decodeNumbers(value, &v); err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\n", name, text(v))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, b := range blocks {
		fmt.Fprintf(w, "\n%s:\n", b.name)
		var rows []map[string]any
		if b.value.Kind() == '[' && decodeNumbers(b.value, &rows) == nil && len(rows) > 0 {
			if err := Table(w, rows, columnsOf(b.value)...); err != nil {
				return err
			}
			continue
		}
		var buf bytes.Buffer
		_ = json.Indent(&buf, b.value, "  ", "  ")
		fmt.Fprintf(w, "  %s\n", buf.String())
	}
	return nil
}

// columnsOf lists the fields of the first object of an array, in order.
func columnsOf(array jsontext.Value) []Column {
	dec := jsontext.NewDecoder(bytes.NewReader(array))
	var cols []Column
	_, _ = dec.ReadToken() // [
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil
	}
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			break
		}
		cols = append(cols, Col(tok.String())) // before the next read voids tok
		if dec.SkipValue() != nil {
			break
		}
	}
	return cols
}

// decodeNumbers decodes JSON keeping numbers as they were written.
func decodeNumbers(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// Done is the text view of an answer without a body worth showing: one
// line saying what happened.
func Done(message string) func(io.Writer, []byte) error {
	return func(w io.Writer, _ []byte) error {
		_, err := fmt.Fprintln(w, message)
		return err
	}
}
