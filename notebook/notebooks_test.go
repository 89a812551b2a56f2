package notebook

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
)

// The end-to-end tests run every notebook of notebooks/ with `gocvx run` and with
// Jupyter's nbconvert through the installed kernelspec, and open the HTML export in
// headless Chromium. A notebook promises its figures and tables by tagging cells
// (Jupyter's cell tags): a cell tagged "figure" must show an image (PNG or SVG), a
// cell tagged "table" an HTML table.

// notebookTimeout bounds one run of one notebook; each is meant to take well under a
// minute on two cores.
const notebookTimeout = 4 * time.Minute

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveGocvx()
	os.Exit(code)
}

// notebookFiles returns the notebooks of the repository's notebooks/ directory.
func notebookFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "notebooks", "*.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no notebooks in ../notebooks")
	}
	sort.Strings(files)
	return files
}

func notebookName(file string) string { return strings.TrimSuffix(filepath.Base(file), ".ipynb") }

// runBounded runs cmd in its own process group, killing the group when it runs
// longer than timeout, and returns its combined output.
func runBounded(cmd *exec.Cmd, timeout time.Duration) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.Bytes(), err
	case <-time.After(timeout):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return out.Bytes(), fmt.Errorf("killed after %v", timeout)
	}
}

// hasTag reports whether a cell carries the Jupyter tag.
func hasTag(c *Cell, tag string) bool {
	tags, _ := c.Metadata["tags"].([]any)
	for _, x := range tags {
		if x == tag {
			return true
		}
	}
	return false
}

// checkExecuted checks an executed notebook: every code cell ran in order, no
// output is an error, and every cell tagged "figure" shows an image and every cell
// tagged "table" an HTML table. An image may be inside a widget the cell shows (an
// output area's output or an image widget, in the widget state the run saved in
// the notebook). It returns the number of figures promised.
func checkExecuted(t *testing.T, label string, nb *Notebook) (figures int) {
	t.Helper()
	want := 0
	for i, c := range nb.Cells {
		if c.Type != Code || strings.TrimSpace(c.Source) == "" {
			continue
		}
		want++
		if c.ExecutionCount == nil || *c.ExecutionCount != want {
			t.Errorf("%s: cell %d has execution count %v, want %d", label, i+1, c.ExecutionCount, want)
		}
		var image, table bool
		for _, o := range c.Outputs {
			switch o.Type {
			case ErrorOutput:
				t.Errorf("%s: cell %d failed: %s: %s\n%s", label, i+1, o.EName, o.EValue, strings.Join(o.Traceback, "\n"))
			case DisplayData, ExecuteResult:
				_, png := o.Data["image/png"]
				_, svg := o.Data["image/svg+xml"]
				image = image || png || svg
				if view, ok := o.Data[widgetViewMIME].(map[string]any); ok {
					image = image || widgetHasImage(str(view["model_id"]), savedWidgets(nb), 0)
				}
				h, _ := o.Data["text/html"].(string)
				table = table || strings.Contains(h, "<table")
			}
		}
		if hasTag(c, "figure") {
			figures++
			if !image {
				t.Errorf("%s: cell %d is tagged figure but shows no image; outputs: %s", label, i+1, describeOutputs(c))
			}
		}
		if hasTag(c, "table") && !table {
			t.Errorf("%s: cell %d is tagged table but shows no HTML table; outputs: %s", label, i+1, describeOutputs(c))
		}
	}
	if figures == 0 {
		t.Errorf("%s: no cell is tagged figure", label)
	}
	return figures
}

// widgetHasImage reports whether the widget model id, or a widget it shows, shows
// an image: an image widget with data, or an output area with an image output.
func widgetHasImage(id string, states map[string]any, depth int) bool {
	entry, _ := states[strings.TrimPrefix(id, "IPY_MODEL_")].(map[string]any)
	st, _ := entry["state"].(map[string]any)
	if st == nil || depth > maxWidgetDepth {
		return false
	}
	switch entry["model_name"] {
	case "ImageModel":
		return savedBuffer(entry, "value") != ""
	case "OutputModel":
		outs, _ := st["outputs"].([]any)
		for _, o := range outs {
			data, _ := o.(map[string]any)["data"].(map[string]any)
			_, png := data["image/png"]
			_, svg := data["image/svg+xml"]
			if png || svg {
				return true
			}
		}
	}
	children, _ := st["children"].([]any)
	for _, c := range children {
		if widgetHasImage(str(c), states, depth+1) {
			return true
		}
	}
	return false
}

