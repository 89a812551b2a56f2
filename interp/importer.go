package interp

import (
	"fmt"
	"go/constant"
	"go/token"
	"go/types"
	"maps"
	"path"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// symbolImporter gives go/types the packages that yaegi can run, built from the
// same reflect symbol tables that interp.Use loads: what the type checker accepts,
// the interpreter can call. Generic functions are absent from those tables (yaegi
// extract skips them); the generic standard packages come from source instead (see
// sourcePackages). Packages are built on first import, once per process, and then
// only read; the symbol tables are shared with the generated ones, never copied
// (the index is built at start, a third of a kernel's engine build when it copied
// them).
type symbolImporter struct {
	tables map[string]map[string]reflect.Value // import path → symbol → value; read only
	names  map[string]string                   // import path → package name; read only

	mu    sync.Mutex
	pkgs  map[string]*types.Package     // built so far, by path
	named map[reflect.Type]*types.Named // named types built so far
	deps  map[string][]string           // interfacePackages of a table, by path
}

var (
	errorType = reflect.TypeOf((*error)(nil)).Elem()
)

// newSymbolImporter indexes tables (keys "path/name", as yaegi's Exports), which
// it keeps and never modifies.
func newSymbolImporter(tables map[string]map[string]reflect.Value) *symbolImporter {
	im := &symbolImporter{
		tables: make(map[string]map[string]reflect.Value, len(tables)),
		names:  make(map[string]string, len(tables)),
		pkgs:   map[string]*types.Package{"unsafe": types.Unsafe},
		named:  map[reflect.Type]*types.Named{},
		deps:   map[string][]string{},
	}
	for key, syms := range tables {
		p, name := path.Dir(key), path.Base(key)
		if key == "." || strings.HasPrefix(p, "github.com/traefik/yaegi") {
			continue // yaegi's own: the wrappers of its interface types (MapTypes)
		}
		if t, ok := im.tables[p]; ok {
			// Two tables for one path (none among the kernel's): one merged copy.
			merged := maps.Clone(t)
			maps.Copy(merged, syms)
			im.tables[p] = merged
			continue
		}
		im.tables[p] = syms
		im.names[p] = name
	}
	return im
}

// key returns the key of p's table in yaegi's Exports ("math/rand/v2/rand").
func (im *symbolImporter) key(p string) string { return p + "/" + im.names[p] }

// Import implements types.Importer.
func (im *symbolImporter) Import(p string) (*types.Package, error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	return im.importLocked(p)
}

func (im *symbolImporter) importLocked(p string) (*types.Package, error) {
	if pkg := im.pkgs[p]; pkg != nil && pkg.Complete() {
		return pkg, nil
	}
	if sourcePackageNames[p] != "" {
		if pkg, err := im.sourcePackage(p); pkg != nil || err != nil {
			if pkg != nil {
				im.pkgs[p] = pkg
			}
			return pkg, err
		}
	}
	syms, ok := im.tables[p]
	if !ok {
		return nil, fmt.Errorf("package %s is not available in this kernel", p)
	}
	pkg := im.pkgOf(p)
	scope := pkg.Scope()
	names := make([]string, 0, len(syms))
	for s := range syms {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		if !token.IsExported(s) {
			continue // yaegi's interface wrappers (_io_Reader) and the like
		}
		v := syms[s]
		if obj := im.object(pkg, s, v); obj != nil && scope.Lookup(s) == nil {
			scope.Insert(obj)
		}
	}
	pkg.MarkComplete()
	return pkg, nil
}

func (im *symbolImporter) pkgOf(p string) *types.Package {
	if pkg := im.pkgs[p]; pkg != nil {
		return pkg
	}
	name := im.names[p]
	if name == "" {
		name = guessPackageName(p)
	}
	pkg := types.NewPackage(p, name)
	im.pkgs[p] = pkg
	return pkg
}

// guessPackageName returns the usual name of a package from its import path
// ("math/rand/v2" → rand, "gopkg.in/yaml.v3" → yaml).
func guessPackageName(p string) string {
	base := path.Base(p)
	if len(base) >= 2 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" && path.Dir(p) != "." {
		base = path.Base(path.Dir(p))
	}
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

func (im *symbolImporter) object(pkg *types.Package, name string, v reflect.Value) types.Object {
	if !v.IsValid() {
		return nil
	}
	switch {
	case v.Kind() == reflect.Pointer && !v.CanAddr() && v.IsNil():
		// A type: (*T)(nil).
		t := v.Type().Elem()
		typ := im.typeOf(t)
		if n, ok := typ.(*types.Named); ok && n.Obj().Name() == name && n.Obj().Pkg() == pkg {
			return n.Obj()
		}
		// An alias (e.g. a type declared as = another type).
		return types.NewTypeName(token.NoPos, pkg, name, typ)
	case v.CanAddr():
		return types.NewVar(token.NoPos, pkg, name, im.typeOf(v.Type()))
	case v.Kind() == reflect.Func:
		sig := im.signature(v.Type(), nil)
		return types.NewFunc(token.NoPos, pkg, name, sig)
	}
	// A constant: untyped constants are stored as constant.Value, typed ones as
	// values of their type.
	if cv, ok := v.Interface().(constant.Value); ok {
		var t types.Type
		switch cv.Kind() {
		case constant.Bool:
			t = types.Typ[types.UntypedBool]
		case constant.String:
			t = types.Typ[types.UntypedString]
		case constant.Int:
			t = types.Typ[types.UntypedInt]
		case constant.Float:
			t = types.Typ[types.UntypedFloat]
		case constant.Complex:
			t = types.Typ[types.UntypedComplex]
		default:
			return nil
		}
		return types.NewConst(token.NoPos, pkg, name, t, cv)
	}
	var cv constant.Value
	switch v.Kind() {
	case reflect.Bool:
		cv = constant.MakeBool(v.Bool())
	case reflect.String:
		cv = constant.MakeString(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		cv = constant.MakeInt64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		cv = constant.MakeUint64(v.Uint())
	case reflect.Float32, reflect.Float64:
		cv = constant.MakeFloat64(v.Float())
	default:
		// A value that is neither addressable nor constant: treat it as a variable.
		return types.NewVar(token.NoPos, pkg, name, im.typeOf(v.Type()))
	}
	return types.NewConst(token.NoPos, pkg, name, im.typeOf(v.Type()), cv)
}

var basicKinds = map[reflect.Kind]types.BasicKind{
	reflect.Bool: types.Bool, reflect.Int: types.Int, reflect.Int8: types.Int8, reflect.Int16: types.Int16,
	reflect.Int32: types.Int32, reflect.Int64: types.Int64, reflect.Uint: types.Uint, reflect.Uint8: types.Uint8,
	reflect.Uint16: types.Uint16, reflect.Uint32: types.Uint32, reflect.Uint64: types.Uint64,
	reflect.Uintptr: types.Uintptr, reflect.Float32: types.Float32, reflect.Float64: types.Float64,
	reflect.Complex64: types.Complex64, reflect.Complex128: types.Complex128, reflect.String: types.String,
	reflect.UnsafePointer: types.UnsafePointer,
}

func (im *symbolImporter) typeOf(t reflect.Type) types.Type {
	if t == errorType {
		return types.Universe.Lookup("error").Type()
	}
	if t.Name() != "" && t.PkgPath() != "" {
		return im.namedOf(t)
	}
	if t.Name() != "" && t.PkgPath() == "" {
		if k, ok := basicKinds[t.Kind()]; ok && t.Name() == t.Kind().String() {
			return types.Typ[k]
		}
	}
	return im.structure(t)
}

func (im *symbolImporter) structure(t reflect.Type) types.Type {
	switch t.Kind() {
	case reflect.Pointer:
		return types.NewPointer(im.typeOf(t.Elem()))
	case reflect.Slice:
		return types.NewSlice(im.typeOf(t.Elem()))
	case reflect.Array:
		return types.NewArray(im.typeOf(t.Elem()), int64(t.Len()))
	case reflect.Map:
		return types.NewMap(im.typeOf(t.Key()), im.typeOf(t.Elem()))
	case reflect.Chan:
		dir := types.SendRecv
		switch t.ChanDir() {
		case reflect.SendDir:
			dir = types.SendOnly
		case reflect.RecvDir:
			dir = types.RecvOnly
		}
		return types.NewChan(dir, im.typeOf(t.Elem()))
	case reflect.Func:
		return im.signature(t, nil)
	case reflect.Struct:
		fields := make([]*types.Var, t.NumField())
		tags := make([]string, t.NumField())
		for i := range fields {
			f := t.Field(i)
			var pkg *types.Package
			if f.PkgPath != "" {
				pkg = im.pkgOf(f.PkgPath)
			}
			fields[i] = types.NewField(token.NoPos, pkg, f.Name, im.typeOf(f.Type), f.Anonymous)
			tags[i] = string(f.Tag)
		}
		return types.NewStruct(fields, tags)
	case reflect.Interface:
		methods := make([]*types.Func, t.NumMethod())
		for i := range methods {
			m := t.Method(i)
			var pkg *types.Package
			if m.PkgPath != "" {
				pkg = im.pkgOf(m.PkgPath)
			}
			methods[i] = types.NewFunc(token.NoPos, pkg, m.Name, im.signature(m.Type, nil))
		}
		it := types.NewInterfaceType(methods, nil)
		it.Complete()
		return it
	}
	if k, ok := basicKinds[t.Kind()]; ok {
		return types.Typ[k]
	}
	return types.Typ[types.Invalid]
}

func (im *symbolImporter) namedOf(t reflect.Type) types.Type {
	if n := im.named[t]; n != nil {
		return n
	}
	pkg := im.pkgOf(t.PkgPath())
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 {
		// An instantiated generic type: yaegi sees it as a plain named type.
		name = name[:i] + "·" + fmt.Sprint(len(im.named))
	}
	obj := types.NewTypeName(token.NoPos, pkg, name, nil)
	n := types.NewNamed(obj, nil, nil)
	im.named[t] = n
	if t.Kind() == reflect.Interface {
		n.SetUnderlying(im.structure(t))
		return n
	}
	n.SetUnderlying(im.structure(t).Underlying())
	// Methods: those of T have value receivers; those only of *T pointer receivers.
	seen := map[string]bool{}
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		seen[m.Name] = true
		recv := types.NewVar(token.NoPos, pkg, "", n)
		n.AddMethod(types.NewFunc(token.NoPos, pkg, m.Name, im.signature(m.Type, recv)))
	}
	pt := reflect.PointerTo(t)
	for i := 0; i < pt.NumMethod(); i++ {
		m := pt.Method(i)
		if seen[m.Name] {
			continue
		}
		seen[m.Name] = true
		recv := types.NewVar(token.NoPos, pkg, "", types.NewPointer(n))
		n.AddMethod(types.NewFunc(token.NoPos, pkg, m.Name, im.signature(m.Type, recv)))
	}
	// Reflection does not list unexported methods, but a type of the package
	// may implement an interface of the package that has some (a "sealed"
	// interface such as solver.Method): give the type those methods.
	for _, v := range im.tables[t.PkgPath()] {
		if v.Kind() != reflect.Pointer || v.CanAddr() || !v.IsNil() || v.Type().Elem().Kind() != reflect.Interface {
			continue
		}
		it := v.Type().Elem()
		for _, impl := range []reflect.Type{t, pt} {
			if !impl.Implements(it) {
				continue
			}
			for i := 0; i < it.NumMethod(); i++ {
				m := it.Method(i)
				if m.PkgPath == "" || seen[m.Name] {
					continue
				}
				seen[m.Name] = true
				var rt types.Type = n
				if impl == pt {
					rt = types.NewPointer(n)
				}
				recv := types.NewVar(token.NoPos, pkg, "", rt)
				sig := im.signature(m.Type, nil)
				sig = types.NewSignatureType(recv, nil, nil, sig.Params(), sig.Results(), sig.Variadic())
				n.AddMethod(types.NewFunc(token.NoPos, im.pkgOf(m.PkgPath), m.Name, sig))
			}
			break
		}
	}
	return n
}

// signature converts a function type; for a method (recv set), t includes the
// receiver as its first parameter, which is dropped.
func (im *symbolImporter) signature(t reflect.Type, recv *types.Var) *types.Signature {
	first := 0
	if recv != nil {
		first = 1
	}
	var params, results []*types.Var
	for i := first; i < t.NumIn(); i++ {
		params = append(params, types.NewParam(token.NoPos, nil, "", im.typeOf(t.In(i))))
	}
	for i := 0; i < t.NumOut(); i++ {
		results = append(results, types.NewParam(token.NoPos, nil, "", im.typeOf(t.Out(i))))
	}
	return types.NewSignatureType(recv, nil, nil, types.NewTuple(params...), types.NewTuple(results...), t.IsVariadic())
}

func (im *symbolImporter) has(p string) bool {
	if _, ok := im.tables[p]; ok {
		return true
	}
	return sourcePackageNames[p] != ""
}

func (im *symbolImporter) name(p string) string {
	if n := sourcePackageNames[p]; n != "" {
		return n
	}
	if n := im.names[p]; n != "" {
		return n
	}
	return guessPackageName(p)
}

// byName returns the path of the shortest available package named name.
func (im *symbolImporter) byName(name string) string {
	best := ""
	for p, n := range sourcePackageNames {
		if n == name && (best == "" || len(p) < len(best)) {
			best = p
		}
	}
	if best != "" {
		return best
	}
	for p, n := range im.names {
		if n == name && !strings.Contains(p, "internal") && (best == "" || len(p) < len(best) || len(p) == len(best) && p < best) {
			best = p
		}
	}
	return best
}
