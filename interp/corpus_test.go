package interp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/display"
)

// The cell corpus: testdata/cells/*.txtar, one file per behaviour, each holding
// one or more cases. A case is a fresh session and a sequence of cells; each
// cell is followed by what it must produce. Sections:
//
//	-- case: name --            starts a new case (optional for the first)
//	-- nocapture --             (before the case's first cell) run the case's
//	                            session without Options.CaptureOutput
//	-- cell --                  a cell's code; options: "-- cell interrupt=200ms --",
//	                            "after=TEXT" (the interrupt's delay starts once the
//	                            cell's stdout contains TEXT, so that a loaded machine
//	                            cannot interrupt before the cell got there; without
//	                            it, once the cell's code starts running),
//	                            "abandon=300ms" (how long an interrupted cell has to stop)
//	-- stdin --                 lines the cell reads (Input); absent: end of file
//	-- stdout -- / -- stderr -- everything the cell printed to that stream
//	-- stdout~ -- / -- stderr~ --  the same, as a regular expression (whole text)
//	-- result --                the execute_result's text/plain
//	-- result~ --               the same, as a regular expression
//	-- result.MIME --           the execute_result's payload of that MIME type
//	-- result.MIME~ --          the same, as a regular expression
//	-- error --                 "Name: Value" of the cell's error
//	-- error~ --                the same, as a regular expression
//	-- traceback --             lines that the traceback contains, in order
//	-- frames --                the traceback's frames, exactly (its lines after the first)
//	-- display --               the rich outputs, one line each (see eventLine)
//	-- page --                  text that the pager payload's text/plain contains
//	-- events --                streams (by line) and rich outputs, in their order
//	                            (it stands for the stdout and stderr sections)
//	-- stdout.bytes --          the length of stdout
//
// What a cell does not mention must not happen: no section for stdout means the
// cell printed nothing, no result section means no execute_result, and so on.
//
// File descriptors 1 and 2 are captured while a case runs, as in the kernel; the
// test reports only after the session is closed.

type expectCell struct {
	code      string
	opts      map[string]string
	stdin     []string
	expect    map[string]string
	line      int // for messages: the section's index in the file
	hasStdin  bool
	interrupt time.Duration
	abandon   time.Duration
}

type corpusCase struct {
	file, name string
	cells      []*expectCell
	nocapture  bool
}

func loadCorpus(t *testing.T) []*corpusCase {
	files, err := filepath.Glob("testdata/cells/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var cases []*corpusCase
	for _, f := range files {
		ar, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(filepath.Base(f), ".txtar")
		var cur *corpusCase
		var cell *expectCell
		for i, sec := range ar.Files {
			name, opts := parseSectionName(sec.Name)
			data := string(sec.Data)
			switch {
			case strings.HasPrefix(name, "case:"):
				cur = &corpusCase{file: base, name: strings.TrimSpace(strings.TrimPrefix(name, "case:"))}
				cases = append(cases, cur)
				cell = nil
			case name == "cell":
				if cur == nil {
					cur = &corpusCase{file: base, name: base}
					cases = append(cases, cur)
				}
				cell = &expectCell{code: data, opts: opts, expect: map[string]string{}, line: i}
				for k, dst := range map[string]*time.Duration{"interrupt": &cell.interrupt, "abandon": &cell.abandon} {
					if d, ok := opts[k]; ok {
						*dst, err = time.ParseDuration(d)
						if err != nil {
							t.Fatalf("%s: section %d: %v", f, i, err)
						}
					}
				}
				cur.cells = append(cur.cells, cell)
			case name == "nocapture" && cur != nil && cell == nil:
				cur.nocapture = true
			case cell == nil:
				t.Fatalf("%s: section %q before any cell", f, sec.Name)
			case name == "stdin":
				cell.hasStdin = true
				cell.stdin = strings.Split(strings.TrimSuffix(data, "\n"), "\n")
			default:
				if _, dup := cell.expect[name]; dup {
					t.Fatalf("%s: section %d: duplicate %q", f, i, name)
				}
				cell.expect[name] = data
			}
		}
	}
	return cases
}

func parseSectionName(s string) (string, map[string]string) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return "", nil
	}
	if strings.HasPrefix(fields[0], "case:") {
		return s, nil
	}
	opts := map[string]string{}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		opts[k] = v
	}
	return fields[0], opts
}

// recorder is the Output of a test cell.
type recorder struct {
	mu     sync.Mutex
	stdout strings.Builder
	stderr strings.Builder
	events []string // rich outputs
	all    []string // streams and rich outputs in order, streams merged per line
	msgs   int
}

func (r *recorder) Stream(name, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs++
	for _, l := range strings.SplitAfter(text, "\n") {
		if l == "" {
			continue
		}
		if n := len(r.all); n > 0 && strings.HasPrefix(r.all[n-1], name+": ") && !strings.HasSuffix(r.all[n-1], "\n") {
			r.all[n-1] += l
		} else {
			r.all = append(r.all, name+": "+l)
		}
	}
	if name == "stdout" {
		r.stdout.WriteString(text)
	} else {
		r.stderr.WriteString(text)
	}
}

