package notebook

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
	"github.com/gocvx/gocvx/notebook/internal/webdriver"
)

// TestJupyterNotebookFrontEnd runs the tutorial in the real front end: Debian's
// Jupyter Notebook (classic, 6.4) serves it on 127.0.0.1 with the gocvx kernelspec
// installed, headless Chromium opens it, clicks Cell ▸ Run All, and the test waits
// until every code cell has run, then checks that the page shows a plot and a result
// table and no error. The tutorial is opened with its outputs removed, so whatever
// the page shows was produced by this run. A screenshot is saved in the artifacts
// directory ($GOCVX_ARTIFACTS, default $TMPDIR/gocvx-artifacts) as
// jupyter-notebook-tutorial.png.
func TestJupyterNotebookFrontEnd(t *testing.T) {
	py := testenv.RequirePython(t, "notebook", "jupyter_client")
	bin := testenv.Gocvx(t)
	env := jupyterEnv(t, bin)
	dir, codeCells := tutorialWithoutOutputs(t)
	// Data the tutorial reads relative to itself is found through $GOCVX_DATA.
	data, err := filepath.Abs(filepath.Join("..", "notebooks", "data"))
	if err != nil {
		t.Fatal(err)
	}
	env = append(env, "GOCVX_DATA="+data)
	base, token := startNotebookServer(t, py, env, dir)

	d := startBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := d.Navigate(ctx, base+"/notebooks/00-tutorial.ipynb?token="+token); err != nil {
		t.Fatal(err)
	}
	runAllCells(t, ctx, d, codeCells)
	checkNotebookPage(t, ctx, d, codeCells)

	// The screenshot shows the first plot.
	d.Execute(ctx, `const f = document.querySelector('.output_area .output_svg svg, .output_area img'); if (f) f.scrollIntoView({block: 'center'}); return true`, nil)
	shot, err := artifactPath("jupyter-notebook-tutorial.png")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SaveScreenshot(ctx, shot); err != nil {
		t.Errorf("screenshot: %v", err)
	} else {
		fmt.Fprintf(os.Stderr, "screenshot of the Jupyter Notebook run: %s\n", shot)
		t.Logf("screenshot: %s", shot)
	}
}

// tutorialWithoutOutputs writes the tutorial without its outputs into a fresh
// notebook directory, and counts its code cells that are not blank.
func tutorialWithoutOutputs(t *testing.T) (dir string, codeCells int) {
	dir = t.TempDir()
	nb, err := ReadFile(filepath.Join("..", "notebooks", "00-tutorial.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range nb.Cells {
		if c.Type == Code {
			c.Outputs, c.ExecutionCount = nil, nil
			if strings.TrimSpace(c.Source) != "" {
				codeCells++
			}
		}
	}
	if err := WriteFile(filepath.Join(dir, "00-tutorial.ipynb"), nb); err != nil {
		t.Fatal(err)
	}
	return dir, codeCells
}

// startNotebookServer starts Jupyter Notebook on dir, stopped (with its kernels)
// at cleanup, and returns its address and token once it lists the gocvx kernel.
func startNotebookServer(t *testing.T, py string, env []string, dir string) (base, token string) {
	ports, err := testenv.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	port := ports[0]
	token = fmt.Sprintf("gocvx-test-%d", time.Now().UnixNano())
	args := []string{"-m", "notebook"}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-root") // CI containers run as root
	}
	server := exec.Command(py, append(args,
		"--no-browser", "--ip=127.0.0.1", fmt.Sprintf("--port=%d", port), "--port-retries=0",
		"--NotebookApp.token="+token, "--NotebookApp.password=",
		"--NotebookApp.notebook_dir="+dir, "--NotebookApp.open_browser=False",
		"--NotebookApp.allow_remote_access=False", "--NotebookApp.disable_check_xsrf=False",
	)...)
	server.Env = env
	server.Dir = dir
	logFile, err := os.Create(filepath.Join(t.TempDir(), "notebook-server.log"))
	if err != nil {
		t.Fatal(err)
	}
	server.Stdout, server.Stderr = logFile, logFile
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { server.Wait(); close(exited) }()
	t.Cleanup(func() {
		// SIGTERM lets the server shut its kernels down; then the whole group goes.
		syscall.Kill(server.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			t.Log("the notebook server did not stop in 15s; killing it")
		}
		syscall.Kill(-server.Process.Pid, syscall.SIGKILL)
		<-exited
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("notebook server log:\n%s", b)
		}
	})
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitForServer(base+"/api/kernelspecs?token="+token, "gocvx", exited, time.Minute); err != nil {
		t.Fatalf("notebook server: %v", err)
	}
	return base, token
}

