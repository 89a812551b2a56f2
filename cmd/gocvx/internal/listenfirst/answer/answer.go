// Package answer starts the early server (package early) for `gocvx kernel -f
// FILE`, which answers kernel_info_request on the ports that package listenfirst
// bound, long before main, with the kernel's version and banner; and it is where
// these come from, for the early server and the kernel alike (package kernelcmd).
//
// It imports package early and what the version and banner need (runtime/debug),
// never package net nor the engine: its init function runs once encoding/json,
// crypto/hmac and runtime/debug are initialized. That is 119th of the command's
// 180 packages with an init function (GODEBUG=inittrace=1), 3.3 ms after the
// start on a quiet machine (encoding/json: 1.8 ms; net and package kernel: 6 ms;
// main: 10 ms); runtime/debug holds it there, as Go initializes a ready package
// only when no ready package has a smaller import path.
package answer

import (
	"os"
	"runtime"
	"runtime/debug"

	"github.com/gocvx/gocvx/cmd/gocvx/internal/listenfirst"
	"github.com/gocvx/gocvx/kernel/early"
)

func init() {
	if _, ok := listenfirst.ConnectionFile(os.Args[1:]); ok {
		early.Start(Version(), Banner())
	}
}

// Version is the module version the binary was built from, or "devel".
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// Banner is what kernel_info_reply gives as the banner (a console shows it first).
func Banner() string {
	return "gocvx " + Version() + ": Go (" + runtime.Version() + ") on the yaegi interpreter,\n" +
		"with convex training of two-layer ReLU networks (import \"github.com/gocvx/gocvx/solver\")."
}
