package interp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/types"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	yaegi "github.com/traefik/yaegi/interp"

	"github.com/gocvx/gocvx/interp/gomod"
	"github.com/gocvx/gocvx/interp/symbols"
)

// Packages from source are compiled first in a child process, a probe: yaegi
// v0.16.1 can crash the whole process while it compiles some packages (Go
// cannot recover from the stack overflow it runs into on recursive generic
// types such as github.com/google/btree's node[T], nor from the one
// github.com/samber/lo causes), and a kernel must not die of an import. The
// probe is this same program started with probeEnv set: the init function
// below runs it before main.

// probeEnv is the environment variable that makes this program a probe.
const probeEnv = "GOCVX_INTERNAL_SOURCE_PROBE"

// probeTimeout bounds a probe: compiling a package takes milliseconds to
// seconds.
const probeTimeout = 2 * time.Minute

// probeStack is the probe's maximum stack: a legitimate compile needs a few
// megabytes, and a runaway recursion fails sooner than at Go's 1 GB.
const probeStack = 256 << 20

func init() {
	if os.Getenv(probeEnv) == "1" {
		os.Exit(runProbe(os.Stdin, os.Stdout))
	}
}

// probeRequest is what the probe reads on its standard input.
type probeRequest struct {
	Packages []*gomod.Package
	Order    []string // the packages to compile, dependencies first
}

// probeRuns counts the probes this process started (for tests and statistics).
var probeRuns atomic.Int64

// probe compiles the packages of g in order in a child process, and returns
// the error of the first one the interpreter cannot compile, or that crashed
// it. It is nil when every package compiled.
func probe(ctx context.Context, g *gomod.Graph, order []string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("interp: cannot find this program to check packages from source: %v", err)
	}
	probeRuns.Add(1)
	req := probeRequest{Order: order}
	for _, p := range g.Packages {
		req.Packages = append(req.Packages, p)
	}
	in, err := json.Marshal(req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), probeEnv+"=1")
	cmd.Stdin = bytes.NewReader(in)
	var out, stderr bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	var started string
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		verb, rest, _ := strings.Cut(sc.Text(), " ")
		switch verb {
		case "compiling":
			started = rest
		case "ok":
			started = ""
		case "error":
			ip, msg, _ := strings.Cut(rest, " ")
			if s, err := strconv.Unquote(msg); err == nil {
				msg = s
			}
			if !strings.Contains(msg, gomod.Alternative) {
				msg += "; " + gomod.Alternative
			}
			return fmt.Errorf("package %s cannot be compiled by the interpreter (yaegi v0.16.1): %s", ip, msg)
		}
	}
	switch {
	case ctx.Err() != nil && started != "":
		return fmt.Errorf("package %s: the interpreter (yaegi v0.16.1) did not finish compiling it within %v", started, probeTimeout)
	case ctx.Err() != nil:
		return fmt.Errorf("interp: checking packages from source: %v", ctx.Err())
	case started != "":
		ip, inst, _ := strings.Cut(started, " instantiating ")
		what := "while it compiles"
		if inst != "" {
			what = "when " + strings.TrimPrefix(inst, "func ") + " is instantiated"
		}
		return fmt.Errorf("package %s crashes the interpreter (yaegi v0.16.1) %s (%s), so the kernel does not load it; %s", ip, what, crashLine(stderr.String()), gomod.Alternative)
	case runErr != nil:
		return fmt.Errorf("interp: checking packages from source: %v: %s", runErr, crashLine(stderr.String()))
	}
	return nil
}

// crashLine picks the line that says why a Go program died.
func crashLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "fatal error: ") || strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "runtime: goroutine stack exceeds") {
			return strings.TrimSpace(l)
		}
	}
	return "it ended without saying why"
}