func describeOutputs(c *Cell) string {
	var s []string
	for _, o := range c.Outputs {
		d := o.Type
		if len(o.Data) > 0 {
			d += fmt.Sprint(o.MIMETypes())
		}
		if o.Type == Stream {
			d += ":" + strings.TrimSpace(o.Text)
		}
		s = append(s, d)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// TestCommittedNotebooksAreExecuted checks that the notebooks are committed with the
// outputs of a complete run, so that they show their figures where they are read
// without being run (GitHub).
func TestCommittedNotebooksAreExecuted(t *testing.T) {
	for _, file := range notebookFiles(t) {
		nb, err := ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		checkExecuted(t, file, nb)
		ks, _ := nb.Metadata["kernelspec"].(map[string]any)
		if ks["name"] != "gocvx" {
			t.Errorf("%s: kernelspec %v, want gocvx", file, ks)
		}
	}
}

// TestNotebooks runs each notebook twice at the same time, with `gocvx run` (then
// opening its HTML export in headless Chromium) and with Jupyter's nbconvert through
// the kernelspec that `gocvx install` writes, and checks both executed notebooks.
// Run one notebook with -run 'TestNotebooks/00-tutorial'.
func TestNotebooks(t *testing.T) {
	bin := testenv.Gocvx(t)
	browser := lazyBrowser(t)
	env := jupyterEnv(t, bin)
	for _, file := range notebookFiles(t) {
		name := notebookName(file)
		t.Run(name, func(t *testing.T) {
			t.Run("gocvx run", func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				out := filepath.Join(dir, "out.ipynb")
				page := filepath.Join(dir, "out.html")
				start := time.Now()
				log, err := runBounded(exec.Command(bin, "run", file, "-o", out, "--html", page), notebookTimeout)
				if err != nil {
					t.Fatalf("gocvx run %s: %v\n%s", file, err, log)
				}
				t.Logf("gocvx run %s: %v", file, time.Since(start).Round(time.Millisecond))
				nb, err := ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				figures := checkExecuted(t, "gocvx run "+name, nb)
				problems, _ := pageProblems(t, browser(t), page, figures)
				for _, p := range problems {
					t.Errorf("%s: %s", page, p)
				}
			})
			t.Run("nbconvert", func(t *testing.T) {
				t.Parallel()
				py := testenv.RequirePython(t, "nbconvert", "nbclient", "jupyter_client")
				dir := t.TempDir()
				cmd := exec.Command(py, "-m", "nbconvert", "--to", "notebook", "--execute",
					"--ExecutePreprocessor.timeout=600", "--output-dir", dir, "--output", "out.ipynb", file)
				cmd.Env = env
				start := time.Now()
				log, err := runBounded(cmd, notebookTimeout)
				if err != nil {
					t.Fatalf("nbconvert --execute %s: %v\n%s", file, err, log)
				}
				t.Logf("nbconvert --execute %s: %v", file, time.Since(start).Round(time.Millisecond))
				nb, err := ReadFile(filepath.Join(dir, "out.ipynb"))
				if err != nil {
					t.Fatal(err)
				}
				checkExecuted(t, "nbconvert "+name, nb)
				li, _ := nb.Metadata["language_info"].(map[string]any)
				if li["name"] != "go" || li["pygments_lexer"] != "go" {
					t.Errorf("nbconvert recorded language_info %v", li)
				}
			})
		})
	}
}

// jupyterEnv installs the kernelspec with `gocvx install` into a fresh Jupyter data
// directory and returns the environment in which Jupyter finds it (and keeps its
// runtime and config files there).
func jupyterEnv(t *testing.T, bin string) []string {
	t.Helper()
	data := t.TempDir()
	env := append(os.Environ(),
		"JUPYTER_DATA_DIR="+data,
		"JUPYTER_PATH="+data,
		"JUPYTER_RUNTIME_DIR="+filepath.Join(data, "runtime"),
		"JUPYTER_CONFIG_DIR="+filepath.Join(data, "config"),
		"JUPYTER_PLATFORM_DIRS=1",
		"IPYTHONDIR="+filepath.Join(data, "ipython"),
		"PYTHONDONTWRITEBYTECODE=1",
		"HOME="+data, // no user configuration leaks in
	)
	cmd := exec.Command(bin, "install")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gocvx install: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(data, "kernels", "gocvx", "kernel.json")); err != nil {
		t.Fatalf("gocvx install wrote no kernelspec in %s: %v", data, err)
	}
	return env
}
