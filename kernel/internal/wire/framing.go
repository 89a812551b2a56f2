package wire

import (
	"encoding/binary"
	"fmt"
)

// ZMTP 3 frame flags.
const (
	FlagMore    = 0x01
	FlagLong    = 0x02
	FlagCommand = 0x04
)

// greetingSize is the length of the ZMTP 3 greeting.
const greetingSize = 64

// Framing follows the ZMTP 3 framing of the bytes a peer sends (the 64-byte
// greeting, then frames: a flags byte, a 1- or 8-byte length, the body) and reports
// a peer that breaks a limit as soon as the length of the offending frame has
// arrived, before anyone reading the stream allocates the frame. The zero Framing
// has no limits; set them before the first Scan.
type Framing struct {
	// MaxMessage bounds the bytes of one message summed over its frames, and of one
	// command; zero means no bound.
	MaxMessage uint64
	// MaxFrames bounds the frames of one message; zero means no bound.
	MaxFrames int

	started    bool
	state      int
	left       uint64 // bytes left of the greeting, the length or the body
	flags      byte
	size       uint64
	msgBytes   uint64 // bytes of the message so far
	msgFrames  int
	commands   int // commands received (the first is the handshake's READY)
	messages   int // complete messages received
	violations error
}

// Framing states.
const (
	stGreeting = iota // the 64-byte greeting
	stFlags           // a frame's flags byte
	stSize            // a frame's 1- or 8-byte length
	stBody            // a frame's body
)

// LimitError is returned by Scan when the peer broke a limit.
type LimitError struct{ msg string }

func (e *LimitError) Error() string { return e.msg }

// Scan advances the framing over the next bytes b of the stream. Once it has
// returned an error it returns the same error for any further bytes.
func (f *Framing) Scan(b []byte) error {
	if f.violations != nil {
		return f.violations
	}
	if !f.started {
		f.started, f.state, f.left = true, stGreeting, greetingSize
	}
	for len(b) > 0 {
		switch f.state {
		case stGreeting:
			k := min(uint64(len(b)), f.left)
			f.left -= k
			b = b[k:]
			if f.left == 0 {
				f.state = stFlags
			}
		case stFlags:
			f.flags = b[0]
			b = b[1:]
			f.state, f.size, f.left = stSize, 0, 1
			if f.flags&FlagLong != 0 {
				f.left = 8
			}
		case stSize:
			f.size = f.size<<8 | uint64(b[0])
			b = b[1:]
			if f.left--; f.left > 0 {
				continue
			}
			if err := f.frameStart(); err != nil {
				f.violations = err
				return err
			}
			f.state, f.left = stBody, f.size
			if f.size == 0 {
				f.frameEnd()
			}
		case stBody:
			k := min(uint64(len(b)), f.left)
			f.left -= k
			b = b[k:]
			if f.left == 0 {
				f.frameEnd()
			}
		}
	}
	return nil
}

// frameStart checks a frame whose length has just been read.
func (f *Framing) frameStart() error {
	limit := f.MaxMessage
	if f.flags&FlagCommand != 0 {
		if limit > 0 && f.size > limit {
			return &LimitError{fmt.Sprintf("ZeroMQ command of %d bytes, over the limit of %d", f.size, limit)}
		}
		return nil
	}
	f.msgFrames++
	if limit > 0 && (f.size > limit || f.msgBytes+f.size > limit) {
		return &LimitError{fmt.Sprintf("message of more than %d bytes, over the limit of %d", f.msgBytes+f.size, limit)}
	}
	if f.MaxFrames > 0 && f.msgFrames > f.MaxFrames {
		return &LimitError{fmt.Sprintf("message of more than %d frames", f.MaxFrames)}
	}
	f.msgBytes += f.size
	return nil
}

func (f *Framing) frameEnd() {
	f.state = stFlags
	switch {
	case f.flags&FlagCommand != 0:
		f.commands++
	case f.flags&FlagMore == 0:
		f.msgBytes, f.msgFrames = 0, 0
		f.messages++
	}
}

// Handshaken reports whether the peer has sent its greeting and its first command
// (with the NULL mechanism, READY: the handshake is then complete).
func (f *Framing) Handshaken() bool { return f.commands > 0 }

// InMessage reports whether the bytes scanned so far end inside a message or a
// command: in a frame, or between the frames of a message. They end outside before
// the first byte, in the greeting and after the last frame of a message or command.
func (f *Framing) InMessage() bool {
	switch f.state {
	case stSize, stBody:
		return true
	case stFlags:
		return f.msgFrames > 0
	}
	return false
}

// Messages returns the number of complete messages scanned.
func (f *Framing) Messages() int { return f.messages }

// AppendMessage appends to dst the ZMTP 3 framing of a message of the given frames
// (each frame: its flags, FlagMore on all but the last and FlagLong on those longer
// than 255 bytes; its length in 1 or 8 big-endian bytes; its body), as it goes on
// the wire.
func AppendMessage(dst []byte, frames [][]byte) []byte {
	for i, f := range frames {
		var flags byte
		if i < len(frames)-1 {
			flags = FlagMore
		}
		if len(f) > 255 {
			dst = append(dst, flags|FlagLong)
			dst = binary.BigEndian.AppendUint64(dst, uint64(len(f)))
		} else {
			dst = append(dst, flags, byte(len(f)))
		}
		dst = append(dst, f...)
	}
	return dst
}
