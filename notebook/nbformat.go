package notebook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gocvx/gocvx/cellio"
)

// The nbformat version this package writes. Notebooks of minor version 4.0–4.4 are
// read and written back with their own minor version.
const (
	Format      = 4
	FormatMinor = 5
)

// Cell types.
const (
	Code     = "code"
	Markdown = "markdown"
	Raw      = "raw"
)

// Output types.
const (
	Stream        = "stream"
	DisplayData   = "display_data"
	ExecuteResult = "execute_result"
	ErrorOutput   = "error"
)

// Notebook is an nbformat v4 notebook.
type Notebook struct {
	Cells []*Cell
	// Metadata is the notebook's metadata (kernelspec, language_info, …), kept as
	// read: numbers are json.Number.
	Metadata map[string]any
	// Format and FormatMinor are nbformat and nbformat_minor; Format is always 4.
	Format, FormatMinor int
}

// Cell is one cell of a notebook.
type Cell struct {
	Type   string // Code, Markdown or Raw
	ID     string // the cell ID (nbformat 4.5); empty in older notebooks
	Source string
	// Metadata is the cell's metadata, kept as read; never nil after Read.
	Metadata map[string]any
	// Attachments are the files a markdown or raw cell embeds (name → MIME bundle).
	Attachments map[string]any

	// For code cells: the execution count shown as In [n] (nil when not executed)
	// and the outputs.
	ExecutionCount *int
	Outputs        []*Output
}

// Output is one output of a code cell.
type Output struct {
	Type string // Stream, DisplayData, ExecuteResult or ErrorOutput

	// Stream: Name is "stdout" or "stderr", Text what was written.
	Name, Text string

	// DisplayData and ExecuteResult: the MIME bundle. Text types are strings (joined
	// from the file's lists of lines), JSON types decoded JSON values, binary types
	// base64 strings.
	Data     map[string]any
	Metadata map[string]any
	// ExecuteResult: the execution count of the cell that produced it.
	ExecutionCount *int

	// ErrorOutput: the error's name, message and traceback lines.
	EName, EValue string
	Traceback     []string
}

// New returns an empty notebook for the gocvx kernel.
func New() *Notebook {
	return &Notebook{
		Format:      Format,
		FormatMinor: FormatMinor,
		Metadata: map[string]any{
			"kernelspec": map[string]any{
				"display_name": "Go (gocvx)",
				"language":     "go",
				"name":         "gocvx",
			},
			"language_info": cellio.Go().Map(),
		},
	}
}

// Read decodes a notebook in nbformat v4 (any minor version).
func Read(r io.Reader) (*Notebook, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("notebook: not a JSON notebook: %v", err)
	}
	major, ok := intValue(raw["nbformat"])
	if !ok {
		return nil, errors.New("notebook: no nbformat version")
	}
	if major != Format {
		return nil, fmt.Errorf("notebook: nbformat %d is not supported (only version 4; Jupyter's `jupyter nbconvert --to notebook` upgrades older notebooks)", major)
	}
	minor, _ := intValue(raw["nbformat_minor"])
	nb := &Notebook{Format: major, FormatMinor: minor}
	if m, ok := raw["metadata"].(map[string]any); ok {
		nb.Metadata = m
	} else {
		nb.Metadata = map[string]any{}
	}
	cells, ok := raw["cells"].([]any)
	if !ok && raw["cells"] != nil {
		return nil, errors.New("notebook: cells is not a list")
	}
	for i, rc := range cells {
		m, ok := rc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("notebook: cell %d is not an object", i)
		}
		c, err := readCell(m)
		if err != nil {
			return nil, fmt.Errorf("notebook: cell %d: %v", i, err)
		}
		nb.Cells = append(nb.Cells, c)
	}
	return nb, nil
}

// ReadFile reads the notebook in the named file.
func ReadFile(name string) (*Notebook, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	nb, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return nb, nil
}

