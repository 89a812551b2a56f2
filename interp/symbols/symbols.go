// Package symbols holds the generated yaegi symbol tables of the compiled packages
// that cells import besides the standard library: gonum, gonum/plot and the
// project's own packages. Regenerate with `go generate ./interp/...`.
package symbols

import "reflect"

// Symbols maps "importpath/name" to the exported symbols of that package, in the
// form interp.Use expects.
var Symbols = map[string]map[string]reflect.Value{}

//go:generate go run ../internal/gensymbols gonum.org/v1/gonum/mat gonum.org/v1/gonum/floats gonum.org/v1/gonum/stat gonum.org/v1/gonum/stat/distuv gonum.org/v1/gonum/optimize gonum.org/v1/plot gonum.org/v1/plot/plotter gonum.org/v1/plot/plotutil gonum.org/v1/plot/vg gonum.org/v1/plot/vg/draw gonum.org/v1/plot/vg/vgimg gonum.org/v1/plot/vg/vgsvg github.com/gocvx/gocvx/solver github.com/gocvx/gocvx/display github.com/gocvx/gocvx/cell
