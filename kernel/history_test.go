package kernel

import (
	"reflect"
	"strings"
	"testing"
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
		{"range 2..4", historyRequestContent{HistAccessType: "range", Session: historySession, Start: 2, Stop: n(4)}, []int{2, 3}},
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
