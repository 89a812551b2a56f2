package interp

import (
	"go/types"

	yaegi "github.com/traefik/yaegi/interp"
)

// sourcePackageNames lists the packages that cells get from source rather than
// from compiled symbol tables: import path → name.
var sourcePackageNames = map[string]string{}

// sourcePackage returns the type-checked package of a source package, or nil.
func sourcePackage(path string) (*types.Package, error) { return nil, nil }

// useSourcePackages compiles the source packages into an interpreter.
func useSourcePackages(yi *yaegi.Interpreter) error { return nil }
