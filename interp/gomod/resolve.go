package gomod

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// BuildTags are the build tags under which packages are listed for the
// interpreter: they select the pure-Go fallbacks of packages that have
// assembly (golang.org/x/crypto and many others use purego, gonum uses noasm).
var BuildTags = []string{"purego", "noasm"}

// Package is a package that the interpreter reads from source.
type Package struct {
	ImportPath string
	Name       string
	Dir        string
	GoFiles    []string // the files of Dir the go command selected
	Imports    []string
	Module     *Module
	// Local is set when the package's files are not in the module cache (its
	// module is replaced by a directory): edits to them are seen (Graph.Stale).
	Local bool
	// Refusal says why the interpreter cannot run the package; "" when it can.
	Refusal string

	goErr string // what go list reported about the package
}

// Graph is what importing a set of packages needs from source: the packages
// and their dependencies that are neither standard nor compiled into the
// kernel.
type Graph struct {
	Packages map[string]*Package
	Order    []string // import paths, every package after its dependencies
	// Notes are warnings for the user: a module compiled into the kernel that
	// the notebook's requirements select at another version.
	Notes []string

	goMod  [32]byte            // the go.mod and go.sum that it was resolved from
	stamps map[string][32]byte // local package → its files when resolved
	dir    string
}

// Kernel tells Resolve what the kernel provides without source.
type Kernel struct {
	// Compiled reports whether the kernel has the package compiled in (a
	// symbol table) or supplies it itself: the standard packages the
	// interpreter has, gonum's and plot's preloaded packages, gocvx's own.
	Compiled func(path string) bool
}

// listed is the part of `go list -json` that Resolve reads.
type listed struct {
	ImportPath     string
	Name           string
	Dir            string
	Standard       bool
	GoFiles        []string
	IgnoredGoFiles []string
	CgoFiles       []string
	SFiles         []string
	EmbedFiles     []string
	Imports        []string
	Module         *Module
	Error          *struct{ Err string }
}

// Resolve lists what importing paths needs from source: each path and its
// dependencies that the kernel has not compiled in, resolved by the go
// command from the notebook's go.mod (a path that no required module provides
// is added at its latest version, as `go get` would). The error names every
// path that cannot be imported and why: the go command's message (an unknown
// module, an unreachable proxy), or the reason the interpreter cannot run it.
func (w *Workspace) Resolve(ctx context.Context, progress io.Writer, k Kernel, paths []string) (*Graph, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.ensureGoMod(ctx); err != nil {
		return nil, err
	}
	all, order, err := w.list(ctx, progress, paths)
	if err != nil {
		return nil, err
	}
	if pins := w.kernelPins(all); len(pins) > 0 {
		// A package from source imports a module compiled into the kernel at
		// an older version: require the kernel's, so that both agree.
		if _, err := w.run(ctx, progress, nil, append([]string{"mod", "edit"}, pins...)...); err != nil {
			return nil, err
		}
		if all, order, err = w.list(ctx, progress, paths); err != nil {
			return nil, err
		}
	}
	g := &Graph{Packages: map[string]*Package{}, stamps: map[string][32]byte{}, dir: w.dir}
	g.goMod = w.modStamp()
	for _, ip := range order { // go list -deps lists dependencies first
		p := all[ip]
		if p.Standard || k.Compiled(ip) {
			continue
		}
		pkg := &Package{ImportPath: ip, Name: p.Name, Dir: p.Dir, GoFiles: p.GoFiles, Imports: p.Imports, Module: p.Module}
		if m := p.Module; m != nil && m.Replace != nil && m.Replace.Version == "" {
			pkg.Local = true
			g.stamps[ip] = dirStamp(p.Dir)
		}
		pkg.Refusal = refusal(p, all, k)
		if pkg.Refusal == "" && p.Error != nil {
			pkg.goErr = p.Error.Err
		}
		g.Packages[ip] = pkg
		g.Order = append(g.Order, ip)
	}
	g.prune(paths)
	g.Notes = w.skews(g)
	var errs []string
	for _, ip := range paths {
		p := all[ip]
		switch {
		case p != nil && p.Standard && !k.Compiled(ip):
			errs = append(errs, fmt.Sprintf("package %s is in the standard library of the go command but not in the interpreter's (yaegi's standard library is Go 1.22's)", ip))
		case g.Packages[ip] != nil:
			if msg := g.why(ip, map[string]bool{}); msg != "" {
				errs = append(errs, msg)
			}
		case p != nil && p.Error != nil:
			errs = append(errs, goListMessage(ip, p.Error.Err))
		case p == nil:
			errs = append(errs, fmt.Sprintf("package %s: the go command did not list it", ip))
		}
	}
	if len(errs) > 0 {
		return g, errors.New(strings.Join(errs, "\n"))
	}
	return g, nil
}

