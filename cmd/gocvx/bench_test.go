package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/gocvx/gocvx/cmd/gocvx/internal/kernelcmd"
	"github.com/gocvx/gocvx/internal/testenv"
	"github.com/gocvx/gocvx/kernel"
)

// BenchmarkExecuteRoundTrip is one trivial execute through the kernel as `gocvx
// kernel` serves it (the cell engine, output capture, the history file), from a
// ZeroMQ client in the same process: execute_request sent on shell, execute_reply
// received, the idle status received on iopub. Its CPU profile and execution
// trace show where a round trip goes:
//
//	go test ./cmd/gocvx -run '^$' -bench ExecuteRoundTrip -cpuprofile cpu.out -trace trace.out
//
// cpu-ns/op is the process's CPU time per round trip (client included), which the
// load of other processes does not inflate as it does wall time.
//
// The kernel marks the stages of a request as regions of the execution trace
// (kernel.decode, kernel.engine, kernel.publish for each message on iopub,
// kernel.reply, kernel.history for the history file's write after the reply):
// `go tool trace trace.out` lists their durations under "User-defined regions".
func BenchmarkExecuteRoundTrip(b *testing.B) {
	for _, code := range []string{"1 + 1", "x"} {
		b.Run(fmt.Sprintf("%q", code), func(b *testing.B) {
			c := startInProcess(b)
			c.execute(b, "x := 41") // a variable for the cell "x"
			for range 20 {          // warm up
				c.execute(b, code)
			}
			b.ResetTimer()
			cpu0 := processCPU()
			for range b.N {
				c.execute(b, code)
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU returns the process's user and system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// client is a Jupyter client of a kernel, connected as jupyter_client connects: a
// DEALER on shell, a SUB on iopub.
type client struct {
	key          []byte
	session      string
	shell, iopub zmq4.Socket
	pub          chan kernel.Message // what iopub received (see receive)
	n            int
}

// benchConnection is a connection on free loopback ports with the benchmarks' key.
func benchConnection(b *testing.B) kernel.ConnectionInfo {
	b.Helper()
	ports, err := testenv.FreePorts(5)
	if err != nil {
		b.Fatal(err)
	}
	return kernel.ConnectionInfo{
		Transport: "tcp", IP: "127.0.0.1", ShellPort: ports[0], IOPubPort: ports[1], StdinPort: ports[2],
		ControlPort: ports[3], HBPort: ports[4], SignatureScheme: "hmac-sha256", Key: "bench-key",
	}
}

// startInProcess serves the gocvx kernel in this process on free ports (history in
// a temporary file) and returns a client connected to it and subscribed to iopub;
// both end at cleanup.
func startInProcess(b *testing.B) *client {
	b.Helper()
	conn := benchConnection(b)
	k := kernelcmd.New(0, filepath.Join(b.TempDir(), "history.jsonl"), io.Discard, newEngine)
	k.CatchSIGINT = false
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Serve(ctx, conn) }()

	c := &client{key: []byte(conn.Key), session: "bench-session", pub: make(chan kernel.Message, 1024)}
	cctx, ccancel := context.WithCancel(context.Background())
	c.shell = zmq4.NewDealer(cctx, zmq4.WithID(zmq4.SocketIdentity("bench")))
	c.iopub = zmq4.NewSub(cctx)
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			b.Errorf("Serve: %v", err)
		}
		c.shell.Close()
		c.iopub.Close()
		ccancel()
	})
	addr := func(port int) string { return fmt.Sprintf("tcp://127.0.0.1:%d", port) }
	for _, x := range []struct {
		s    zmq4.Socket
		port int
	}{{c.shell, conn.ShellPort}, {c.iopub, conn.IOPubPort}} {
		var err error
		for try := 0; try < 100; try++ { // until the kernel listens
			if err = x.s.Dial(addr(x.port)); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := c.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		b.Fatal(err)
	}
	go c.receive()
	// A subscription takes effect some time after it is sent: repeat kernel_info
	// until its statuses arrive on iopub.
	for {
		id := c.send(b, "kernel_info_request", map[string]any{})
		c.reply(b, id)
		if c.idle(b, id, 200*time.Millisecond) {
			return c
		}
	}
}

// execute runs code and waits for its reply (which must be ok) and its idle status.
func (c *client) execute(b *testing.B, code string) {
	id := c.send(b, "execute_request", map[string]any{
		"code": code, "silent": false, "store_history": true, "user_expressions": map[string]any{},
		"allow_stdin": false, "stop_on_error": true,
	})
	r := c.reply(b, id)
	var content struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(r.Content, &content); err != nil || content.Status != "ok" {
		b.Fatalf("%q: %s", code, r.Content)
	}
	if !c.idle(b, id, 10*time.Second) {
		b.Fatalf("%q: no idle status within 10 s", code)
	}
}

// send sends a request on shell and returns its msg_id.
func (c *client) send(b *testing.B, msgType string, content any) string {
	c.n++
	body, err := json.Marshal(content)
	if err != nil {
		b.Fatal(err)
	}
	m := kernel.Message{
		Header: kernel.Header{
			MsgID: fmt.Sprintf("%s-%d", c.session, c.n), Session: c.session, Username: "bench",
			Date: time.Now().UTC().Format(time.RFC3339Nano), MsgType: msgType, Version: kernel.ProtocolVersion,
		},
		Content: body,
	}
	frames, err := kernel.Encode(m, c.key)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.shell.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		b.Fatal(err)
	}
	return m.Header.MsgID
}

// reply receives shell messages until the reply to id.
func (c *client) reply(b *testing.B, id string) kernel.Message {
	for {
		raw, err := c.shell.Recv()
		if err != nil {
			b.Fatal(err)
		}
		m, err := kernel.Decode(raw.Frames, c.key)
		if err != nil {
			b.Fatal(err)
		}
		if m.Parent != nil && m.Parent.MsgID == id {
			return m
		}
	}
}

// idle receives iopub messages until the idle status of id; it reports false if
// none came within timeout.
func (c *client) idle(b *testing.B, id string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-c.pub:
			if !ok {
				b.Fatal("iopub: receive failed")
			}
			var st struct {
				State string `json:"execution_state"`
			}
			if m.Header.MsgType == "status" && m.Parent != nil && m.Parent.MsgID == id &&
				json.Unmarshal(m.Content, &st) == nil && st.State == "idle" {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// receive decodes what arrives on iopub into c.pub until the socket closes.
func (c *client) receive() {
	defer close(c.pub)
	for {
		raw, err := c.iopub.Recv()
		if err != nil {
			return
		}
		if m, err := kernel.Decode(raw.Frames, c.key); err == nil {
			c.pub <- m
		}
	}
}
