package magic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// ShellCommand is a shell script that a cell runs (!COMMAND or %%sh).
type ShellCommand struct {
	Script string
	Dir    string   // where it runs: the notebook's folder
	Env    []string // nil: the kernel's environment
	// Stdout and Stderr receive what the script writes, as it comes.
	Stdout, Stderr io.Writer
	// Input answers a read of standard input with one line (without its
	// newline): the kernel asks the front end (input_request). An error, or
	// a nil Input, gives the script the end of its input.
	Input func() (string, error)
}

// ExitError is a script that ended with a non-zero status.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ErrInterrupted is returned when the context ended the script.
var ErrInterrupted = errors.New("interrupted")

// interruptGrace is how long an interrupted script has to end after SIGINT
// before its process group is killed.
const interruptGrace = 2 * time.Second

// Run runs the script with /bin/sh in a process group of its own. When ctx is
// cancelled the group gets SIGINT, as a terminal's Ctrl-C would send, and
// SIGKILL if it has not ended after two seconds; Run then returns
// ErrInterrupted. Standard input is a pipe: when a process of the group
// blocks reading it (Linux; elsewhere standard input is empty), Input is
// asked for a line.
func (c *ShellCommand) Run(ctx context.Context) error {
	cmd := exec.Command("/bin/sh", "-c", c.Script)
	cmd.Dir = c.Dir
	cmd.Env = c.Env
	cmd.Stdout = c.Stdout
	cmd.Stderr = c.Stderr
	cmd.WaitDelay = time.Second // a background job keeping the output open
	setGroup(cmd)
	var stdinW *os.File
	var inode uint64
	if c.Input != nil && canWatchReads {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		defer r.Close()
		stdinW = w
		inode = pipeInode(r)
		cmd.Stdin = r
	}
	if err := cmd.Start(); err != nil {
		if stdinW != nil {
			stdinW.Close()
		}
		return err
	}
	if stdinW != nil {
		cmd.Stdin.(*os.File).Close() // the child has its copy
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var wg sync.WaitGroup
	stopInput := make(chan struct{})
	if stdinW != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer stdinW.Close()
			c.feed(cmd.Process.Pid, inode, stdinW, stopInput)
		}()
	}
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		signalGroup(cmd.Process.Pid, false)
		select {
		case <-done:
		case <-time.After(interruptGrace):
			signalGroup(cmd.Process.Pid, true)
			<-done
		}
		err = ErrInterrupted
	}
	close(stopInput)
	wg.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ee.ExitCode() < 0 {
			return fmt.Errorf("the command was killed (%v)", ee.ProcessState)
		}
		return &ExitError{Code: ee.ExitCode()}
	}
	return err
}

// feed answers reads of the script's standard input until stop is closed or
// Input fails.
func (c *ShellCommand) feed(pgid int, inode uint64, w *os.File, stop chan struct{}) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if !readingPipe(pgid, inode) || !pipeEmpty(w) {
			continue
		}
		line, err := c.Input()
		if err != nil {
			return // end of input
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return
		}
		// Give the reader time to take the line before looking again.
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}