func (r *recorder) Display(b display.Bundle, id string, update bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, eventLine(b, id, update))
	r.all = append(r.all, eventLine(b, id, update)+"\n")
}

func (r *recorder) Clear(wait bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("clear wait=%v", wait))
	r.all = append(r.all, fmt.Sprintf("clear wait=%v\n", wait))
}

// eventLine describes a rich output: "display text/html,text/plain: <b>hi</b>"
// with the richest textual payload, or "update ..." for an update.
func eventLine(b display.Bundle, id string, update bool) string {
	var mimes []string
	for m := range b.Data {
		mimes = append(mimes, m)
	}
	sort.Strings(mimes)
	kind := "display"
	if update {
		kind = "update"
	}
	payload := ""
	for _, m := range []string{"text/html", "text/markdown", "text/latex", "text/plain"} {
		if v, ok := b.Data[m].(string); ok {
			payload = v
			break
		}
	}
	payload = strings.ReplaceAll(strings.TrimSpace(payload), "\n", `\n`)
	if id != "" {
		kind += " id"
	}
	return fmt.Sprintf("%s %s: %s", kind, strings.Join(mimes, ","), payload)
}

type lines []string

func (l *lines) ReadLine(prompt string, password bool) (string, error) {
	if len(*l) == 0 {
		return "", fmt.Errorf("no more input")
	}
	s := (*l)[0]
	*l = (*l)[1:]
	return s, nil
}

func TestCorpus(t *testing.T) {
	for _, c := range loadCorpus(t) {
		t.Run(c.file+"/"+c.name, func(t *testing.T) {
			for _, msg := range runCase(c) {
				t.Error(msg)
			}
		})
	}
}

// runCase runs a case with output captured and returns its failures; it must
// not call into testing while the descriptors are captured.
func runCase(c *corpusCase) (fails []string) {
	s, err := New(Options{CaptureOutput: os.Getenv("GOCVX_NOCAPTURE") == "" && !c.nocapture})
	if err != nil {
		return []string{err.Error()}
	}
	defer func() {
		if r := recover(); r != nil {
			s.Close()
			fails = append(fails, fmt.Sprintf("panic: %v", r))
		}
	}()
	for i, cell := range c.cells {
		rec := &recorder{}
		ctx, cancel := context.WithCancel(context.Background())
		if cell.interrupt > 0 {
			interruptAfter(ctx, s, rec, cell.opts["after"], cell.interrupt, cancel)
		}
		s.abandonAfter = abandonAfter
		if cell.abandon > 0 {
			s.abandonAfter = cell.abandon
		}
		cl := cellio.Cell{Code: cell.code, Number: i + 1, Output: rec}
		if cell.hasStdin {
			in := lines(append([]string(nil), cell.stdin...))
			cl.Input = &in
		}
		out := s.Execute(ctx, cl)
		cancel()
		fails = append(fails, checkCell(i+1, cell, rec, out)...)
	}
	s.Close()
	return fails
}

// interruptAfter calls cancel delay after the cell's code started running (the
// cell function was entered), or, with text, after the cell's stdout first
// contains text: a delay counted from the call of Execute would, on a loaded
// machine (the race detector, other packages' tests), run out while the cell is
// still compiled, and interrupt it before it got to what the case is about. It
// gives up when ctx ends first.
func interruptAfter(ctx context.Context, s *Session, rec *recorder, text string, delay time.Duration, cancel func()) {
	started := func() bool {
		if text != "" {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			return strings.Contains(rec.stdout.String(), text)
		}
		rs := &s.runState
		rs.mu.Lock()
		defer rs.mu.Unlock()
		return rs.active && rs.entered
	}
	go func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for !started() {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		time.AfterFunc(delay, cancel)
	}()
}

