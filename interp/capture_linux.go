package interp

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

// syncMarker is written into a captured pipe to learn when everything written
// before it has been read. Its bytes do not occur in text output.
const syncMarker = "\x00\x1b[gocvx-sync]\x00"

// fdCapture replaces file descriptors 1 and 2 by pipes, so that everything the
// process writes there (interpreted code, compiled code, os.Stdout directly)
// reaches the running cell. The original descriptors are kept for ProcessStderr.
type fdCapture struct {
	saved   [2]int      // duplicates of the original 1 and 2
	writers [2]*os.File // write ends, now also fds 1 and 2
	readers [2]*os.File
	seen    [2]chan struct{} // a reader saw the marker
	crash   *os.File         // the original standard error, for fatal errors
	syncMu  sync.Mutex
	wg      sync.WaitGroup
}

var (
	captureMu     sync.Mutex
	activeCapture *fdCapture
)

func startCapture(s *streamer) (*fdCapture, error) {
	captureMu.Lock()
	defer captureMu.Unlock()
	if activeCapture != nil {
		return nil, errors.New("interp: file descriptors 1 and 2 are already captured by another session")
	}
	c := &fdCapture{}
	for i, fd := range []int{1, 2} {
		saved, err := syscall.Dup(fd)
		if err != nil {
			c.undo(i)
			return nil, err
		}
		syscall.CloseOnExec(saved)
		c.saved[i] = saved
		r, w, err := os.Pipe()
		if err != nil {
			syscall.Close(saved)
			c.undo(i)
			return nil, err
		}
		if err := syscall.Dup3(int(w.Fd()), fd, 0); err != nil {
			r.Close()
			w.Close()
			syscall.Close(saved)
			c.undo(i)
			return nil, err
		}
		c.readers[i], c.writers[i] = r, w
		c.seen[i] = make(chan struct{}, 1)
	}
	for i := range c.readers {
		c.wg.Add(1)
		go c.read(i, s)
	}
	// A fatal error of the process (an unrecovered panic in compiled code, a
	// concurrent map write) must reach the real standard error, not a pipe
	// whose reader dies with the process.
	c.crash = os.NewFile(uintptr(c.saved[1]), "stderr")
	debug.SetCrashOutput(c.crash, debug.CrashOptions{})
	activeCapture = c
	return c, nil
}

// undo restores the first n descriptors.
func (c *fdCapture) undo(n int) {
	for i := 0; i < n; i++ {
		syscall.Dup3(c.saved[i], i+1, 0)
		syscall.Close(c.saved[i])
		c.readers[i].Close()
		c.writers[i].Close()
	}
}

func (c *fdCapture) read(i int, s *streamer) {
	defer c.wg.Done()
	buf := make([]byte, 64<<10)
	var carry []byte
	for {
		n, err := c.readers[i].Read(buf)
		if n > 0 {
			data := append(carry, buf[:n]...)
			carry = nil
			for {
				k := bytes.Index(data, []byte(syncMarker))
				if k < 0 {
					break
				}
				s.write(i, data[:k])
				data = data[k+len(syncMarker):]
				select {
				case c.seen[i] <- struct{}{}:
				default:
				}
			}
			// Keep a possible beginning of a marker for the next read.
			keep := 0
			for l := len(syncMarker) - 1; l > 0; l-- {
				if len(data) >= l && bytes.Equal(data[len(data)-l:], []byte(syncMarker[:l])) {
					keep = l
					break
				}
			}
			s.write(i, data[:len(data)-keep])
			if keep > 0 {
				carry = append([]byte(nil), data[len(data)-keep:]...)
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}

// sync returns when everything written to fds 1 and 2 before the call has been
// handed to the streamer.
func (c *fdCapture) sync() {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	for i := range c.writers {
		select { // drop a stale signal
		case <-c.seen[i]:
		default:
		}
		if _, err := c.writers[i].Write([]byte(syncMarker)); err != nil {
			continue
		}
		<-c.seen[i]
	}
}

// stop restores the original descriptors and ends the readers.
func (c *fdCapture) stop() {
	captureMu.Lock()
	defer captureMu.Unlock()
	c.sync()
	debug.SetCrashOutput(nil, debug.CrashOptions{})
	for i := range c.writers {
		syscall.Dup3(c.saved[i], i+1, 0)
		c.writers[i].Close()
	}
	// The readers end at end of file, unless a process started by a cell still
	// holds a write end: then stop reading after a moment.
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	for i := range c.readers {
		c.readers[i].Close()
		if i == 1 {
			c.crash.Close() // closes saved[1]
			continue
		}
		syscall.Close(c.saved[i])
	}
	if activeCapture == c {
		activeCapture = nil
	}
}

// processStderr writes to the process's real standard error, also while fds 1
// and 2 are captured.
type processStderr struct{}

func (processStderr) Write(p []byte) (int, error) {
	captureMu.Lock()
	defer captureMu.Unlock()
	if c := activeCapture; c != nil {
		return syscall.Write(c.saved[1], p)
	}
	return os.Stderr.Write(p)
}

// ProcessStderr returns a writer to the process's real standard error, for the
// kernel's own logs: while a Session captures file descriptors 1 and 2
// (Options.CaptureOutput), writing to os.Stderr lands in the running cell.
func ProcessStderr() io.Writer { return processStderr{} }
