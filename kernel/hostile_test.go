package kernel

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gocvx/gocvx/kernel/internal/wire"
)

// The tests of this file send a kernel, in this process, what a broken or hostile
// peer sends on its sockets (raw ZeroMQ frames written byte by byte by rawPeer), and
// after each bad input check that the kernel logged and dropped it and still answers a
// good request on a fresh connection.

// newRequest returns the frames of a request as a DEALER sends them (no identity),
// signed with key, and its msg_id.
func newRequest(key []byte, msgType, content string) ([][]byte, string) {
	h := newHeader(msgType, "test-session")
	m := Message{Header: h, Content: []byte(content)}
	frames, err := Encode(m, key)
	if err != nil {
		panic(err)
	}
	return frames, h.MsgID
}

// sendFrames sends a multipart message.
func (p *rawPeer) sendFrames(t *testing.T, frames [][]byte) {
	t.Helper()
	if err := p.send(zmtpMessage(frames)); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// nextMessage reads and decodes the next message within 20 s.
func (p *rawPeer) nextMessage(t *testing.T, key []byte) Message {
	t.Helper()
	frames, err := p.readMessage(20 * time.Second)
	if err != nil {
		t.Fatalf("no message within 20 s: %v", err)
	}
	m, err := Decode(frames, key)
	if err != nil {
		t.Fatalf("the kernel sent a message that does not decode: %v", err)
	}
	return m
}

// shellAddr and the others return a kernel socket's address.
func (tk *testKernel) addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// assertAnswers checks that the kernel answers kernel_info_request on a fresh shell
// connection and echoes a heartbeat on a fresh heartbeat connection.
func assertAnswers(t *testing.T, tk *testKernel) {
	t.Helper()
	key := []byte(tk.conn.Key)
	p := dialRaw(t, tk.addr(tk.conn.ShellPort), "DEALER")
	frames, id := newRequest(key, "kernel_info_request", "{}")
	p.sendFrames(t, frames)
	m := p.nextMessage(t, key)
	if m.Header.MsgType != "kernel_info_reply" || m.Parent == nil || m.Parent.MsgID != id {
		t.Fatalf("got %s (parent %+v), want the kernel_info_reply to %s", m.Header.MsgType, m.Parent, id)
	}
	p.conn.Close()

	hb := dialRaw(t, tk.addr(tk.conn.HBPort), "REQ")
	hb.sendFrames(t, [][]byte{{}, []byte("ping")})
	echo, err := hb.readMessage(20 * time.Second)
	if err != nil || len(echo) != 2 || string(echo[1]) != "ping" {
		t.Fatalf("heartbeat echoed %q, %v; want [\"\" \"ping\"]", echo, err)
	}
	hb.conn.Close()
}

// waitLog waits (bounded) until the kernel's log contains want.
func waitLog(t *testing.T, tk *testKernel, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(tk.logs(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the kernel's log lacks %q:\n%s", want, tk.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hostileKernel starts a kernel with a small message limit and short timeouts.
func hostileKernel(t *testing.T) *testKernel {
	t.Helper()
	tk := startKernelWith(t, testConnection(t), func(k *Kernel) {
		k.Engine = &fakeEngine{vars: map[string]string{}}
		k.MaxMessageSize = 1 << 20
		k.handshakeTimeout = time.Second
		k.writeStallTimeout = 3 * time.Second
	})
	assertAnswers(t, tk)
	return tk
}

func TestBadMessagesAreDropped(t *testing.T) {
	tk := hostileKernel(t)
	key := []byte(tk.conn.Key)
	good, _ := newRequest(key, "kernel_info_request", "{}")
	hdr, parent, meta, content := good[2], good[3], good[4], good[5]
	sig := func(k []byte, parts ...[]byte) []byte { return []byte(hex.EncodeToString(sign(k, parts))) }
	cases := []struct {
		name   string
		frames [][]byte
		log    string // what the kernel logs about it
	}{
		{"empty frame", [][]byte{{}}, "no <IDS|MSG> delimiter"},
		{"no delimiter", [][]byte{hdr, parent, meta, content}, "no <IDS|MSG> delimiter"},
		{"missing frames", [][]byte{delimiter, sig(key, hdr, parent, meta, content), hdr, parent}, "fewer than 5 frames"},
		{"header not JSON", [][]byte{delimiter, sig(key, []byte("{x"), parent, meta, content), []byte("{x"), parent, meta, content}, "bad header"},
		{"content not an object", [][]byte{delimiter, sig(key, hdr, parent, meta, []byte("[1]")), hdr, parent, meta, []byte("[1]")}, "content is not a JSON object"},
		{"binary garbage", [][]byte{delimiter, sig(key, []byte{0xff, 0}, parent, meta, content), {0xff, 0}, parent, meta, content}, "bad header"},
		{"wrong key", [][]byte{delimiter, sig([]byte("not-the-key"), hdr, parent, meta, content), hdr, parent, meta, content}, "signature does not match"},
		{"empty signature", [][]byte{delimiter, {}, hdr, parent, meta, content}, "signature does not match"},
		{"signature of other content", [][]byte{delimiter, sig(key, hdr, parent, meta, []byte(`{"a":1}`)), hdr, parent, meta, content}, "signature does not match"},
		{"upper-case hex of a wrong signature", [][]byte{delimiter, bytes.ToUpper(sig([]byte("x"), hdr, parent, meta, content)), hdr, parent, meta, content}, "signature does not match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, port := range []int{tk.conn.ShellPort, tk.conn.ControlPort, tk.conn.StdinPort} {
				p := dialRaw(t, tk.addr(port), "DEALER")
				p.sendFrames(t, c.frames)
				// A good request on the same connection is answered, and first: the
				// bad one got no reply.
				if port != tk.conn.StdinPort {
					frames, id := newRequest(key, "kernel_info_request", "{}")
					p.sendFrames(t, frames)
					if m := p.nextMessage(t, key); m.Parent == nil || m.Parent.MsgID != id {
						t.Fatalf("first message after the bad one answers %+v, want %s", m.Parent, id)
					}
				}
				p.conn.Close()
			}
			waitLog(t, tk, c.log)
			assertAnswers(t, tk)
		})
	}
}

// TestExtraFramesAreBuffers checks that frames after the content are taken as the
// message's buffers, not as an error.
func TestExtraFramesAreBuffers(t *testing.T) {
	tk := hostileKernel(t)
	key := []byte(tk.conn.Key)
	frames, id := newRequest(key, "kernel_info_request", "{}")
	frames = append(frames, []byte("buffer 1"), []byte{}, bytes.Repeat([]byte{0}, 300))
	p := dialRaw(t, tk.addr(tk.conn.ShellPort), "DEALER")
	p.sendFrames(t, frames)
	if m := p.nextMessage(t, key); m.Header.MsgType != "kernel_info_reply" || m.Parent.MsgID != id {
		t.Fatalf("got %s to %+v, want kernel_info_reply to %s", m.Header.MsgType, m.Parent, id)
	}
}

// subscribe connects a raw SUB peer to iopub and waits until it receives the statuses
// of a request (so the subscription is in place).
func subscribe(t *testing.T, tk *testKernel) *rawPeer {
	t.Helper()
	key := []byte(tk.conn.Key)
	sub := dialRaw(t, tk.addr(tk.conn.IOPubPort), "SUB")
	sub.sendFrames(t, [][]byte{{1}}) // subscribe to every topic
	shell := dialRaw(t, tk.addr(tk.conn.ShellPort), "DEALER")
	defer shell.conn.Close()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		frames, id := newRequest(key, "kernel_info_request", "{}")
		shell.sendFrames(t, frames)
		shell.nextMessage(t, key)
		got, err := sub.readMessage(200 * time.Millisecond)
		for err == nil {
			if m, derr := Decode(got, key); derr == nil && m.Parent != nil && m.Parent.MsgID == id {
				// Read on to this request's idle.
				for !(m.Header.MsgType == "status" && strings.Contains(string(m.Content), "idle")) {
					m = sub.nextMessage(t, key)
				}
				return sub
			}
			got, err = sub.readMessage(200 * time.Millisecond)
		}
	}
	t.Fatal("iopub subscription not in place after 20 s")
	return nil
}

// TestUnknownMessageType checks that a request of a type the kernel does not know
// gets its busy and idle statuses and no reply.
func TestUnknownMessageType(t *testing.T) {
	tk := hostileKernel(t)
	key := []byte(tk.conn.Key)
	sub := subscribe(t, tk)
	p := dialRaw(t, tk.addr(tk.conn.ShellPort), "DEALER")
	for _, typ := range []string{"no_such_request", "usage_request", "execute_reply", "status", "kernel_info_request\x00"} {
		frames, id := newRequest(key, typ, `{"x":[1,2,3]}`)
		p.sendFrames(t, frames)
		var states []string
		for len(states) < 2 {
			m := sub.nextMessage(t, key)
			if m.Parent == nil || m.Parent.MsgID != id {
				continue
			}
			if m.Header.MsgType != "status" {
				t.Fatalf("%q: kernel published %s", typ, m.Header.MsgType)
			}
			states = append(states, string(m.Content))
		}
		if !strings.Contains(states[0], "busy") || !strings.Contains(states[1], "idle") {
			t.Errorf("%q: statuses %q, want busy then idle", typ, states)
		}
		frames, id = newRequest(key, "kernel_info_request", "{}")
		p.sendFrames(t, frames)
		if m := p.nextMessage(t, key); m.Parent.MsgID != id {
			t.Fatalf("%q: the kernel replied %s to it", typ, m.Header.MsgType)
		}
		waitLog(t, tk, fmt.Sprintf("no handler for %q", typ))
	}
	assertAnswers(t, tk)
}

// TestOversizedInput checks that a peer sending more than Kernel.MaxMessageSize (1 MiB
// here), or a frame header claiming an absurd length, or too many frames, is
// disconnected before the kernel allocates the message, and that the kernel goes on.
func TestOversizedInput(t *testing.T) {
	tk := hostileKernel(t)
	key := []byte(tk.conn.Key)
	long := func(flags byte, size uint64) []byte {
		return binary.BigEndian.AppendUint64([]byte{flags | wire.FlagLong}, size)
	}
	big := bytes.Repeat([]byte("x"), 1<<20)
	frames, _ := newRequest(key, "execute_request", `{"code":"print `+string(big[:1<<19])+`"}`)
	manyFrames := make([][]byte, 2000)
	for i := range manyFrames {
		manyFrames[i] = []byte{}
	}
	cases := []struct {
		name string
		data []byte
		log  string
	}{
		{"one frame over the limit", zmtpMessage([][]byte{delimiter, big}), "over the limit"},
		{"frames adding up over the limit", zmtpMessage(append(frames, big[:1<<19+100])), "over the limit"},
		{"header claiming 2^50 bytes", long(0, 1<<50), "over the limit"},
		{"header claiming 2^63-1 bytes", long(wire.FlagMore, 1<<63-1), "over the limit"},
		{"header claiming 2^64-1 bytes", long(0, 1<<64-1), "over the limit"},
		{"command claiming 2^40 bytes", long(wire.FlagCommand, 1<<40), "ZeroMQ command of"},
		{"too many frames", zmtpMessage(manyFrames), "frames"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, x := range []struct {
				port int
				typ  string
			}{
				{tk.conn.ShellPort, "DEALER"}, {tk.conn.ControlPort, "DEALER"}, {tk.conn.StdinPort, "DEALER"},
				{tk.conn.IOPubPort, "SUB"}, {tk.conn.HBPort, "REQ"},
			} {
				p := dialRaw(t, tk.addr(x.port), x.typ)
				p.send(c.data) // the kernel may close the connection before it all arrives
				if !p.closed(20 * time.Second) {
					t.Errorf("port of %s: the kernel did not disconnect the peer", x.typ)
				}
			}
			waitLog(t, tk, c.log)
			assertAnswers(t, tk)
		})
	}
	// Just under the limit is fine.
	p := dialRaw(t, tk.addr(tk.conn.ShellPort), "DEALER")
	frames, id := newRequest(key, "kernel_info_request", "{}")
	p.sendFrames(t, append(frames, big[:1<<20-1000]))
	if m := p.nextMessage(t, key); m.Parent.MsgID != id {
		t.Fatalf("a message under the limit got %s", m.Header.MsgType)
	}
}

