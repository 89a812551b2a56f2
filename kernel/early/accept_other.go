//go:build !linux

package early

import "syscall"

// accept is never called outside Linux, where package prebind binds nothing.
func accept(fd int) (int, error) { return 0, syscall.ENOTSUP }