// runAllCells waits for the kernel, runs every cell as a user does (Cell ▸ Run
// All) and waits until all codeCells have run and the kernel is idle.
func runAllCells(t *testing.T, ctx context.Context, d *webdriver.Driver, codeCells int) {
	kernelIdle := `return !!(window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
		Jupyter.notebook.kernel.is_connected() &&
		document.querySelector('#kernel_indicator_icon.kernel_idle_icon'))`
	if err := waitCtx(ctx, time.Minute, func(c context.Context) error { return d.WaitFor(c, kernelIdle, 200*time.Millisecond) }); err != nil {
		t.Fatalf("the kernel did not start in the notebook: %v", err)
	}
	if err := d.Click(ctx, "#celllink"); err != nil {
		t.Fatal(err)
	}
	if err := d.Click(ctx, "#run_all_cells > a"); err != nil {
		t.Fatal(err)
	}
	allRan := fmt.Sprintf(`const cells = Jupyter.notebook.get_cells().filter(c => c.cell_type === 'code' && c.get_text().trim() !== '');
		return cells.length === %d && cells.every(c => typeof c.input_prompt_number === 'number') &&
			!!document.querySelector('#kernel_indicator_icon.kernel_idle_icon')`, codeCells)
	if err := waitCtx(ctx, 3*time.Minute, func(c context.Context) error { return d.WaitFor(c, allRan, 500*time.Millisecond) }); err != nil {
		var prompts any
		d.Execute(ctx, `return Jupyter.notebook.get_cells().map(c => c.input_prompt_number === undefined ? null : String(c.input_prompt_number))`, &prompts)
		t.Fatalf("the cells did not all run: %v (prompts %v)", err, prompts)
	}
}

// checkNotebookPage checks what the page shows after the run: no error output,
// every image decoded, at least one plot and one result table.
func checkNotebookPage(t *testing.T, ctx context.Context, d *webdriver.Driver, codeCells int) {
	var page struct {
		Images  []imageReport `json:"images"`
		SVGs    int           `json:"svgs"`
		Tables  int           `json:"tables"`
		Errors  []string      `json:"errors"`
		Prompts []string      `json:"prompts"`
	}
	if err := d.SetScriptTimeout(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	inspect := `const done = arguments[arguments.length - 1];
		const imgs = Array.from(document.querySelectorAll('.output_area img'));
		Promise.all(imgs.map(img => img.decode().then(
			() => ({src: img.src.slice(0, 40), decoded: true, width: img.naturalWidth, error: ""}),
			e => ({src: img.src.slice(0, 40), decoded: false, width: 0, error: String(e)})))).then(images => done({
			images: images,
			svgs: Array.from(document.querySelectorAll('.output_area .output_svg svg')).filter(s => s.getBoundingClientRect().width > 0).length,
			tables: document.querySelectorAll('.output_area .output_html table').length,
			errors: Array.from(document.querySelectorAll('.output_area .output_error')).map(e => e.innerText.slice(0, 500)),
			prompts: Array.from(document.querySelectorAll('.input_prompt')).map(p => p.innerText.trim()),
		}));`
	if err := d.ExecuteAsync(ctx, inspect, &page); err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Errors {
		t.Errorf("the page shows an error output: %s", e)
	}
	decoded := 0
	for i, img := range page.Images {
		if !img.Decoded || img.Width == 0 {
			t.Errorf("output image %d (%s…) did not decode: %s", i, img.Src, img.Error)
		} else {
			decoded++
		}
	}
	if decoded+page.SVGs == 0 {
		t.Errorf("no plot appeared in the page (images %v, prompts %q)", page.Images, page.Prompts)
	}
	if page.Tables == 0 {
		t.Errorf("no result table appeared in the page (prompts %q)", page.Prompts)
	}
	t.Logf("Jupyter Notebook ran %d code cells: %d images, %d SVG plots, %d tables", codeCells, decoded, page.SVGs, page.Tables)
}

// artifactPath returns the path of a CI artifact file, creating the directory:
// $GOCVX_ARTIFACTS, or gocvx-artifacts in the temporary directory.
func artifactPath(name string) (string, error) {
	dir := os.Getenv("GOCVX_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "gocvx-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// waitForServer polls url until it answers 200 with a body containing want.
func waitForServer(url, want string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 5 * time.Second}
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), want) {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, body)
		} else {
			last = err.Error()
		}
		select {
		case <-exited:
			return fmt.Errorf("the server exited (%s)", last)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("no answer with %q in %v (last: %s)", want, timeout, last)
}

// waitCtx runs f with a context bounded by timeout.
func waitCtx(ctx context.Context, timeout time.Duration, f func(context.Context) error) error {
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return f(c)
}
