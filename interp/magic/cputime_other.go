//go:build !unix

package magic

import "time"

// CPUTime is unknown here: %time shows the wall time and zero CPU time.
func CPUTime() (user, sys time.Duration) { return 0, 0 }
