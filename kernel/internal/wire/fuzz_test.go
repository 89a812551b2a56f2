package wire

import (
	"bytes"
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
