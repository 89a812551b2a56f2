//go:build !linux

package interp

import (
	"errors"
	"io"
	"os"
)

type fdCapture struct {
	fds     bool
	writers [2]*os.File
}

func startCapture(*streamer, bool) (*fdCapture, error) {
	return nil, errors.New("interp: capturing file descriptors is only implemented on Linux")
}

func (*fdCapture) sync() {}
func (*fdCapture) stop() {}

// ProcessStderr returns a writer to the process's real standard error.
func ProcessStderr() io.Writer { return os.Stderr }
