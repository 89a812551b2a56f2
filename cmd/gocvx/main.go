// Command gocvx is a Jupyter kernel for Go on the yaegi interpreter, with a
// preloaded package that trains two-layer ReLU networks to global optimality by
// convex optimization.
//
// Usage:
//
//	gocvx install [--user | --prefix DIR] [--memory-limit SIZE]
//	                                        write the kernelspec "gocvx" for Jupyter
//	gocvx kernel -f CONNECTION_FILE         run the kernel (what kernel.json runs)
//	gocvx version                           print the version
//
// install --memory-limit SIZE (such as 8GiB, 512MiB, 2GB or off) writes
// "env": {"GOCVX_MEMORY_LIMIT": SIZE} into kernel.json: the kernel's memory
// ceiling, past which a cell is stopped with a MemoryError (by default three
// quarters of the machine's memory).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"

	// For `gocvx kernel -f FILE`, kernelcmd listens on the connection file's
	// ports and serves them before the engine's packages are initialized (see
	// the package).
	"github.com/gocvx/gocvx/cmd/gocvx/internal/kernelcmd"
	"github.com/gocvx/gocvx/interp"
	"github.com/gocvx/gocvx/kernel"
)

// commands are the subcommands, by name.
var commands = map[string]struct {
	run   func(args []string) error
	usage string
}{
	"install": {install, "install [--user | --prefix DIR] [--memory-limit SIZE]\n" +
		"                                        write the kernelspec \"gocvx\" for Jupyter"},
	"kernel":  {runKernel, "kernel -f CONNECTION_FILE         run the kernel (what kernel.json runs)"},
	"version": {printVersion, "version                           print the version"},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: gocvx COMMAND [ARGS]")
	var names []string
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintln(w, "  gocvx "+commands[name].usage)
	}
}

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	name := os.Args[1]
	if name == "-h" || name == "--help" || name == "help" {
		usage(os.Stdout)
		return
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "gocvx: unknown command %q\n", name)
		usage(os.Stderr)
		os.Exit(2)
	}
	if err := cmd.run(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "gocvx "+name+":", err)
		os.Exit(1)
	}
}

func install(args []string) error {
	fs := flag.NewFlagSet("install", flag.ContinueOnError)
	fs.Bool("user", true, "install for the current user (the default; honours JUPYTER_DATA_DIR)")
	prefix := fs.String("prefix", "", "install into `DIR`/share/jupyter/kernels/gocvx instead")
	limit := fs.String("memory-limit", "", "the kernel's memory ceiling, a `SIZE` such as 8GiB, 512MiB, 2GB or off\n(written into kernel.json's env as "+interp.MemoryLimitEnv+"; default: three quarters of the machine's memory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	dir, err := installSpec(installOptions{Prefix: *prefix, MemoryLimit: *limit})
	if err != nil {
		return err
	}
	fmt.Printf("installed kernelspec %s in %s\n", specName, dir)
	if *limit != "" {
		fmt.Printf("memory ceiling: %s=%s\n", interp.MemoryLimitEnv, strings.TrimSpace(*limit))
	}
	return nil
}

func runKernel(args []string) error {
	fs := flag.NewFlagSet("kernel", flag.ContinueOnError)
	file := fs.String("f", "", "the connection `FILE` written by Jupyter")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("-f CONNECTION_FILE is required")
	}
	return kernelcmd.Run(*file, newEngine, interp.ProcessStderr())
}

// newEngine is the cell engine of `gocvx kernel`: an interp.Session that
// captures the process's output.
func newEngine() (kernel.Engine, error) {
	return interp.New(interp.Options{CaptureOutput: true, SingleProcWhileIdle: true})
}

func printVersion(args []string) error {
	fmt.Printf("gocvx %s (%s, %s/%s)\n", kernelcmd.Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
