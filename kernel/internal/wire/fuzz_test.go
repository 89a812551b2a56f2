package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// The fuzz targets of the kernel's input. CI runs FuzzDecode for 60 s:
//
//	go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 60s ./kernel/internal/wire
//
// The seeds in testdata/fuzz run with every go test.

// signed returns the frames of a message with the given parts, signed with key.
func signed(key []byte, ids []string, parts ...string) [][]byte {
	ps := make([][]byte, len(parts))
	for i, p := range parts {
		ps[i] = []byte(p)
	}
	sig := hex.EncodeToString(Sign(key, ps[:4]))
	var frames [][]byte
	for _, id := range ids {
		frames = append(frames, []byte(id))
	}
	frames = append(frames, delimiter, []byte(sig))
	return append(frames, ps...)
}

// FuzzDecode checks that Decode never panics; that what it accepts with a key is
// signed with that key and encodes back to frames it accepts again, with the same
// message; and that a change to any signed byte of an accepted message is rejected.
func FuzzDecode(f *testing.F) {
	key := []byte("fuzz-key")
	hdr := `{"msg_id":"1","session":"s","username":"u","date":"","msg_type":"execute_request","version":"5.4"}`
	add := func(frames [][]byte) { f.Add(bytes.Join(frames, []byte{0xff}), true) }
	add(signed(key, []string{"id"}, hdr, "{}", "{}", `{"code":"1+2"}`))
	add(signed(key, nil, hdr, hdr, `{"m":[1,2]}`, `{"code":"x"}`, "buffer", ""))
	add(signed(key, []string{"a", "b", ""}, hdr, "{}", "{}", `{"code":"\u00e9\ud83d\ude00"}`))
	add(signed(key, nil, `{"msg_type":"x\u0000"}`, "{}", "{}", "{}"))
	add(signed(key, nil, hdr, "{}", "{}", `{"a":`+string(bytes.Repeat([]byte("["), 100))+`}`))
	add(signed([]byte("other"), nil, hdr, "{}", "{}", "{}"))
	f.Add([]byte("<IDS|MSG>\xff\xff{}\xff{}\xff{}\xff{}"), false)
	f.Add([]byte("<IDS|MSG>\xffABC\xff{\"msg_type\":\"k\"}\xff{}\xff{}\xff{}"), true)
	f.Fuzz(func(t *testing.T, data []byte, useKey bool) {
		var k []byte
		if useKey {
			k = key
		}
		frames := bytes.Split(data, []byte{0xff})
		m, err := Decode(frames, k)
		if err != nil {
			return
		}
		out, err := Encode(m, k)
		if err != nil {
			t.Fatalf("Encode of a decoded message: %v", err)
		}
		m2, err := Decode(out, k)
		if err != nil {
			t.Fatalf("Decode of an encoded message: %v", err)
		}
		if m2.Header != m.Header || string(m2.Content) != string(m.Content) ||
			string(m2.Metadata) != string(m.Metadata) || len(m2.Buffers) != len(m.Buffers) ||
			len(m2.Identities) != len(m.Identities) || (m.Parent == nil) != (m2.Parent == nil) {
			t.Fatalf("round trip changed the message: %+v != %+v", m2, m)
		}
		if !useKey {
			return
		}
		// Find the delimiter the way Decode does, then change one signed byte.
		d := 0
		for !bytes.Equal(frames[d], delimiter) {
			d++
		}
		for part := d + 2; part < d+6; part++ {
			for i := range frames[part] {
				changed := append([][]byte{}, frames...)
				changed[part] = bytes.Clone(frames[part])
				changed[part][i] ^= 0x20
				if _, err := Decode(changed, k); err != ErrBadSignature {
					t.Fatalf("frame %d byte %d changed: err = %v, want ErrBadSignature", part, i, err)
				}
			}
		}
	})
}

// FuzzHeader checks that decodeHeader decodes what json.Unmarshal decodes, and
// fails where it fails, and that encodeHeader writes what json.Marshal writes.
func FuzzHeader(f *testing.F) {
	f.Add([]byte(`{"msg_id":"1","session":"s","username":"u","date":"d","msg_type":"execute_request","version":"5.4"}`))
	f.Add([]byte(` { "msg_id" : "a\"b" , "MSG_TYPE": "x" } `))
	f.Add([]byte(`{"msg_id":"\u00e9","extra":{"a":[1,2]},"msg_id":"again"}`))
	f.Add([]byte(`{"msg_type":null,"version":5.4}`))
	f.Add([]byte("{\"date\":\"\xff\"}"))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"a":"b",}`))
	f.Add([]byte(`{"msg_id":"<a&b>","session":"\u2028é\u0001"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var want, got Header
		errWant := json.Unmarshal(b, &want)
		errGot := decodeHeader(b, &got)
		if (errWant == nil) != (errGot == nil) || (errWant == nil && got != want) {
			t.Fatalf("%q: decodeHeader = %+v, %v; json.Unmarshal = %+v, %v", b, got, errGot, want, errWant)
		}
		if errWant != nil {
			return
		}
		if enc, err := json.Marshal(want); err != nil || string(encodeHeader(&want)) != string(enc) {
			t.Fatalf("%+v: encodeHeader = %s; json.Marshal = %s, %v", want, encodeHeader(&want), enc, err)
		}
	})
}

