// Package gomod brings Go packages that the kernel does not preload to notebook
// cells: it resolves them through the user's own go command, decides whether
// the interpreter can run them, and hands their source to the type checker and
// to yaegi.
//
// # The notebook's module
//
// Each notebook has a module folder (Locate): by default a folder under the
// user's cache keyed by the notebook's path, or a folder the user names (Use).
// Its go.mod records the versions the notebook requires, as the go.mod of a
// program would: `go get` pins or upgrades them, a replace directive points a
// module at a local directory. The go command runs there with the user's
// environment as it is at each call (GOPROXY, GOFLAGS, GOPRIVATE, GONOSUMDB,
// GOMODCACHE, GOTOOLCHAIN…), with a time limit, and stops (with its children)
// when the cell is interrupted.
//
// The modules that the kernel has compiled in (gonum, gonum/plot) are required
// at the kernel's versions, so that a package from source that imports a
// preloaded package shares its compiled types; when another requirement
// selects a newer version, Resolve says so.
//
// # What the interpreter can run
//
// Resolve lists the packages a cell needs with `go list -deps`, under the build
// tags purego and noasm (which select the pure-Go fallbacks of packages that
// have assembly) and with cgo disabled. A package is refused, with the reason
// and the alternative, when it needs cgo, assembly, unsafe or go:linkname,
// embeds files, imports a standard package the interpreter lacks, uses a
// language feature of Go 1.22 or later that yaegi (≈ Go 1.21) cannot run, or
// imports a package that is refused for one of these reasons.
//
// # Source for the type checker and for yaegi
//
// Importer type-checks the packages of a Graph from their source with
// go/types, asking another importer (the kernel's symbol tables) for every
// preloaded package, so that a package from source that uses gonum's mat.Dense
// uses the very type the cells use. SourceFS is the tree yaegi reads the same
// packages from (yaegi.Options.SourcecodeFilesystem): src/IMPORTPATH/FILE holds
// the files the go command selected for the package.
package gomod
