// Package ifaces finds the packages whose symbol tables an interpreter needs
// along with a package's: those that declare the interfaces its API reaches.
//
// Where interpreted code gives a value of its own type to compiled code as an
// interface (to bufio.NewWriter as an io.Writer, in a type assertion, to
// json.Marshal, which yaegi tries as an encoding.TextMarshaler), yaegi looks up
// its wrapper of the interface in the table of the interface's package, at run
// time too; so that table must be in the interpreter before code that can reach
// the interface is compiled.
package ifaces

import (
	"reflect"
	"sort"

	"github.com/traefik/yaegi/stdlib"
)

// Packages returns the import paths of the named interfaces with methods that
// the symbols of a table (a package's, as yaegi's Use takes it) reach through
// their types: the types of its variables and functions and the types it
// declares, through elements, keys, parameters and results, exported and
// embedded fields, and methods; and the interfaces that yaegi tries, at run
// time, on the values given to standard functions that take values of any type
// (stdlib.MapTypes); sorted.
func Packages(table map[string]reflect.Value) []string {
	seen := map[reflect.Type]bool{}
	pkgs := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
			walk(t.Elem())
		case reflect.Map:
			walk(t.Key())
			walk(t.Elem())
		case reflect.Func:
			for i := 0; i < t.NumIn(); i++ {
				walk(t.In(i))
			}
			for i := 0; i < t.NumOut(); i++ {
				walk(t.Out(i))
			}
		case reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				if f := t.Field(i); f.IsExported() || f.Anonymous {
					walk(f.Type)
				}
			}
		case reflect.Interface:
			if t.NumMethod() > 0 && t.Name() != "" && t.PkgPath() != "" {
				pkgs[t.PkgPath()] = true
			}
			for i := 0; i < t.NumMethod(); i++ {
				walk(t.Method(i).Type)
			}
			return
		}
		if t.Name() != "" {
			for _, mt := range []reflect.Type{t, reflect.PointerTo(t)} {
				for i := 0; i < mt.NumMethod(); i++ {
					walk(mt.Method(i).Type)
				}
			}
		}
	}
	for _, v := range table {
		switch {
		case !v.IsValid():
		case v.Kind() == reflect.Pointer && !v.CanAddr() && v.IsNil():
			walk(v.Type().Elem()) // a type: (*T)(nil)
		case v.CanAddr() || v.Kind() == reflect.Func:
			walk(v.Type()) // a variable or a function; the rest are constants
			for _, t := range stdlib.MapTypes[v] {
				walk(t)
			}
		}
	}
	out := make([]string, 0, len(pkgs))
	for p := range pkgs {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
