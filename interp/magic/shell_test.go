package magic

import (
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects output and signals each write.
type lockedBuffer struct {
	mu     sync.Mutex
	b      strings.Builder
	writes chan struct{}
}

func newBuffer() *lockedBuffer { return &lockedBuffer{writes: make(chan struct{}, 100)} }

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	select {
	case l.writes <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func requireSh(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /bin/sh on Windows")
	}
}

func TestShellStreamsOutput(t *testing.T) {
	requireSh(t)
	out, errOut := newBuffer(), newBuffer()
	release := make(chan struct{})
	c := &ShellCommand{Script: "echo first; echo oops >&2; read x; echo \"got $x\"; exit 3", Dir: t.TempDir(), Stdout: out, Stderr: errOut,
		Input: func() (string, error) { <-release; return "typed", nil }}
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	// "first" arrives while the script still waits for its input.
	for !strings.Contains(out.String(), "first\n") {
		select {
		case <-out.writes:
		case err := <-done:
			t.Fatalf("the script ended (%v) before its output was seen", err)
		}
	}
	close(release)
	err := <-done
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 {
		t.Fatalf("Run = %v, want exit status 3", err)
	}
	if out.String() != "first\ngot typed\n" || errOut.String() != "oops\n" {
		t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
	}
}

func TestShellInputAskedPerRead(t *testing.T) {
	requireSh(t)
	if !canWatchReads {
		t.Skip("reads of standard input are seen on Linux only")
	}
	out := newBuffer()
	var asked int
	c := &ShellCommand{Script: "read a; read b; echo \"$b$a\"; cat", Stdout: out, Stderr: io.Discard,
		Input: func() (string, error) {
			asked++
			if asked > 2 {
				return "", io.EOF // end of input: cat ends
			}
			return []string{"x", "y"}[asked-1], nil
		}}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out.String() != "yx\n" || asked != 3 {
		t.Fatalf("output %q after %d questions, want \"yx\\n\" after 3", out.String(), asked)
	}
}

func TestShellWithoutInput(t *testing.T) {
	requireSh(t)
	out := newBuffer()
	c := &ShellCommand{Script: "cat; echo end", Stdout: out, Stderr: io.Discard}
	if err := c.Run(context.Background()); err != nil || out.String() != "end\n" {
		t.Fatalf("Run = %v, output %q", err, out.String())
	}
}

func TestShellInterrupt(t *testing.T) {
	requireSh(t)
	out := newBuffer()
	// The trap shows that the group got SIGINT; the child sleep is stopped too.
	c := &ShellCommand{Script: "trap 'echo got INT; exit 1' INT; echo ready; sleep 60 & wait", Stdout: out, Stderr: io.Discard}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for !strings.Contains(out.String(), "ready") {
		<-out.writes
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrInterrupted) || !strings.Contains(out.String(), "got INT") {
			t.Fatalf("Run = %v, output %q; want interrupted after the trap ran", err, out.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("the interrupted script did not end")
	}
}
