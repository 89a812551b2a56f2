package kernel

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, key := range [][]byte{nil, []byte("a-secret-key")} {
		m := Message{
			Identities: [][]byte{[]byte("client-1"), []byte("client-2")},
			Header:     newHeader("execute_request", "session-1"),
			Parent:     &Header{MsgID: "p", Session: "s", Username: "u", Date: "d", MsgType: "x", Version: "5.4"},
			Metadata:   json.RawMessage(`{"a":1}`),
			Content:    json.RawMessage(`{"code":"x := 1"}`),
			Buffers:    [][]byte{{0, 1, 2}},
		}
		frames, err := Encode(m, key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(frames[2], delimiter) {
			t.Fatalf("frame 2 = %q, want the delimiter", frames[2])
		}
		if len(key) == 0 && len(frames[3]) != 0 {
			t.Errorf("unsigned message has signature %q", frames[3])
		}
		got, err := Decode(frames, key)
		if err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		if got.Header != m.Header || *got.Parent != *m.Parent ||
			string(got.Content) != string(m.Content) || string(got.Metadata) != string(m.Metadata) ||
			len(got.Identities) != 2 || string(got.Identities[1]) != "client-2" ||
			len(got.Buffers) != 1 || !bytes.Equal(got.Buffers[0], m.Buffers[0]) {
			t.Errorf("key %q: round trip changed the message:\n got %+v\nwant %+v", key, got, m)
		}
	}
}

func TestEncodeEmptyParts(t *testing.T) {
	frames, err := Encode(Message{Header: newHeader("status", "s")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"{}", "{}", "{}"} {
		if got := string(frames[3+i]); got != want {
			t.Errorf("frame %d = %q, want %q", 3+i, got, want)
		}
	}
	if _, err := Encode(Message{Content: json.RawMessage(`[1]`)}, nil); err == nil {
		t.Error("Encode accepted content that is not an object")
	}
}

// signed returns the frames of a message with the given parts, signed with key.
func signed(key []byte, parts ...string) [][]byte {
	ps := make([][]byte, len(parts))
	for i, p := range parts {
		ps[i] = []byte(p)
	}
	sig := hex.EncodeToString(sign(key, ps[:4]))
	return append([][]byte{[]byte("id"), delimiter, []byte(sig)}, ps...)
}

func TestDecodeRejects(t *testing.T) {
	key := []byte("k")
	hdr := `{"msg_id":"1","session":"s","username":"u","date":"","msg_type":"kernel_info_request","version":"5.4"}`
	good := signed(key, hdr, "{}", "{}", "{}")
	if _, err := Decode(good, key); err != nil {
		t.Fatalf("good message: %v", err)
	}
	wrongKey := signed([]byte("other"), hdr, "{}", "{}", "{}")
	tampered := signed(key, hdr, "{}", "{}", "{}")
	tampered[6] = []byte(`{"x":1}`)
	cases := []struct {
		name   string
		frames [][]byte
		want   error
	}{
		{"empty", nil, ErrNoDelimiter},
		{"no delimiter", [][]byte{[]byte("a"), []byte("b")}, ErrNoDelimiter},
		{"short", good[:5], ErrShort},
		{"wrong key", wrongKey, ErrBadSignature},
		{"tampered content", tampered, ErrBadSignature},
		{"signature not hex", append(append([][]byte{}, good[:2]...), append([][]byte{[]byte("zz")}, good[3:]...)...), ErrBadSignature},
		{"empty signature", append(append([][]byte{}, good[:2]...), append([][]byte{{}}, good[3:]...)...), ErrBadSignature},
		{"header not JSON", signed(key, "{", "{}", "{}", "{}"), nil},
		{"no msg_type", signed(key, `{"msg_id":"1"}`, "{}", "{}", "{}"), nil},
		{"content not object", signed(key, hdr, "{}", "{}", "[]"), nil},
		{"metadata not object", signed(key, hdr, "{}", "null", "{}"), nil},
		{"parent not object", signed(key, hdr, "3", "{}", "{}"), nil},
	}
	for _, c := range cases {
		_, err := Decode(c.frames, key)
		if err == nil {
			t.Errorf("%s: Decode accepted the message", c.name)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestDecodeUnsigned(t *testing.T) {
	hdr := `{"msg_id":"1","session":"s","username":"u","date":"","msg_type":"kernel_info_request","version":"5.4"}`
	frames := [][]byte{delimiter, {}, []byte(hdr), []byte("{}"), []byte("{}"), []byte("{}")}
	m, err := Decode(frames, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Identities != nil || m.Parent != nil || m.Header.MsgType != "kernel_info_request" {
		t.Errorf("got %+v", m)
	}
}
