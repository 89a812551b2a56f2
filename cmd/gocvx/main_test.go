package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
)

// The tests build the gocvx binary once, install its kernelspec into a temporary
// Jupyter data folder, and drive it with Jupyter's own clients through Debian's
// Python: jupyter_client, the conformance suite, nbconvert and jupyter console.

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveGocvx()
	os.Exit(code)
}

// jupyterEnv installs the kernelspec into a fresh Jupyter data folder with
// `gocvx install` and returns the environment that makes Jupyter find it (and keep
// its runtime files there).
func jupyterEnv(t *testing.T) []string {
	t.Helper()
	bin := testenv.Gocvx(t)
	data := t.TempDir()
	env := append(os.Environ(),
		"JUPYTER_DATA_DIR="+data,
		"JUPYTER_PATH="+data,
		"JUPYTER_RUNTIME_DIR="+filepath.Join(data, "runtime"),
		"JUPYTER_CONFIG_DIR="+filepath.Join(data, "config"),
		"JUPYTER_PLATFORM_DIRS=1",
		"PYTHONDONTWRITEBYTECODE=1",
	)
	cmd := exec.Command(bin, "install")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gocvx install: %v\n%s", err, out)
	}
	return env
}

// run runs a command with env, bounded in time, and returns its combined output.
func run(t *testing.T, env []string, dir string, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("timed out after %v", timeout)
	}
	return string(out), err
}

func TestVersion(t *testing.T) {
	out, err := run(t, nil, "", time.Minute, testenv.Gocvx(t), "version")
	if err != nil || !strings.HasPrefix(out, "gocvx ") {
		t.Fatalf("gocvx version: %v: %q", err, out)
	}
}

// TestInstall checks that Jupyter itself lists the installed kernelspec, with the
// binary's absolute path, for --prefix and for the user's data folder.
func TestInstall(t *testing.T) {
	python := testenv.RequirePython(t, "jupyter_client")
	env := jupyterEnv(t)
	prefix := t.TempDir()
	if out, err := run(t, env, "", time.Minute, testenv.Gocvx(t), "install", "--prefix", prefix); err != nil {
		t.Fatalf("gocvx install --prefix: %v\n%s", err, out)
	}
	for _, c := range []struct{ name, path string }{
		{"user", ""},
		{"prefix", filepath.Join(prefix, "share", "jupyter")},
	} {
		e := env
		if c.path != "" {
			e = append(env, "JUPYTER_PATH="+c.path, "JUPYTER_DATA_DIR="+t.TempDir())
		}
		out, err := run(t, e, "", time.Minute, python, "-c",
			`import json; from jupyter_client.kernelspec import KernelSpecManager as M; s = M().get_kernel_spec("gocvx"); print(json.dumps(s.to_dict()))`)
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, out)
		}
		var spec struct {
			Argv          []string `json:"argv"`
			DisplayName   string   `json:"display_name"`
			InterruptMode string   `json:"interrupt_mode"`
		}
		if err := json.Unmarshal([]byte(out), &spec); err != nil {
			t.Fatalf("%s: %v: %s", c.name, err, out)
		}
		if spec.Argv[0] != testenv.Gocvx(t) || spec.DisplayName != "Go (gocvx)" || spec.InterruptMode != "message" {
			t.Errorf("%s: kernelspec = %+v", c.name, spec)
		}
	}
}

// TestConformance runs the Jupyter project's kernel test suite with every attribute
// set.
func TestConformance(t *testing.T) {
	python := testenv.RequirePython(t, "jupyter_kernel_test")
	env := jupyterEnv(t)
	out, err := run(t, env, "testdata", 5*time.Minute, python, "-m", "unittest", "-v", "conformance")
	t.Logf("jupyter_kernel_test:\n%s", out)
	if err != nil {
		t.Fatalf("conformance suite: %v", err)
	}
	if strings.Contains(out, "skipped") {
		t.Errorf("the suite skipped tests: every attribute must be set")
	}
	if !strings.Contains(out, "Ran 12 tests") || !strings.Contains(out, "\nOK") {
		t.Errorf("want the suite's 12 tests run and passed")
	}
}