// TestBrokenConnections checks peers that never finish the ZeroMQ handshake, speak
// another protocol, or vanish in the middle of a frame.
func TestBrokenConnections(t *testing.T) {
	tk := hostileKernel(t)
	dialPort := func(port int) net.Conn { return dial(t, "tcp", tk.addr(port)) }
	closedWithin := func(c net.Conn, d time.Duration) bool {
		p := &rawPeer{conn: c, r: bufio.NewReader(c)}
		return p.closed(d)
	}
	t.Run("silent connection", func(t *testing.T) {
		silent := dialPort(tk.conn.ShellPort)
		// While it stays silent, a good client is still served (after the handshake
		// deadline at worst), and the silent one is disconnected.
		assertAnswers(t, tk)
		if !closedWithin(silent, 20*time.Second) {
			t.Error("the silent connection is still open")
		}
		waitLog(t, tk, "did not complete the ZeroMQ handshake")
	})
	t.Run("half a greeting", func(t *testing.T) {
		c := dialPort(tk.conn.ControlPort)
		c.Write(zmtpGreeting()[:20])
		assertAnswers(t, tk)
		if !closedWithin(c, 20*time.Second) {
			t.Error("the connection is still open")
		}
	})
	t.Run("HTTP", func(t *testing.T) {
		for _, port := range []int{tk.conn.ShellPort, tk.conn.IOPubPort, tk.conn.HBPort} {
			c := dialPort(port)
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n%s", strings.Repeat("x", 100))
			if !closedWithin(c, 20*time.Second) {
				t.Errorf("port %d: the connection is still open", port)
			}
		}
		assertAnswers(t, tk)
	})
	t.Run("socket type that does not match", func(t *testing.T) {
		// zmq4 rejects a DEALER on iopub after the handshake and leaves the
		// connection open; the kernel closes it.
		p := dialRaw(t, tk.addr(tk.conn.IOPubPort), "DEALER")
		if !p.closed(20 * time.Second) {
			t.Error("the connection is still open")
		}
		waitLog(t, tk, "not compatible")
		assertAnswers(t, tk)
	})
	t.Run("truncated frame", func(t *testing.T) {
		p := dialRaw(t, tk.addr(tk.conn.ShellPort), "DEALER")
		p.send([]byte{wire.FlagMore, 200, 'a', 'b'})
		p.conn.Close()
		assertAnswers(t, tk)
	})
	t.Run("heartbeat without envelope", func(t *testing.T) {
		p := dialRaw(t, tk.addr(tk.conn.HBPort), "DEALER")
		p.sendFrames(t, [][]byte{[]byte("no empty delimiter frame")})
		p.sendFrames(t, [][]byte{{}})
		waitLog(t, tk, "heartbeat: receive")
		assertAnswers(t, tk)
	})
	t.Run("messages to iopub", func(t *testing.T) {
		p := dialRaw(t, tk.addr(tk.conn.IOPubPort), "SUB")
		for range 50 {
			p.sendFrames(t, [][]byte{[]byte("not a subscription"), []byte("x")})
		}
		assertAnswers(t, tk)
	})
}

