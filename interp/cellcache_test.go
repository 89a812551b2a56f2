package interp

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gocvx/gocvx/cellio"
)

// TestCacheHits checks which repeated cells run from the cache (the corpus,
// testdata/cells/repeat.txtar, checks that they behave as compiled again): a
// cell that declares nothing, run again, is a hit, and leaves no parsed cell
// behind; a cell that declares something, a user expression, and any cell after
// a declaration are compiled.
func TestCacheHits(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	steps := []struct {
		code      string
		transient bool
		hit       bool
	}{
		{code: "x := 1"},
		{code: "x = x + 1"},
		{code: "x = x + 1", hit: true},
		{code: "x := 1", hit: false},    // declares: compiled, and the cache emptied
		{code: "x = x + 1", hit: false}, // compiled again after the declaration
		{code: "x = x + 1", hit: true},
		{code: "x + 100"},
		{code: "x + 100", transient: true}, // a user expression: compiled, not cached
		{code: "x + 100", hit: true},
		{code: "fmt.Sprint(x)"}, // imports fmt: the cache is emptied, this cell kept
		{code: "fmt.Sprint(x)", hit: true},
		{code: "x = x + 1", hit: false},
	}
	parsed := -1
	for i, st := range steps {
		hits := s.cacheHits
		out := s.Execute(context.Background(), cellio.Cell{Code: st.code, Number: i + 1, Transient: st.transient, Output: &recorder{}})
		if out.Error != nil {
			t.Fatalf("cell %d %q: %v", i+1, st.code, out.Error)
		}
		if got := s.cacheHits > hits; got != st.hit {
			t.Errorf("cell %d %q: from the cache = %v, want %v", i+1, st.code, got, st.hit)
		}
		if i == 1 {
			parsed = len(s.parsed)
		} else if i > 3 && st.hit && len(s.parsed) != parsed {
			t.Errorf("cell %d %q: %d parsed cells after a hit, want %d", i+1, st.code, len(s.parsed), parsed)
		}
	}
	if got := runCell(s, 20, "x"); !strings.Contains(got, "value: 4") {
		t.Errorf("x = %s, want 4", got)
	}
}

// TestCacheBound runs more distinct cells, and longer ones, than the cache
// keeps: the least recently used are compiled again, the newest are hits, and
// a cell longer than maxCachedSource is not kept.
func TestCacheBound(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 1
	run := func(code string) {
		t.Helper()
		if out := s.Execute(context.Background(), cellio.Cell{Code: code, Number: n, Output: &recorder{}}); out.Error != nil {
			t.Fatalf("%q: %v", code, out.Error)
		}
		n++
	}
	for i := 0; i < maxCachedCells+5; i++ {
		run(fmt.Sprintf("%d + 1", i))
	}
	if len(s.cache.entries) != maxCachedCells || len(s.cache.order) != maxCachedCells {
		t.Fatalf("%d cells cached (%d in order), want %d", len(s.cache.entries), len(s.cache.order), maxCachedCells)
	}
	// Cells of almost maxCachedSource bytes: no more than maxCachedBytes of
	// sources stay, the least recently used leaving first (the short cells,
	// then the first long one).
	long := func(k int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "n := 0 // %d\n", k)
		for b.Len() < maxCachedSource-40 {
			b.WriteString("n++\n")
		}
		return "{\n" + b.String() + "}"
	}
	for k := 0; k < maxCachedBytes/maxCachedSource+2; k++ {
		run(long(k))
		if s.cache.bytes > maxCachedBytes {
			t.Fatalf("%d bytes of sources cached, more than %d", s.cache.bytes, maxCachedBytes)
		}
	}
	total := 0
	for code := range s.cache.entries {
		total += len(code)
	}
	if total != s.cache.bytes || len(s.cache.entries) != len(s.cache.order) {
		t.Fatalf("the cache counts %d bytes in %d cells, holds %d in %d", s.cache.bytes, len(s.cache.order), total, len(s.cache.entries))
	}
	hits := s.cacheHits
	run(long(0)) // dropped
	if s.cacheHits != hits {
		t.Error("a long cell that the sources' bound dropped was still cached")
	}
	if run(fmt.Sprintf("%d + 1", maxCachedCells+4)); s.cacheHits != hits {
		t.Error("a short cell that the sources' bound dropped was still cached")
	}
	if len(long(0)) > maxCachedSource || len(long(0)) < maxCachedSource-50 {
		t.Fatalf("a long cell has %d bytes", len(long(0)))
	}
	run(strings.Repeat(" ", maxCachedSource) + "1 + 2")
	run(strings.Repeat(" ", maxCachedSource) + "1 + 2")
	if s.cacheHits != hits {
		t.Error("a cell longer than maxCachedSource was cached")
	}
	hits = s.cacheHits
	run("0 + 1") // dropped
	if s.cacheHits != hits {
		t.Error("the least recently used cell was still cached")
	}
	run(fmt.Sprintf("%d + 1", maxCachedCells+4))
	if s.cacheHits != hits+1 {
		t.Error("the most recent cell was not cached")
	}
}

// TestCacheDirty: a cell that fails in the interpreter leaves it
// to be rebuilt (dirty); the next cell is not served from the cache before
// that, and the cache is emptied by the rebuild.
func TestCacheDirty(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runCells(t, s, 1, "x := 1", "x + 1", "x + 1")
	if s.cacheHits != 1 {
		t.Fatalf("%d hits, want 1", s.cacheHits)
	}
	s.dirty = true // as a failed compile leaves it
	hits := s.cacheHits
	if got := runCell(s, 4, "x + 1"); !strings.Contains(got, "value: 2") {
		t.Errorf("x + 1 after the rebuild: %s", got)
	}
	if s.cacheHits != hits {
		t.Error("a dirty session ran a cell from the cache")
	}
	if got := runCell(s, 5, "x + 1"); !strings.Contains(got, "value: 2") || s.cacheHits != hits+1 {
		t.Errorf("x + 1 after the rebuild, again: %s, %d hits (want %d)", got, s.cacheHits, hits+1)
	}
}
