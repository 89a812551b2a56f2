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
	"hash"
	"strings"
	"sync"
	"unicode/utf8"
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
	if err := decodeHeader(parts[0], &m.Header); err != nil {
		return m, fmt.Errorf("kernel: bad header: %w", err)
	}
	if m.Header.MsgType == "" {
		return m, errors.New("kernel: header has no msg_type")
	}
	var parent Header
	if err := decodeHeader(parts[1], &parent); err != nil {
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

// encodeHeader is json.Marshal(h), without reflection: the same bytes.
func encodeHeader(h *Header) []byte {
	b := make([]byte, 0, 96+len(h.MsgID)+len(h.Session)+len(h.Username)+len(h.Date)+len(h.MsgType)+len(h.Version))
	for _, f := range [...]struct{ name, value string }{
		{`{"msg_id":`, h.MsgID}, {`,"session":`, h.Session}, {`,"username":`, h.Username},
		{`,"date":`, h.Date}, {`,"msg_type":`, h.MsgType}, {`,"version":`, h.Version},
	} {
		b = append(b, f.name...)
		b = appendString(b, f.value)
	}
	return append(b, '}')
}

// appendString appends s as json.Marshal writes it: as it is when no byte needs
// an escape, else through json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// decodeHeader is json.Unmarshal(b, h), without reflection for a header as
// clients write them: an object whose members are strings without escapes,
// under their exact names. Anything else goes to json.Unmarshal (which also
// matches names without regard to case), so the result is always the same.
func decodeHeader(b []byte, h *Header) error {
	if fastHeader(b, h) {
		return nil
	}
	*h = Header{}
	return json.Unmarshal(b, h)
}

// fastHeader decodes b into h and reports true, or reports false if b is not
// a header that it decodes as json.Unmarshal would.
func fastHeader(b []byte, h *Header) bool {
	var out Header
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		*h = out
		return skipSpace(b, i+1) == len(b)
	}
	for {
		key, j, ok := plainString(b, i)
		if !ok {
			return false
		}
		j = skipSpace(b, j)
		if j == len(b) || b[j] != ':' {
			return false
		}
		value, k, ok := plainString(b, skipSpace(b, j+1))
		if !ok {
			return false
		}
		switch key {
		case "msg_id":
			out.MsgID = value
		case "session":
			out.Session = value
		case "username":
			out.Username = value
		case "date":
			out.Date = value
		case "msg_type":
			out.MsgType = value
		case "version":
			out.Version = value
		default:
			for _, name := range [...]string{"msg_id", "session", "username", "date", "msg_type", "version"} {
				if strings.EqualFold(key, name) {
					return false // json.Unmarshal matches it
				}
			}
		}
		i = skipSpace(b, k)
		if i == len(b) {
			return false
		}
		switch b[i] {
		case '}':
			*h = out
			return skipSpace(b, i+1) == len(b)
		case ',':
			i = skipSpace(b, i+1)
		default:
			return false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads the JSON string at b[i:] if it has no escapes and is valid
// UTF-8 (json.Unmarshal replaces invalid bytes), and returns it and the index
// after it.
func plainString(b []byte, i int) (string, int, bool) {
	if i == len(b) || b[i] != '"' {
		return "", i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s := b[i+1 : j]
			return string(s), j + 1, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return "", j, false
		}
	}
	return "", len(b), false
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
	header := encodeHeader(&m.Header)
	parent := []byte("{}")
	if m.Parent != nil {
		parent = encodeHeader(m.Parent)
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
	m, _ := macs.Get().(*keyedMAC)
	if m == nil || m.key != string(key) {
		m = &keyedMAC{key: string(key), h: hmac.New(sha256.New, key)}
	} else {
		m.h.Reset()
	}
	for _, p := range parts {
		m.h.Write(p)
	}
	sum := m.h.Sum(nil)
	macs.Put(m)
	return sum
}

// macs holds HMACs with their keys for Sign to reuse: a new one hashes the key
// into its inner and outer pads, half of the cost of signing a short message.
var macs sync.Pool

type keyedMAC struct {
	key string
	h   hash.Hash
}
