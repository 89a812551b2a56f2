//go:build !linux

package kernel

import "syscall"

// rawIO reports whether rawRead and rawWrite are available (rawio_linux.go): not
// here, where the sockets read and write through net.Conn.
const rawIO = false

const rawChunk = 256 << 10

func rawRead(fd uintptr, p []byte) (int, syscall.Errno)  { return 0, syscall.ENOSYS }
func rawWrite(fd uintptr, p []byte) (int, syscall.Errno) { return 0, syscall.ENOSYS }
