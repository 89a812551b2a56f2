package lab

import (
	"slices"
	"strings"
	"testing"

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

// The MIME types JupyterLab gives the rendered error and stderr outputs.
const (
	errorMIME  = "application/vnd.jupyter.error"
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

// errors returns the texts of the cell's error and stderr outputs.
func (c cellState) errors() []string {
	var errs []string
	for _, o := range c.Outputs {
		if o.Mime == errorMIME || o.Mime == stderrMIME {
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
func checkEditor(t *testing.T, e editorState) {
	t.Helper()
	if e.Kernel != "Go (gocvx)" {
		t.Errorf("%s: kernel %q, want Go (gocvx)", e.Path, e.Kernel)
	}
	if e.LanguageInfo["codemirror_mode"] != "go" || e.LanguageInfo["mimetype"] != "text/x-go" {
		t.Errorf("%s: language_info %v", e.Path, e.LanguageInfo)
	}
	if e.MimeType != "text/x-go" {
		t.Errorf("%s: the editor's MIME type is %q, want text/x-go", e.Path, e.MimeType)
	}
	if e.FirstToken == "" || e.TokenColor == e.TextColor {
		t.Errorf("%s: the line %q is not highlighted (first token %q in %s, text in %s)",
			e.Path, e.FirstLine, e.FirstToken, e.TokenColor, e.TextColor)
	}
}

// checkRun: every code cell of the notebook ran, without error output, and the cells
// tagged "figure" and "table" show an image and an HTML table.
func checkRun(t *testing.T, cells []cellState, nb *notebook.Notebook) {
	t.Helper()
	var code, figures, tables int
	for _, c := range nb.Cells {
		if c.Type == notebook.Code {
			code++
		}
	}
	if len(cells) != code {
		t.Errorf("the page shows %d code cells, the notebook has %d", len(cells), code)
	}
	for _, c := range cells {
		if c.Index < 0 || c.Index >= len(nb.Cells) || nb.Cells[c.Index].Type != notebook.Code {
			t.Errorf("cell %d of the page is not a code cell of the notebook", c.Index)
			continue
		}
		src := nb.Cells[c.Index]
		if c.ExecutionCount == nil && strings.TrimSpace(src.Source) != "" {
			t.Errorf("cell %d did not run", c.Index)
		}
		for _, e := range c.errors() {
			t.Errorf("cell %d shows an error: %s", c.Index, e)
		}
		tags, _ := src.Metadata["tags"].([]any)
		if slices.Contains(tags, any("figure")) {
			figures++
			if !c.image() {
				t.Errorf("cell %d (tagged figure) shows no image: %+v", c.Index, c.Outputs)
			}
		}
		if slices.Contains(tags, any("table")) {
			tables++
			if !c.table() {
				t.Errorf("cell %d (tagged table) shows no HTML table: %+v", c.Index, c.Outputs)
			}
		}
	}
	if figures == 0 || tables == 0 {
		t.Errorf("the notebook tags %d figure and %d table cells; the check needs both", figures, tables)
	}
}

// liveState is what the page saw of a cell running display.SolveLive: the most output
// areas at once, the distinct contents over all changes, and the cell at the end.
type liveState struct {
	MaxOutputs, DistinctContents, Changes int
	Cell                                  cellState
}

// checkLive: the live display was redrawn in place (several contents, never more
// output areas than the one it ends with) and ends as the result with its plot.
func checkLive(t *testing.T, l liveState) {
	t.Helper()
	if len(l.Cell.Outputs) != 1 {
		t.Fatalf("the live cell ends with %d outputs, want 1 (the result in place of the progress): %+v", len(l.Cell.Outputs), l.Cell.Outputs)
	}
	if l.MaxOutputs != 1 {
		t.Errorf("the live cell had %d output areas at once while it ran, want 1", l.MaxOutputs)
	}
	if l.DistinctContents < 2 {
		t.Errorf("the live output took %d contents in %d changes: it was not updated in place", l.DistinctContents, l.Changes)
	}
	if !l.Cell.image() || !l.Cell.table() {
		t.Errorf("the live cell ends without the result's table and plot: %+v", l.Cell.Outputs)
	}
	for _, e := range l.Cell.errors() {
		t.Errorf("the live cell shows an error: %s", e)
	}
	t.Logf("the live output changed %d times, showing %d different contents", l.Changes, l.DistinctContents)
}

// checkInterrupt: the stop button ended `for {}` with a notice, and the variable
// defined before it still holds its value.
func checkInterrupt(t *testing.T, define, loop, after cellState) {
	t.Helper()
	if define.ExecutionCount == nil || len(define.errors()) > 0 {
		t.Errorf("x := 42 did not run cleanly: %+v", define)
	}
	var notice string
	for _, o := range loop.Outputs {
		notice += o.Text
	}
	if !strings.Contains(strings.ToLower(notice), "interrupt") {
		t.Errorf("the interrupted loop shows %q, no word of the interrupt", notice)
	}
	if got := after.stdout(); got != "42\n" {
		t.Errorf("fmt.Println(x) after the interrupt printed %q (errors %q), want 42", got, after.errors())
	}
}

// checkInspect: Shift-Tab on solver.Solve shows its signature and documentation.
func checkInspect(t *testing.T, source, tooltip string) {
	t.Helper()
	if source != "solver.Solve" {
		t.Errorf("choosing Solve in the completer left %q in the cell, want solver.Solve", source)
	}
	signature, doc, _ := strings.Cut(strings.TrimSpace(tooltip), "\n\n")
	if !strings.HasPrefix(signature, "func Solve(") || strings.TrimSpace(doc) == "" {
		t.Errorf("the tooltip shows %q, want Solve's signature and documentation", tooltip)
	}
}

// checkRestart: the kernel went through a restart and counts executions from 1 again.
func checkRestart(t *testing.T, statuses []string, c cellState) {
	t.Helper()
	if !slices.Contains(statuses, "restarting") {
		t.Errorf("the kernel's statuses after Kernel ▸ Restart were %q, without restarting", statuses)
	}
	if c.ExecutionCount == nil || *c.ExecutionCount != 1 {
		t.Errorf("the first cell after the restart has execution count %v, want 1", c.ExecutionCount)
	}
	if got := c.stdout(); got != "restarted\n" {
		t.Errorf("the cell after the restart printed %q (errors %q)", got, c.errors())
	}
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
// Warnings are counted by text in the log.
func checkConsole(t *testing.T, messages []consoleMessage) {
	t.Helper()
	warnings := map[string]int{}
	for _, m := range messages {
		switch {
		case m.Type == "warning":
			warnings[m.Text]++
		case slices.ContainsFunc(serverGaps, func(api string) bool {
			return strings.Contains(m.URL, api) || strings.Contains(m.Text, api)
		}):
		default:
			t.Errorf("console %s: %s (%s)", m.Type, m.Text, m.URL)
		}
	}
	for text, n := range warnings {
		t.Logf("console warning ×%d: %.200s", n, text)
	}
}
