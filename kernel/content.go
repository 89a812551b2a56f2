package kernel

import (
	"encoding/json"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/kernel/early"
)

// The contents of the messages the kernel sends, typed: the replies on shell and
// control, and what it publishes on iopub and asks on stdin (messaging protocol 5.4).
// Every field Jupyter requires is always encoded; JSON objects encode as {} when nil.

// jsonObject is a JSON object that encodes as {} when nil, as Jupyter requires of
// data, metadata and the like (a nil map would encode as null).
type jsonObject map[string]any

func (m jsonObject) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]any(m))
}

// withText returns the data of b, with an empty "text/plain" added when it has none
// (execute_result and the pager require one); b itself is not changed.
func withText(b cellio.Bundle) jsonObject {
	if _, ok := b.Data["text/plain"]; ok {
		return b.Data
	}
	data := make(jsonObject, len(b.Data)+1)
	for k, v := range b.Data {
		data[k] = v
	}
	data["text/plain"] = ""
	return data
}

// nonNil returns s, or an empty slice for nil (which would encode as null).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Replies.

type kernelInfoReply = early.KernelInfoReply

// executeReply is the execute_reply of a cell that ran (status "ok").
type executeReply struct {
	Status          string         `json:"status"`
	ExecutionCount  int            `json:"execution_count"`
	Payload         []pagePayload  `json:"payload"`
	UserExpressions map[string]any `json:"user_expressions"` // userExpressionValue or userExpressionError
}

// pagePayload is the execute_reply payload that shows help in the pager.
type pagePayload struct {
	Source string     `json:"source"` // "page"
	Data   jsonObject `json:"data"`
	Start  int        `json:"start"`
}

// userExpressionValue is the value of a user expression that evaluated.
type userExpressionValue struct {
	Status   string     `json:"status"` // "ok"
	Data     jsonObject `json:"data"`
	Metadata jsonObject `json:"metadata"`
}

// userExpressionError is the error of a user expression that failed.
type userExpressionError struct {
	Status    string   `json:"status"` // "error"
	EName     string   `json:"ename"`
	EValue    string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

// errorReply is the reply to a request that failed (status "error"): a cell's error,
// or a kernel that failed while handling the request.
type errorReply struct {
	Status         string   `json:"status"` // "error"
	EName          string   `json:"ename"`
	EValue         string   `json:"evalue"`
	Traceback      []string `json:"traceback"`
	ExecutionCount int      `json:"execution_count"`
}

func newErrorReply(e *cellio.Error, n int) errorReply {
	return errorReply{Status: "error", EName: e.Name, EValue: e.Value, Traceback: nonNil(e.Traceback), ExecutionCount: n}
}

// abortedReply answers an execute request that was dropped after an earlier cell failed.
type abortedReply struct {
	Status         string `json:"status"` // "aborted"
	ExecutionCount int    `json:"execution_count"`
}

type isCompleteReply struct {
	Status string `json:"status"`
	Indent string `json:"indent,omitempty"` // for "incomplete"
}

type completeReply struct {
	Status      string     `json:"status"`
	Matches     []string   `json:"matches"`
	CursorStart int        `json:"cursor_start"`
	CursorEnd   int        `json:"cursor_end"`
	Metadata    jsonObject `json:"metadata"`
}

type inspectReply struct {
	Status   string     `json:"status"`
	Found    bool       `json:"found"`
	Data     jsonObject `json:"data"`
	Metadata jsonObject `json:"metadata"`
}

// historyReply lists entries as [session, line, input] or, with outputs,
// [session, line, [input, output]] (output null when the cell had none).
type historyReply struct {
	Status  string  `json:"status"`
	History [][]any `json:"history"`
}

type commInfoReply struct {
	Status string     `json:"status"`
	Comms  jsonObject `json:"comms"`
}

type shutdownReply struct {
	Status  string `json:"status"`
	Restart bool   `json:"restart"`
}

type statusReply struct {
	Status string `json:"status"`
}

type connectReply struct {
	Status      string `json:"status"`
	ShellPort   int    `json:"shell_port"`
	IOPubPort   int    `json:"iopub_port"`
	StdinPort   int    `json:"stdin_port"`
	HBPort      int    `json:"hb_port"`
	ControlPort int    `json:"control_port"`
}

// iopub and stdin.

type kernelStatus struct {
	ExecutionState string `json:"execution_state"` // "starting", "busy" or "idle"
}

type executeInput struct {
	Code           string `json:"code"`
	ExecutionCount int    `json:"execution_count"`
}

type stream struct {
	Name string `json:"name"` // "stdout" or "stderr"
	Text string `json:"text"`
}

// displayData is the content of display_data and update_display_data.
type displayData struct {
	Data      jsonObject `json:"data"`
	Metadata  jsonObject `json:"metadata"`
	Transient transient  `json:"transient"`
}

type transient struct {
	DisplayID string `json:"display_id,omitempty"`
}

type executeResult struct {
	ExecutionCount int        `json:"execution_count"`
	Data           jsonObject `json:"data"`
	Metadata       jsonObject `json:"metadata"`
}

// errorOutput is the error message published on iopub.
type errorOutput struct {
	EName     string   `json:"ename"`
	EValue    string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

type clearOutput struct {
	Wait bool `json:"wait"`
}

type inputRequest struct {
	Prompt   string `json:"prompt"`
	Password bool   `json:"password"`
}
