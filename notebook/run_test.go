package notebook

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gocvx/gocvx/cellio"
)

// scriptEngine runs cells whose source names a script of output events, so the
// recording of outputs is tested without an interpreter.
type scriptEngine struct {
	scripts map[string]func(out cellio.Output) cellio.Outcome
	ran     []cellio.Cell
}

func (e *scriptEngine) Execute(ctx context.Context, c cellio.Cell) cellio.Outcome {
	e.ran = append(e.ran, cellio.Cell{Code: c.Code, Number: c.Number})
	f, ok := e.scripts[strings.TrimSpace(c.Code)]
	if !ok {
		return cellio.Outcome{Error: &cellio.Error{Name: "CompileError", Value: "unknown script " + c.Code, Traceback: []string{"unknown"}}}
	}
	return f(c.Output)
}

func text(s string) cellio.Bundle {
	return cellio.Bundle{Data: map[string]any{"text/plain": s}, Metadata: map[string]any{}}
}

func codeCells(sources ...string) *Notebook {
	nb := New()
	for _, s := range sources {
		nb.Cells = append(nb.Cells, &Cell{Type: Code, Source: s, Metadata: map[string]any{}})
	}
	return nb
}

// outputsOf summarizes outputs as short strings.
func outputsOf(c *Cell) []string {
	var s []string
	for _, o := range c.Outputs {
		switch o.Type {
		case Stream:
			s = append(s, o.Name+":"+o.Text)
		case DisplayData:
			s = append(s, "display:"+o.Data["text/plain"].(string))
		case ExecuteResult:
			s = append(s, "result:"+o.Data["text/plain"].(string))
		case ErrorOutput:
			s = append(s, "error:"+o.EName)
		}
	}
	return s
}

func TestRunRecordsOutputsAsJupyter(t *testing.T) {
	eng := &scriptEngine{scripts: map[string]func(cellio.Output) cellio.Outcome{
		"streams": func(out cellio.Output) cellio.Outcome {
			out.Stream("stdout", "a\n")
			out.Stream("stdout", "b\n")
			out.Stream("stderr", "warn\n")
			out.Stream("stdout", "c")
			return cellio.Outcome{}
		},
		"progress": func(out cellio.Output) cellio.Outcome {
			out.Stream("stdout", "10%\r")
			out.Stream("stdout", "50%\r")
			out.Stream("stdout", "100%\n")
			return cellio.Outcome{}
		},
		"show": func(out cellio.Output) cellio.Outcome {
			out.Display(text("first"), "fig", false)
			out.Display(text("other"), "", false)
			v := text("42")
			return cellio.Outcome{Value: &v}
		},
		"update": func(out cellio.Output) cellio.Outcome {
			out.Display(text("updated"), "fig", true) // replaces the output of cell "show"
			out.Display(text("ghost"), "unknown", true)
			return cellio.Outcome{}
		},
		"clear": func(out cellio.Output) cellio.Outcome {
			out.Stream("stdout", "gone\n")
			out.Clear(false)
			out.Stream("stdout", "kept\n")
			out.Clear(true)                // waits for the next output …
			out.Clear(true)                // (twice is the same)
			out.Stream("stdout", "last\n") // … which replaces everything
			out.Clear(true)                // nothing follows: the outputs stay
			return cellio.Outcome{}
		},
		"frames": func(out cellio.Output) cellio.Outcome {
			out.Display(text("frame 1"), "live", false)
			out.Clear(true)
			out.Display(text("frame 2"), "live", false)
			out.Display(text("frame 3"), "live", true)
			return cellio.Outcome{}
		},
	}}
	nb := codeCells("streams", "progress", "show", "  \n", "update", "clear", "frames")
	nb.Cells = append(nb.Cells[:1], append([]*Cell{{Type: Markdown, Source: "# text"}}, nb.Cells[1:]...)...)
	if err := Run(context.Background(), nb, eng, Options{}); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"stdout:a\nb\n", "stderr:warn\n", "stdout:c"},
		nil, // markdown
		{"stdout:100%\n"},
		{"display:updated", "display:other", "result:42"},
		nil, // blank: not executed
		nil,
		{"stdout:last\n"},
		{"display:frame 3"},
	}
	for i, c := range nb.Cells {
		if got := outputsOf(c); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("cell %d (%q): outputs %q, want %q", i, c.Source, got, want[i])
		}
	}
	counts := []int{1, 0, 2, 3, 0, 4, 5, 6}
	for i, c := range nb.Cells {
		got := 0
		if c.ExecutionCount != nil {
			got = *c.ExecutionCount
		}
		if got != counts[i] {
			t.Errorf("cell %d: execution count %d, want %d", i, got, counts[i])
		}
	}
	if r := nb.Cells[3].Outputs[2]; r.ExecutionCount == nil || *r.ExecutionCount != 3 {
		t.Errorf("execute_result count %v, want 3", r.ExecutionCount)
	}
	for i, c := range eng.ran {
		if c.Number != i+1 {
			t.Errorf("cell %q ran as number %d, want %d", c.Code, c.Number, i+1)
		}
	}
	if li, _ := nb.Metadata["language_info"].(map[string]any); li["name"] != "go" {
		t.Errorf("language_info %v", nb.Metadata["language_info"])
	}
}

