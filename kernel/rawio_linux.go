package kernel

import (
	"syscall"
	"unsafe"
)

// The kernel's sockets read and write with raw system calls (syscall.RawSyscall)
// on Linux. Their file descriptors are non-blocking, so a read or a write returns
// at once (EAGAIN when it would wait, and the caller then waits in the runtime's
// network poller as net.Conn does). A read or write through net.Conn enters the
// runtime's system-call bookkeeping instead, which wakes the runtime's monitor
// thread (sysmon) from its sleep on every system call after an idle spell; sysmon
// then polls every 20 µs while the kernel works, and takes the processor away from
// a write that lasts more than 20 µs (a loopback TCP write delivers the segment to
// the reader within the call) to start another thread. Each trivial execute paid
// for tens of those thread wake-ups.

// rawIO reports whether rawRead and rawWrite are available.
const rawIO = true

// rawChunk bounds one raw write, so that the processor is not held in one system
// call for long (the runtime cannot preempt it there).
const rawChunk = 256 << 10

// rawRead reads into p from the non-blocking descriptor fd.
func rawRead(fd uintptr, p []byte) (int, syscall.Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// rawWrite writes p to the non-blocking descriptor fd.
func rawWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}
