package kernelcmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/internal/testenv"
	"github.com/gocvx/gocvx/kernel"
)

func TestHistoryFile(t *testing.T) {
	data := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	t.Setenv("GOCVX_HISTORY_FILE", "/elsewhere/h.jsonl")
	if got := HistoryFile(); got != "/elsewhere/h.jsonl" {
		t.Errorf("with GOCVX_HISTORY_FILE: %q", got)
	}
	t.Setenv("GOCVX_HISTORY_FILE", "")
	if got := HistoryFile(); got != "" {
		t.Errorf("with GOCVX_HISTORY_FILE empty: %q, want in memory", got)
	}
	os.Unsetenv("GOCVX_HISTORY_FILE")
	if got, want := HistoryFile(), filepath.Join(data, "gocvx", "history.jsonl"); got != want {
		t.Errorf("HistoryFile() = %q, want %q", got, want)
	}
}

// engine is an engine that answers every cell with "ok".
type engine struct{}

func (engine) Execute(context.Context, cellio.Cell) cellio.Outcome {
	b := cellio.Bundle{Data: map[string]any{"text/plain": "ok"}}
	return cellio.Outcome{Value: &b}
}
func (engine) Complete(string, int) cellio.Completion         { return cellio.Completion{} }
func (engine) Inspect(string, int, int) (cellio.Bundle, bool) { return cellio.Bundle{}, false }
func (engine) IsComplete(string) (string, string)             { return "complete", "" }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestRun checks that Run serves a connection file that init did not serve
// (the tests' arguments are not a kernel's), builds the engine it is given,
// and returns nil after a shutdown_request.
func TestRun(t *testing.T) {
	ports, err := testenv.FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	conn := kernel.ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: ports[0], IOPubPort: ports[1],
		StdinPort: ports[2], ControlPort: ports[3], HBPort: ports[4], SignatureScheme: "hmac-sha256", Key: "k"}
	file := testenv.ConnectionFile(t, conn)
	t.Setenv("GOCVX_HISTORY_FILE", "")
	var logs lockedBuffer
	done := make(chan error, 1)
	go func() { done <- Run(file, func() (kernel.Engine, error) { return engine{}, nil }, &logs) }()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	shell := zmq4.NewDealer(ctx)
	defer shell.Close()
	deadline := time.Now().Add(20 * time.Second)
	for shell.Dial(fmt.Sprintf("tcp://127.0.0.1:%d", conn.ShellPort)) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the kernel does not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}
	request := func(msgType, content string) kernel.Message {
		t.Helper()
		m := kernel.Message{Header: kernel.Header{MsgID: msgType, Session: "s", MsgType: msgType, Version: kernel.ProtocolVersion}, Content: []byte(content)}
		frames, err := kernel.Encode(m, []byte(conn.Key))
		if err != nil {
			t.Fatal(err)
		}
		if err := shell.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
			t.Fatal(err)
		}
		raw, err := shell.Recv()
		if err != nil {
			t.Fatal(err)
		}
		r, err := kernel.Decode(raw.Frames, []byte(conn.Key))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := request("execute_request", `{"code":"x"}`); r.Header.MsgType != "execute_reply" || !bytes.Contains(r.Content, []byte(`"status":"ok"`)) {
		t.Fatalf("execute: %s %s", r.Header.MsgType, r.Content)
	}
	if r := request("shutdown_request", `{"restart":false}`); r.Header.MsgType != "shutdown_reply" {
		t.Fatalf("shutdown: %s", r.Header.MsgType)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil after a shutdown request", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after a shutdown request")
	}
}
