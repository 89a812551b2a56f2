package kernel

import (
	"log"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		glob, s string
		want    bool
	}{
		{"6 ? 7", "6 * 7", true},
		{"6 ? 7", "6 ** 7", false},
		{"*", "", true},
		{"x*", "x := 1\ny", true},
		{"*Println*", "fmt.Println(1)", true},
		{"1+2", "1+2", true},
		{"1+2", "1 + 2", false},
		{"[ab]c", "bc", true},
		{"[!ab]c", "bc", false},
		{"[!ab]c", "zc", true},
		{"[a-c]", "b", true},
		{"a[", "a[", true},
		{"(.*)", "(.*)", true},
		{"(.*)", "(xx)", false},
	} {
		if got := globRegexp(c.glob).MatchString(c.s); got != c.want {
			t.Errorf("glob %q on %q = %v, want %v", c.glob, c.s, got, c.want)
		}
	}
}

func TestHistoryQuery(t *testing.T) {
	h := newHistory()
	out := "42"
	for i, code := range []string{"x := 21", "x * 2", "fmt.Println(x)", "x * 2", "y := 1"} {
		var o *string
		if code == "x * 2" {
			o = &out
		}
		h.add(i+1, code, o)
	}
	lines := func(es []historyEntry) []int {
		var ls []int
		for _, e := range es {
			ls = append(ls, e.line)
		}
		return ls
	}
	n := func(i int) *int { return &i }
	for _, c := range []struct {
		name string
		req  historyRequestContent
		want []int
	}{
		{"tail 2", historyRequestContent{HistAccessType: "tail", N: n(2)}, []int{4, 5}},
		{"tail all", historyRequestContent{HistAccessType: "tail", N: n(10)}, []int{1, 2, 3, 4, 5}},
		{"range 2..4", historyRequestContent{HistAccessType: "range", Session: 1, Start: 2, Stop: n(4)}, []int{2, 3}},
		{"range current session", historyRequestContent{HistAccessType: "range", Session: 0, Start: 4}, []int{4, 5}},
		{"range other session", historyRequestContent{HistAccessType: "range", Session: 7, Start: 1}, nil},
		{"search", historyRequestContent{HistAccessType: "search", Pattern: "x*"}, []int{1, 2, 4}},
		{"search unique", historyRequestContent{HistAccessType: "search", Pattern: "x ? 2", Unique: true}, []int{4}},
		{"search n", historyRequestContent{HistAccessType: "search", Pattern: "*", N: n(2)}, []int{4, 5}},
	} {
		if got := lines(h.query(c.req)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: lines %v, want %v", c.name, got, c.want)
		}
	}
}

// TestHistoryBoundsOutputs checks that a large result is kept shortened, at a
// character boundary.
func TestHistoryBoundsOutputs(t *testing.T) {
	h := newHistory()
	big := strings.Repeat("é", 1<<20) // 2 MB
	h.add(1, "m", &big)
	small := "42"
	h.add(2, "x", &small)
	e := h.query(historyRequestContent{HistAccessType: "tail"})
	if len(e) != 2 || e[1].output == nil || *e[1].output != "42" {
		t.Fatalf("entries %+v", e)
	}
	got := *e[0].output
	if len(got) > maxHistoryOutput+len("…") || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("stored %d bytes (valid UTF-8: %v), want at most %d ending in …", len(got), utf8.ValidString(got), maxHistoryOutput+3)
	}
}

// TestHistoryFile checks the history across sessions: numbers, what range, tail
// and search see, the file's modes, and that kernels opening it together get
// different session numbers.
func TestHistoryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gocvx", "history.jsonl")
	logger := log.New(os.Stderr, "", 0)
	one, err := openHistory(path, logger)
	if err != nil {
		t.Fatal(err)
	}
	out := "42"
	one.add(1, "x := 21", nil)
	one.add(2, "x * 2", &out)
	one.close()
	for name, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&^want != 0 {
			t.Errorf("%s has mode %v, want at most %v", name, st.Mode().Perm(), want)
		}
	}
	// A line that does not parse is skipped.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("not json\n")
	f.Close()

	two, err := openHistory(path, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer two.close()
	if two.session != one.session+1 {
		t.Fatalf("second session %d after %d", two.session, one.session)
	}
	two.add(1, "y := 2", nil)
	n := func(i int) *int { return &i }
	type got struct {
		session, line int
		input         string
	}
	entries := func(req historyRequestContent) []got {
		var g []got
		for _, e := range two.query(req) {
			g = append(g, got{e.session, e.line, e.input})
		}
		return g
	}
	s1, s2 := one.session, two.session
	for _, c := range []struct {
		name string
		req  historyRequestContent
		want []got
	}{
		{"tail spans sessions", historyRequestContent{HistAccessType: "tail", N: n(3)}, []got{{s1, 1, "x := 21"}, {s1, 2, "x * 2"}, {s2, 1, "y := 2"}}},
		{"range of this session", historyRequestContent{HistAccessType: "range", Session: 0, Start: 1}, []got{{s2, 1, "y := 2"}}},
		{"range of the previous one", historyRequestContent{HistAccessType: "range", Session: -1, Start: 2}, []got{{s1, 2, "x * 2"}}},
		{"range by number", historyRequestContent{HistAccessType: "range", Session: s1, Start: 1, Stop: n(2)}, []got{{s1, 1, "x := 21"}}},
		{"search", historyRequestContent{HistAccessType: "search", Pattern: "? := *"}, []got{{s1, 1, "x := 21"}, {s2, 1, "y := 2"}}},
	} {
		if g := entries(c.req); !reflect.DeepEqual(g, c.want) {
			t.Errorf("%s: %v, want %v", c.name, g, c.want)
		}
	}
	if e := two.query(historyRequestContent{HistAccessType: "range", Session: s1, Start: 2}); len(e) != 1 || e[0].output == nil || *e[0].output != "42" {
		t.Errorf("the output of an earlier session: %+v", e)
	}

	// Kernels starting together.
	var wg sync.WaitGroup
	sessions := make([]int, 8)
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := openHistory(path, logger)
			if err != nil {
				t.Error(err)
				return
			}
			sessions[i] = h.session
			h.close()
		}()
	}
	wg.Wait()
	seen := map[int]bool{}
	for _, s := range sessions {
		if seen[s] || s <= s2 {
			t.Errorf("session numbers %v after %d: not distinct and new", sessions, s2)
			break
		}
		seen[s] = true
	}
}

// TestHistoryFlushSoon checks that the records of cells reach the file after
// flushSoon, all of them, without close; and that close writes a record whose
// scheduled write has not run yet.
func TestHistoryFlushSoon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	logger := log.New(os.Stderr, "", 0)
	h, err := openHistory(path, logger)
	if err != nil {
		t.Fatal(err)
	}
	h.add(1, "a := 1", nil)
	h.flushSoon()
	h.add(2, "b := 2", nil)
	h.flushSoon()
	has := func(input string) bool {
		b, err := os.ReadFile(path)
		return err == nil && strings.Contains(string(b), `"input":"`+input+`"`)
	}
	for deadline := time.Now().Add(20 * time.Second); !(has("a := 1") && has("b := 2")) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !has("a := 1") || !has("b := 2") {
		t.Fatal("the records did not reach the file")
	}
	h.add(3, "c := 3", nil)
	h.flushSoon()
	h.close()
	if !has("c := 3") {
		t.Error("close did not write the pending record")
	}
	h.flushSoon() // after close: nothing to do, no panic
}
