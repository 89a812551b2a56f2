package kernel

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// history is the kernel's record of the cells it executed with store_history. With
// a file, it persists across kernel sessions as IPython's does: each session gets
// the number after the highest one recorded, and tail and search requests see the
// earlier sessions too.
type history struct {
	mu      sync.Mutex
	session int            // this session's number
	entries []historyEntry // the last maxHistoryEntries of earlier sessions, then this one's
	file    *os.File       // nil: in memory only
	pending []byte         // records added but not yet written to file (see flush)
	log     *log.Logger
	failed  bool        // a write to file failed (logged once)
	timer   *time.Timer // the write that flushSoon scheduled; nil: none
}

// historyDelay is how long the record of an executed cell waits before it is
// written to the history file (flushSoon): the write is off the path of the cell's
// reply and statuses, and one write takes the records of all the cells executed
// meanwhile. A kernel killed without a chance to close its history loses at most
// the records of this last spell, as IPython's history, written by a thread of its
// own, may.
const historyDelay = 100 * time.Millisecond

type historyEntry struct {
	session, line int
	input         string
	output        *string // text/plain of the execute_result, if any
}

// historyRecord is an entry as the history file stores it, one JSON object a line.
type historyRecord struct {
	Session int     `json:"session"`
	Line    int     `json:"line"`
	Input   string  `json:"input"`
	Output  *string `json:"output,omitempty"`
}

// Bounds of what a history file contributes: the entries kept in memory, and the
// tail of the file read at startup.
const (
	maxHistoryEntries = 10000
	maxHistoryRead    = 16 << 20
)

// newHistory returns a history kept in memory only: session 1.
func newHistory() *history { return &history{session: 1, log: log.New(io.Discard, "", 0)} }

// openHistory opens (creating it 0600, and its folder 0700) the history file at
// path, loads the last of its entries and starts a new session in it. Lines that do
// not parse are skipped. The file is locked while the session number is chosen and
// recorded, so that kernels starting together get different numbers.
func openHistory(path string, logger *log.Logger) (*history, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	unlock, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	defer unlock()
	h := &history{file: f, log: logger}
	if err := h.load(f); err != nil {
		f.Close()
		return nil, err
	}
	h.session++
	// A record of the session's start, with no input: it reserves the number.
	if err := h.write(historyRecord{Session: h.session}); err != nil {
		f.Close()
		return nil, err
	}
	return h, nil
}

// load reads the entries of the file's last maxHistoryRead bytes and sets session
// to the highest session number found.
func (h *history) load(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	from := max(0, st.Size()-maxHistoryRead)
	sc := bufio.NewScanner(io.NewSectionReader(f, from, st.Size()-from))
	sc.Buffer(make([]byte, 0, 64<<10), maxHistoryRead)
	first := from > 0 // the first line read may be cut
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		var r historyRecord
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.Session <= 0 {
			continue
		}
		h.session = max(h.session, r.Session)
		if r.Line > 0 {
			h.entries = append(h.entries, historyEntry{r.Session, r.Line, r.Input, r.Output})
		}
	}
	if len(h.entries) > maxHistoryEntries {
		h.entries = slices.Clone(h.entries[len(h.entries)-maxHistoryEntries:])
	}
	return sc.Err()
}

func (h *history) write(r historyRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = h.file.Write(append(b, '\n'))
	return err
}

// flushSoon schedules flush historyDelay from now, unless it is scheduled already.
func (h *history) flushSoon() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.file == nil || len(h.pending) == 0 || h.timer != nil {
		return
	}
	h.timer = time.AfterFunc(historyDelay, h.flush)
}

// flush writes the records added since the last flush to the file, with one
// write (appended whole: the file is opened with O_APPEND). It does not sync:
// the kernel's history needs no more durability than IPython's.
func (h *history) flush() {
	defer trace.StartRegion(context.Background(), "kernel.history").End()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.timer = nil
	h.flushLocked()
}

func (h *history) flushLocked() {
	if h.file == nil || len(h.pending) == 0 {
		return
	}
	_, err := h.file.Write(h.pending)
	h.pending = h.pending[:0]
	if err != nil && !h.failed {
		h.failed = true
		h.log.Printf("history: %v (the history of this session is kept in memory only)", err)
	}
}

