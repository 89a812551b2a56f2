package kernel

import (
	"bytes"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/gocvx/gocvx/kernel/internal/wire"
	"github.com/gocvx/gocvx/kernel/internal/zmtp"
)

// testSocket returns a socket of type typ with one peer past the handshake, over a
// recordingConn, as serve sets it up; what the socket logs goes to logged.
func testSocket(typ, id string, logged *strings.Builder) (*zsocket, *peer, *recordingConn) {
	rc := &recordingConn{}
	c := newTestConn(rc)
	c.g.log = log.New(logged, "", 0)
	s := &zsocket{name: "test", typ: typ, g: c.g, backlog: maxBacklog, conns: map[*guardedConn]bool{c: true},
		added: make(chan struct{}), done: make(chan struct{})}
	p := &peer{c: c, id: []byte(id)}
	if typ == pubSocket {
		p.topics, p.wake, p.gone = map[string]bool{}, make(chan struct{}, 1), make(chan struct{})
	}
	s.add(p)
	return s, p, rc
}

// readMessages parses the ZMTP messages in b.
func readMessages(t *testing.T, b []byte) [][][]byte {
	t.Helper()
	var msgs [][][]byte
	for len(b) > 0 {
		var frames [][]byte
		for more := true; more; {
			if len(b) < 2 || b[0]&wire.FlagLong != 0 {
				t.Fatalf("not a short frame: %q", b)
			}
			more = b[0]&wire.FlagMore != 0
			n := int(b[1])
			frames, b = append(frames, b[2:2+n]), b[2+n:]
		}
		msgs = append(msgs, frames)
	}
	return msgs
}

// TestPublishWritesPendingAtOnce checks that the messages published for a
// subscriber before its writer runs go out with one write, in the order of
// publish, and that only the topics it subscribes to reach it.
func TestPublishWritesPendingAtOnce(t *testing.T) {
	var logged strings.Builder
	s, p, rc := testSocket(pubSocket, "", &logged)
	s.subscribe(p, zmtp.Msg{Frames: [][]byte{[]byte("\x01kernel.a.")}})
	s.subscribe(p, zmtp.Msg{Frames: [][]byte{[]byte("not a subscription")}})
	s.subscribe(p, zmtp.Msg{Frames: [][]byte{[]byte("\x01x"), []byte("two frames: not a subscription")}})
	var want []string
	for i, topic := range []string{"kernel.a.status", "kernel.b.status", "kernel.a.execute_input", "kernel.a.status", "x"} {
		body := strings.Repeat("m", i)
		s.publish([][]byte{[]byte(topic), []byte(wire.Delimiter), []byte(body)})
		if strings.HasPrefix(topic, "kernel.a.") {
			want = append(want, topic+"|"+body)
		}
	}
	if err := s.flush(p); err != nil {
		t.Fatal(err)
	}
	if len(rc.writes) != 1 {
		t.Fatalf("%d writes, want 1", len(rc.writes))
	}
	var got []string
	for _, m := range readMessages(t, rc.writes[0]) {
		if len(m) != 3 || string(m[1]) != wire.Delimiter {
			t.Fatalf("message %q: not the frames published", m)
		}
		got = append(got, string(m[0])+"|"+string(m[2]))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("wrote %q, want %q", got, want)
	}

	// Unsubscribed, then subscribed to everything.
	rc.writes = nil
	s.subscribe(p, zmtp.Msg{Frames: [][]byte{[]byte("\x00kernel.a.")}})
	s.publish([][]byte{[]byte("kernel.a.status")})
	if err := s.flush(p); err != nil || len(rc.writes) != 0 {
		t.Fatalf("after unsubscribing: %d writes, %v", len(rc.writes), err)
	}
	s.subscribe(p, zmtp.Msg{Frames: [][]byte{{1}}})
	s.publish([][]byte{[]byte("anything")})
	if err := s.flush(p); err != nil || len(rc.writes) != 1 {
		t.Fatalf("subscribed to everything: %d writes, %v", len(rc.writes), err)
	}
}

// TestPublishBacklog checks that a subscriber that does not read holds at most
// the backlog: what is published beyond it is dropped and logged once, and once
// the pending messages are written it receives again.
func TestPublishBacklog(t *testing.T) {
	var logged strings.Builder
	s, p, rc := testSocket(pubSocket, "", &logged)
	s.backlog = 100
	s.subscribe(p, zmtp.Msg{Frames: [][]byte{{1}}})
	msg := [][]byte{[]byte("t"), bytes.Repeat([]byte("x"), 60)} // 65 bytes framed
	for range 4 {
		s.publish(msg)
	}
	if err := s.flush(p); err != nil {
		t.Fatal(err)
	}
	if n := len(readMessages(t, rc.writes[0])); n != 2 {
		t.Errorf("%d messages written, want 2 (the backlog of 100 bytes full after them)", n)
	}
	if c := strings.Count(logged.String(), "reads too slowly"); c != 1 {
		t.Errorf("logged %d times, want once: %q", c, logged.String())
	}
	s.publish(msg)
	if err := s.flush(p); err != nil || len(rc.writes) != 2 || len(readMessages(t, rc.writes[1])) != 1 {
		t.Errorf("after the backlog was written: %d writes, %v; want the new message", len(rc.writes), err)
	}
}

// TestRouterSend checks that a ROUTER socket writes a message, without its
// identity frame, with one write to the peer of that identity, and drops a message
// for an identity it does not know.
func TestRouterSend(t *testing.T) {
	s, _, rc := testSocket(routerSocket, "client-1", new(strings.Builder))
	if err := s.send([][]byte{[]byte("client-2"), []byte("lost")}); err != nil || len(rc.writes) != 0 {
		t.Fatalf("to an unknown identity: %d writes, %v", len(rc.writes), err)
	}
	frames := [][]byte{[]byte(wire.Delimiter), []byte("sig"), []byte("{}")}
	if err := s.send(append([][]byte{[]byte("client-1")}, frames...)); err != nil {
		t.Fatal(err)
	}
	if len(rc.writes) != 1 || !bytes.Equal(rc.writes[0], wire.AppendMessage(nil, frames)) {
		t.Fatalf("writes %q, want one of the message's frames", rc.writes)
	}
}

// TestRouterSendWaitsForFirstPeer checks that a message sent on a ROUTER socket
// with no peer yet waits for one, and reaches it if it has the identity.
func TestRouterSendWaitsForFirstPeer(t *testing.T) {
	s, p, rc := testSocket(routerSocket, "client-1", new(strings.Builder))
	s.remove(p)
	sent := make(chan error)
	go func() { sent <- s.send([][]byte{[]byte("client-1"), []byte("input_request")}) }()
	select {
	case err := <-sent:
		t.Fatalf("send returned (%v) with no peer", err)
	case <-time.After(50 * time.Millisecond): // send is waiting (or has not started)
	}
	s.add(p)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if len(rc.writes) != 1 || !bytes.Equal(rc.writes[0], wire.AppendMessage(nil, [][]byte{[]byte("input_request")})) {
		t.Fatalf("writes %q, want the message", rc.writes)
	}
}
