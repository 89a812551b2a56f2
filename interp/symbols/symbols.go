// Package symbols holds the generated yaegi symbol tables of the compiled packages
// that cells import besides the standard library: gonum, gonum/plot and the
// project's own packages. Regenerate with `go generate ./interp/...`.
package symbols

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"reflect"
	"sync"
)

// Symbols maps "importpath/name" to the exported symbols of that package, in the
// form interp.Use expects.
var Symbols = map[string]map[string]reflect.Value{}

//go:generate go run ../internal/gensymbols -docs docs.json.gz gonum.org/v1/gonum/mat gonum.org/v1/gonum/floats gonum.org/v1/gonum/stat gonum.org/v1/gonum/stat/distuv gonum.org/v1/gonum/optimize gonum.org/v1/plot gonum.org/v1/plot/plotter gonum.org/v1/plot/plotutil gonum.org/v1/plot/vg gonum.org/v1/plot/vg/draw gonum.org/v1/plot/vg/vgimg gonum.org/v1/plot/vg/vgsvg github.com/gocvx/gocvx/solver github.com/gocvx/gocvx/solver/dataset github.com/gocvx/gocvx/display github.com/gocvx/gocvx/cell github.com/gocvx/gocvx/cellio github.com/gocvx/gocvx/widget
//go:generate go run ../internal/genifaces zinterfaces.go

// docs is the documentation table (see Doc), gzipped JSON.
//
//go:embed docs.json.gz
var docs []byte

var (
	docsOnce  sync.Once
	docsTable map[string]struct {
		Decl string `json:"d"`
		Doc  string `json:"c"`
	}
)

// Doc returns the declaration and doc comment of a documented identifier, named
// "importpath.Name" or "importpath.Type.Method" (a package by its path alone).
func Doc(key string) (decl, doc string, ok bool) {
	docsOnce.Do(func() {
		r, err := gzip.NewReader(bytes.NewReader(docs))
		if err != nil {
			return
		}
		json.NewDecoder(r).Decode(&docsTable)
	})
	e, ok := docsTable[key]
	return e.Decl, e.Doc, ok
}
