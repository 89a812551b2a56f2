package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"sync"
	"testing"
)

// recorder is a replyWriter that keeps what a handler sends, as
// httptest.ResponseRecorder keeps an HTTP response: every message as its type and
// its content encoded to JSON and decoded again, the form a client receives.
type recorder struct {
	t *testing.T

	mu        sync.Mutex
	replies   []sent
	published []sent
	lines     []string // what readLine returns, one per call
	prompts   []string // the prompts readLine was called with
}

// sent is one message a handler sent.
type sent struct {
	msgType string
	content map[string]any
}

func newRecorder(t *testing.T, lines ...string) *recorder {
	return &recorder{t: t, lines: lines}
}

func (r *recorder) record(list *[]sent, msgType string, content any) {
	b, err := json.Marshal(content)
	if err != nil {
		r.t.Errorf("%s: content does not encode: %v", msgType, err)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		r.t.Errorf("%s: content is not a JSON object: %s", msgType, b)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	*list = append(*list, sent{msgType, m})
}

func (r *recorder) reply(msgType string, content any) { r.record(&r.replies, msgType, content) }

func (r *recorder) publish(msgType string, content any) { r.record(&r.published, msgType, content) }

func (r *recorder) readLine(ctx context.Context, prompt string, password bool) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prompts = append(r.prompts, prompt)
	if len(r.lines) == 0 {
		return "", errInterrupted
	}
	line := r.lines[0]
	r.lines = r.lines[1:]
	return line, nil
}

// theReply returns the only reply, failing the test unless there is exactly one of
// type msgType.
func (r *recorder) theReply(msgType string) map[string]any {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.replies) != 1 || r.replies[0].msgType != msgType {
		r.t.Fatalf("replies = %v, want one %s", r.replies, msgType)
	}
	return r.replies[0].content
}

// types returns the types of the published messages, in order; a status is named by
// its state ("busy", "idle").
func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ts []string
	for _, m := range r.published {
		if m.msgType == "status" {
			ts = append(ts, m.content["execution_state"].(string))
		} else {
			ts = append(ts, m.msgType)
		}
	}
	return ts
}

// the returns the content of the only published message of type msgType.
func (r *recorder) the(msgType string) map[string]any {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var found []map[string]any
	for _, m := range r.published {
		if m.msgType == msgType {
			found = append(found, m.content)
		}
	}
	if len(found) != 1 {
		r.t.Fatalf("published %d %s, want 1: %v", len(found), msgType, r.published)
	}
	return found[0]
}

// testState returns the handlers' state of a kernel serving engine e, with the
// history in memory and the log kept in logs; stopped is closed by a shutdown.
func testState(t *testing.T, e Engine) (st *state, logs *bytes.Buffer, stopped chan struct{}) {
	t.Helper()
	logs = &bytes.Buffer{}
	stopped = make(chan struct{})
	st = &state{
		version: "test",
		banner:  "gocvx test",
		conn:    ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: 1, IOPubPort: 2, StdinPort: 3, ControlPort: 4, HBPort: 5},
		log:     log.New(lockedWriter{&sync.Mutex{}, logs}, "", 0),
		history: newHistory(),
		stop:    sync.OnceFunc(func() { close(stopped) }),
		execs:   make(chan queued, 16),
		ready:   make(chan struct{}),
		engine:  e,
	}
	close(st.ready)
	return st, logs, stopped
}

// request returns a request of type msgType with the given JSON content.
func request(msgType, content string) *Message {
	return &Message{Header: newHeader(msgType, "test-session"), Content: []byte(content)}
}