// close writes what is pending and closes the history file.
func (h *history) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.timer != nil {
		h.timer.Stop()
		h.timer = nil
	}
	h.flushLocked()
	if h.file != nil {
		h.file.Close()
		h.file = nil
	}
}

// maxHistoryOutput bounds the text of a result kept in the history: a session of
// thousands of cells with large results (a printed matrix) must not keep them all.
// The notebook keeps the outputs; the history, like IPython's, is for inputs.
const maxHistoryOutput = 4 << 10

// add records an executed cell in memory; flush writes it to the file.
func (h *history) add(line int, input string, output *string) {
	if output != nil && len(*output) > maxHistoryOutput {
		cut := maxHistoryOutput
		for cut > 0 && !utf8.RuneStart((*output)[cut]) {
			cut--
		}
		short := (*output)[:cut] + "…"
		output = &short
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.entries = append(h.entries, historyEntry{h.session, line, input, output})
	if len(h.entries) > 2*maxHistoryEntries {
		h.entries = slices.Clone(h.entries[len(h.entries)-maxHistoryEntries:])
	}
	if h.file != nil {
		b, err := json.Marshal(historyRecord{h.session, line, input, output})
		if err != nil { // cannot happen: strings and ints
			return
		}
		h.pending = append(append(h.pending, b...), '\n')
	}
}

// historyRequest is the content of history_request.
type historyRequestContent struct {
	Output         bool   `json:"output"`
	Raw            bool   `json:"raw"`
	HistAccessType string `json:"hist_access_type"`
	Session        int    `json:"session"`
	Start          int    `json:"start"`
	Stop           *int   `json:"stop"`
	N              *int   `json:"n"`
	Pattern        string `json:"pattern"`
	Unique         bool   `json:"unique"`
}

// query returns the entries that r asks for, oldest first.
func (h *history) query(r historyRequestContent) []historyEntry {
	h.mu.Lock()
	all := append([]historyEntry(nil), h.entries...)
	h.mu.Unlock()
	var out []historyEntry
	switch r.HistAccessType {
	case "tail":
		out = all
		if r.N != nil && *r.N >= 0 && *r.N < len(out) {
			out = out[len(out)-*r.N:]
		}
	case "range":
		// Session 0 is this one, negative sessions count back from it.
		session := r.Session
		if session <= 0 {
			session += h.session
		}
		for _, e := range all {
			if e.session == session && e.line >= r.Start && (r.Stop == nil || *r.Stop <= 0 || e.line < *r.Stop) {
				out = append(out, e)
			}
		}
	case "search":
		pattern := r.Pattern
		if pattern == "" {
			pattern = "*"
		}
		re := globRegexp(pattern)
		for _, e := range all {
			if re.MatchString(e.input) {
				out = append(out, e)
			}
		}
		if r.Unique {
			seen := map[string]bool{}
			var uniq []historyEntry
			for i := len(out) - 1; i >= 0; i-- { // keep the latest of each input
				if !seen[out[i].input] {
					seen[out[i].input] = true
					uniq = append(uniq, out[i])
				}
			}
			for i, j := 0, len(uniq)-1; i < j; i, j = i+1, j-1 {
				uniq[i], uniq[j] = uniq[j], uniq[i]
			}
			out = uniq
		}
		if r.N != nil && *r.N > 0 && *r.N < len(out) {
			out = out[len(out)-*r.N:]
		}
	}
	return out
}

// globRegexp compiles a glob pattern as SQLite's GLOB reads it (and so IPython's
// history search): * any text, ? one character, [...] a class ([!...] negated), the
// whole input matched.
func globRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	rs := []rune(glob)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i + 1
			if j < len(rs) && (rs[j] == '!' || rs[j] == '^') {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) { // no closing bracket: a literal [
				b.WriteString(`\[`)
				continue
			}
			class := rs[i+1 : j]
			b.WriteByte('[')
			if len(class) > 0 && (class[0] == '!' || class[0] == '^') {
				b.WriteByte('^')
				class = class[1:]
			}
			for _, r := range class {
				if r == '\\' || r == '[' || r == ']' || r == '^' {
					b.WriteByte('\\')
				}
				b.WriteRune(r)
			}
			b.WriteByte(']')
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil { // cannot happen for the patterns built above; match nothing
		return regexp.MustCompile(`^\b\B$`)
	}
	return re
}
