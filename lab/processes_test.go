package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
)

// missingTool is build.sh's exit status when node, npm or the npm registry is missing.
const missingTool = 3

// built is the application that build.sh made.
type built struct {
	dir         string // bundle.js, schemas/, themes/
	nodeModules string // where driver.js finds playwright-core
}

// buildLab runs build.sh, which installs and builds into its cache only what is not
// there yet (a warm run hashes two files). A missing node, npm or registry stops the
// test as a missing tool does.
func buildLab(t *testing.T) built {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within(t, 15*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "build.sh")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == missingTool:
		// As testenv.RequireCommand does for a missing command.
		if testenv.InCI() {
			t.Fatalf("%s; required in CI (GOCVX_CI=1)", strings.TrimSpace(stderr.String()))
		}
		t.Skipf("%s (set GOCVX_CI=1 to make this a failure)", strings.TrimSpace(stderr.String()))
	case err != nil:
		t.Fatalf("lab/build.sh: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	dir := lines[len(lines)-1]
	if _, err := os.Stat(filepath.Join(dir, "bundle.js")); err != nil {
		t.Fatalf("lab/build.sh printed %q, which holds no bundle.js: %v", dir, err)
	}
	return built{dir: dir, nodeModules: filepath.Join(filepath.Dir(dir), "node_modules")}
}

// chromium returns Debian's Chromium, or stops the test.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return testenv.RequireCommand(t, "chromium")
}

// server is a running lab/server.py.
type server struct {
	url   string // http://127.0.0.1:PORT
	token string
	pid   int // also the id of its process group
}

// startServer starts server.py for the notebooks under root with the Jupyter
// environment env; the test's cleanup shuts it down with its kernels (the REST API's
// shutdown, then SIGTERM, then SIGKILL of its process group) and logs its output if
// the test failed.
func startServer(t *testing.T, python string, app built, root string, env []string) server {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	token := fmt.Sprintf("gocvx-lab-%d", time.Now().UnixNano())
	log, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "server.py", "--build", app.dir, "--state", t.TempDir(), "--root", root,
		"--port", strconv.Itoa(port), "--token", token)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s := server{url: fmt.Sprintf("http://127.0.0.1:%d", port), token: token, pid: cmd.Process.Pid}
	t.Cleanup(func() {
		s.shutdown(exited)
		log.Close()
		if t.Failed() {
			out, _ := os.ReadFile(log.Name())
			t.Logf("lab/server.py output:\n%s", out)
		}
	})
	if err := s.waitReady(exited, 2*time.Minute); err != nil {
		t.Fatalf("lab/server.py: %v", err)
	}
	return s
}

// waitReady polls the kernelspecs API until it lists gocvx.
func (s server) waitReady(exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 5 * time.Second}
	last := "no answer"
	for time.Now().Before(deadline) {
		body, status, err := s.call(client, "GET", "/api/kernelspecs")
		switch {
		case err != nil:
			last = err.Error()
		case status == http.StatusOK && strings.Contains(body, `"gocvx"`):
			return nil
		default:
			last = fmt.Sprintf("%d: %s", status, body)
		}
		select {
		case <-exited:
			return fmt.Errorf("it exited at start (%s)", last)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("/api/kernelspecs did not list gocvx in %v (last: %s)", timeout, last)
}

func (s server) call(client *http.Client, method, path string) (string, int, error) {
	req, err := http.NewRequest(method, s.url+path, nil)
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Authorization", "token "+s.token)
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), resp.StatusCode, err
}

// shutdown asks the server to stop its kernels and exit, and forces it after a while.
func (s server) shutdown(exited <-chan struct{}) {
	client := &http.Client{Timeout: 10 * time.Second}
	s.call(client, "POST", "/api/shutdown")
	select {
	case <-exited:
		return
	case <-time.After(20 * time.Second):
	}
	syscall.Kill(-s.pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-s.pid, syscall.SIGKILL)
		<-exited
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// reap ends every process whose command line contains marker (a path unique to this
// test: the kernel binary, the browser profile) and returns their command lines, so a
// test can tell that something it started outlived its owner.
func reap(marker string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var found []string
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmdline := strings.TrimSpace(strings.ReplaceAll(string(raw), "\x00", " "))
		if strings.Contains(cmdline, marker) {
			syscall.Kill(pid, syscall.SIGKILL)
			found = append(found, fmt.Sprintf("%d: %.200s", pid, cmdline))
		}
	}
	return found
}