// list runs go list on paths and their dependencies. w.mu is held.
func (w *Workspace) list(ctx context.Context, progress io.Writer, paths []string) (map[string]*listed, []string, error) {
	args := append([]string{"list", "-mod=mod", "-e", "-deps", "-tags", strings.Join(BuildTags, ","),
		"-json=ImportPath,Name,Dir,Standard,GoFiles,IgnoredGoFiles,CgoFiles,SFiles,EmbedFiles,Imports,Module,Error", "--"}, paths...)
	out, err := w.run(ctx, progress, []string{"CGO_ENABLED=0"}, args...)
	if err != nil {
		return nil, nil, err
	}
	all := map[string]*listed{}
	var order []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("gomod: reading go list: %v", err)
		}
		all[p.ImportPath] = &p
		order = append(order, p.ImportPath)
	}
	return all, order, nil
}

// kernelPins returns the -require flags that raise the modules compiled into
// the kernel that the listed packages use at an older version.
func (w *Workspace) kernelPins(all map[string]*listed) []string {
	var pins []string
	seen := map[string]bool{}
	for _, p := range all {
		m := p.Module
		if m == nil || seen[m.Path] || m.Replace != nil {
			continue
		}
		for _, k := range w.kernel {
			if k.Path == m.Path && semverLess(m.Version, k.Version) {
				seen[m.Path] = true
				pins = append(pins, "-require="+k.Path+"@"+k.Version)
			}
		}
	}
	sort.Strings(pins)
	return pins
}

// semverLess compares two module versions vMAJOR.MINOR.PATCH[-PRE][+BUILD];
// a pre-release is older than its release, pre-releases compare as text.
func semverLess(a, b string) bool {
	split := func(v string) ([3]int, string) {
		v = strings.TrimPrefix(v, "v")
		if i := strings.IndexByte(v, '+'); i >= 0 {
			v = v[:i]
		}
		core, pre, _ := strings.Cut(v, "-")
		var n [3]int
		for i, f := range strings.SplitN(core, ".", 3) {
			n[i], _ = strconv.Atoi(f)
		}
		return n, pre
	}
	na, pa := split(a)
	nb, pb := split(b)
	if na != nb {
		for i := range na {
			if na[i] != nb[i] {
				return na[i] < nb[i]
			}
		}
	}
	switch {
	case pa == pb:
		return false
	case pa == "":
		return false
	case pb == "":
		return true
	}
	return pa < pb
}

// prune keeps the packages that the roots reach without going through a
// compiled package (go list also lists the dependencies of gonum's compiled
// packages, which the interpreter never reads).
func (g *Graph) prune(roots []string) {
	keep := map[string]bool{}
	var visit func(ip string)
	visit = func(ip string) {
		p := g.Packages[ip]
		if p == nil || keep[ip] {
			return
		}
		keep[ip] = true
		for _, imp := range p.Imports {
			visit(imp)
		}
	}
	for _, r := range roots {
		visit(r)
	}
	order := g.Order[:0]
	for _, ip := range g.Order {
		if keep[ip] {
			order = append(order, ip)
		} else {
			delete(g.Packages, ip)
			delete(g.stamps, ip)
		}
	}
	g.Order = order
}

// goListMessage words an error go list reported for a package a cell imports.
func goListMessage(ip, msg string) string {
	msg = strings.TrimSpace(msg)
	if !strings.Contains(msg, ip) {
		msg = "package " + ip + ": " + msg
	}
	return msg
}

// Alternative is what a refusal suggests instead.
const Alternative = "wrap it in a compiled package of your own and rebuild the kernel with it (README, \"Go in cells\")"

// refusal says why the interpreter cannot run the package p itself; its
// dependencies are judged on their own (see why).
func refusal(p *listed, all map[string]*listed, k Kernel) string {
	cgo := false
	for _, f := range append(append([]string{}, p.IgnoredGoFiles...), p.CgoFiles...) {
		if importsC(filepath.Join(p.Dir, f)) {
			cgo = true
		}
	}
	switch {
	case len(p.CgoFiles) > 0 || cgo && !cgoFallback(p):
		return "needs cgo (its Go files import \"C\"), which the interpreter cannot run"
	case len(p.SFiles) > 0:
		return fmt.Sprintf("needs assembly (%s) and has no pure-Go fallback under the build tags %s", p.SFiles[0], strings.Join(BuildTags, ","))
	case len(p.EmbedFiles) > 0:
		return "embeds files with //go:embed, which the interpreter does not support"
	}
	for _, f := range p.GoFiles {
		if hasLinkname(filepath.Join(p.Dir, f)) {
			return fmt.Sprintf("uses //go:linkname (%s), which the interpreter cannot run", f)
		}
	}
	for _, imp := range p.Imports {
		if imp == "unsafe" {
			return "imports unsafe, which the interpreter cannot run faithfully"
		}
		if q := all[imp]; q != nil && q.Standard && !k.Compiled(imp) {
			return fmt.Sprintf("imports the standard package %s, which interpreted code does not have (yaegi's standard library is Go 1.22's)", imp)
		}
	}
	return ""
}

