package prebind

import "syscall"

// listen returns a socket listening on ip:port, as net.Listen makes one
// (SO_REUSEADDR), with a backlog of SOMAXCONN, close-on-exec and non-blocking.
func listen(ip [4]byte, port int) (int, bool) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, syscall.IPPROTO_TCP)
	if err != nil {
		return 0, false
	}
	if syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1) != nil ||
		syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: ip}) != nil ||
		syscall.Listen(fd, syscall.SOMAXCONN) != nil {
		syscall.Close(fd)
		return 0, false
	}
	return fd, true
}

func closeSocket(fd int) { syscall.Close(fd) }
