// Package wire is the Jupyter wire format and the ZeroMQ framing that package kernel
// reads from its peers: pure functions and state machines over bytes, with no
// sockets, so that they are fuzzed cheaply (go test -fuzz builds only this package and
// the standard library). Package kernel re-exports Message, Header, Decode and Encode.
package wire

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Delimiter separates the routing identities from the message proper.
const Delimiter = "<IDS|MSG>"

var delimiter = []byte(Delimiter)

// Header is a message header.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// Message is one Jupyter message as it travels on a socket:
//
//	[identities…, "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers…]
//
// Parent is nil for a message that answers nothing (it encodes as {}). Metadata and
// Content are JSON objects; nil encodes as {}.
type Message struct {
	Identities [][]byte
	Header     Header
	Parent     *Header
	Metadata   json.RawMessage
	Content    json.RawMessage
	Buffers    [][]byte
}

// Errors returned by Decode.
var (
	ErrNoDelimiter  = errors.New("kernel: message has no <IDS|MSG> delimiter")
	ErrShort        = errors.New("kernel: message has fewer than 5 frames after the delimiter")
	ErrBadSignature = errors.New("kernel: message signature does not match")
)

// Decode parses the frames of a message received on a socket and checks its
// HMAC-SHA256 signature with key (an empty key means unsigned messages). It never
// panics: a malformed or badly signed message is an error.
func Decode(frames [][]byte, key []byte) (Message, error) {
	var m Message
	d := -1
	for i, f := range frames {
		if bytes.Equal(f, delimiter) {
			d = i
			break
		}
	}
	if d < 0 {
		return m, ErrNoDelimiter
	}
	rest := frames[d+1:]
	if len(rest) < 5 {
		return m, ErrShort
	}
	sig, parts := rest[0], rest[1:5]
	if len(key) > 0 {
		want := Sign(key, parts)
		got := make([]byte, hex.DecodedLen(len(sig)))
		n, err := hex.Decode(got, sig)
		if err != nil || !hmac.Equal(got[:n], want) {
			return m, ErrBadSignature
		}
	}
	if err := json.Unmarshal(parts[0], &m.Header); err != nil {
		return m, fmt.Errorf("kernel: bad header: %w", err)
	}
	if m.Header.MsgType == "" {
		return m, errors.New("kernel: header has no msg_type")
	}
	var parent Header
	if err := json.Unmarshal(parts[1], &parent); err != nil {
		return m, fmt.Errorf("kernel: bad parent header: %w", err)
	}
	if parent != (Header{}) {
		m.Parent = &parent
	}
	for i, dst := range []*json.RawMessage{&m.Metadata, &m.Content} {
		p := parts[2+i]
		if !isObject(p) {
			return m, fmt.Errorf("kernel: %s is not a JSON object", [...]string{"metadata", "content"}[i])
		}
		*dst = json.RawMessage(bytes.Clone(p))
	}
	if d > 0 {
		m.Identities = cloneFrames(frames[:d])
	}
	if len(rest) > 5 {
		m.Buffers = cloneFrames(rest[5:])
	}
	return m, nil
}

// isObject reports whether p is a valid JSON object.
func isObject(p []byte) bool {
	p = bytes.TrimSpace(p)
	return len(p) >= 2 && p[0] == '{' && json.Valid(p)
}

func cloneFrames(fs [][]byte) [][]byte {
	out := make([][]byte, len(fs))
	for i, f := range fs {
		out[i] = bytes.Clone(f)
	}
	return out
}

// Encode returns the frames of m, signed with key (an empty key means an empty
// signature).
func Encode(m Message, key []byte) ([][]byte, error) {
	header, err := json.Marshal(m.Header)
	if err != nil {
		return nil, err
	}
	parent := []byte("{}")
	if m.Parent != nil {
		if parent, err = json.Marshal(m.Parent); err != nil {
			return nil, err
		}
	}
	parts := [][]byte{header, parent, object(m.Metadata), object(m.Content)}
	for i, p := range parts[2:] {
		if !isObject(p) {
			return nil, fmt.Errorf("kernel: %s is not a JSON object", [...]string{"metadata", "content"}[i])
		}
	}
	var sig []byte
	if len(key) > 0 {
		sig = []byte(hex.EncodeToString(Sign(key, parts)))
	}
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, delimiter, sig)
	frames = append(frames, parts...)
	frames = append(frames, m.Buffers...)
	return frames, nil
}

func object(p json.RawMessage) []byte {
	if len(p) == 0 {
		return []byte("{}")
	}
	return p
}

// Sign returns the HMAC-SHA256 of the four JSON parts of a message.
func Sign(key []byte, parts [][]byte) []byte {
	mac := hmac.New(sha256.New, key)
	for _, p := range parts {
		mac.Write(p)
	}
	return mac.Sum(nil)
}