// why returns the reason package ip cannot be imported, following its
// imports: "X needs cgo…" or "X imports Y, which needs cgo…". "" when it can.
func (g *Graph) why(ip string, seen map[string]bool) string {
	p := g.Packages[ip]
	if p == nil || seen[ip] {
		return ""
	}
	seen[ip] = true
	if p.goErr != "" {
		return goListMessage(ip, p.goErr)
	}
	if p.Refusal != "" {
		return fmt.Sprintf("package %s %s; %s", ip, p.Refusal, Alternative)
	}
	for _, imp := range p.Imports {
		if msg := g.why(imp, seen); msg != "" {
			return fmt.Sprintf("package %s imports %s", ip, strings.TrimPrefix(msg, "package "))
		}
	}
	return ""
}

// cgoFallback reports whether a package whose cgo files the listing left
// out has Go files meant for builds without cgo (a `!cgo` build constraint):
// without them, what is left is not the package.
func cgoFallback(p *listed) bool {
	for _, f := range p.GoFiles {
		b, err := os.ReadFile(filepath.Join(p.Dir, f))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "package ") {
				break
			}
			if (strings.HasPrefix(l, "//go:build") || strings.HasPrefix(l, "// +build")) && strings.Contains(l, "!cgo") {
				return true
			}
		}
	}
	return false
}

// importsC reports whether the Go file imports "C".
func importsC(name string) bool {
	b, err := os.ReadFile(name)
	return err == nil && bytes.Contains(b, []byte(`import "C"`))
}

func hasLinkname(name string) bool {
	b, err := os.ReadFile(name)
	return err == nil && bytes.Contains(b, []byte("//go:linkname "))
}

// skews returns a note for each module compiled into the kernel that a
// package of g comes from at another version.
func (w *Workspace) skews(g *Graph) []string {
	seen := map[string]bool{}
	var notes []string
	for _, ip := range g.Order {
		m := g.Packages[ip].Module
		if m == nil || seen[m.Path] {
			continue
		}
		for _, k := range w.kernel {
			if k.Path == m.Path && k.Version != m.Version {
				seen[m.Path] = true
				notes = append(notes, fmt.Sprintf("%s is at %s in this notebook's go.mod, but the kernel has %s compiled in: its preloaded packages stay at %s, its other packages (%s) come from %s", m.Path, m.Version, k.Version, k.Version, ip, m.Version))
			}
		}
	}
	return notes
}

// modStamp is a hash of the go.mod and go.sum.
func (w *Workspace) modStamp() [32]byte {
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, _ := os.ReadFile(filepath.Join(w.dir, f))
		h.Write(b)
		h.Write([]byte{0})
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// dirStamp is a hash of the names, sizes and modification times of a
// directory's Go files and of the go.mod of its module, if it is in the
// directory.
func dirStamp(dir string) [32]byte {
	h := sha256.New()
	ents, _ := os.ReadDir(dir)
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, ".go") || n == "go.mod" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", n, fi.Size(), fi.ModTime().UnixNano())
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// Stale reports whether the graph no longer describes what importing its
// packages would give: the notebook's go.mod or go.sum changed (a `go get`),
// or a file of a local package did (an edit, a file added or removed).
func (g *Graph) Stale() bool {
	w := Workspace{dir: g.dir}
	if w.modStamp() != g.goMod {
		return true
	}
	for ip, s := range g.stamps {
		if dirStamp(g.Packages[ip].Dir) != s {
			return true
		}
	}
	return false
}

// Versions returns "path@version" of every module g's packages come from, a
// local one as "path=>dir", sorted: two graphs with the same versions give the
// interpreter the same code, local edits aside.
func (g *Graph) Versions() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range g.Packages {
		m := p.Module
		if m == nil {
			continue
		}
		v := m.Path + "@" + m.Version
		if m.Replace != nil {
			v += "=>" + m.Replace.Path
			if m.Replace.Version != "" {
				v += "@" + m.Replace.Version
			}
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// Key identifies what the interpreter would compile for g: the module
// versions, and the state of the files of its local packages.
func (g *Graph) Key() string {
	var b strings.Builder
	for _, v := range g.Versions() {
		b.WriteString(v + "\n")
	}
	locals := make([]string, 0, len(g.stamps))
	for ip := range g.stamps {
		locals = append(locals, ip)
	}
	sort.Strings(locals)
	for _, ip := range locals {
		fmt.Fprintf(&b, "%s %x\n", ip, g.stamps[ip])
	}
	return b.String()
}

// Same reports whether every package of g is in h as it is in g: same
// module version, directory, files and, for a local package, the same
// state of its files. h may have more packages.
func (g *Graph) Same(h *Graph) bool {
	for ip, p := range g.Packages {
		q := h.Packages[ip]
		if q == nil || !samePackage(p, q) || g.stamps[ip] != h.stamps[ip] {
			return false
		}
		if (p.Module == nil) != (q.Module == nil) || p.Module != nil && p.Module.Version != q.Module.Version {
			return false
		}
	}
	return true
}