// FuzzFraming checks that Framing never panics, gives the same verdict however the
// stream is cut into reads, and accepts a stream only if no message in it breaks the
// limits (as a plain reading of the whole stream finds).
func FuzzFraming(f *testing.F) {
	greeting := make([]byte, 64)
	greeting[0], greeting[9], greeting[10] = 0xff, 0x7f, 3
	frame := func(flags byte, body []byte) []byte {
		if len(body) > 255 || flags&FlagLong != 0 {
			b := binary.BigEndian.AppendUint64([]byte{flags | FlagLong}, uint64(len(body)))
			return append(b, body...)
		}
		return append([]byte{flags, byte(len(body))}, body...)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	ready := frame(FlagCommand, []byte("\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER"))
	f.Add(cat(greeting, ready, frame(FlagMore, []byte("<IDS|MSG>")), frame(0, []byte("{}"))), uint8(7))
	f.Add(cat(greeting, ready, frame(0, bytes.Repeat([]byte("x"), 300))), uint8(1))
	f.Add(cat(greeting, ready, frame(0, bytes.Repeat([]byte("x"), 1001))), uint8(200))
	f.Add(cat(greeting, ready, binary.BigEndian.AppendUint64([]byte{FlagLong}, 1<<50)), uint8(3))
	f.Add(cat(greeting, ready, bytes.Repeat([]byte{FlagMore, 0}, 20), []byte{0, 0}), uint8(5))
	f.Add(cat(greeting, ready, frame(FlagMore, bytes.Repeat([]byte("y"), 600)), frame(0, bytes.Repeat([]byte("y"), 600))), uint8(9))
	f.Add(greeting[:30], uint8(0))
	const maxMessage, maxFrames = 1000, 8
	f.Fuzz(func(t *testing.T, stream []byte, step uint8) {
		whole := Framing{MaxMessage: maxMessage, MaxFrames: maxFrames}
		errWhole := whole.Scan(stream)
		pieces := Framing{MaxMessage: maxMessage, MaxFrames: maxFrames}
		var errPieces error
		n := int(step) + 1
		for i := 0; i < len(stream) && errPieces == nil; i += n {
			errPieces = pieces.Scan(stream[i:min(i+n, len(stream))])
		}
		if (errWhole == nil) != (errPieces == nil) || whole.Messages() != pieces.Messages() || whole.Handshaken() != pieces.Handshaken() ||
			(errWhole == nil && whole.InMessage() != pieces.InMessage()) {
			t.Fatalf("whole: %v, %d messages; in reads of %d: %v, %d messages", errWhole, whole.Messages(), n, errPieces, pieces.Messages())
		}
		// A plain reading of the whole stream.
		var violation, inside bool
		messages := 0
		if len(stream) > 64 {
			b := stream[64:]
			var msgBytes uint64
			frames := 0
			for len(b) > 0 && !violation {
				flags := b[0]
				var size uint64
				var hdr int
				if flags&FlagLong != 0 {
					if len(b) < 9 {
						inside = true
						break
					}
					size, hdr = binary.BigEndian.Uint64(b[1:9]), 9
				} else {
					if len(b) < 2 {
						inside = true
						break
					}
					size, hdr = uint64(b[1]), 2
				}
				if flags&FlagCommand != 0 {
					violation = size > maxMessage
				} else {
					frames++
					violation = size > maxMessage || msgBytes+size > maxMessage || frames > maxFrames
					msgBytes += size
				}
				if violation || uint64(len(b)-hdr) < size {
					inside = true
					break
				}
				b = b[uint64(hdr)+size:]
				if flags&(FlagCommand|FlagMore) == 0 {
					messages, msgBytes, frames = messages+1, 0, 0
				}
			}
			inside = inside || frames > 0
		}
		if violation != (errWhole != nil) {
			t.Fatalf("plain reading finds a violation: %v; Framing: %v", violation, errWhole)
		}
		if errWhole == nil && messages != whole.Messages() {
			t.Fatalf("plain reading finds %d messages, Framing %d", messages, whole.Messages())
		}
		if errWhole == nil && inside != whole.InMessage() {
			t.Fatalf("plain reading ends inside a message: %v; Framing: %v", inside, whole.InMessage())
		}
	})
}
