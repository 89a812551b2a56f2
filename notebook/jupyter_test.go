package notebook

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
)

// outputCells exercise every kind of output a cell can produce, including display
// updates across cells, clear_output with and without wait, and a failed cell.
var outputCells = []string{
	`import (
	"fmt"
	"os"

	"github.com/gocvx/gocvx/display"
)
fmt.Println("one")
fmt.Println("two")
fmt.Fprintln(os.Stderr, "warning")
fmt.Print("three")`,
	`id := display.ShowID("first version")
display.Markdown("**bold**")
6 * 7`,
	`display.Update(id, "second version")
display.HTML("<b>kept</b>")`,
	`fmt.Println("gone")
display.Clear(false)
fmt.Println("after clear")
display.Clear(true)
display.Show("replaces everything")
display.Clear(true)`,
	`var m map[string]int
m["x"] = 1`,
	`fmt.Println("after the error")
x := []int{1, 2}
x`,
}

// normalized describes outputs as comparable strings: each stream's whole text first
// (stdout, then stderr; the cell engine captures the two through separate pipes, so
// their relative order is not reproducible, in the kernel either), then the other
// outputs in order.
func normalized(c *Cell) []string {
	var out []string
	for _, name := range []string{"stdout", "stderr"} {
		text := ""
		for _, o := range c.Outputs {
			if o.Type == Stream && o.Name == name {
				text += o.Text
			}
		}
		if text != "" {
			out = append(out, "stream "+name+": "+text)
		}
	}
	for _, o := range c.Outputs {
		switch o.Type {
		case DisplayData, ExecuteResult:
			s := o.Type + fmt.Sprint(o.MIMETypes()) + ": " + fmt.Sprint(o.Data["text/plain"])
			if o.ExecutionCount != nil {
				s += fmt.Sprintf(" (count %d)", *o.ExecutionCount)
			}
			out = append(out, s)
		case ErrorOutput:
			out = append(out, "error "+o.EName+": "+o.EValue)
		}
	}
	return out
}

// TestOutputsMatchJupyter runs one notebook through Run on a Session and through
// nbconvert on the installed kernel, and requires the same outputs cell by cell.
func TestOutputsMatchJupyter(t *testing.T) {
	py := testenv.RequirePython(t, "nbconvert", "nbclient", "jupyter_client")
	nb := New()
	for _, src := range outputCells {
		nb.Cells = append(nb.Cells, &Cell{Type: Code, Source: src, Metadata: map[string]any{}})
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "outputs.ipynb")
	if err := WriteFile(in, nb); err != nil {
		t.Fatal(err)
	}

	// Headless, as a user runs it.
	bin := testenv.Gocvx(t)
	if log, err := runBounded(exec.Command(bin, "run", "--allow-errors", "-o", filepath.Join(dir, "ours.ipynb"), in), 3*time.Minute); err == nil {
		t.Fatalf("gocvx run succeeded, but cell 5 fails:\n%s", log)
	} else if !strings.Contains(string(log), "cell 5 (In [5]) failed") {
		t.Fatalf("gocvx run: %v\n%s", err, log)
	}
	ours, err := ReadFile(filepath.Join(dir, "ours.ipynb"))
	if err != nil {
		t.Fatal(err)
	}

	// Jupyter.
	cmd := exec.Command(py, "-m", "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
		"--output-dir", dir, "--output", "jupyter.ipynb", in)
	cmd.Env = jupyterEnv(t, bin)
	if log, err := runBounded(cmd, 3*time.Minute); err != nil {
		t.Fatalf("nbconvert: %v\n%s", err, log)
	}
	theirs, err := ReadFile(filepath.Join(dir, "jupyter.ipynb"))
	if err != nil {
		t.Fatal(err)
	}

	for i := range outputCells {
		got, want := normalized(ours.Cells[i]), normalized(theirs.Cells[i])
		if !reflect.DeepEqual(got, want) {
			t.Errorf("cell %d: gocvx run recorded\n  %s\nJupyter recorded\n  %s", i+1, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		if c1, c2 := ours.Cells[i].ExecutionCount, theirs.Cells[i].ExecutionCount; c1 == nil || c2 == nil || *c1 != *c2 {
			t.Errorf("cell %d: execution count %v, Jupyter's %v", i+1, c1, c2)
		}
	}
	// The outputs the cells were written to produce, so the comparison is not vacuous.
	want := [][]string{
		{"stream stdout: one\ntwo\nthree", "stream stderr: warning\n"},
		{"display_data[text/plain]: second version", "display_data[text/markdown text/plain]: **bold**", "execute_result[text/plain]: 42 (count 2)"},
		{"display_data[text/html text/plain]: kept"},
		{"display_data[text/plain]: replaces everything"},
	}
	for i, w := range want {
		if got := normalized(ours.Cells[i]); !reflect.DeepEqual(got, w) {
			t.Errorf("cell %d recorded %q, want %q", i+1, got, w)
		}
	}
	if got := normalized(ours.Cells[4]); len(got) != 1 || !strings.HasPrefix(got[0], "error ") {
		t.Errorf("cell 5 recorded %q, want one error", got)
	}
}
