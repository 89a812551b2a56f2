//go:build unix

package magic

import (
	"syscall"
	"time"
)

// CPUTime returns the user and system CPU time of the process and of the
// child processes it has waited for (the commands of ! and %%sh).
func CPUTime() (user, sys time.Duration) {
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			user += time.Duration(ru.Utime.Nano())
			sys += time.Duration(ru.Stime.Nano())
		}
	}
	return user, sys
}
