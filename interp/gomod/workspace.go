package gomod

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds one run of the go command: long enough to download a
// large module over a slow link, short enough that a proxy that never answers
// ends in an error. TimeoutEnv overrides it.
const DefaultTimeout = 3 * time.Minute

// TimeoutEnv names the environment variable that sets the time limit of one run
// of the go command, as a Go duration ("90s", "5m").
const TimeoutEnv = "GOCVX_GO_TIMEOUT"

// ModulePath is the module path of a notebook's go.mod that gomod creates.
const ModulePath = "gocvx.local/notebook"

// Module is a module version, as the go command reports it.
type Module struct {
	Path      string
	Version   string
	Dir       string  // where its files are: the module cache, or a local directory
	GoVersion string  // its go directive ("1.21"), "" when it has none
	Replace   *Module // what replaces it, if anything
	Main      bool    // the notebook's own module
}

// Workspace is the module folder of one notebook. Its methods may be called
// from several goroutines; the go command runs once at a time.
type Workspace struct {
	dir    string
	kernel []Module // modules compiled into the kernel, at the kernel's versions

	// Env returns the environment of the go command; nil means os.Environ() at
	// each run, so that %env changes apply.
	Env func() []string

	mu sync.Mutex // one go command at a time; guards the go.mod
}

// Open returns the workspace in dir, which is created if needed, with its
// go.mod when the go command first runs. kernel lists the modules whose
// packages the kernel has compiled in, at the kernel's versions: Resolve
// requires at least those versions when a package from source imports them.
func Open(dir string, kernel []Module) (*Workspace, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("gomod: the notebook's module folder: %v", err)
	}
	return &Workspace{dir: dir, kernel: kernel}, nil
}

// Dir returns the module folder.
func (w *Workspace) Dir() string { return w.dir }

// GoMod returns the text of the go.mod, "" when there is none yet.
func (w *Workspace) GoMod() string {
	b, err := os.ReadFile(filepath.Join(w.dir, "go.mod"))
	if err != nil {
		return ""
	}
	return string(b)
}

// Go runs the go command in the module folder with args and returns what it
// wrote to standard output. What it writes to standard error ("go: downloading
// …") goes to progress as it comes, if progress is not nil, and is the text of
// the error when the command fails. The run ends with an error when ctx is
// cancelled or after the time limit, with every process it started.
func (w *Workspace) Go(ctx context.Context, progress io.Writer, args ...string) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.ensureGoMod(ctx); err != nil {
		return nil, err
	}
	return w.run(ctx, progress, nil, args...)
}

// GoTool returns the path of the go command, or an error that says how to get one.
func GoTool() (string, error) {
	p, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("the go command is not on PATH: install Go (https://go.dev/dl/) to import packages that the kernel does not preload")
	}
	return p, nil
}

// timeout returns the time limit of one run.
func timeout(env []string) time.Duration {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], TimeoutEnv+"="); ok {
			if d, err := time.ParseDuration(v); err == nil && d > 0 {
				return d
			}
			break
		}
	}
	return DefaultTimeout
}

func (w *Workspace) env() []string {
	if w.Env != nil {
		return w.Env()
	}
	return os.Environ()
}

// run runs the go command; extra is added to the environment. w.mu is held.
func (w *Workspace) run(ctx context.Context, progress io.Writer, extra []string, args ...string) ([]byte, error) {
	tool, err := GoTool()
	if err != nil {
		return nil, err
	}
	env := w.env()
	limit := timeout(env)
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = w.dir
	// The go command answers from the notebook's go.mod alone (GOWORK=off: a
	// go.work of the user's elsewhere does not apply) and never waits for a
	// password (git asks for one for a repository that does not exist).
	cmd.Env = append(append(env, "GOWORK=off"), extra...)
	if !hasEnv(env, "GIT_TERMINAL_PROMPT") {
		cmd.Env = append(cmd.Env, "GIT_TERMINAL_PROMPT=0")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if progress != nil {
		cmd.Stderr = io.MultiWriter(&stderr, progress)
	}
	setProcessGroup(cmd)
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	what := "go " + strings.Join(args, " ")
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("%s: no answer within %v (GOPROXY=%s): the module proxy or the network may be unreachable; set %s to wait longer", what, limit, envValue(env, "GOPROXY", "https://proxy.golang.org,direct"), TimeoutEnv)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s: interrupted", what)
	}
	msg := strings.TrimSpace(stderr.String())
	if msg == "" {
		msg = err.Error()
	}
	return stdout.Bytes(), &GoError{Args: args, Message: msg}
}

// GoError is a failed run of the go command; Message is what it wrote to
// standard error.
type GoError struct {
	Args    []string
	Message string
}

