package notebook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gocvx/gocvx/cellio"
)

// Engine executes cells; *interp.Session is the engine of the gocvx kernel.
type Engine interface {
	Execute(ctx context.Context, c cellio.Cell) cellio.Outcome
}

// Options configure Run. The zero value runs every code cell in the current
// directory, stops at the first error and reports nothing.
type Options struct {
	// AllowErrors keeps running after a cell fails (its error is stored as an error
	// output, as in Jupyter); otherwise Run stops at the first failed cell and
	// leaves the cells after it as they were.
	AllowErrors bool
	// Dir is the working directory of the cells, normally the notebook's directory;
	// empty means the current directory. Run changes the process's working directory
	// while it runs, so two Runs with different Dirs must not overlap.
	Dir string
	// Progress, if not nil, receives one line when each code cell starts and one when
	// it ends.
	Progress io.Writer
	// CellTimeout, if positive, interrupts a cell that runs longer (as the notebook's
	// stop button does) and fails it.
	CellTimeout time.Duration
}

// CellError is the error of Run when a cell fails.
type CellError struct {
	Index  int // position of the cell in the notebook, 0-based
	Number int // its execution count, In [Number]
	Err    *cellio.Error
}

func (e *CellError) Error() string {
	return fmt.Sprintf("cell %d (In [%d]) failed: %s: %s", e.Index+1, e.Number, e.Err.Name, firstLine(e.Err.Value))
}

// Errors is the error of Run with Options.AllowErrors when some cells failed.
type Errors []*CellError

func (es Errors) Error() string {
	if len(es) == 1 {
		return es[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d cells failed:", len(es))
	for _, e := range es {
		b.WriteString("\n  " + e.Error())
	}
	return b.String()
}

// Run executes the code cells of nb in order on eng, numbering them 1, 2, … as a
// fresh kernel does, and replaces each executed cell's outputs and execution count.
// Blank code cells are skipped, as nbclient skips them. Cancelling ctx interrupts the
// running cell and stops the run.
//
// Run returns a *CellError for the first failed cell (or Errors, with AllowErrors,
// for all of them), and ctx's error when it was cancelled between cells.
func Run(ctx context.Context, nb *Notebook, eng Engine, opts Options) error {
	if opts.Dir != "" {
		restore, err := chdir(opts.Dir)
		if err != nil {
			return err
		}
		defer restore()
	}
	if nb.Metadata == nil {
		nb.Metadata = map[string]any{}
	}
	if lang := notebookLanguage(nb); lang != "" && !strings.EqualFold(lang, "go") {
		return fmt.Errorf("notebook: this is a %s notebook; the gocvx engine runs Go cells", lang)
	}
	nb.Metadata["language_info"] = cellio.Go().Map()
	if _, ok := nb.Metadata["kernelspec"]; !ok {
		nb.Metadata["kernelspec"] = New().Metadata["kernelspec"]
	}

	total := 0
	for _, c := range nb.Cells {
		if c.Type == Code && strings.TrimSpace(c.Source) != "" {
			total++
		}
	}
	r := &recorder{nb: nb, ids: map[string][]outputRef{}}
	var failed Errors
	count := 0
	for i, c := range nb.Cells {
		if c.Type != Code || strings.TrimSpace(c.Source) == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		count++
		n := count
		c.Outputs = nil
		c.ExecutionCount = &n
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "[%d/%d] In [%d] (cell %d): %s\n", n, total, n, i+1, summary(c.Source))
		}
		start := time.Now()
		out := r.execute(ctx, eng, i, c, opts.CellTimeout)
		elapsed := time.Since(start)
		if out.Error != nil {
			c.Outputs = append(c.Outputs, &Output{
				Type:      ErrorOutput,
				EName:     out.Error.Name,
				EValue:    out.Error.Value,
				Traceback: nonNil(out.Error.Traceback),
			})
			ce := &CellError{Index: i, Number: n, Err: out.Error}
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "[%d/%d] In [%d] failed after %s: %s: %s\n", n, total, n, round(elapsed), out.Error.Name, firstLine(out.Error.Value))
			}
			if !opts.AllowErrors {
				return ce
			}
			failed = append(failed, ce)
			continue
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "[%d/%d] In [%d] done in %s\n", n, total, n, round(elapsed))
		}
	}
	if len(failed) > 0 {
		return failed
	}
	return nil
}

// notebookLanguage is the language the notebook's metadata names, if any.
func notebookLanguage(nb *Notebook) string {
	if ks, ok := nb.Metadata["kernelspec"].(map[string]any); ok {
		if l, ok := ks["language"].(string); ok && l != "" {
			return l
		}
	}
	if li, ok := nb.Metadata["language_info"].(map[string]any); ok {
		if l, ok := li["name"].(string); ok {
			return l
		}
	}
	return ""
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}

// summary is the first non-blank line of a cell's source, shortened.
func summary(src string) string {
	for _, l := range strings.Split(src, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if r := []rune(l); len(r) > 60 {
				return string(r[:59]) + "…"
			}
			return l
		}
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

var chdirMu sync.Mutex

// chdir changes the working directory and returns the function that restores it.
func chdir(dir string) (func(), error) {
	chdirMu.Lock()
	old, err := os.Getwd()
	if err != nil {
		chdirMu.Unlock()
		return nil, err
	}
	if err := os.Chdir(dir); err != nil {
		chdirMu.Unlock()
		return nil, fmt.Errorf("notebook: %v", err)
	}
	return func() {
		os.Chdir(old)
		chdirMu.Unlock()
	}, nil
}

// outputRef locates an output: cell index and output index.
type outputRef struct{ cell, out int }

// recorder turns what cells produce into nbformat outputs, as nbclient does.
type recorder struct {
	nb *Notebook
	// ids maps a display ID to every output shown with it, in any cell.
	ids map[string][]outputRef

	cell      int
	outs      []*Output
	clearNext bool // clear_output(wait=True) pending
}

// execute runs cell i and records its outputs in c.Outputs.
func (r *recorder) execute(ctx context.Context, eng Engine, i int, c *Cell, timeout time.Duration) cellio.Outcome {
	r.cell, r.outs, r.clearNext = i, nil, false
	r.forgetCell(i)
	cctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	out := eng.Execute(cctx, cellio.Cell{Code: c.Source, Number: *c.ExecutionCount, Output: r})
	if out.Error != nil && timeout > 0 && cctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		out.Error.Value = fmt.Sprintf("%s (the cell ran longer than %s)", out.Error.Value, timeout)
	}
	if out.Page != nil {
		// JupyterLab shows a "page" payload (help) as a display_data output.
		r.add(&Output{Type: DisplayData, Data: jsonBundle(out.Page.Data), Metadata: map[string]any{}}, "")
	}
	if out.Value != nil {
		n := *c.ExecutionCount
		r.add(&Output{Type: ExecuteResult, Data: jsonBundle(out.Value.Data), Metadata: jsonBundle(out.Value.Metadata), ExecutionCount: &n}, "")
	}
	c.Outputs = r.outs
	return out
}

// Stream implements cellio.Output.
func (r *recorder) Stream(name, text string) {
	if text == "" {
		return
	}
	r.beforeOutput()
	if n := len(r.outs); n > 0 && r.outs[n-1].Type == Stream && r.outs[n-1].Name == name {
		// Front ends merge consecutive stream outputs of one name.
		r.outs[n-1].Text = overwrite(r.outs[n-1].Text + text)
		r.sync()
		return
	}
	r.add(&Output{Type: Stream, Name: name, Text: overwrite(text)}, "")
}

// Display implements cellio.Output.
func (r *recorder) Display(b cellio.Bundle, id string, update bool) {
	data, md := jsonBundle(b.Data), jsonBundle(b.Metadata)
	if id != "" {
		// Every output shown with this ID takes the new bundle (nbclient does this
		// for display_data with a known ID too, not only for updates).
		for _, ref := range r.ids[id] {
			o := r.output(ref)
			if o != nil {
				o.Data, o.Metadata = data, md
			}
		}
		r.sync()
	}
	if update {
		return
	}
	r.beforeOutput()
	r.add(&Output{Type: DisplayData, Data: data, Metadata: md}, id)
}

// Clear implements cellio.Output.
func (r *recorder) Clear(wait bool) {
	if wait {
		r.clearNext = true
		return
	}
	r.clearNow()
}

func (r *recorder) beforeOutput() {
	if r.clearNext {
		r.clearNext = false
		r.clearNow()
	}
}

func (r *recorder) clearNow() {
	r.outs = nil
	r.forgetCell(r.cell)
	r.sync()
}

func (r *recorder) forgetCell(i int) {
	for id, refs := range r.ids {
		kept := refs[:0]
		for _, ref := range refs {
			if ref.cell != i {
				kept = append(kept, ref)
			}
		}
		r.ids[id] = kept
	}
}

func (r *recorder) add(o *Output, id string) {
	if id != "" {
		r.ids[id] = append(r.ids[id], outputRef{r.cell, len(r.outs)})
	}
	r.outs = append(r.outs, o)
	r.sync()
}

// sync keeps the running cell's outputs in the notebook current, so an output
// updated from a later cell finds it.
func (r *recorder) sync() { r.nb.Cells[r.cell].Outputs = r.outs }

func (r *recorder) output(ref outputRef) *Output {
	if ref.cell == r.cell {
		if ref.out < len(r.outs) {
			return r.outs[ref.out]
		}
		return nil
	}
	outs := r.nb.Cells[ref.cell].Outputs
	if ref.out < len(outs) {
		return outs[ref.out]
	}
	return nil
}

// jsonBundle returns m as plain JSON values, as it would arrive from a kernel: Go
// values (ints, []byte, structs) become what encoding/json makes of them.
func jsonBundle(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	j, err := json.Marshal(m)
	if err != nil {
		out := map[string]any{}
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
		return out
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil || out == nil {
		return map[string]any{}
	}
	return out
}

// overwrite applies carriage returns and backspaces in stream text as a terminal
// (and JupyterLab) does: "\r" returns to the start of the line, so text after it
// replaces the line, and "\b" deletes the character before it.
func overwrite(s string) string {
	if !strings.ContainsAny(s, "\r\b") {
		return s
	}
	var out []rune
	lineStart := 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '\r':
			if i+1 < len(rs) && rs[i+1] == '\n' {
				out = append(out, c) // a Windows line end, not a return
				continue
			}
			if i+1 == len(rs) {
				out = append(out, c) // the next chunk decides
				continue
			}
			out = out[:lineStart]
		case '\b':
			if len(out) > lineStart {
				out = out[:len(out)-1]
			}
		case '\n':
			out = append(out, c)
			lineStart = len(out)
		default:
			out = append(out, c)
		}
	}
	return string(out)
}