// TestStuckSubscriber checks that an iopub subscriber that stops reading is
// disconnected, and does not hold up the output of the other clients.
func TestStuckSubscriber(t *testing.T) {
	tk := hostileKernel(t)
	key := []byte(tk.conn.Key)
	stuck := subscribe(t, tk) // and never read again until the end
	good := subscribe(t, tk)
	// About 25 MB of output, more than the socket buffers of both ends hold (Linux
	// grows them to 4 MB for sending and 6 MB for receiving).
	frames, id := newRequest(key, "execute_request", `{"code":"spam 300 81920"}`)
	p := dialRaw(t, tk.addr(tk.conn.ShellPort), "DEALER")
	p.sendFrames(t, frames)
	var streams int
	for {
		m := good.nextMessage(t, key)
		if m.Parent == nil || m.Parent.MsgID != id {
			continue
		}
		if m.Header.MsgType == "stream" {
			streams++
		}
		if m.Header.MsgType == "status" && strings.Contains(string(m.Content), "idle") {
			break
		}
	}
	if streams != 300 {
		t.Errorf("the reading subscriber got %d stream messages, want 300", streams)
	}
	if m := p.nextMessage(t, key); m.Header.MsgType != "execute_reply" || m.Parent.MsgID != id {
		t.Errorf("got %s, want the execute_reply", m.Header.MsgType)
	}
	waitLog(t, tk, "accepted nothing")
	if !stuck.closed(20 * time.Second) {
		t.Error("the stuck subscriber is still connected")
	}
	assertAnswers(t, tk)
}

