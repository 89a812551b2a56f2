package zmtp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gocvx/gocvx/kernel/internal/wire"
)

// ReadBuffer is the size of a Reader's reads: one read takes in a whole request
// (and the frames of several), where reading each frame's flags, length and body
// separately took about 20 system calls for an execute request.
const ReadBuffer = 16 << 10

// LimitError is a peer that broke a limit of its Reader.
type LimitError struct{ Msg string }

func (e *LimitError) Error() string { return e.Msg }

// ErrFraming is a stream that is not ZMTP 3 framing (a command in the middle of
// a message, reserved flag bits, a command without a name).
var ErrFraming = errors.New("malformed ZeroMQ framing")

// Msg is what a Reader read: a message (its frames) or a command (its name and
// data).
type Msg struct {
	Frames  [][]byte
	Command string
	Body    []byte
}

// Subscription reports what m asks of a PUB socket, if it is a subscription:
// a ZMTP 3.1 SUBSCRIBE (on) or CANCEL (off) command with the topic as its body, or
// a ZMTP 3.0 message of one frame, 1 (on) or 0 (off) then the topic.
func (m Msg) Subscription() (topic string, on, ok bool) {
	switch {
	case m.Command == "SUBSCRIBE" || m.Command == "CANCEL":
		return string(m.Body), m.Command == "SUBSCRIBE", true
	case m.Command == "" && len(m.Frames) == 1 && len(m.Frames[0]) > 0 && m.Frames[0][0] <= 1:
		return string(m.Frames[0][1:]), m.Frames[0][0] == 1, true
	}
	return "", false, false
}

// Reader reads the frames that a peer sends, after its greeting, into messages
// and commands. It checks every frame's length against the limits as soon as the
// length has arrived, before it reads or allocates the frame. Its state is the
// bytes read and not yet returned: a Reader whose R returned an error (a
// deadline) resumes where it stopped with another R, so that a connection can
// change hands between two messages or in the middle of one.
type Reader struct {
	R io.Reader
	// MaxMessage bounds the bytes of one message summed over its frames, and of
	// one command; zero means no bound.
	MaxMessage uint64
	// MaxFrames bounds the frames of one message; zero means no bound.
	MaxFrames int

	buf []byte // buf[off:] has been read and not returned
	off int

	// The handshake's progress (Handshake).
	helloSent, greeted bool
}

// greeting returns the peer's 64-byte greeting, having checked its signature as
// soon as its first byte arrived (an HTTP client is turned away at once).
func (r *Reader) greeting() ([]byte, error) {
	for len(r.buf)-r.off < GreetingSize {
		if len(r.buf) > r.off && r.buf[r.off] != 0xff {
			return nil, ErrNotZMTP
		}
		if err := r.fill(GreetingSize); err != nil {
			return nil, err
		}
	}
	g := r.buf[r.off : r.off+GreetingSize]
	r.off += GreetingSize
	return g, nil
}

// Next returns the next message or command.
func (r *Reader) Next() (Msg, error) {
	for {
		m, need, err := r.parse()
		if err != nil || need == 0 {
			return m, err
		}
		if err := r.fill(need); err != nil {
			return Msg{}, err
		}
	}
}

// parse returns the message or command at the start of the unread bytes, or how
// many unread bytes it needs at least to find its end.
func (r *Reader) parse() (m Msg, need int, err error) {
	b := r.buf[r.off:]
	p := 0
	var total uint64
	var frames [][2]int // body offsets in b
	for {
		if len(b)-p < 2 {
			return m, p + 2, nil
		}
		flags := b[p]
		if flags&^(wire.FlagMore|wire.FlagLong|wire.FlagCommand) != 0 {
			return m, 0, ErrFraming
		}
		head := 2
		size := uint64(b[p+1])
		if flags&wire.FlagLong != 0 {
			head = 9
			if len(b)-p < head {
				return m, p + head, nil
			}
			size = binary.BigEndian.Uint64(b[p+1:])
		}
		command := flags&wire.FlagCommand != 0
		if command {
			if len(frames) > 0 || flags&wire.FlagMore != 0 {
				return m, 0, ErrFraming
			}
			if r.MaxMessage > 0 && size > r.MaxMessage {
				return m, 0, &LimitError{Msg: fmt.Sprintf("ZeroMQ command of %d bytes, over the limit of %d", size, r.MaxMessage)}
			}
		} else {
			if r.MaxMessage > 0 && (size > r.MaxMessage || total+size > r.MaxMessage) {
				return m, 0, &LimitError{Msg: fmt.Sprintf("message of more than %d bytes, over the limit of %d", total+size, r.MaxMessage)}
			}
			if r.MaxFrames > 0 && len(frames)+1 > r.MaxFrames {
				return m, 0, &LimitError{Msg: fmt.Sprintf("message of more than %d frames", r.MaxFrames)}
			}
		}
		// size is bounded by the limit (or by what the peer makes the kernel read).
		end := uint64(p) + uint64(head) + size
		if end > uint64(len(b)) {
			if end > uint64(int(^uint(0)>>1)) {
				return m, 0, &LimitError{Msg: fmt.Sprintf("frame of %d bytes", size)}
			}
			return m, int(end), nil
		}
		body := b[p+head : int(end)]
		p = int(end)
		if command {
			if len(body) == 0 || body[0] == 0 || int(body[0]) > len(body)-1 {
				return m, 0, ErrFraming // a command has a name of 1 to 255 bytes
			}
			m.Command = string(body[1 : 1+int(body[0])])
			m.Body = append([]byte(nil), body[1+int(body[0]):]...)
			r.off += p
			return m, 0, nil
		}
		total += size
		frames = append(frames, [2]int{p - len(body), p})
		if flags&wire.FlagMore == 0 {
			break
		}
	}
	// One allocation for the message's frames.
	data := make([]byte, 0, total)
	m.Frames = make([][]byte, len(frames))
	for i, f := range frames {
		start := len(data)
		data = append(data, b[f[0]:f[1]]...)
		m.Frames[i] = data[start:len(data):len(data)]
	}
	r.off += p
	return m, 0, nil
}

// fill reads once from R, so that at least need unread bytes fit in the buffer.
func (r *Reader) fill(need int) error {
	if r.off == len(r.buf) {
		r.buf, r.off = r.buf[:0], 0
	}
	if cap(r.buf)-r.off < need || cap(r.buf)-len(r.buf) == 0 {
		// Move the unread bytes to the front of a buffer that holds need bytes and a
		// read's worth more.
		nb := make([]byte, len(r.buf)-r.off, max(need, len(r.buf)-r.off)+ReadBuffer)
		copy(nb, r.buf[r.off:])
		r.buf, r.off = nb, 0
	}
	n, err := r.R.Read(r.buf[len(r.buf):cap(r.buf)])
	r.buf = r.buf[:len(r.buf)+n]
	if n > 0 {
		return nil // an error comes back with the next read
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}
