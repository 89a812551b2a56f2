// Package webdriver is a small W3C WebDriver client for the browser tests: it starts
// Debian's chromedriver with a headless Chromium (never a downloaded browser) and
// drives it over HTTP on 127.0.0.1.
package webdriver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ChromiumArgs are the flags Chromium always gets: headless, sandbox and GPU off
// (containers), and no traffic of its own (updates, first-run pages).
var ChromiumArgs = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
	"--disable-default-apps", "--disable-sync", "--window-size=1280,1600",
}

// Options locate the programs.
type Options struct {
	Driver  string // chromedriver; empty means /usr/bin/chromedriver
	Browser string // chromium; empty means /usr/bin/chromium
	// UserDataDir is Chromium's profile directory, which must be fresh; required.
	UserDataDir string
	// Log, if not nil, receives chromedriver's output.
	Log io.Writer
}

// Driver is a running chromedriver with one browser session.
type Driver struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port
	session string
	client  *http.Client
	done    chan struct{}
	once    sync.Once
}

// Start starts chromedriver on a free port of 127.0.0.1 and opens a session with a
// headless Chromium; Close ends both.
func Start(ctx context.Context, opts Options) (*Driver, error) {
	if opts.Driver == "" {
		opts.Driver = "/usr/bin/chromedriver"
	}
	if opts.Browser == "" {
		opts.Browser = "/usr/bin/chromium"
	}
	if opts.UserDataDir == "" {
		return nil, errors.New("webdriver: UserDataDir is required")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(opts.Driver, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1", "--allowed-origins=http://127.0.0.1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Close ends the browser too
	if opts.Log != nil {
		cmd.Stdout, cmd.Stderr = opts.Log, opts.Log
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("webdriver: starting %s: %v", opts.Driver, err)
	}
	d := &Driver{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), client: &http.Client{Timeout: 5 * time.Minute}, done: make(chan struct{})}
	go func() { cmd.Wait(); close(d.done) }()
	if err := d.waitReady(ctx); err != nil {
		d.Close()
		return nil, err
	}
	args := append(append([]string{}, ChromiumArgs...), "--user-data-dir="+opts.UserDataDir)
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName":        "chrome",
		"goog:chromeOptions": map[string]any{"binary": opts.Browser, "args": args},
		"goog:loggingPrefs":  map[string]any{"browser": "ALL"},
		"pageLoadStrategy":   "normal",
	}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	if err := d.call(ctx, "POST", "/session", caps, &created); err != nil {
		d.Close()
		return nil, err
	}
	d.session = created.SessionID
	return d, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (d *Driver) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var status struct {
			Ready bool `json:"ready"`
		}
		if err := d.call(ctx, "GET", "/status", nil, &status); err == nil && status.Ready {
			return nil
		}
		select {
		case <-d.done:
			return errors.New("webdriver: chromedriver exited at start")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("webdriver: chromedriver did not become ready in 30s")
}

// Close ends the session, the browser and chromedriver, waiting at most a few seconds.
func (d *Driver) Close() {
	d.once.Do(func() {
		if d.session != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			d.call(ctx, "DELETE", "/session/"+d.session, nil, nil)
			cancel()
		}
		if d.cmd.Process != nil {
			syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-d.done:
			case <-time.After(5 * time.Second):
				syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
				<-d.done
			}
		}
	})
}

// Error is an error answer of the WebDriver server.
type Error struct {
	Code, Message string
}

func (e *Error) Error() string { return "webdriver: " + e.Code + ": " + e.Message }

func (d *Driver) call(ctx context.Context, method, path string, body, result any) error {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("webdriver: %s %s: %s", method, path, strings.TrimSpace(string(data)))
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		json.Unmarshal(env.Value, &e)
		return &Error{Code: e.Error, Message: e.Message}
	}
	if result != nil && len(env.Value) > 0 {
		return json.Unmarshal(env.Value, result)
	}
	return nil
}

func (d *Driver) sessionCall(ctx context.Context, method, path string, body, result any) error {
	return d.call(ctx, method, "/session/"+d.session+path, body, result)
}

// Navigate loads url and waits for the page to load.
func (d *Driver) Navigate(ctx context.Context, url string) error {
	return d.sessionCall(ctx, "POST", "/url", map[string]any{"url": url}, nil)
}

// Execute runs script as the body of a function with args and stores what it
// returns in result (which may be nil).
func (d *Driver) Execute(ctx context.Context, script string, result any, args ...any) error {
	if args == nil {
		args = []any{}
	}
	return d.sessionCall(ctx, "POST", "/execute/sync", map[string]any{"script": script, "args": args}, result)
}

// ExecuteAsync runs script, which must call its last argument with the result.
func (d *Driver) ExecuteAsync(ctx context.Context, script string, result any, args ...any) error {
	if args == nil {
		args = []any{}
	}
	return d.sessionCall(ctx, "POST", "/execute/async", map[string]any{"script": script, "args": args}, result)
}

// SetScriptTimeout bounds ExecuteAsync.
func (d *Driver) SetScriptTimeout(ctx context.Context, t time.Duration) error {
	return d.sessionCall(ctx, "POST", "/timeouts", map[string]any{"script": t.Milliseconds()}, nil)
}

const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// Click clicks the first element matching the CSS selector, as a user does.
func (d *Driver) Click(ctx context.Context, selector string) error {
	var el map[string]string
	if err := d.sessionCall(ctx, "POST", "/element", map[string]any{"using": "css selector", "value": selector}, &el); err != nil {
		return fmt.Errorf("finding %s: %w", selector, err)
	}
	if err := d.sessionCall(ctx, "POST", "/element/"+el[elementKey]+"/click", map[string]any{}, nil); err != nil {
		return fmt.Errorf("clicking %s: %w", selector, err)
	}
	return nil
}

// WaitFor evaluates the script (a function body returning true when done) until it
// returns true or ctx ends.
func (d *Driver) WaitFor(ctx context.Context, script string, every time.Duration) error {
	for {
		var ok bool
		err := d.Execute(ctx, script, &ok)
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("%v (last error: %v)", ctx.Err(), err)
			}
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// Screenshot returns a PNG of the viewport.
func (d *Driver) Screenshot(ctx context.Context) ([]byte, error) {
	var b64 string
	if err := d.sessionCall(ctx, "GET", "/screenshot", nil, &b64); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(b64)
}

// SaveScreenshot writes a PNG of the viewport to the named file.
func (d *Driver) SaveScreenshot(ctx context.Context, name string) error {
	png, err := d.Screenshot(ctx)
	if err != nil {
		return err
	}
	return os.WriteFile(name, png, 0o644)
}

// LogEntry is one console message of the page.
type LogEntry struct {
	Level     string `json:"level"`
	Message   string `json:"message"`
	Source    string `json:"source"`
	Timestamp int64  `json:"timestamp"`
}

// BrowserLog returns (and clears) the console messages logged since the last call:
// console.error calls, uncaught exceptions, failed resource loads.
func (d *Driver) BrowserLog(ctx context.Context) ([]LogEntry, error) {
	var entries []LogEntry
	err := d.sessionCall(ctx, "POST", "/se/log", map[string]any{"type": "browser"}, &entries)
	return entries, err
}