// TestSignatureAnyByte checks that a signature differing from the right one in any
// single byte (each of the 64 hex digits changed to each other hex digit), or in its
// length, is rejected; Decode compares with hmac.Equal, in constant time.
func TestSignatureAnyByte(t *testing.T) {
	key := []byte("a-connection-key")
	good, _ := newRequest(key, "execute_request", `{"code":"1"}`)
	if _, err := Decode(good, key); err != nil {
		t.Fatal(err)
	}
	sig := good[1]
	if len(sig) != 64 {
		t.Fatalf("signature has %d hex digits", len(sig))
	}
	try := func(s []byte) error {
		f := append([][]byte{}, good...)
		f[1] = s
		_, err := Decode(f, key)
		return err
	}
	for i := range sig {
		for _, c := range []byte("0123456789abcdefABCDEF\x00 g") {
			if c == sig[i] || (c >= 'A' && c <= 'F' && c+'a'-'A' == sig[i]) {
				continue
			}
			s := bytes.Clone(sig)
			s[i] = c
			if err := try(s); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("signature with byte %d changed to %q: err = %v, want ErrBadSignature", i, c, err)
			}
		}
	}
	for _, s := range [][]byte{nil, sig[:62], sig[:63], append(bytes.Clone(sig), '0'), append(bytes.Clone(sig), "00"...), sig[:32]} {
		if err := try(s); !errors.Is(err, ErrBadSignature) {
			t.Errorf("signature %q: err = %v, want ErrBadSignature", s, err)
		}
	}
	// Every byte of every signed part counts.
	for part := 2; part < 6; part++ {
		for i := range good[part] {
			f := append([][]byte{}, good...)
			f[part] = bytes.Clone(good[part])
			f[part][i] ^= 0x01
			if _, err := Decode(f, key); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("part %d byte %d flipped: err = %v, want ErrBadSignature", part, i, err)
			}
		}
	}
}

