//go:build !linux

package interp

import (
	"errors"
	"io"
	"os"
)

type fdCapture struct{}

func startCapture(*streamer) (*fdCapture, error) {
	return nil, errors.New("interp: capturing file descriptors is only implemented on Linux")
}

func (*fdCapture) sync() {}
func (*fdCapture) stop() {}

// ProcessStderr returns a writer to the process's real standard error.
func ProcessStderr() io.Writer { return os.Stderr }
