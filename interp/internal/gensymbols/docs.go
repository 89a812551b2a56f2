package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/doc"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// stdlibDocs are the standard packages whose documentation inspection shows
// (cells can use the whole standard library; these are the ones notebooks use).
var stdlibDocs = []string{
	"bufio", "bytes", "cmp", "container/heap", "container/list", "context", "encoding/csv",
	"encoding/json", "errors", "fmt", "image", "image/color", "image/png", "io", "iter", "log",
	"maps", "math", "math/bits", "math/cmplx", "math/rand", "os", "os/exec", "path",
	"path/filepath", "reflect", "regexp", "slices", "sort", "strconv", "strings", "sync",
	"text/tabwriter", "time", "unicode", "unicode/utf8",
}

// entry is one documented identifier: its declaration and its doc comment.
type entry struct {
	Decl string `json:"d"`
	Doc  string `json:"c,omitempty"`
}

// writeDocs writes a gzipped JSON table "importpath.Name" (and
// "importpath.Type.Method") → entry, built with go/doc from the sources.
func writeDocs(file string, pkgs []string) error {
	all := append(append([]string(nil), stdlibDocs...), pkgs...)
	out, err := exec.Command("go", append([]string{"list", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{join .GoFiles \" \"}}"}, all...)...).Output()
	if err != nil {
		return fmt.Errorf("go list: %v", err)
	}
	table := map[string]entry{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		if err := docPackage(table, f[0], f[1], strings.Fields(f[2])); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var js bytes.Buffer
	js.WriteString("{\n")
	for i, k := range keys {
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(table[k])
		js.Write(kb)
		js.WriteString(":")
		js.Write(vb)
		if i < len(keys)-1 {
			js.WriteString(",")
		}
		js.WriteString("\n")
	}
	js.WriteString("}\n")
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write(js.Bytes())
	w.Close()
	return os.WriteFile(file, gz.Bytes(), 0o644)
}

func docPackage(table map[string]entry, path, dir string, names []string) error {
	fset := token.NewFileSet()
	var files []*ast.File
	for _, n := range names {
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, path)
	if err != nil {
		return err
	}
	table[path] = entry{Decl: "package " + p.Name + ` // import "` + path + `"`, Doc: p.Doc}
	funcs := func(prefix string, fs []*doc.Func) {
		for _, f := range fs {
			table[prefix+f.Name] = entry{Decl: node(fset, f.Decl), Doc: f.Doc}
		}
	}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			decl := node(fset, v.Decl)
			for _, n := range v.Names {
				table[path+"."+n] = entry{Decl: decl, Doc: v.Doc}
			}
		}
	}
	funcs(path+".", p.Funcs)
	values(p.Consts)
	values(p.Vars)
	for _, t := range p.Types {
		table[path+"."+t.Name] = entry{Decl: node(fset, t.Decl), Doc: t.Doc}
		funcs(path+".", t.Funcs)
		funcs(path+"."+t.Name+".", t.Methods)
		values(t.Consts)
		values(t.Vars)
	}
	return nil
}

// node prints a declaration without function bodies.
func node(fset *token.FileSet, n ast.Node) string {
	if fd, ok := n.(*ast.FuncDecl); ok {
		cp := *fd
		cp.Body = nil
		cp.Doc = nil
		n = &cp
	}
	if gd, ok := n.(*ast.GenDecl); ok {
		cp := *gd
		cp.Doc = nil
		n = &cp
	}
	var b bytes.Buffer
	if err := format.Node(&b, fset, n); err != nil {
		return ""
	}
	return b.String()
}
