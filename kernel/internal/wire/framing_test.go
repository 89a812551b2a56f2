package wire

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// parseFrames reads the frames of one ZMTP 3 message from b, the plain way, and
// returns them and what follows the message.
func parseFrames(t *testing.T, b []byte) (frames [][]byte, rest []byte) {
	t.Helper()
	for {
		if len(b) < 2 {
			t.Fatalf("message cut short: %q", b)
		}
		flags, size, hdr := b[0], uint64(b[1]), 2
		if flags&FlagLong != 0 {
			size, hdr = binary.BigEndian.Uint64(b[1:9]), 9
		}
		if flags&FlagCommand != 0 {
			t.Fatalf("frame flags %#x: a command", flags)
		}
		frames = append(frames, b[hdr:hdr+int(size)])
		b = b[hdr+int(size):]
		if flags&FlagMore == 0 {
			return frames, b
		}
	}
}

// TestAppendMessage checks that AppendMessage writes frames that a plain reading of
// ZMTP 3 reads back as one message each, short, long and empty frames alike, after
// what dst held.
func TestAppendMessage(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 256)
	messages := [][][]byte{
		{[]byte("kernel.s.status"), []byte(Delimiter), []byte("sig"), []byte(`{}`), {}, []byte(`{}`), []byte(`{"a":1}`)},
		{long},
		{{}},
		{bytes.Repeat([]byte("y"), 255), long, {}},
	}
	prefix := []byte("held before")
	stream := append([]byte(nil), prefix...)
	for _, m := range messages {
		stream = AppendMessage(stream, m)
	}
	if !bytes.HasPrefix(stream, prefix) {
		t.Fatal("AppendMessage changed what dst held")
	}
	rest := stream[len(prefix):]
	for i, want := range messages {
		var got [][]byte
		got, rest = parseFrames(t, rest)
		if len(got) != len(want) {
			t.Fatalf("message %d: %d frames, want %d", i, len(got), len(want))
		}
		for j := range want {
			if !bytes.Equal(got[j], want[j]) {
				t.Errorf("message %d frame %d: %q, want %q", i, j, got[j], want[j])
			}
		}
	}
	if len(rest) > 0 {
		t.Errorf("%d bytes after the last message", len(rest))
	}
}
