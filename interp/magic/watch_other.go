//go:build !linux

package magic

import "os"

// canWatchReads: only Linux tells which process waits for input; elsewhere a
// script's standard input is empty.
const canWatchReads = false

func pipeInode(*os.File) uint64               { return 0 }
func readingPipe(pgid int, inode uint64) bool { return false }
func pipeEmpty(*os.File) bool                 { return false }
