package interp

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// syncMarker is written into a captured pipe to learn when everything written
// before it has been read. Its bytes do not occur in text output.
const syncMarker = "\x00\x1b[gocvx-sync]\x00"

// fdCapture reads two pipes, for stdout and stderr, into the streamer. With
// fds set, the pipes replace file descriptors 1 and 2, so that everything the
// process writes there (compiled code, os.Stdout directly, child processes)
// reaches the running cell; the original descriptors are kept for
// ProcessStderr. Without, the pipes are private: they are the os.Stdout and
// os.Stderr of interpreted code only.
type fdCapture struct {
	fds     bool
	saved   [2]int      // duplicates of the original 1 and 2 (fds)
	writers [2]*os.File // write ends (fds: now also fds 1 and 2)
	readers [2]*os.File
	raw     [2]syscall.RawConn // of the readers, for pending
	// busy is set while a reader holds text it read but has not handed to
	// the streamer yet (see pending).
	busy   [2]atomic.Bool
	seen   [2]chan struct{} // a reader saw the marker
	crash  *os.File         // the original standard error, for fatal errors
	syncMu sync.Mutex
	wg     sync.WaitGroup
}

var (
	captureMu     sync.Mutex
	activeCapture *fdCapture
)

func startCapture(s *streamer, fds bool) (*fdCapture, error) {
	if !fds {
		return startPrivate(s)
	}
	captureMu.Lock()
	defer captureMu.Unlock()
	if activeCapture != nil {
		return nil, errors.New("interp: file descriptors 1 and 2 are already captured by another session")
	}
	c := &fdCapture{fds: true}
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
	if err := c.startReaders(s); err != nil {
		c.undo(2)
		return nil, err
	}
	// A fatal error of the process (an unrecovered panic in compiled code, a
	// concurrent map write) must reach the real standard error, not a pipe
	// whose reader dies with the process.
	c.crash = os.NewFile(uintptr(c.saved[1]), "stderr")
	debug.SetCrashOutput(c.crash, debug.CrashOptions{})
	activeCapture = c
	return c, nil
}

// startPrivate makes the private pipes of a session that does not capture
// file descriptors 1 and 2.
func startPrivate(s *streamer) (*fdCapture, error) {
	c := &fdCapture{}
	for i := range c.readers {
		r, w, err := os.Pipe()
		if err != nil {
			for j := 0; j < i; j++ {
				c.readers[j].Close()
				c.writers[j].Close()
			}
			return nil, err
		}
		c.readers[i], c.writers[i] = r, w
		c.seen[i] = make(chan struct{}, 1)
	}
	if err := c.startReaders(s); err != nil {
		for i := range c.readers {
			c.readers[i].Close()
			c.writers[i].Close()
		}
		return nil, err
	}
	return c, nil
}

func (c *fdCapture) startReaders(s *streamer) error {
	for i, r := range c.readers {
		rc, err := r.SyscallConn()
		if err != nil {
			return err
		}
		c.raw[i] = rc
	}
	for i := range c.readers {
		c.wg.Add(1)
		go c.read(i, s)
	}
	return nil
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
		// Read when the pipe is readable, marked busy from before the read
		// until the text is handed on (or kept as a possible marker's start).
		var n int
		var rerr error
		err := c.raw[i].Read(func(fd uintptr) bool {
			c.busy[i].Store(true)
			for {
				n, rerr = syscall.Read(int(fd), buf)
				if rerr != syscall.EINTR {
					break
				}
			}
			if rerr == syscall.EAGAIN {
				c.busy[i].Store(len(carry) > 0)
				return false
			}
			return true
		})
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
		c.busy[i].Store(len(carry) > 0)
		if err != nil || rerr != nil || n == 0 {
			return // closed, or end of file
		}
	}
}

// pending reports whether text written to the pipes may not have reached the
// streamer yet: the pipe holds some, or its reader is handing some on. The
// pipe is looked at before the reader, so that text the reader took from the
// pipe in between is seen as busy.
func (c *fdCapture) pending() bool {
	for i := range c.raw {
		n := int32(0)
		err := c.raw[i].Control(func(fd uintptr) {
			// A raw call: the ioctl never blocks, and syscall.Syscall's
			// entry into a blocking call woke the runtime's monitor thread
			// (sysmon) on each of the four looks of a trivial cell.
			if _, _, e := syscall.RawSyscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); e != 0 {
				n = 1 // unknown: sync
			}
		})
		if err != nil {
			continue // closed
		}
		if n > 0 || c.busy[i].Load() {
			return true
		}
	}
	return false
}

// sync returns when everything written to the pipes before the call has been
// handed to the streamer. It costs two system calls when nothing is pending.
func (c *fdCapture) sync() {
	if !c.pending() {
		return
	}
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
	if c.fds {
		debug.SetCrashOutput(nil, debug.CrashOptions{})
	}
	for i := range c.writers {
		if c.fds {
			syscall.Dup3(c.saved[i], i+1, 0)
		}
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
		switch {
		case !c.fds:
		case i == 1:
			c.crash.Close() // closes saved[1]
		default:
			syscall.Close(c.saved[i])
		}
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