// goCells are the cells that testdata/client.py scenarios run.
var goCells = map[string]any{
	"define":        "x := 21",
	"loop":          "for {\n}",
	"check":         "x * 2",
	"check_result":  "42",
	"read":          "import \"fmt\"\nvar line string\nfmt.Scanln(&line)\nfmt.Println(\"read:\", line)",
	"fail":          `panic("on purpose")`,
	"after_restart": "1 + 1",
	"print":         "import \"fmt\"\nfmt.Println(\"from one client\")",
	"print_stdout":  "from one client",
	// A long call into the compiled solver, stopped by the cell's context.
	"long_setup": "import (\n\t\"time\"\n\t\"github.com/gocvx/gocvx/cell\"\n\t\"github.com/gocvx/gocvx/solver\"\n\t\"github.com/gocvx/gocvx/solver/dataset\"\n)\n" +
		"x := 21\nset, _ := dataset.Spirals(300, 0.2, 1)\n" +
		"prob := &solver.Problem{X: dataset.AddBias(set.X), Y: set.Y, Loss: solver.Squared, Beta: 1e-4}\n" +
		"settings := &solver.Settings{Patterns: 400, MaxIterations: 1 << 30, Tolerance: 1e-300, TimeLimit: 2 * time.Minute}",
	"long":                 "res, err := solver.Solve(cell.Context(), prob, settings, &solver.ADMM{})\nfmt.Println(res.Status, err)",
	"complete_code":        "solver.Sol",
	"complete_match":       "Solve",
	"inspect_code":         "solver.Solve",
	"after_restart_result": "2",
	"user_expression_bad":  "undefinedName + 1",
	"display": "import \"github.com/gocvx/gocvx/display\"\n" +
		"id := display.ShowID(\"v1\")\ndisplay.Update(id, \"v2\")\ndisplay.Clear(true)\ndisplay.HTML(\"<b>v3</b>\")",
	"sequence": []map[string]any{
		{"code": "x := 21"},
		{"code": "x * 2", "result": "42"},
		{"code": "func double(n int) int { return 2 * n }"},
		{"code": "double(x)", "result": "42"},
		{"code": "import \"fmt\"\nfmt.Println(\"first\")", "stdout": "first"},
		{"code": "import \"fmt\"\nfmt.Println(\"second\")", "stdout": "second"},
		{"code": "import \"strings\"\ntype pair struct{ a, b string }\nfunc join(p pair) string { return strings.Join([]string{p.a, p.b}, \"-\") }\np := pair{\"go\", \"cvx\"}\nfmt.Println(join(p))", "stdout": "go-cvx"},
		{"code": "undefinedName + 1", "status": "error"},
		{"code": "x", "result": "21"},
	},
}

