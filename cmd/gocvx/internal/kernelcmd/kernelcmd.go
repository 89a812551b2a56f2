// Package kernelcmd is `gocvx kernel -f FILE` without the cell engine: the
// kernel's configuration (version, banner, history file) and its server, which
// this package's init function starts as soon as package kernel is initialized.
//
// Go initializes the command's packages one at a time before main; the
// interpreter's symbol tables, the plotting and Markdown packages and the others
// that come after package kernel take about a third of that time (3 to 12 ms of
// 11 to 43 ms, GODEBUG=inittrace=1, depending on the machine's load). The server
// started here takes over from the early server that package
// listenfirst/answer started earlier still (it answers kernel_info from the
// sockets that package listenfirst bound, see package early) and serves while
// the rest is initialized; main gives it the engine's constructor and the
// process's standard error for its log when it runs (Run), and the engine is
// built once the first kernel_info_request is answered (by either server).
//
// This package imports package kernel and what the configuration needs, never
// the engine (package interp): its init function runs before interp's.
package kernelcmd

import (
	"context"
	"errors"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/gocvx/gocvx/cmd/gocvx/internal/listenfirst"
	"github.com/gocvx/gocvx/cmd/gocvx/internal/listenfirst/answer"
	"github.com/gocvx/gocvx/kernel"
)

// early is the server started by init, if it started one.
var early struct {
	file      string
	newEngine chan func() (kernel.Engine, error) // Run sends the engine's constructor
	log       *switchWriter
	done      chan error // what Serve returned
}

func init() {
	file, ok := listenfirst.ConnectionFile(os.Args[1:])
	if !ok {
		return
	}
	conn, err := kernel.ReadConnectionFile(file)
	if err != nil {
		return // Run reads it again and reports the error
	}
	start(file, conn)
}

// start serves conn on a goroutine; the engine's constructor comes from Run.
func start(file string, conn kernel.ConnectionInfo) {
	early.file = file
	early.newEngine = make(chan func() (kernel.Engine, error), 1)
	early.log = &switchWriter{w: os.Stderr}
	early.done = make(chan error, 1)
	parent, _ := strconv.Atoi(os.Getenv("JPY_PARENT_PID"))
	k := New(parent, HistoryFile(), early.log, func() (kernel.Engine, error) {
		return (<-early.newEngine)()
	})
	go func() { early.done <- k.Serve(context.Background(), conn) }()
}

// Run serves the kernel of the connection file named file until it shuts down:
// the server that init started for it, or one started now. newEngine makes the
// cell engine; stderr receives the kernel's log from now on (the engine may
// capture the process's standard error, and the log must not go to a cell).
func Run(file string, newEngine func() (kernel.Engine, error), stderr io.Writer) error {
	if early.done == nil || early.file != file {
		conn, err := kernel.ReadConnectionFile(file)
		if err != nil {
			return err
		}
		start(file, conn)
	}
	early.log.set(stderr)
	early.newEngine <- newEngine
	err := <-early.done
	if errors.Is(err, kernel.ErrShutdown) {
		return nil
	}
	return err
}

// New returns the kernel that `gocvx kernel` serves: the engine made by
// newEngine, SIGINT interrupting the running cell, the history kept in
// historyFile, the log written to logTo.
func New(parent int, historyFile string, logTo io.Writer, newEngine func() (kernel.Engine, error)) *kernel.Kernel {
	return &kernel.Kernel{
		NewEngine:   newEngine,
		Log:         log.New(logTo, "gocvx kernel: ", log.LstdFlags),
		Version:     Version(),
		Banner:      answer.Banner(),
		CatchSIGINT: true,
		ParentPID:   parent,
		HistoryFile: historyFile,
	}
}

// Version is the module version the binary was built from, or "devel".
func Version() string { return answer.Version() }

// HistoryFile is where the kernel keeps the history of executed cells:
// $GOCVX_HISTORY_FILE when it is set (empty: in memory only), else
// gocvx/history.jsonl in the user's Jupyter data folder.
func HistoryFile() string {
	if f, ok := os.LookupEnv("GOCVX_HISTORY_FILE"); ok {
		return f
	}
	dir, err := JupyterDataDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "gocvx", "history.jsonl")
}

// JupyterDataDir returns the user's Jupyter data folder, as jupyter_core computes it.
func JupyterDataDir() (string, error) {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return filepath.Abs(d)
	}
	home, err := os.UserHomeDir()
	switch runtime.GOOS {
	case "darwin":
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Jupyter"), nil
	case "windows":
		if appdata := os.Getenv("APPDATA"); appdata != "" {
			return filepath.Join(appdata, "jupyter"), nil
		}
		if err != nil {
			return "", err
		}
		return filepath.Join(home, ".jupyter", "data"), nil
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "jupyter"), nil
	}
	if err != nil {
		return "", errors.New("no home folder for the user's kernelspec; use --prefix or JUPYTER_DATA_DIR")
	}
	return filepath.Join(home, ".local", "share", "jupyter"), nil
}

// switchWriter writes to w, which set replaces.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *switchWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *switchWriter) set(w io.Writer) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}
