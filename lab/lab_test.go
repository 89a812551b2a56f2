package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
	"github.com/gocvx/gocvx/notebook"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveGocvx()
	os.Exit(code)
}

// The notebooks the test opens, as paths under the served root (and the repository).
const (
	tutorial    = "notebooks/00-tutorial.ipynb"
	adversarial = "notebooks/05-adversarial.ipynb"
	explore     = "notebooks/07-explore.ipynb"
)

// completeLine is typed before Tab. The characters outside the Basic Multilingual
// Plane count twice in JavaScript's offsets and once in the protocol's cursor_pos, so
// the completion lands right only if the two are told apart.
const completeLine = `s := "😀😀😀"; solver.`

// steps are the steps driver.js reports, in order.
var steps = []string{"start", "open-tutorial", "run-tutorial", "new-notebook", "live", "interrupt",
	"complete", "inspect", "contextual-help", "restart", "open-adversarial", "run-adversarial", "console"}

// TestJupyterLab runs gocvx in JupyterLab 4's own front end: the application of this
// folder, built from npm (build.sh), served by Debian's jupyter_server with the gocvx
// kernelspec installed, driven in headless Chromium by driver.js as a user does. In
// it the tutorial and notebook 05 run to the end with their figures as images, their
// tables as HTML and no error; a live solve updates its output in place; the stop
// button interrupts `for {}` and the variables survive; Tab completes `solver.` with
// Solve and Shift-Tab shows its documentation; a restart from the Kernel menu gives a
// fresh kernel that runs cells. Cells are in Go mode, from the kernel's language_info.
// Screenshots of every step go to $GOCVX_ARTIFACTS/jupyterlab (default
// $TMPDIR/gocvx-artifacts/jupyterlab).
func TestJupyterLab(t *testing.T) {
	reports := runLab(t, "jupyterlab", []string{tutorial, adversarial}, map[string]any{
		"tutorial":     tutorial,
		"adversarial":  adversarial,
		"completeLine": completeLine,
	})

	nbs := map[string]*notebook.Notebook{}
	for _, name := range []string{tutorial, adversarial} {
		nb, err := notebook.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		nbs[name] = nb
	}
	checkReports(t, steps, reports, func(t *testing.T, r report) { checkStep(t, r, nbs) })
}

// runLab serves the built application on a copy of the notebooks with the gocvx
// kernelspec installed, runs driver.js with options (the url, browser, profile,
// screenshot folder artifactDir(t, artifacts) and time limits added), and returns
// its reports. It checks that no kernel outlives the server and no browser process
// the driver.
func runLab(t *testing.T, artifacts string, notebooks []string, options map[string]any) []report {
	t.Helper()
	node := testenv.RequireCommand(t, "node")
	browser := chromium(t)
	python := testenv.RequirePython(t, "jupyter_server", "jupyterlab_server")
	app := buildLab(t)
	bin := testenv.Gocvx(t)

	root := t.TempDir()
	copyNotebooks(t, root, notebooks...)
	// Cleanups run last first: this one after the server's shutdown.
	t.Cleanup(func() {
		if left := reap(bin); len(left) > 0 {
			t.Errorf("kernels outlived the server's shutdown:\n%s", strings.Join(left, "\n"))
		}
	})
	srv := startServer(t, python, app, root, jupyterEnv(t, bin))

	dir := artifactDir(t, artifacts)
	profile := t.TempDir()
	options["url"] = srv.url + "/lab?token=" + srv.token
	options["browser"] = browser
	options["profile"] = profile
	options["artifacts"] = dir
	options["timeoutSeconds"] = map[string]int{"start": 120, "run": 600, "step": 120}
	reports := runDriver(t, node, app, options)
	if left := reap(profile); len(left) > 0 {
		t.Errorf("browser processes outlived the driver:\n%s", strings.Join(left, "\n"))
	}
	fmt.Fprintf(os.Stderr, "screenshots of the %s run: %s\n", artifacts, dir)
	t.Logf("screenshots: %s", dir)
	return reports
}

// checkReports checks that the driver ran the steps in order without an error and
// runs check on each one's report as a subtest.
func checkReports(t *testing.T, steps []string, reports []report, check func(*testing.T, report)) {
	t.Helper()
	for i, name := range steps {
		if i >= len(reports) {
			t.Errorf("step %s did not run", name)
			continue
		}
		r := reports[i]
		if r.Step != name {
			t.Fatalf("step %d is %q, want %q", i, r.Step, name)
		}
		t.Run(name, func(t *testing.T) {
			if r.Error != "" {
				t.Fatalf("%s\nscreenshot: %s", r.Error, r.Screenshot)
			}
			t.Logf("%.1f s; screenshot %s", r.Seconds, r.Screenshot)
			check(t, r)
		})
	}
}

// report is one line of driver.js's output.
type report struct {
	Step       string          `json:"step"`
	Data       json.RawMessage `json:"data"`
	Error      string          `json:"error"`
	Screenshot string          `json:"screenshot"`
	Seconds    float64         `json:"seconds"`
}

