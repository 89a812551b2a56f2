package interp

import (
	"context"
	"go/token"
	"testing"

	"github.com/gocvx/gocvx/cellio"
)

// TestForgetCells checks that after every cell the session keeps the files of
// exactly the cells that the program's declarations and variables reference:
// cells that declare nothing, fail, or whose names all were redefined leave
// the file set.
func TestForgetCells(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cells := []string{
		"x := 1",
		"func f(a int) int { return a + 1 }",
		"1 + 1",
		"f(2)",
		"undefined + 1", // does not compile
		"type T struct{ A int }\nfunc (t T) M() int { return t.A }",
		"x = 5",
		"x := \"now a string\"",              // redefines x: cell 1 is unused
		"func f(a int) int { return 2 * a }", // redefines f: cell 2 is unused
		"T{3}.M()",
		"y, z := 1, 2",
		"y := 3", // z still refers to cell 11
		"panic(\"boom\")",
	}
	for i, code := range cells {
		s.Execute(context.Background(), cellio.Cell{Code: code, Number: i + 1, Output: &recorder{}})
		used := map[*parsedCell]bool{}
		for _, d := range s.prog.decls {
			used[d.cell] = true
		}
		for _, v := range s.prog.vars {
			used[v.pc] = true
		}
		for pc := range s.parsed {
			if !used[pc] {
				t.Errorf("after cell %d %q: the files of %s are kept, which nothing uses", i+1, code, pc.name)
			}
		}
		for pc := range used {
			if !s.parsed[pc] {
				t.Errorf("after cell %d %q: %s is used but its files are gone", i+1, code, pc.name)
			}
		}
		files := map[string]bool{}
		s.fset.Iterate(func(f *token.File) bool {
			files[f.Name()] = true
			return true
		})
		for pc := range s.parsed {
			if !files[pc.name+".stmts"] {
				t.Errorf("after cell %d %q: %s.stmts is not in the file set", i+1, code, pc.name)
			}
		}
		if n := len(files); n > 3*len(s.parsed)+1 {
			t.Errorf("after cell %d %q: %d files for %d cells in use: %v", i+1, code, n, len(s.parsed), files)
		}
	}
	want := map[string]bool{"Cell6": true, "Cell8": true, "Cell9": true, "Cell11": true, "Cell12": true}
	for pc := range s.parsed {
		if !want[pc.name] {
			t.Errorf("%s is kept", pc.name)
		}
		delete(want, pc.name)
	}
	for name := range want {
		t.Errorf("%s is not kept", name)
	}
}
