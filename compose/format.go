package compose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"text/template"
)

// listing is how a listing command renders its rows with --format, as
// Docker does: "table" (the default, the command's own columns), "json"
// (one object a line), "table TEMPLATE" (a table of the template's
// columns under their headers) or any other Go template, run once a row.
type listing struct {
	table   string            // the default table's template, without "table "
	headers map[string]string // a column's header by field name
	array   bool              // json is one array rather than one object a line
	minCell int               // a table cell's least width, padding included (Docker's: 10; Compose's ls: 20)
}

// funcs are the template functions Docker's --format offers.
var funcs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join":  strings.Join,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"split": strings.Split,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
}

// marshalFields is a row's JSON object of fields, its keys in order and
// "<", ">", "&" left as they are, as Docker's formatter prints rows.
func marshalFields(fields map[string]any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// render writes rows (a slice) to w in format.
func (l listing) render(w io.Writer, format string, rows any) error {
	switch format {
	case "json":
		return l.json(w, rows)
	case "", "table":
		format = "table " + l.table
	}
	text, table := strings.CutPrefix(format, "table ")
	text = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(text)
	tmpl, err := template.New("format").Funcs(funcs).Option("missingkey=zero").Parse(text)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	out := w
	var tw *tabwriter.Writer
	if table {
		tw = tabwriter.NewWriter(w, l.minCell, 1, 3, ' ', 0)
		out = tw
		if err := l.line(out, tmpl, l.headers); err != nil {
			return err
		}
	}
	v := reflect.ValueOf(rows)
	for i := range v.Len() {
		if err := l.line(out, tmpl, v.Index(i).Interface()); err != nil {
			return err
		}
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

func (l listing) line(w io.Writer, tmpl *template.Template, data any) error {
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	_, err := fmt.Fprintln(w, b.String())
	return err
}

func (l listing) json(w io.Writer, rows any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // as Docker's json template function
	if l.array {
		return enc.Encode(rows)
	}
	v := reflect.ValueOf(rows)
	for i := range v.Len() {
		if err := enc.Encode(v.Index(i).Interface()); err != nil {
			return err
		}
	}
	return nil
}