// runDriver runs driver.js with the configuration cfg, bounded in time, and returns
// its reports. The driver runs in its own process group, which a timeout ends.
func runDriver(t *testing.T, node string, app built, cfg map[string]any) []report {
	t.Helper()
	config, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	limit := within(t, 20*time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "driver.js", string(config))
	cmd.Env = append(os.Environ(), "NODE_PATH="+app.nodeModules)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// SIGTERM lets Playwright close the browser; WaitDelay then kills the driver.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Errorf("driver.js did not finish in %v", limit)
	}
	var reports []report
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var r report
		if line == "" {
			continue
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("driver.js wrote %q: %v", line, err)
		}
		reports = append(reports, r)
	}
	if err != nil && (len(reports) == 0 || reports[len(reports)-1].Step != "console") {
		t.Errorf("driver.js: %v\n%s", err, stderr.String())
	}
	return reports
}

// within returns limit, or less when the test's deadline (go test -timeout) comes
// sooner, leaving two minutes for the cleanups that stop the processes.
func within(t *testing.T, limit time.Duration) time.Duration {
	if deadline, ok := t.Deadline(); ok {
		limit = min(limit, time.Until(deadline)-2*time.Minute)
	}
	return max(limit, time.Minute)
}

// copyNotebooks copies the named notebooks and the notebooks' data into
// root/notebooks.
func copyNotebooks(t *testing.T, root string, names ...string) {
	t.Helper()
	if err := os.CopyFS(filepath.Join(root, "notebooks", "data"), os.DirFS(filepath.Join("..", "notebooks", "data"))); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// jupyterEnv installs the kernelspec with `gocvx install --prefix` and returns the
// environment in which Jupyter finds it and keeps its own files in fresh folders.
func jupyterEnv(t *testing.T, bin string) []string {
	t.Helper()
	prefix, data := t.TempDir(), t.TempDir()
	if out, err := exec.Command(bin, "install", "--prefix", prefix).CombinedOutput(); err != nil {
		t.Fatalf("gocvx install --prefix: %v\n%s", err, out)
	}
	return append(os.Environ(),
		"JUPYTER_PATH="+filepath.Join(prefix, "share", "jupyter"),
		"JUPYTER_DATA_DIR="+data,
		"JUPYTER_RUNTIME_DIR="+filepath.Join(data, "runtime"),
		"JUPYTER_CONFIG_DIR="+filepath.Join(data, "config"),
		"JUPYTER_PLATFORM_DIRS=1",
		"PYTHONDONTWRITEBYTECODE=1",
		"GOCVX_HISTORY_FILE=", // the kernel's input history stays in memory
	)
}

// artifactDir returns $GOCVX_ARTIFACTS/name (default in the temporary folder),
// emptied of an earlier run's screenshots.
func artifactDir(t *testing.T, name string) string {
	t.Helper()
	base := os.Getenv("GOCVX_ARTIFACTS")
	if base == "" {
		base = filepath.Join(os.TempDir(), "gocvx-artifacts")
	}
	dir := filepath.Join(base, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for _, f := range old {
		os.Remove(f)
	}
	return dir
}

// checkStep judges what driver.js saw in one step.
func checkStep(t *testing.T, r report, nbs map[string]*notebook.Notebook) {
	decode := func(v any) {
		t.Helper()
		if err := json.Unmarshal(r.Data, v); err != nil {
			t.Fatalf("step data %s: %v", r.Data, err)
		}
	}
	var p problems
	switch r.Step {
	case "start":
	case "open-tutorial", "open-adversarial", "new-notebook":
		var e editorState
		decode(&e)
		p = checkEditor(e)
	case "run-tutorial", "run-adversarial":
		var run struct{ Cells []cellState }
		decode(&run)
		nb := map[string]*notebook.Notebook{"run-tutorial": nbs[tutorial], "run-adversarial": nbs[adversarial]}[r.Step]
		p = checkRun(run.Cells, nb)
	case "live":
		var live liveState
		decode(&live)
		p = checkLive(live)
		t.Logf("the live output changed %d times, showing %d different contents", live.Changes, live.DistinctContents)
	case "interrupt":
		var in struct{ Define, Loop, After cellState }
		decode(&in)
		p = checkInterrupt(in.Define, in.Loop, in.After)
	case "complete":
		var c struct{ Items []string }
		decode(&c)
		if !slices.Contains(c.Items, "Solve") {
			p.addf("the completer lists %q for %s, without Solve", c.Items, completeLine)
		}
	case "inspect":
		var in struct{ Source, Tooltip string }
		decode(&in)
		p = checkInspect(in.Source, completeLine+"Solve", in.Tooltip)
	case "contextual-help":
		var help struct{ Text string }
		decode(&help)
		p = checkDoc("Contextual Help panel", help.Text)
	case "restart":
		var re struct {
			Statuses []string
			Cell     cellState
		}
		decode(&re)
		p = checkRestart(re.Statuses, re.Cell)
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