// TestClient drives the real kernel through jupyter_client's BlockingKernelClient,
// started from the installed kernelspec by a KernelManager.
func TestClient(t *testing.T) {
	python := testenv.RequirePython(t, "jupyter_client")
	env := jupyterEnv(t)
	cells, err := json.Marshal(goCells)
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("../../kernel/testdata/client.py")
	if err != nil {
		t.Fatal(err)
	}
	// Each group runs in a fresh kernel.
	for _, scenarios := range [][]string{
		{"control", "heartbeat", "sequence", "user_expressions", "stdin", "badkey", "comm", "outputs"},
		{"interrupt", "sigint", "interrupt_input"},
		{"abort"},
		{"restart"},
		{"two_clients", "busy"},
	} {
		t.Run(strings.Join(scenarios, "+"), func(t *testing.T) {
			args := append([]string{script, "--kernel", "gocvx", "--cells", string(cells)}, scenarios...)
			out, err := run(t, env, "", 3*time.Minute, python, args...)
			t.Logf("client.py:\n%s", out)
			if err != nil {
				t.Fatalf("client.py: %v", err)
			}
		})
	}
	// The kernels kept their history in the Jupyter data folder, readable by the
	// user only: one session per kernel start (restarts included).
	var data string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "JUPYTER_DATA_DIR="); ok {
			data = v
		}
	}
	hist := filepath.Join(data, "gocvx", "history.jsonl")
	st, err := os.Stat(hist)
	if err != nil {
		t.Fatalf("history file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("history file mode %v, want 0600", st.Mode().Perm())
	}
	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"input":"x := 21"`) || strings.Count(string(b), `"line"`) < 6 {
		t.Errorf("history file lacks the executed cells:\n%s", b)
	}
}

// TestNbconvert executes a small notebook headlessly with nbconvert through the
// kernelspec, as a Jupyter server would.
func TestNbconvert(t *testing.T) {
	python := testenv.RequirePython(t, "nbconvert", "nbclient")
	env := jupyterEnv(t)
	dir := t.TempDir()
	nb := map[string]any{
		"nbformat": 4, "nbformat_minor": 5,
		"metadata": map[string]any{
			"kernelspec": map[string]any{"name": "gocvx", "display_name": "Go (gocvx)", "language": "go"},
		},
		"cells": []map[string]any{
			{"cell_type": "code", "id": "c1", "metadata": map[string]any{}, "outputs": []any{}, "execution_count": nil,
				"source": "import \"fmt\"\nx := 21\nfmt.Println(\"half:\", x)"},
			{"cell_type": "code", "id": "c2", "metadata": map[string]any{}, "outputs": []any{}, "execution_count": nil,
				"source": "x * 2"},
		},
	}
	b, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "small.ipynb")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, env, dir, 3*time.Minute, python, "-m", "nbconvert", "--to", "notebook", "--execute",
		"--ExecutePreprocessor.timeout=60", "--output", "out.ipynb", in)
	if err != nil {
		t.Fatalf("nbconvert --execute: %v\n%s", err, out)
	}
	res, err := os.ReadFile(filepath.Join(dir, "out.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Metadata struct {
			LanguageInfo map[string]any `json:"language_info"`
		} `json:"metadata"`
		Cells []struct {
			Outputs []map[string]any `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(res, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Cells) != 2 || len(got.Cells[0].Outputs) == 0 || len(got.Cells[1].Outputs) == 0 {
		t.Fatalf("executed notebook lacks outputs:\n%s", res)
	}
	if s := multiline(got.Cells[0].Outputs[0]["text"]); !strings.Contains(s, "half: 21") {
		t.Errorf("cell 1 printed %q", s)
	}
	if d, _ := got.Cells[1].Outputs[0]["data"].(map[string]any); multiline(d["text/plain"]) != "42" {
		t.Errorf("cell 2 output = %v, want text/plain 42", got.Cells[1].Outputs[0])
	}
	if got.Metadata.LanguageInfo["pygments_lexer"] != "go" {
		t.Errorf("language_info = %v", got.Metadata.LanguageInfo)
	}
}

// multiline joins a notebook's multi-line string, stored as a string or a list of lines.
func multiline(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var b strings.Builder
		for _, l := range v {
			fmt.Fprint(&b, l)
		}
		return b.String()
	}
	return fmt.Sprint(v)
}

// TestConsoleExisting runs a kernel from a connection file, as a notebook server
// would, and talks to it with `jupyter console --existing`.
func TestConsoleExisting(t *testing.T) {
	python := testenv.RequirePython(t, "jupyter_console")
	env := jupyterEnv(t)
	dir := t.TempDir()
	ports, err := testenv.FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	conn := map[string]any{
		"transport": "tcp", "ip": "127.0.0.1", "shell_port": ports[0], "iopub_port": ports[1],
		"stdin_port": ports[2], "control_port": ports[3], "hb_port": ports[4],
		"signature_scheme": "hmac-sha256", "key": "a0b1c2d3-console-test",
	}
	b, err := json.Marshal(conn)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "kernel-test.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	kernel := exec.Command(testenv.Gocvx(t), "kernel", "-f", file)
	kernel.Env = env
	if err := kernel.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- kernel.Wait() }()
	defer func() {
		kernel.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Error("kernel still running 10 s after kill")
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	console := exec.CommandContext(ctx, python, "-m", "jupyter_console", "--existing", file, "--simple-prompt")
	console.Env = env
	console.Stdin = strings.NewReader("x := 6 * 7\nx\nimport \"fmt\"\nfmt.Println(\"hello from gocvx\")\n")
	console.WaitDelay = 5 * time.Second
	out, err := console.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("jupyter console timed out:\n%s", out)
	}
	if err != nil {
		t.Fatalf("jupyter console: %v\n%s", err, out)
	}
	for _, want := range []string{"Out[2]: 42", "hello from gocvx"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("console output lacks %q:\n%s", want, out)
		}
	}
}
