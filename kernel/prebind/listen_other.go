//go:build !linux

package prebind

// listen binds nothing early outside Linux: the kernel binds its ports itself.
func listen(ip [4]byte, port int) (int, bool) { return 0, false }

func closeSocket(fd int) {}
