package interp

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gocvx/gocvx/interp/internal/ifaces"
	"github.com/gocvx/gocvx/interp/symbols"
)

// The interpreter takes a compiled package's symbols at the first chunk that
// imports it (binpkgs.go); testdata/cells/lazyimports.txtar has the cells'
// ways in, these the others.

// TestInterfacesCurrent checks that the generated table symbols.Interfaces
// is what package ifaces finds in the symbol tables now. (A package it lacks,
// such as the tests' gocvx.test/slow, is looked at when it is first used.)
func TestInterfacesCurrent(t *testing.T) {
	im := theImporter()
	for p, want := range symbols.Interfaces {
		table := im.tables[p]
		if table == nil {
			t.Errorf("symbols.Interfaces has %s, which has no table: run go generate ./interp/...", p)
			continue
		}
		var got []string
		for _, q := range ifaces.Packages(table) {
			if q != p && im.tables[q] != nil {
				got = append(got, q)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("symbols.Interfaces[%q] = %q, the tables now give %q: run go generate ./interp/...", p, want, got)
		}
	}
}

// TestRTInterfaces checks rtInterfaces, the packages of the interfaces that
// gocvxrt's API reaches.
func TestRTInterfaces(t *testing.T) {
	r := newCellRunner(t, Options{})
	if got := ifaces.Packages(r.s.rtSymbols()); !slices.Equal(got, rtInterfaces) {
		t.Errorf("gocvxrt's API reaches the interfaces of %q; rtInterfaces is %q", got, rtInterfaces)
	}
}

// TestLocalModuleImportsCompiled checks that a package from source gets the
// compiled packages it imports that no cell imports, in the first interpreter
// and in the one a redefinition replaces it with.
func TestLocalModuleImportsCompiled(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	lib := t.TempDir()
	for name, text := range map[string]string{
		"go.mod": "module example.com/codec\n\ngo 1.23\n",
		"codec.go": `package codec

import (
	"bufio"
	"encoding/hex"
	"hash/crc32"
	"strings"
)

// Hex is b in hexadecimal.
func Hex(b []byte) string { return hex.EncodeToString(b) }

// Sum is the CRC-32 (IEEE) of s.
func Sum(s string) uint32 { return crc32.ChecksumIEEE([]byte(s)) }

// Words splits s into words.
func Words(s string) []string {
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Split(bufio.ScanWords)
	var w []string
	for sc.Scan() {
		w = append(w, sc.Text())
	}
	return w
}
`,
	} {
		if err := os.WriteFile(filepath.Join(lib, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := newCellRunner(t, Options{Notebook: filepath.Join(t.TempDir(), "nb.ipynb")})
	if got := r.run("%go work use "+lib, nil); got.err() != "" {
		t.Fatalf("%%go work use: %+v", got)
	}
	use := `import "example.com/codec"
fmt.Println(codec.Hex([]byte{1, 171}), codec.Sum("a"), len(codec.Words("a b  c")))`
	if got := r.run(use, nil); got.err() != "" || got.stdout != "01ab 3904355907 3\n" {
		t.Fatalf("using the module: %+v", got)
	}
	r.run("type T int", nil)
	got := r.run("type T string\nfmt.Println(codec.Hex([]byte{2}), codec.Words(\"x y\"))", nil)
	if got.err() != "" || got.stdout != "02 [x y]\n" || r.s.replays != 1 {
		t.Fatalf("after a replay (%d): %+v", r.s.replays, got)
	}
}

// TestCompleteNeverImported checks that completion and inspection know every
// compiled package before a cell imports it, and that the cell then runs.
func TestCompleteNeverImported(t *testing.T) {
	r := newCellRunner(t, Options{})
	if c := r.s.Complete("hex.EncodeToS", 13); !slices.Equal(c.Matches, []string{"EncodeToString"}) {
		t.Errorf("Complete(hex.EncodeToS) = %q", c.Matches)
	}
	if c := r.s.Complete("crc3", 4); !slices.Contains(c.Matches, "crc32") {
		t.Errorf("Complete(crc3) = %q, lacks crc32", c.Matches)
	}
	if b, ok := r.s.Inspect("floats.Sum", 10, 0); !ok || !strings.Contains(b.Data["text/plain"].(string), "func Sum(s []float64) float64") {
		t.Errorf("Inspect(floats.Sum) = %v, %v", b.Data["text/plain"], ok)
	}
	if got := r.run("hex.EncodeToString([]byte(\"hi\"))", nil); got.err() != "" || got.value() != "6869" {
		t.Fatalf("hex.EncodeToString: %+v", got)
	}
}

// TestImportWhileGoroutinesRun checks that cells importing packages for the
// first time, which fills their tables, leave alone a goroutine of an earlier
// cell that gives compiled code its values through yaegi's wrapper of an
// interface (fmt.Sprint of a fmt.Stringer): under the race detector, a write
// to a map that it reads would be reported. (The goroutine reads no package
// variable: yaegi resizes the frame that holds them, unguarded, when a chunk
// declares more.)
func TestImportWhileGoroutinesRun(t *testing.T) {
	r := newCellRunner(t, Options{})
	start := `type name int
func (n name) String() string { return "n" }
stop := make(chan bool)
done := make(chan [2]int)
running := make(chan bool, 1)
go func(stop, running chan bool, done chan [2]int) {
	k, named := 0, 0
	for {
		if k == 1 {
			running <- true
		}
		select {
		case <-stop:
			done <- [2]int{k, named}
			return
		default:
		}
		k++
		var s fmt.Stringer = name(k)
		if fmt.Sprint(s) == "n" {
			named++
		}
	}
}(stop, running, done)
<-running`
	if got := r.run(start, nil); got.err() != "" {
		t.Fatalf("starting the goroutine: %+v", got)
	}
	for _, c := range []struct{ code, want string }{
		{`import "encoding/xml"` + "\nxml.Name{Local: \"a\"}.Local", "a"},
		{`import "debug/elf"` + "\nelf.EM_X86_64.String()", "EM_X86_64"},
		{`import "net/url"` + "\nurl.QueryEscape(\"a b\")", "a+b"},
		{`import "go/token"` + "\ntoken.ADD.String()", "+"},
		{`import "text/tabwriter"` + "\ntabwriter.AlignRight", "4"},
	} {
		if got := r.run(c.code, nil); got.err() != "" || got.value() != c.want {
			t.Fatalf("%s: %+v, want %s", c.code, got, c.want)
		}
	}
	if got := r.run("close(stop)\nn := <-done\nn[0] > 0 && n[0] == n[1]", nil); got.err() != "" || got.value() != "true" {
		t.Fatalf("the goroutine: %+v (%s)", got, got.value())
	}
}
