package notebook

import (
	"bytes"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gocvx/gocvx/internal/testenv"
)

func TestSplitLines(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"a", []string{"a"}},
		{"a\n", []string{"a\n"}},
		{"a\nb", []string{"a\n", "b"}},
		{"a\r\nb\rc\n\n", []string{"a\r\n", "b\r", "c\n", "\n"}},
		{"x\u2028y\x0cz", []string{"x\u2028", "y\x0c", "z"}},
		{"é\nü", []string{"é\n", "ü"}},
	} {
		if got := SplitLines(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("SplitLines(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// pythonNotebook is a notebook built and written by Python's nbformat: what Jupyter
// writes. It has every cell and output type, multi-line strings, non-ASCII text,
// HTML-special characters, JSON outputs and attachments.
const pythonNotebook = `
import nbformat, sys
from nbformat.v4 import new_notebook, new_code_cell, new_markdown_cell, new_raw_cell, new_output
nb = new_notebook(metadata={"kernelspec": {"name": "gocvx", "display_name": "Go (gocvx)", "language": "go"},
                            "custom": {"n": 3, "x": 0.5, "list": [1, "two", None, True]}})
nb.cells.append(new_markdown_cell("# Title <&>\nSome *text* — ü\n", id="md-1",
    attachments={"dot.png": {"image/png": "iVBORw0KGgo="}}))
c = new_code_cell("x := 1\nfmt.Println(x)\n\n", id="code-1", execution_count=1)
c.outputs = [
    new_output("stream", name="stdout", text="1\n2\n"),
    new_output("stream", name="stderr", text="warning"),
    new_output("display_data", data={"text/plain": "a\nb", "image/png": "iVBORw0KGgo=",
        "image/svg+xml": "<svg>\n</svg>\n", "application/json": {"k": [1, 2.5, "s"]}},
        metadata={"image/png": {"width": 10, "height": 20}}),
    new_output("execute_result", data={"text/plain": "42", "text/html": "<b>42</b>"}, execution_count=1),
    new_output("error", ename="panic", evalue="boom", traceback=["panic: boom", "\x1b[31mCell1:2:1\x1b[0m"]),
]
nb.cells.append(c)
nb.cells.append(new_code_cell("", id="empty"))
nb.cells.append(new_raw_cell("raw\ttext", id="raw-1", metadata={"format": "text/html"}))
nbformat.validate(nb)
sys.stdout.write(nbformat.writes(nb))
`

func TestWriteMatchesPythonNbformat(t *testing.T) {
	py := testenv.RequirePython(t, "nbformat")
	want, err := exec.Command(py, "-c", pythonNotebook).Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	want = append(want, '\n') // nbformat.write adds the final newline that writes omits
	nb, err := Read(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(nb.Cells); n != 4 {
		t.Fatalf("read %d cells, want 4", n)
	}
	c := nb.Cells[1]
	if c.Source != "x := 1\nfmt.Println(x)\n\n" || *c.ExecutionCount != 1 || len(c.Outputs) != 5 {
		t.Errorf("code cell read as %+v", c)
	}
	if got := c.Outputs[2].Data["image/svg+xml"]; got != "<svg>\n</svg>\n" {
		t.Errorf("svg joined as %q", got)
	}
	var buf bytes.Buffer
	if err := Write(&buf, nb); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("written notebook differs from nbformat's:\n%s", firstDifference(got, string(want)))
	}
}

// TestWrittenNotebookValidates checks that a notebook this package builds from
// scratch (generated cell IDs, outputs of every type) passes nbformat's validator.
func TestWrittenNotebookValidates(t *testing.T) {
	py := testenv.RequirePython(t, "nbformat")
	nb := New()
	one := 1
	nb.Cells = []*Cell{
		{Type: Markdown, Source: "# Hi\n"},
		{Type: Code, Source: "1", ExecutionCount: &one, Outputs: []*Output{
			{Type: Stream, Name: "stdout", Text: "x\ny\n"},
			{Type: DisplayData, Data: map[string]any{"text/plain": "p", "image/png": "AAAA"}},
			{Type: ExecuteResult, Data: map[string]any{"text/plain": "1"}, ExecutionCount: &one},
			{Type: ErrorOutput, EName: "e", EValue: "v"},
		}},
		{Type: Code, Source: "1"}, // same source: the IDs must still differ
		{Type: Raw, Source: "r"},
	}
	var buf bytes.Buffer
	if err := Write(&buf, nb); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", "import nbformat, sys; nb = nbformat.read(sys.stdin, as_version=4); nbformat.validate(nb); print(len(nb.cells), nb.nbformat_minor)")
	cmd.Stdin = bytes.NewReader(buf.Bytes())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nbformat rejects the notebook: %v\n%s\n%s", err, out, buf.String())
	}
	if got := strings.TrimSpace(string(out)); got != "4 5" {
		t.Errorf("nbformat read %q, want 4 cells of nbformat 4.5", got)
	}
	// The same notebook gets the same IDs every time.
	var again bytes.Buffer
	Write(&again, nb)
	if again.String() != buf.String() {
		t.Error("writing twice gives different files")
	}
}

func TestReadRejects(t *testing.T) {
	for _, in := range []string{
		``,
		`[]`,
		`{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}`,
		`{"nbformat": 4, "nbformat_minor": 5, "cells": [{"cell_type": "python", "source": ""}]}`,
		`{"nbformat": 4, "nbformat_minor": 5, "cells": [{"cell_type": "code", "source": 3}]}`,
		`{"nbformat": 4, "nbformat_minor": 5, "cells": [{"cell_type": "code", "source": "", "outputs": [{"output_type": "bogus"}]}]}`,
	} {
		if _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("Read(%q) succeeded", in)
		}
	}
}

func TestReadOldMinorKeepsIt(t *testing.T) {
	in := `{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["a\n", "b"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 2}`
	nb, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	Write(&buf, nb)
	if strings.Contains(buf.String(), `"id"`) || !strings.Contains(buf.String(), `"nbformat_minor": 2`) {
		t.Errorf("a 4.2 notebook was written as\n%s", buf.String())
	}
}

func firstDifference(got, want string) string {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + g + "\nwant: " + w
		}
	}
	return "(same lines)"
}