func TestRunStopsAtFirstError(t *testing.T) {
	ok := func(out cellio.Output) cellio.Outcome { out.Stream("stdout", "ok\n"); return cellio.Outcome{} }
	eng := &scriptEngine{scripts: map[string]func(cellio.Output) cellio.Outcome{
		"ok": ok,
		"fail": func(out cellio.Output) cellio.Outcome {
			out.Stream("stdout", "before\n")
			return cellio.Outcome{Error: &cellio.Error{Name: "panic", Value: "boom", Traceback: []string{"panic: boom", "Cell2:1:1"}}}
		},
		"after": ok,
	}}
	nb := codeCells("ok", "fail", "after")
	old := &Output{Type: Stream, Name: "stdout", Text: "stale\n"}
	nb.Cells[2].Outputs = []*Output{old}
	err := Run(context.Background(), nb, eng, Options{})
	var ce *CellError
	if !errors.As(err, &ce) || ce.Index != 1 || ce.Number != 2 || ce.Err.Value != "boom" {
		t.Fatalf("Run error %v, want the failure of cell 2", err)
	}
	if got := outputsOf(nb.Cells[1]); !reflect.DeepEqual(got, []string{"stdout:before\n", "error:panic"}) {
		t.Errorf("failed cell outputs %q", got)
	}
	if tb := nb.Cells[1].Outputs[1].Traceback; len(tb) != 2 {
		t.Errorf("traceback %q", tb)
	}
	if len(eng.ran) != 2 || nb.Cells[2].Outputs[0] != old || nb.Cells[2].ExecutionCount != nil {
		t.Errorf("the cell after the error ran or changed: ran %d cells", len(eng.ran))
	}

	eng.ran = nil
	err = Run(context.Background(), nb, eng, Options{AllowErrors: true})
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || len(eng.ran) != 3 {
		t.Fatalf("with AllowErrors: error %v after %d cells, want one failure and 3 cells", err, len(eng.ran))
	}
	if got := outputsOf(nb.Cells[2]); !reflect.DeepEqual(got, []string{"stdout:ok\n"}) {
		t.Errorf("cell after the error: %q", got)
	}
}

func TestRunWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	var seen string
	eng := &scriptEngine{scripts: map[string]func(cellio.Output) cellio.Outcome{
		"wd": func(out cellio.Output) cellio.Outcome { seen, _ = os.Getwd(); return cellio.Outcome{} },
	}}
	before, _ := os.Getwd()
	if err := Run(context.Background(), codeCells("wd"), eng, Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Getwd()
	want, _ := filepath.EvalSymlinks(dir)
	if got, _ := filepath.EvalSymlinks(seen); got != want {
		t.Errorf("cell ran in %s, want %s", seen, dir)
	}
	if after != before {
		t.Errorf("working directory not restored: %s, was %s", after, before)
	}
}

func TestOverwrite(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"abc", "abc"},
		{"10%\r20%\r30%\n", "30%\n"},
		{"line\r\nnext", "line\r\nnext"},
		{"ab\bc", "ac"},
		{"a\nxyz\rq", "a\nq"},
		{"pending\r", "pending\r"},
	} {
		if got := overwrite(c.in); got != c.want {
			t.Errorf("overwrite(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRunRefusesOtherLanguages(t *testing.T) {
	nb := codeCells("print(1)")
	nb.Metadata = map[string]any{"kernelspec": map[string]any{"name": "python3", "language": "python"}}
	eng := &scriptEngine{}
	if err := Run(context.Background(), nb, eng, Options{}); err == nil || len(eng.ran) != 0 {
		t.Errorf("a Python notebook ran (error %v, %d cells)", err, len(eng.ran))
	}
	nb.Metadata = map[string]any{} // no metadata: assumed Go
	eng.scripts = map[string]func(cellio.Output) cellio.Outcome{"print(1)": func(cellio.Output) cellio.Outcome { return cellio.Outcome{} }}
	if err := Run(context.Background(), nb, eng, Options{}); err != nil {
		t.Errorf("a notebook without metadata: %v", err)
	}
}