// TestEnginePanic checks that a panic in the engine (a bug, not a cell's own panic,
// which the engine reports as the cell's error) is logged with its stack and answered
// with an error reply, and that the kernel goes on serving.
func TestEnginePanic(t *testing.T) {
	tk := hostileKernel(t)
	key := []byte(tk.conn.Key)
	p := dialRaw(t, tk.addr(tk.conn.ShellPort), "DEALER")
	for _, c := range []struct{ msgType, content, reply string }{
		{"complete_request", `{"code":"enginepanic","cursor_pos":3}`, "complete_reply"},
		{"execute_request", `{"code":"enginepanic"}`, "execute_reply"},
		{"execute_request", `{"code":"set a 1\nget a"}`, "execute_reply"},
	} {
		frames, id := newRequest(key, c.msgType, c.content)
		p.sendFrames(t, frames)
		m := p.nextMessage(t, key)
		if m.Header.MsgType != c.reply || m.Parent.MsgID != id {
			t.Fatalf("%s: got %s, want %s", c.content, m.Header.MsgType, c.reply)
		}
		wantErr := strings.Contains(c.content, "enginepanic")
		if gotErr := strings.Contains(string(m.Content), `"status":"error"`); gotErr != wantErr {
			t.Errorf("%s: reply %s", c.content, m.Content)
		}
	}
	waitLog(t, tk, "panic while handling complete_request: a bug in the engine's completion")
	waitLog(t, tk, "panic while handling execute_request: assignment to entry in nil map")
	assertAnswers(t, tk)
}
