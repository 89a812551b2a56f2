package lab

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gocvx/gocvx/notebook"
)

// widgetSteps are the steps driver.js reports in its widgets mode, in order.
var widgetSteps = []string{"start", "open-explore", "run-explore", "slider", "button"}

// TestJupyterLabWidgets runs notebooks/07-explore in the JupyterLab application with
// the Jupyter widgets manager bundled (@jupyter-widgets/jupyterlab-manager 5), as a
// user does: every cell runs and its widgets are drawn as widgets (sliders, labels,
// buttons, images, output areas with their figures); dragging the β slider redraws
// the decision boundary (the image changes and the line above it names the β the
// slider shows); clicking Resample runs its callback, which redraws the P explorer
// with another sample. It logs the time from releasing the slider to the redraw.
// Screenshots go to $GOCVX_ARTIFACTS/jupyterlab-widgets (default
// $TMPDIR/gocvx-artifacts/jupyterlab-widgets).
func TestJupyterLabWidgets(t *testing.T) {
	reports := runLab(t, "jupyterlab-widgets", []string{explore}, map[string]any{
		"mode":    "widgets",
		"explore": explore,
	})

	nb, err := notebook.ReadFile(filepath.Join("..", explore))
	if err != nil {
		t.Fatal(err)
	}
	checkReports(t, append(widgetSteps, "console"), reports, func(t *testing.T, r report) { checkWidgetStep(t, r, nb) })
}

// widgetView is what driver.js reads of the widgets of one cell.
type widgetView struct {
	Views    int
	Labels   []string // descriptions and label widgets
	Readouts []string // the values sliders show
	Buttons  []string
	Images   []struct {
		Src     string // length and end of the source, to tell images apart
		Decoded bool
		Width   int
	}
	Output string // the text of its output areas
}

func (w widgetView) image() string {
	for _, img := range w.Images {
		if img.Decoded && img.Width > 0 {
			return img.Src
		}
	}
	return ""
}

// checkWidgetStep judges what driver.js saw in one step of the widgets run.
func checkWidgetStep(t *testing.T, r report, nb *notebook.Notebook) {
	decode := func(v any) {
		t.Helper()
		if err := json.Unmarshal(r.Data, v); err != nil {
			t.Fatalf("step data %s: %v", r.Data, err)
		}
	}
	var p problems
	switch r.Step {
	case "start":
	case "open-explore":
		var e editorState
		decode(&e)
		p = checkEditor(e)
	case "run-explore":
		var run struct {
			Cells []cellState
			Beta  widgetView
		}
		decode(&run)
		p = checkRun(run.Cells, nb)
		p = append(p, checkBetaExplorer(run.Beta)...)
	case "slider":
		var s struct {
			Before, After     widgetView
			DragMs            float64
			ReleaseToRedrawMs float64
			RedrawsDuringDrag int
			FirstRedrawMs     *float64
		}
		decode(&s)
		p = checkBetaExplorer(s.After)
		if s.Before.image() == "" || s.Before.image() == s.After.image() {
			p.addf("the boundary was not redrawn: image %q before, %q after", s.Before.image(), s.After.image())
		}
		if slices.Equal(s.Before.Readouts, s.After.Readouts) {
			p.addf("the slider did not move: readout %v", s.After.Readouts)
		}
		first := "none"
		if s.FirstRedrawMs != nil {
			first = fmt.Sprintf("%.0f ms", *s.FirstRedrawMs)
		}
		t.Logf("β slider dragged for %.0f ms: %d redraws during the drag (the first %s after it started), the last %.0f ms after the release; β %v → %v",
			s.DragMs, s.RedrawsDuringDrag, first, s.ReleaseToRedrawMs, s.Before.Readouts, s.After.Readouts)
	case "button":
		var b struct {
			Before, After   widgetView
			ClickToOutputMs float64
		}
		decode(&b)
		if !strings.Contains(b.Before.Output, "sample 1") || !strings.Contains(b.After.Output, "sample 2") {
			p.addf("Resample's callback did not redraw the explorer: %q before, %q after", b.Before.Output, b.After.Output)
		}
		if b.After.image() == "" || b.After.image() == b.Before.image() {
			p.addf("the P explorer's figure did not change: %q before, %q after", b.Before.image(), b.After.image())
		}
		t.Logf("Resample clicked: its output %.0f ms later", b.ClickToOutputMs)
	case "console":
		var c struct{ Messages []consoleMessage }
		decode(&c)
		var warnings map[string]int
		p, warnings = checkConsole(c.Messages)
		for text, n := range warnings {
			t.Logf("console warning ×%d: %.200s", n, text)
		}
	default:
		t.Fatalf("unknown step %q", r.Step)
	}
	for _, problem := range p {
		t.Error(problem)
	}
}

// checkBetaExplorer: the β cell shows its widgets as widgets: the slider with its
// readout, the line naming the β shown, and the boundary as a decoded image.
func checkBetaExplorer(w widgetView) (p problems) {
	if w.Views < 3 || len(w.Readouts) != 1 {
		p.addf("the β cell shows %d widget views and readouts %v, want its box, slider, label and image", w.Views, w.Readouts)
		return p
	}
	i := slices.IndexFunc(w.Labels, func(l string) bool { return strings.HasPrefix(l, "β = ") })
	if i < 0 || !strings.HasPrefix(w.Labels[i], "β = "+w.Readouts[0]+":") {
		p.addf("the line above the boundary does not name the slider's β %v: %v", w.Readouts, w.Labels)
	}
	if w.image() == "" {
		p.addf("the β cell shows no decoded image: %+v", w.Images)
	}
	return p
}
