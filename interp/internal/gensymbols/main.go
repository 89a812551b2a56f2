// Command gensymbols writes the yaegi symbol tables of the packages that cells can
// import without an interpreter-visible source (gonum, gonum/plot, the project's
// own packages) and the documentation table that inspection reads. It is run by
// `go generate ./interp/...` from interp/symbols; unlike `yaegi extract`, it fails
// when a package does not build, so that a stale table is never committed silently.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"strings"

	"github.com/traefik/yaegi/extract"
)

func main() {
	docs := flag.String("docs", "", "write the documentation table of these packages and the standard library subset to this file")
	flag.Parse()
	if err := run(flag.Args(), *docs); err != nil {
		fmt.Fprintln(os.Stderr, "gensymbols:", err)
		os.Exit(1)
	}
}

func run(pkgs []string, docsFile string) error {
	old, _ := filepath.Glob("zsym_*.go")
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	ext := extract.Extractor{Dest: "symbols"}
	r := strings.NewReplacer("/", "_", ".", "_", "-", "_", "~", "_")
	for _, p := range pkgs {
		var buf bytes.Buffer
		ip, err := ext.Extract(p, "", &buf)
		if err != nil {
			return fmt.Errorf("extract %s: %v", p, err)
		}
		src, err := format.Source(buf.Bytes())
		if err != nil {
			return fmt.Errorf("format %s: %v", p, err)
		}
		if err := os.WriteFile("zsym_"+r.Replace(ip)+".go", src, 0o644); err != nil {
			return err
		}
	}
	if docsFile != "" {
		return writeDocs(docsFile, pkgs)
	}
	return nil
}