func (e *GoError) Error() string { return "go " + strings.Join(e.Args, " ") + ": " + e.Message }

func hasEnv(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

func envValue(env []string, name, def string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok && v != "" {
			return v
		}
	}
	return def
}

var goVersionRE = regexp.MustCompile(`^go(1\.\d+)`)

// ensureGoMod writes the go.mod if there is none, with the user's Go version
// (so that their go command needs no other toolchain). w.mu is held.
func (w *Workspace) ensureGoMod(ctx context.Context) error {
	name := filepath.Join(w.dir, "go.mod")
	if _, err := os.Stat(name); err == nil {
		return nil
	}
	out, err := w.run(ctx, nil, nil, "env", "GOVERSION")
	if err != nil {
		return err
	}
	m := goVersionRE.FindStringSubmatch(strings.TrimSpace(string(out)))
	if m == nil {
		return fmt.Errorf("gomod: cannot tell the Go version of the go command from %q", out)
	}
	text := fmt.Sprintf("// The Go modules of a gocvx notebook: `%%go get` and `%%go work use` edit this file.\nmodule %s\n\ngo %s\n", ModulePath, m[1])
	return os.WriteFile(name, []byte(text), 0o644)
}

// CacheRoot is the folder under which notebooks' module folders are kept by
// default: gocvx/notebooks in the user's cache folder (XDG_CACHE_HOME).
func CacheRoot() (string, error) {
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("gomod: no cache folder for the notebooks' modules: %v", err)
	}
	return filepath.Join(c, "gocvx", "notebooks"), nil
}

// keyDir returns the folder kept for the notebook at path nb, named after the
// notebook and a hash of its absolute path. An empty nb stands for a session
// without a notebook file, keyed by the working directory.
func keyDir(nb string) (string, error) {
	root, err := CacheRoot()
	if err != nil {
		return "", err
	}
	if nb == "" {
		nb = "."
	}
	abs, err := filepath.Abs(nb)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs))
	base := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	base = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, base)
	if len(base) > 40 {
		base = base[:40]
	}
	return filepath.Join(root, base+"-"+hex.EncodeToString(sum[:6])), nil
}

// useFile names the file of a notebook's key folder that records the module
// folder the user named.
const useFile = "module-dir"

// Locate returns the module folder of the notebook at path nb: the folder the
// user named for it with Use, or else its own folder under CacheRoot.
func Locate(nb string) (string, error) {
	key, err := keyDir(nb)
	if err != nil {
		return "", err
	}
	if b, err := os.ReadFile(filepath.Join(key, useFile)); err == nil {
		if d := strings.TrimSpace(string(b)); d != "" {
			return d, nil
		}
	}
	return key, nil
}

// Use records dir as the module folder of the notebook at path nb (an empty
// dir goes back to the default); the folder need not hold a go.mod yet.
func Use(nb, dir string) error {
	key, err := keyDir(nb)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(key, 0o755); err != nil {
		return err
	}
	if dir == "" {
		err := os.Remove(filepath.Join(key, useFile))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	return os.WriteFile(filepath.Join(key, useFile), []byte(abs+"\n"), 0o644)
}

// UseLocal makes the module in the local directory dir provide its packages
// to the notebook (a replace directive, as `go work use` would for a
// workspace): edits to its files are seen at the next import. It returns the
// module's path.
func (w *Workspace) UseLocal(ctx context.Context, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("%s has no go.mod: a local module needs one (go mod init MODULEPATH)", dir)
	}
	mp := modfileModule(b)
	if mp == "" {
		return "", fmt.Errorf("%s/go.mod has no module line", dir)
	}
	_, err = w.Go(ctx, nil, "mod", "edit", "-require="+mp+"@"+localVersion, "-replace="+mp+"="+abs)
	return mp, err
}

// DropLocal undoes UseLocal for the module in dir, or of that path.
func (w *Workspace) DropLocal(ctx context.Context, dirOrPath string) (string, error) {
	mp := dirOrPath
	if b, err := os.ReadFile(filepath.Join(dirOrPath, "go.mod")); err == nil {
		mp = modfileModule(b)
	}
	_, err := w.Go(ctx, nil, "mod", "edit", "-dropreplace="+mp, "-droprequire="+mp)
	return mp, err
}

// localVersion is the version a go.mod requires of a module that a replace
// directive points at a directory (what go mod edit users write).
const localVersion = "v0.0.0-00010101000000-000000000000"

var moduleLineRE = regexp.MustCompile(`(?m)^\s*module\s+("?)([^\s"]+)("?)\s*$`)

// modfileModule returns the module path a go.mod declares.
func modfileModule(b []byte) string {
	m := moduleLineRE.FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[2])
}
