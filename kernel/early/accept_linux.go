package early

import "syscall"

// accept accepts a connection on the listening socket fd, non-blocking and
// close-on-exec, as net.Listener does.
func accept(fd int) (int, error) {
	nfd, _, err := syscall.Accept4(fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
	return nfd, err
}
