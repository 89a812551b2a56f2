//go:build !unix

package magic

import (
	"os"
	"os/exec"
)

func setGroup(cmd *exec.Cmd) {}

// signalGroup kills the process pgid: there is no process group to interrupt.
func signalGroup(pgid int, kill bool) {
	if p, err := os.FindProcess(pgid); err == nil {
		p.Kill()
	}
}