func checkCell(n int, cell *expectCell, rec *recorder, out cellio.Outcome) []string {
	var fails []string
	fail := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		fails = append(fails, fmt.Sprintf("cell %d (section %d): ", n, cell.line)+msg)
	}
	got := map[string]string{
		"stdout": rec.stdout.String(),
		"stderr": rec.stderr.String(),
	}
	if out.Value != nil {
		got["result"] = fmt.Sprint(out.Value.Data["text/plain"])
		for m, v := range out.Value.Data {
			got["result."+m] = fmt.Sprint(v)
		}
	}
	if out.Error != nil {
		got["error"] = out.Error.Name + ": " + out.Error.Value
		got["traceback"] = strings.Join(out.Error.Traceback, "\n")
		if out.Error.Traceback == nil {
			fail("traceback is nil")
		}
	}
	if out.Page != nil {
		got["page"] = fmt.Sprint(out.Page.Data["text/plain"])
	}
	if len(rec.events) > 0 {
		got["display"] = strings.Join(rec.events, "\n")
	}
	if want, ok := cell.expect["stdout.bytes"]; ok {
		if g := strconv.Itoa(len(got["stdout"])); g != strings.TrimSpace(want) {
			fail("stdout has %s bytes, want %s", g, strings.TrimSpace(want))
		}
	}
	if want, ok := cell.expect["events"]; ok {
		if g := strings.Join(rec.all, ""); strings.TrimSuffix(g, "\n") != strings.TrimSuffix(want, "\n") {
			fail("events = %q, want %q", g, want)
		}
	}
	compare := func(key string) {
		want, hasWant := cell.expect[key]
		wantRe, hasRe := cell.expect[key+"~"]
		g, has := got[key]
		switch {
		case hasRe:
			re, err := regexp.Compile("^(?s:" + strings.TrimSuffix(wantRe, "\n") + ")$")
			if err != nil {
				fail("bad %s~: %v", key, err)
				return
			}
			if !re.MatchString(strings.TrimSuffix(g, "\n")) {
				fail("%s = %q, want match for %q", key, g, wantRe)
			}
		case hasWant:
			if strings.TrimSuffix(g, "\n") != strings.TrimSuffix(want, "\n") {
				fail("%s = %q, want %q", key, g, want)
			}
		case has && g != "":
			fail("unexpected %s: %q", key, g)
		}
	}
	for _, k := range []string{"stdout", "stderr", "result", "error", "display"} {
		_, events := cell.expect["events"]
		_, want := cell.expect[k]
		_, wantRe := cell.expect[k+"~"]
		if events && (k == "stdout" || k == "stderr") && !want && !wantRe {
			continue // the events say what the streams hold, in order
		}
		compare(k)
	}
	for k, want := range cell.expect {
		switch {
		case strings.HasPrefix(k, "result.") && strings.HasSuffix(k, "~"):
			g := got[strings.TrimSuffix(k, "~")]
			re, err := regexp.Compile("^(?s:" + strings.TrimSuffix(want, "\n") + ")$")
			if err != nil {
				fail("bad %s: %v", k, err)
			} else if !re.MatchString(g) {
				fail("%s = %q, want match for %q", k, g, want)
			}
		case strings.HasPrefix(k, "result."):
			if got[k] != strings.TrimSuffix(want, "\n") {
				fail("%s = %q, want %q", k, got[k], want)
			}
		case k == "traceback":
			at := 0
			tb := got["traceback"]
			for _, l := range strings.Split(strings.TrimSuffix(want, "\n"), "\n") {
				i := strings.Index(tb[at:], l)
				if i < 0 {
					fail("traceback %q lacks %q (in order)", tb, l)
					break
				}
				at += i + len(l)
			}
		case k == "frames":
			tb := out.Error
			var got []string
			if tb != nil && len(tb.Traceback) > 0 {
				for _, l := range tb.Traceback[1:] {
					got = append(got, strings.TrimSpace(l))
				}
			}
			if g, w := strings.Join(got, "\n"), strings.TrimSuffix(want, "\n"); g != w {
				fail("frames:\n%s\nwant:\n%s", g, w)
			}
		case k == "page":
			if !strings.Contains(got["page"], strings.TrimSuffix(want, "\n")) {
				fail("page %q lacks %q", got["page"], want)
			}
		}
	}
	return fails
}

// corpusSections are the expectation sections that checkCell reads; a section of
// another name (a typo such as "-- stdot --") would be ignored, and the cell's
// expectation with it.
var corpusSections = regexp.MustCompile(`^(stdout|stderr|result|error|display)~?$|^result\.[a-z]+/[-+.a-z0-9]+~?$|^(traceback|frames|page|events|stdout\.bytes)$`)

// TestCorpusWellFormed checks the corpus files themselves: every file holds at
// least one case, every case at least one cell, case names are unique (so that
// -run selects one), and every section is one that the corpus test checks.
func TestCorpusWellFormed(t *testing.T) {
	files, err := filepath.Glob("testdata/cells/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	cases := loadCorpus(t)
	perFile := map[string]int{}
	names := map[string]bool{}
	for _, c := range cases {
		perFile[c.file]++
		name := c.file + "/" + c.name
		if names[name] {
			t.Errorf("case %s appears twice", name)
		}
		names[name] = true
		if len(c.cells) == 0 {
			t.Errorf("case %s has no cell", name)
		}
		for i, cell := range c.cells {
			for k := range cell.expect {
				if !corpusSections.MatchString(k) {
					t.Errorf("case %s, cell %d: section %q is not one the corpus test checks", name, i+1, k)
				}
			}
		}
	}
	for _, f := range files {
		if base := strings.TrimSuffix(filepath.Base(f), ".txtar"); perFile[base] == 0 {
			t.Errorf("%s holds no case", f)
		}
	}
}
