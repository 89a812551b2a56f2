//go:build !unix

package gomod

import "os/exec"

// setProcessGroup leaves cmd as it is: cancellation kills the go command only.
func setProcessGroup(cmd *exec.Cmd) {}