// runProbe is the probe's main: it reads a probeRequest, compiles the packages
// in order into an interpreter set up as a session's, and writes "compiling
// IP", then "ok IP" or "error IP MESSAGE" for each.
func runProbe(r io.Reader, w io.Writer) int {
	debug.SetMaxStack(probeStack)
	var req probeRequest
	if err := json.NewDecoder(r).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 2
	}
	g := &gomod.Graph{Packages: map[string]*gomod.Package{}}
	for _, p := range req.Packages {
		g.Packages[p.ImportPath] = p
	}
	src := newSourceTree()
	src.add(g)
	yi := yaegi.New(yaegi.Options{SourcecodeFilesystem: src.fs, Unrestricted: true, Stdout: io.Discard, Stderr: io.Discard})
	if err := yi.Use(symbols.All()); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 2
	}
	if _, err := yi.Compile(yaegiCmp); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 2
	}
	for _, p := range sourceOrder {
		text, err := sourceText(p)
		if err == nil {
			_, err = yi.Eval(yaegiSource(p, text))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			return 2
		}
	}
	for _, ip := range req.Order {
		fmt.Fprintln(w, "compiling", ip)
		if _, err := safeEval(yi, fmt.Sprintf("import _ %q", ip), mayRunCode); err != nil {
			fmt.Fprintln(w, "error", ip, strconv.Quote(err.Error()))
			return 0
		}
		fmt.Fprintln(w, "ok", ip)
	}
	// Instantiating a generic type can crash yaegi where compiling its
	// declaration did not: instantiate each exported one (and each generic
	// function) once, with basic type arguments, as a cell would.
	for _, ip := range req.Order {
		c, err := src.im.Checked(ip)
		if err != nil || c == nil {
			continue
		}
		alias := "probe_" + strconv.Itoa(len(ip))
		if _, err := safeEval(yi, fmt.Sprintf("import %s %q", alias, ip), mayRunCode); err != nil {
			continue
		}
		for _, inst := range instances(c.Types) {
			fmt.Fprintln(w, "compiling", ip, "instantiating", inst)
			code := fmt.Sprintf("func _() { var x %s.%s; _ = x }", alias, inst)
			if f, ok := strings.CutPrefix(inst, "func "); ok {
				code = fmt.Sprintf("func _() { f := %s.%s; _ = f }", alias, f)
			}
			// An error is no crash: the cell that instantiates it gets it.
			safeEval(yi, code, mayRunCode)
			fmt.Fprintln(w, "ok", ip)
		}
	}
	return 0
}

// instances returns, for each exported generic type and function of pkg,
// an instantiation with basic type arguments that satisfy its constraints:
// "Tree[int]", "Map[string, int]"; functions as "func Sum[int]". A generic
// whose constraints no basic type satisfies is left out.
func instances(pkg *types.Package) []string {
	var out []string
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		var tparams *types.TypeParamList
		prefix := ""
		switch o := obj.(type) {
		case *types.TypeName:
			if n, ok := o.Type().(*types.Named); ok {
				tparams = n.TypeParams()
			}
		case *types.Func:
			tparams = o.Type().(*types.Signature).TypeParams()
			prefix = "func "
		}
		if tparams.Len() == 0 {
			continue
		}
		var args []string
		var targs []types.Type
		for i := 0; i < tparams.Len(); i++ {
			for _, t := range []types.Type{types.Typ[types.Int], types.Typ[types.String], types.Typ[types.Float64]} {
				if types.Satisfies(t, tparams.At(i).Constraint().Underlying().(*types.Interface)) {
					args = append(args, t.String())
					targs = append(targs, t)
					break
				}
			}
		}
		if len(args) != tparams.Len() {
			continue
		}
		if _, err := types.Instantiate(nil, obj.Type(), targs, true); err != nil {
			continue
		}
		out = append(out, prefix+name+"["+strings.Join(args, ", ")+"]")
	}
	return out
}

// sourceTree is the type checker's and the interpreter's view of the packages
// cells import from source.
type sourceTree struct {
	im *gomod.Importer
	fs *gomod.SourceFS
}

// newSourceTree returns an empty tree. Imports of the standard packages the
// engine supplies from source (slices, maps, cmp, iter) are written for the
// interpreter with the paths it knows them by, as in cells.
func newSourceTree() *sourceTree {
	t := &sourceTree{im: gomod.NewImporter(theImporter())}
	t.im.Renames = map[string]string{}
	for p := range sourcePackageNames {
		t.im.Renames[p] = yaegiPath(p)
	}
	t.fs = &gomod.SourceFS{Transform: t.im.Source}
	return t
}

func (t *sourceTree) add(g *gomod.Graph) {
	t.im.Add(g)
	t.fs.Add(g)
}
