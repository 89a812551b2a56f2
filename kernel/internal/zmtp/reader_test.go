package zmtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/gocvx/gocvx/kernel/internal/wire"
)

// chunks is a reader that returns at most n bytes per Read.
type chunks struct {
	b []byte
	n int
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}

// verdict is how a reading of a stream ends.
type verdict int

const (
	endOfStream verdict = iota
	overLimit
	badFraming
)

// plainRead reads the frames of a stream the plain way, with the limits, and
// returns its messages and commands in order (as command and message put them)
// and how it ends.
func plainRead(b []byte, maxMessage uint64, maxFrames int) ([][]byte, verdict) {
	var out [][]byte
	var cur [][]byte
	var total uint64
	for {
		if len(b) < 2 {
			return out, endOfStream
		}
		flags := b[0]
		if flags&^(wire.FlagMore|wire.FlagLong|wire.FlagCommand) != 0 {
			return out, badFraming
		}
		size, hdr := uint64(b[1]), 2
		if flags&wire.FlagLong != 0 {
			if len(b) < 9 {
				return out, endOfStream
			}
			size, hdr = binary.BigEndian.Uint64(b[1:9]), 9
		}
		isCommand := flags&wire.FlagCommand != 0
		if isCommand {
			if len(cur) > 0 || flags&wire.FlagMore != 0 {
				return out, badFraming
			}
			if size > maxMessage {
				return out, overLimit
			}
		} else if size > maxMessage || total+size > maxMessage || len(cur)+1 > maxFrames {
			return out, overLimit
		}
		if uint64(len(b)-hdr) < size {
			return out, endOfStream
		}
		body := b[hdr : hdr+int(size)]
		b = b[hdr+int(size):]
		if isCommand {
			if len(body) == 0 || body[0] == 0 || int(body[0]) > len(body)-1 {
				return out, badFraming
			}
			out = append(out, command(string(body[1:1+int(body[0])]), body[1+int(body[0]):]))
			continue
		}
		cur = append(cur, body)
		total += size
		if flags&wire.FlagMore == 0 {
			out = append(out, message(cur))
			cur, total = nil, 0
		}
	}
}

// readAll reads a stream with a Reader in reads of n bytes, and returns what
// plainRead returns.
func readAll(stream []byte, n int, maxMessage uint64, maxFrames int) ([][]byte, verdict, error) {
	r := &Reader{R: &chunks{stream, n}, MaxMessage: maxMessage, MaxFrames: maxFrames}
	var out [][]byte
	for {
		m, err := r.Next()
		var limit *LimitError
		switch {
		case errors.Is(err, io.EOF):
			return out, endOfStream, nil
		case errors.As(err, &limit):
			return out, overLimit, nil
		case errors.Is(err, ErrFraming):
			return out, badFraming, nil
		case err != nil:
			return out, 0, err
		}
		if m.Command != "" {
			out = append(out, command(m.Command, m.Body))
		} else {
			out = append(out, message(m.Frames))
		}
	}
}

// command and message put a command and a message in a form to compare.
func command(name string, data []byte) []byte {
	return append([]byte("command "+name+" "), data...)
}

func message(frames [][]byte) []byte {
	b := []byte("message")
	for _, f := range frames {
		b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func frame(flags byte, body []byte) []byte {
	if len(body) > 255 || flags&wire.FlagLong != 0 {
		b := binary.BigEndian.AppendUint64([]byte{flags | wire.FlagLong}, uint64(len(body)))
		return append(b, body...)
	}
	return append([]byte{flags, byte(len(body))}, body...)
}

// FuzzReader checks that a Reader never panics, reads the same messages and
// commands however the stream is cut into reads, and ends where a plain reading of
// the stream with the same limits ends, for the same reason.
func FuzzReader(f *testing.F) {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	ready := frame(wire.FlagCommand, []byte("\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER"))
	f.Add(cat(ready, frame(wire.FlagMore, []byte("<IDS|MSG>")), frame(0, []byte("{}"))), uint8(7))
	f.Add(cat(ready, frame(0, bytes.Repeat([]byte("x"), 300))), uint8(1))
	f.Add(cat(ready, frame(0, bytes.Repeat([]byte("x"), 1001))), uint8(200))
	f.Add(cat(ready, binary.BigEndian.AppendUint64([]byte{wire.FlagLong}, 1<<50)), uint8(3))
	f.Add(cat(ready, bytes.Repeat([]byte{wire.FlagMore, 0}, 20), []byte{0, 0}), uint8(5))
	f.Add(cat(frame(wire.FlagMore, []byte("a")), ready), uint8(2))
	f.Add([]byte{0x08, 0}, uint8(0))
	const maxMessage, maxFrames = 1000, 8
	f.Fuzz(func(t *testing.T, stream []byte, step uint8) {
		if len(stream) > 1<<16 {
			return
		}
		plain, why := plainRead(stream, maxMessage, maxFrames)
		got, gotWhy, err := readAll(stream, int(step)+1, maxMessage, maxFrames)
		if err != nil {
			t.Fatalf("Reader: unexpected error %v", err)
		}
		if gotWhy != why || len(got) != len(plain) {
			t.Fatalf("Reader: %d items, end %d; plain reading: %d items, end %d", len(got), gotWhy, len(plain), why)
		}
		for i := range got {
			if !bytes.Equal(got[i], plain[i]) {
				t.Fatalf("item %d: %q, want %q", i, got[i], plain[i])
			}
		}
	})
}
