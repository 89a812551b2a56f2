package lab

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gocvx/gocvx/notebook"
)

// editorState is what driver.js reads of a notebook's first code cell editor.
type editorState struct {
	Path, Kernel, MimeType string
	LanguageInfo           map[string]any
	FirstLine, FirstToken  string
	TokenColor, TextColor  string // computed CSS colours
}

// cellState is a code cell as the page shows it.
type cellState struct {
	Index          int // among all cells of the notebook
	ExecutionCount *int
	Errors         []string // "ename: evalue" of each error output
	Outputs        []outputState
}

type outputState struct {
	Mime   string // the MIME type JupyterLab rendered
	Images []struct {
		Decoded       bool
		Width, Height int
	}
	Tables int
	Text   string
}

// The MIME types of rendered stream outputs (JupyterLab renders error outputs as
// stderr too).
const (
	stderrMIME = "application/vnd.jupyter.stderr"
	stdoutMIME = "application/vnd.jupyter.stdout"
)

func (o outputState) image() bool {
	for _, img := range o.Images {
		if img.Decoded && img.Width > 0 && img.Height > 0 {
			return true
		}
	}
	return false
}

func (c cellState) image() bool { return slices.ContainsFunc(c.Outputs, outputState.image) }

func (c cellState) table() bool {
	return slices.ContainsFunc(c.Outputs, func(o outputState) bool { return o.Mime == "text/html" && o.Tables > 0 })
}

// errors returns the cell's error outputs and what it wrote to stderr.
func (c cellState) errors() []string {
	errs := slices.Clone(c.Errors)
	for _, o := range c.Outputs {
		if o.Mime == stderrMIME {
			errs = append(errs, o.Text)
		}
	}
	return errs
}

// stdout returns what the cell printed.
func (c cellState) stdout() string {
	var b strings.Builder
	for _, o := range c.Outputs {
		if o.Mime == stdoutMIME {
			b.WriteString(o.Text)
		}
	}
	return b.String()
}

// checkEditor: the kernel is gocvx, its language_info is in the notebook's metadata,
// and the editor uses the Go mode it names, which colours the first token.
func checkEditor(e editorState) (p problems) {
	if e.Kernel != "Go (gocvx)" {
		p.addf("%s: kernel %q, want Go (gocvx)", e.Path, e.Kernel)
	}
	if e.LanguageInfo["codemirror_mode"] != "go" || e.LanguageInfo["mimetype"] != "text/x-go" {
		p.addf("%s: language_info %v", e.Path, e.LanguageInfo)
	}
	if e.MimeType != "text/x-go" {
		p.addf("%s: the editor's MIME type is %q, want text/x-go", e.Path, e.MimeType)
	}
	if e.FirstToken == "" || e.TokenColor == e.TextColor {
		p.addf("%s: the line %q is not highlighted (first token %q in %s, text in %s)",
			e.Path, e.FirstLine, e.FirstToken, e.TokenColor, e.TextColor)
	}
	return p
}

// checkRun: every code cell of the notebook ran, without error output, and the cells
// tagged "figure" and "table" show an image and an HTML table.
func checkRun(cells []cellState, nb *notebook.Notebook) (p problems) {
	var code, figures, tables int
	for _, c := range nb.Cells {
		if c.Type == notebook.Code {
			code++
		}
	}
	if len(cells) != code {
		p.addf("the page shows %d code cells, the notebook has %d", len(cells), code)
	}
	for _, c := range cells {
		if c.Index < 0 || c.Index >= len(nb.Cells) || nb.Cells[c.Index].Type != notebook.Code {
			p.addf("cell %d of the page is not a code cell of the notebook", c.Index)
			continue
		}
		src := nb.Cells[c.Index]
		if c.ExecutionCount == nil && strings.TrimSpace(src.Source) != "" {
			p.addf("cell %d did not run", c.Index)
		}
		for _, e := range c.errors() {
			p.addf("cell %d shows an error: %s", c.Index, e)
		}
		tags, _ := src.Metadata["tags"].([]any)
		if slices.Contains(tags, any("figure")) {
			figures++
			if !c.image() {
				p.addf("cell %d (tagged figure) shows no image: %+v", c.Index, c.Outputs)
			}
		}
		if slices.Contains(tags, any("table")) {
			tables++
			if !c.table() {
				p.addf("cell %d (tagged table) shows no HTML table: %+v", c.Index, c.Outputs)
			}
		}
	}
	if figures == 0 || tables == 0 {
		p.addf("the notebook tags %d figure and %d table cells; the check needs both", figures, tables)
	}
	return p
}