func readCell(m map[string]any) (*Cell, error) {
	c := &Cell{}
	c.Type, _ = m["cell_type"].(string)
	switch c.Type {
	case Code, Markdown, Raw:
	default:
		return nil, fmt.Errorf("unknown cell_type %q", c.Type)
	}
	c.ID, _ = m["id"].(string)
	src, err := multiline(m["source"])
	if err != nil {
		return nil, fmt.Errorf("source: %v", err)
	}
	c.Source = src
	if md, ok := m["metadata"].(map[string]any); ok {
		c.Metadata = md
	} else {
		c.Metadata = map[string]any{}
	}
	if a, ok := m["attachments"].(map[string]any); ok {
		for _, bundle := range a {
			if b, ok := bundle.(map[string]any); ok {
				joinBundle(b)
			}
		}
		c.Attachments = a
	}
	if c.Type != Code {
		return c, nil
	}
	if n, ok := intValue(m["execution_count"]); ok {
		c.ExecutionCount = &n
	}
	outs, _ := m["outputs"].([]any)
	for i, ro := range outs {
		om, ok := ro.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("output %d is not an object", i)
		}
		o, err := readOutput(om)
		if err != nil {
			return nil, fmt.Errorf("output %d: %v", i, err)
		}
		c.Outputs = append(c.Outputs, o)
	}
	return c, nil
}

func readOutput(m map[string]any) (*Output, error) {
	o := &Output{}
	o.Type, _ = m["output_type"].(string)
	switch o.Type {
	case Stream:
		o.Name, _ = m["name"].(string)
		text, err := multiline(m["text"])
		if err != nil {
			return nil, fmt.Errorf("text: %v", err)
		}
		o.Text = text
	case DisplayData, ExecuteResult:
		o.Data, _ = m["data"].(map[string]any)
		if o.Data == nil {
			o.Data = map[string]any{}
		}
		joinBundle(o.Data)
		o.Metadata, _ = m["metadata"].(map[string]any)
		if o.Metadata == nil {
			o.Metadata = map[string]any{}
		}
		if n, ok := intValue(m["execution_count"]); ok {
			o.ExecutionCount = &n
		}
	case ErrorOutput:
		o.EName, _ = m["ename"].(string)
		o.EValue, _ = m["evalue"].(string)
		tb, _ := m["traceback"].([]any)
		o.Traceback = []string{}
		for _, l := range tb {
			s, _ := l.(string)
			o.Traceback = append(o.Traceback, s)
		}
	default:
		return nil, fmt.Errorf("unknown output_type %q", o.Type)
	}
	return o, nil
}

// multiline returns a string stored as a string or as a list of lines.
func multiline(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []any:
		var b strings.Builder
		for _, l := range v {
			s, ok := l.(string)
			if !ok {
				return "", errors.New("list holds a non-string")
			}
			b.WriteString(s)
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("%T is neither a string nor a list of strings", v)
}

// joinBundle joins the lists of lines of a MIME bundle's non-JSON values into strings.
func joinBundle(b map[string]any) {
	for k, v := range b {
		if isJSONMIME(k) {
			continue
		}
		if l, ok := v.([]any); ok {
			if s, err := multiline(l); err == nil {
				b[k] = s
			}
		}
	}
}

func intValue(v any) (int, bool) {
	switch v := v.(type) {
	case json.Number:
		n, err := v.Int64()
		return int(n), err == nil
	case float64:
		return int(v), v == float64(int(v))
	case int:
		return v, true
	}
	return 0, false
}

// isJSONMIME reports whether values of the MIME type are JSON values rather than
// strings (nbformat: application/json and application/*+json).
func isJSONMIME(mime string) bool {
	return mime == "application/json" || (strings.HasPrefix(mime, "application/") && strings.HasSuffix(mime, "+json"))
}

// splitMIME reports whether nbformat stores values of the MIME type as lists of lines.
func splitMIME(mime string) bool {
	return strings.HasPrefix(mime, "text/") || mime == "image/svg+xml" || mime == "application/javascript"
}

// SplitLines splits s after each line boundary as Python's str.splitlines(True),
// which nbformat uses to store multi-line strings: "\n", "\r", "\r\n", "\v", "\f",
// "\x1c", "\x1d", "\x1e", U+0085, U+2028 and U+2029.
func SplitLines(s string) []string {
	lines := []string{}
	start := 0
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= 0x80 {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		end := -1
		switch r {
		case '\r':
			end = i + 1
			if i+1 < len(s) && s[i+1] == '\n' {
				end = i + 2
			}
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			end = i + size
		}
		if end < 0 {
			i += size
			continue
		}
		lines = append(lines, s[start:end])
		start, i = end, end
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// Write encodes nb as Jupyter writes notebooks: JSON with sorted keys, one-space
// indentation, non-ASCII characters kept, multi-line strings as lists of lines and a
// final newline. Code cells of nbformat 4.5 without an ID get a deterministic one.
func Write(w io.Writer, nb *Notebook) error {
	v, err := nb.value()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("notebook: %v", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// WriteFile writes nb to the named file, replacing it atomically.
func WriteFile(name string, nb *Notebook) error {
	var buf bytes.Buffer
	if err := Write(&buf, nb); err != nil {
		return err
	}
	return writeFileAtomic(name, buf.Bytes())
}

func writeFileAtomic(name string, data []byte) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

var cellIDPattern = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,64}$`)

// value returns the notebook as plain JSON values (maps sort their keys when encoded).
func (nb *Notebook) value() (map[string]any, error) {
	if nb.Format != 0 && nb.Format != Format {
		return nil, fmt.Errorf("notebook: cannot write nbformat %d", nb.Format)
	}
	minor := nb.FormatMinor
	md := nb.Metadata
	if md == nil {
		md = map[string]any{}
	}
	cells := make([]any, 0, len(nb.Cells))
	seen := map[string]bool{}
	for i, c := range nb.Cells {
		cv, err := c.value(minor)
		if err != nil {
			return nil, fmt.Errorf("notebook: cell %d: %v", i, err)
		}
		if minor >= 5 {
			id := c.ID
			if id == "" || seen[id] {
				id = generatedID(i, c.Source, seen)
			} else if !cellIDPattern.MatchString(id) {
				return nil, fmt.Errorf("notebook: cell %d: invalid cell id %q", i, id)
			}
			seen[id] = true
			cv["id"] = id
		}
		cells = append(cells, cv)
	}
	return map[string]any{
		"cells":          cells,
		"metadata":       md,
		"nbformat":       Format,
		"nbformat_minor": minor,
	}, nil
}

// generatedID is a cell ID derived from the cell's position and source, so the same
// notebook always gets the same IDs.
func generatedID(i int, source string, seen map[string]bool) string {
	for salt := 0; ; salt++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("%d\x00%d\x00%s", i, salt, source)))
		id := hex.EncodeToString(h[:4])
		if !seen[id] {
			return id
		}
	}
}

func (c *Cell) value(minor int) (map[string]any, error) {
	md := c.Metadata
	if md == nil {
		md = map[string]any{}
	}
	v := map[string]any{
		"cell_type": c.Type,
		"metadata":  md,
		"source":    SplitLines(c.Source),
	}
	switch c.Type {
	case Code:
		if c.ExecutionCount != nil {
			v["execution_count"] = *c.ExecutionCount
		} else {
			v["execution_count"] = nil
		}
		outs := make([]any, 0, len(c.Outputs))
		for i, o := range c.Outputs {
			ov, err := o.value()
			if err != nil {
				return nil, fmt.Errorf("output %d: %v", i, err)
			}
			outs = append(outs, ov)
		}
		v["outputs"] = outs
	case Markdown, Raw:
		if c.Attachments != nil {
			a := map[string]any{}
			for name, b := range c.Attachments {
				if bm, ok := b.(map[string]any); ok {
					a[name] = splitBundle(bm)
				} else {
					a[name] = b
				}
			}
			v["attachments"] = a
		}
	default:
		return nil, fmt.Errorf("unknown cell type %q", c.Type)
	}
	return v, nil
}

func (o *Output) value() (map[string]any, error) {
	switch o.Type {
	case Stream:
		return map[string]any{"output_type": Stream, "name": o.Name, "text": SplitLines(o.Text)}, nil
	case DisplayData, ExecuteResult:
		md := o.Metadata
		if md == nil {
			md = map[string]any{}
		}
		v := map[string]any{"output_type": o.Type, "data": splitBundle(o.Data), "metadata": md}
		if o.Type == ExecuteResult {
			if o.ExecutionCount != nil {
				v["execution_count"] = *o.ExecutionCount
			} else {
				v["execution_count"] = nil
			}
		}
		return v, nil
	case ErrorOutput:
		tb := o.Traceback
		if tb == nil {
			tb = []string{}
		}
		return map[string]any{"output_type": ErrorOutput, "ename": o.EName, "evalue": o.EValue, "traceback": tb}, nil
	}
	return nil, fmt.Errorf("unknown output type %q", o.Type)
}

// splitBundle returns a copy of a MIME bundle with its text values split into lines.
func splitBundle(b map[string]any) map[string]any {
	out := make(map[string]any, len(b))
	for k, v := range b {
		if s, ok := v.(string); ok && splitMIME(k) {
			out[k] = SplitLines(s)
		} else {
			out[k] = v
		}
	}
	return out
}

// MIMETypes returns the MIME types of an output's bundle, sorted.
func (o *Output) MIMETypes() []string {
	var ts []string
	for k := range o.Data {
		ts = append(ts, k)
	}
	sort.Strings(ts)
	return ts
}
