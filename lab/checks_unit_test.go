package lab

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/gocvx/gocvx/notebook"
)

// TestChecksFindProblems feeds the step checks the observations of a good run and of
// broken ones, without a browser: a good run passes, and each kind of breakage is
// caught, so the browser test's checks are not vacuous.
func TestChecksFindProblems(t *testing.T) {
	one := 1
	image := outputState{Mime: "image/svg+xml", Images: []struct {
		Decoded       bool
		Width, Height int
	}{{Decoded: true, Width: 624, Height: 384}}}
	broken := image
	broken.Images = []struct {
		Decoded       bool
		Width, Height int
	}{{Decoded: false}}
	table := outputState{Mime: "text/html", Tables: 1}
	stdout := func(s string) outputState { return outputState{Mime: stdoutMIME, Text: s} }
	stderr := outputState{Mime: stderrMIME, Text: "panic: boom"}

	nb, err := notebook.ReadFile(filepath.Join("..", tutorial))
	if err != nil {
		t.Fatal(err)
	}
	// goodRun is what the page shows when every cell ran and drew what it is tagged for;
	// change alters one cell (the first tagged figure) of it.
	run := func(change func(*cellState)) []cellState {
		var cells []cellState
		changed := false
		for i, c := range nb.Cells {
			if c.Type != notebook.Code {
				continue
			}
			cs := cellState{Index: i, ExecutionCount: &one}
			tags, _ := c.Metadata["tags"].([]any)
			if slices.Contains(tags, any("figure")) {
				cs.Outputs = append(cs.Outputs, image)
				if change != nil && !changed {
					change(&cs)
					changed = true
				}
			}
			if slices.Contains(tags, any("table")) {
				cs.Outputs = append(cs.Outputs, table)
			}
			cells = append(cells, cs)
		}
		return cells
	}
	goodEditor := editorState{Path: tutorial, Kernel: "Go (gocvx)", MimeType: "text/x-go",
		LanguageInfo: map[string]any{"codemirror_mode": "go", "mimetype": "text/x-go"},
		FirstLine:    "import (", FirstToken: "import", TokenColor: "rgb(0, 128, 0)", TextColor: "rgba(0, 0, 0, 0.87)"}
	withEditor := func(change func(*editorState)) editorState { e := goodEditor; change(&e); return e }
	goodLive := liveState{MaxOutputs: 1, DistinctContents: 9, Changes: 10,
		Cell: cellState{ExecutionCount: &one, Outputs: []outputState{{Mime: "text/html", Tables: 1, Images: image.Images}}}}
	withLive := func(change func(*liveState)) liveState { l := goodLive; change(&l); return l }
	ran := cellState{ExecutionCount: &one}
	interrupted := cellState{ExecutionCount: &one, Errors: []string{"Interrupted: the cell was interrupted"},
		Outputs: []outputState{{Mime: stderrMIME, Text: "Interrupted: the cell was interrupted"}}}
	seven := 7

	cases := []struct {
		name string
		good bool
		p    problems
	}{
		{"editor", true, checkEditor(goodEditor)},
		{"editor in another mode", false, checkEditor(withEditor(func(e *editorState) { e.MimeType = "text/x-ipython" }))},
		{"editor without colours", false, checkEditor(withEditor(func(e *editorState) { e.TokenColor = e.TextColor }))},
		{"another kernel", false, checkEditor(withEditor(func(e *editorState) { e.Kernel = "Python 3" }))},
		{"run", true, checkRun(run(nil), nb)},
		{"figure that did not decode", false, checkRun(run(func(c *cellState) { c.Outputs = []outputState{broken} }), nb)},
		{"figure missing", false, checkRun(run(func(c *cellState) { c.Outputs = nil }), nb)},
		{"error output", false, checkRun(run(func(c *cellState) { c.Errors = []string{"panic: boom"} }), nb)},
		{"stderr output", false, checkRun(run(func(c *cellState) { c.Outputs = append(c.Outputs, stderr) }), nb)},
		{"cell that did not run", false, checkRun(run(func(c *cellState) { c.ExecutionCount = nil }), nb)},
		{"cells missing", false, checkRun(run(nil)[:3], nb)},
		{"live", true, checkLive(goodLive)},
		{"live appended", false, checkLive(withLive(func(l *liveState) { l.MaxOutputs = 3 }))},
		{"live never redrawn", false, checkLive(withLive(func(l *liveState) { l.DistinctContents = 1 }))},
		{"live ends without plot", false, checkLive(withLive(func(l *liveState) { l.Cell.Outputs = []outputState{table} }))},
		{"interrupt", true, checkInterrupt(ran, interrupted, cellState{ExecutionCount: &one, Outputs: []outputState{stdout("42\n")}})},
		{"variable lost", false, checkInterrupt(ran, interrupted, cellState{ExecutionCount: &one, Errors: []string{"CompileError: undefined: x"}})},
		{"loop not interrupted", false, checkInterrupt(ran, ran, cellState{ExecutionCount: &one, Outputs: []outputState{stdout("42\n")}})},
		{"inspect", true, checkInspect("solver.Solve", "solver.Solve", "func Solve(ctx context.Context) error\n\nSolve trains.")},
		{"signature alone", false, checkInspect("solver.Solve", "solver.Solve", "func Solve(ctx context.Context) error")},
		{"completion not taken", false, checkInspect("solver.", "solver.Solve", "func Solve(ctx context.Context) error\n\nSolve trains.")},
		{"completion misplaced", false, checkInspect(`s := "😀😀Solve😀"; solver.`, `s := "😀😀😀"; solver.Solve`, "func Solve(ctx context.Context) error\n\nSolve trains.")},
		{"restart", true, checkRestart([]string{"restarting", "idle"}, cellState{ExecutionCount: &one, Outputs: []outputState{stdout("restarted\n")}})},
		{"no restart", false, checkRestart([]string{"busy", "idle"}, cellState{ExecutionCount: &seven, Outputs: []outputState{stdout("restarted\n")}})},
	}
	consoleCase := func(m consoleMessage) problems { p, _ := checkConsole([]consoleMessage{m}); return p }
	cases = append(cases, []struct {
		name string
		good bool
		p    problems
	}{
		{"server gap", true, consoleCase(consoleMessage{Type: "error", Text: "Failed to load resource: 404", URL: "http://127.0.0.1:1/api/me?1"})},
		{"warning", true, consoleCase(consoleMessage{Type: "warning", Text: "Connection lost"})},
		{"exception", false, consoleCase(consoleMessage{Type: "exception", Text: "TypeError: x is undefined"})},
		{"plugin failure", false, consoleCase(consoleMessage{Type: "error", Text: "Plugin 'x' failed to activate."})},
	}...)
	for _, c := range cases {
		if c.good && len(c.p) > 0 {
			t.Errorf("%s: a good observation gave problems %q", c.name, c.p)
		}
		if !c.good && len(c.p) == 0 {
			t.Errorf("%s: the breakage went unnoticed", c.name)
		}
	}
}