// liveState is what the page saw of a cell running display.SolveLive: the most output
// areas at once, the distinct contents over all changes, and the cell at the end.
type liveState struct {
	MaxOutputs, DistinctContents, Changes int
	Cell                                  cellState
}

// checkLive: the live display was redrawn in place (several contents, never more
// output areas than the one it ends with) and ends as the result with its plot.
func checkLive(l liveState) (p problems) {
	if len(l.Cell.Outputs) != 1 {
		p.addf("the live cell ends with %d outputs, want 1 (the result in place of the progress): %+v", len(l.Cell.Outputs), l.Cell.Outputs)
	}
	if l.MaxOutputs != 1 {
		p.addf("the live cell had %d output areas at once while it ran, want 1", l.MaxOutputs)
	}
	if l.DistinctContents < 2 {
		p.addf("the live output took %d contents in %d changes: it was not updated in place", l.DistinctContents, l.Changes)
	}
	if !l.Cell.image() || !l.Cell.table() {
		p.addf("the live cell ends without the result's table and plot: %+v", l.Cell.Outputs)
	}
	for _, e := range l.Cell.errors() {
		p.addf("the live cell shows an error: %s", e)
	}
	return p
}

// checkInterrupt: the stop button ended `for {}` with an Interrupted error, and the
// variable defined before it still holds its value.
func checkInterrupt(define, loop, after cellState) (p problems) {
	if define.ExecutionCount == nil || len(define.errors()) > 0 {
		p.addf("x := 42 did not run cleanly: %+v", define)
	}
	if !slices.ContainsFunc(loop.Errors, func(e string) bool { return strings.HasPrefix(e, "Interrupted:") }) {
		p.addf("the interrupted loop shows no Interrupted error: errors %q, outputs %+v", loop.Errors, loop.Outputs)
	}
	if got := after.stdout(); got != "42\n" {
		p.addf("fmt.Println(x) after the interrupt printed %q (errors %q), want 42", got, after.errors())
	}
	return p
}

// checkInspect: taking Solve in the completer left the cell's text as want, and the
// tooltip shows Solve's documentation.
func checkInspect(source, want, tooltip string) (p problems) {
	if source != want {
		p.addf("choosing Solve in the completer left %q in the cell, want %q", source, want)
	}
	return append(p, checkDoc("tooltip", tooltip)...)
}

// checkDoc: the documentation shown in the named place for solver.Solve has its
// signature and its text.
func checkDoc(where, doc string) (p problems) {
	signature, text, _ := strings.Cut(strings.TrimSpace(doc), "\n\n")
	if !strings.HasPrefix(signature, "func Solve(") || strings.TrimSpace(text) == "" {
		p.addf("the %s shows %q, want Solve's signature and documentation", where, doc)
	}
	return p
}

// checkRestart: the kernel went through a restart and counts executions from 1 again.
func checkRestart(statuses []string, c cellState) (p problems) {
	if !slices.Contains(statuses, "restarting") {
		p.addf("the kernel's statuses after Kernel ▸ Restart were %q, without restarting", statuses)
	}
	if c.ExecutionCount == nil || *c.ExecutionCount != 1 {
		p.addf("the first cell after the restart has execution count %v, want 1", c.ExecutionCount)
	}
	if got := c.stdout(); got != "restarted\n" {
		p.addf("the cell after the restart printed %q (errors %q)", got, c.errors())
	}
	return p
}

// consoleMessage is a console error or warning of the page, or an uncaught exception.
type consoleMessage struct {
	Type, Text, URL string
}

// serverGaps are the console errors of JupyterLab 4 asking jupyter_server 1 for APIs
// that came with jupyter_server 2 (the user's identity, the event stream); JupyterLab
// carries on without them.
var serverGaps = []string{"/api/me", "/api/events/subscribe"}

// checkConsole: no uncaught exception and no console error besides the server gaps.
// It returns the warnings, counted by text, for the log.
func checkConsole(messages []consoleMessage) (p problems, warnings map[string]int) {
	warnings = map[string]int{}
	for _, m := range messages {
		switch {
		case m.Type == "warning":
			warnings[m.Text]++
		case slices.ContainsFunc(serverGaps, func(api string) bool {
			return strings.Contains(m.URL, api) || strings.Contains(m.Text, api)
		}):
		default:
			p.addf("console %s: %s (%s)", m.Type, m.Text, m.URL)
		}
	}
	return p, warnings
}

// problems collects what a check finds wrong with a step.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }
