package kernel

import (
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// historySession is the session number of the kernel's history. History is kept in
// memory for the life of the kernel process only, so there is one session.
const historySession = 1

// history is the kernel's record of the cells it executed with store_history.
type history struct {
	mu      sync.Mutex
	entries []historyEntry
}

type historyEntry struct {
	line   int
	input  string
	output *string // text/plain of the execute_result, if any
}

func newHistory() *history { return &history{} }

// maxHistoryOutput bounds the text of a result kept in the history: a session of
// thousands of cells with large results (a printed matrix) must not keep them all.
// The notebook keeps the outputs; the history, like IPython's, is for inputs.
const maxHistoryOutput = 4 << 10

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
	h.entries = append(h.entries, historyEntry{line, input, output})
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
		// Session 0 and negative sessions (relative to the current one) all name
		// the only session there is.
		if r.Session > 0 && r.Session != historySession {
			return nil
		}
		for _, e := range all {
			if e.line >= r.Start && (r.Stop == nil || *r.Stop <= 0 || e.line < *r.Stop) {
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

func historyRequest(w *replyWriter, req *Message) {
	var r historyRequestContent
	if !w.decode(&r) {
		w.reply("history_reply", map[string]any{"status": "ok", "history": []any{}})
		return
	}
	list := []any{}
	for _, e := range w.s.history.query(r) {
		if r.Output {
			var out any
			if e.output != nil {
				out = *e.output
			}
			list = append(list, []any{historySession, e.line, []any{e.input, out}})
		} else {
			list = append(list, []any{historySession, e.line, e.input})
		}
	}
	w.reply("history_reply", map[string]any{"status": "ok", "history": list})
}
