package zmtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// ready returns a READY command with the given properties (name, value, …).
func ready(props ...string) []byte {
	var data []byte
	for i := 0; i+1 < len(props); i += 2 {
		data = appendProperty(data, props[i], props[i+1])
	}
	return AppendCommand(nil, "READY", data)
}

// TestHandshake checks the server side of the handshake against peers that
// complete it, speak an older ZMTP or another mechanism, have a socket type that
// does not match, or send something other than READY; and that a handshake cut
// off by the end of the input resumes with the rest.
func TestHandshake(t *testing.T) {
	withVersion := func(major byte, mech string) []byte {
		g := Greeting()
		g[10] = major
		copy(g[12:32], make([]byte, 20))
		copy(g[12:32], mech)
		return g
	}
	cases := []struct {
		name  string
		ours  string
		input []byte
		want  error // nil: success
	}{
		{"DEALER to ROUTER", "ROUTER", append(Greeting(), ready("Socket-Type", "DEALER", "Identity", "id")...), nil},
		{"SUB to PUB", "PUB", append(Greeting(), ready("Socket-Type", "SUB")...), nil},
		{"REQ to REP", "REP", append(Greeting(), ready("Socket-Type", "REQ")...), nil},
		{"ZMTP 2", "ROUTER", append(withVersion(2, "NULL"), ready("Socket-Type", "DEALER")...), ErrNotZMTP},
		{"PLAIN", "ROUTER", append(withVersion(3, "PLAIN"), ready("Socket-Type", "DEALER")...), ErrMechanism},
		{"HTTP", "ROUTER", []byte("GET / HTTP/1.1\r\n"), ErrNotZMTP},
		{"not READY", "ROUTER", append(Greeting(), AppendCommand(nil, "PING", []byte{0, 0})...), ErrNoReady},
		{"bad properties", "ROUTER", append(Greeting(), AppendCommand(nil, "READY", []byte{20, 'x'})...), ErrBadCommand},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			r := &Reader{R: bytes.NewReader(c.input)}
			meta, err := Handshake(&out, r, c.ours)
			if !errors.Is(err, c.want) {
				t.Fatalf("Handshake = %+v, %v; want %v", meta, err, c.want)
			}
			if want := AppendCommand(Greeting(), "READY", appendProperty(nil, "Socket-Type", c.ours)); !bytes.Equal(out.Bytes(), want) {
				t.Errorf("wrote %q, want the greeting and READY", out.Bytes())
			}
		})
	}
	t.Run("socket type that does not match", func(t *testing.T) {
		var out bytes.Buffer
		r := &Reader{R: bytes.NewReader(append(Greeting(), ready("Socket-Type", "DEALER")...))}
		_, err := Handshake(&out, r, "PUB")
		var inc *IncompatibleError
		if !errors.As(err, &inc) || !bytes.Contains(out.Bytes(), []byte("ERROR")) {
			t.Fatalf("Handshake: %v, wrote %q; want an IncompatibleError and ERROR", err, out.Bytes())
		}
	})
	t.Run("resumed", func(t *testing.T) {
		input := append(Greeting(), ready("Socket-Type", "DEALER", "Identity", "me")...)
		var out bytes.Buffer
		r := &Reader{R: bytes.NewReader(input[:40])}
		if _, err := Handshake(&out, r, "ROUTER"); err == nil {
			t.Fatal("Handshake completed on half a greeting")
		}
		r.R = bytes.NewReader(input[40:])
		meta, err := Handshake(&out, r, "ROUTER")
		if err != nil || string(meta.Identity) != "me" {
			t.Fatalf("resumed Handshake = %+v, %v", meta, err)
		}
		if n := bytes.Count(out.Bytes(), []byte("READY")); n != 1 {
			t.Errorf("wrote READY %d times, want once", n)
		}
	})
}

// TestPong checks PONG's context and that a malformed PING gets none.
func TestPong(t *testing.T) {
	pong, ok := Pong([]byte{0, 5, 'a', 'b'})
	if !ok || !bytes.Equal(pong, AppendCommand(nil, "PONG", []byte("ab"))) {
		t.Fatalf("Pong = %q, %v", pong, ok)
	}
	for _, bad := range [][]byte{{}, {1}, binary.BigEndian.AppendUint16(nil, 1)[:1], append([]byte{0, 0}, make([]byte, 17)...)} {
		if _, ok := Pong(bad); ok {
			t.Errorf("Pong(%q) answered", bad)
		}
	}
}
