"""Drives a gocvx kernel through jupyter_client: packages that the kernel does not
preload, imported from the Go module proxy and from a local module, the %go
commands, refusals, and the magics.

usage: modules.py --kernel NAME [--local DIR] SCENARIO...

The kernel is started from its kernelspec by a KernelManager (found through
JUPYTER_PATH), with the environment of this process (GOPROXY, GOMODCACHE,
XDG_CACHE_HOME, GOCVX_GO_TIMEOUT among it). Prints one line per scenario
("ok NAME"); exits 1 at the first failure. Every wait is bounded.
"""

import argparse
import os
import queue
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "kernel", "testdata"))

from client import (Failure, check, iopub_of, reply_to, result_of, send, stdout_of)  # noqa: E402
from jupyter_client import KernelManager  # noqa: E402

TIMEOUT = 240  # a first import downloads modules


def ok_cell(kc, code, **kw):
    msg_id = kc.execute(code, **kw)
    reply = reply_to(kc.get_shell_msg, msg_id, TIMEOUT)["content"]
    out = iopub_of(kc, msg_id, TIMEOUT)
    check(reply["status"] == "ok", "status of %r" % code, reply, out)
    return out


def failing(kc, code, *parts):
    msg_id = kc.execute(code)
    reply = reply_to(kc.get_shell_msg, msg_id, TIMEOUT)["content"]
    out = iopub_of(kc, msg_id, TIMEOUT)
    check(reply["status"] == "error", "%r fails" % code, reply, out)
    for p in parts:
        check(p in reply["evalue"], "the error of %r says %r" % (code, p), reply["evalue"])
    return reply, out


def proxy(kc, args):
    """A module from the proxy pinned, used (type, function, method), upgraded."""
    out = ok_cell(kc, "%go get github.com/montanaflynn/stats@v0.13.0")
    check("github.com/montanaflynn/stats v0.13.0" in stdout_of(out), "go get's report", out)
    out = ok_cell(kc, 'import "github.com/montanaflynn/stats"\n'
                      'd := stats.Float64Data{1, 2, 3, 4}\n'
                      'm, _ := d.Mean()\n'
                      'med, _ := stats.Median(d)\n'
                      'fmt.Println(m, med)\n'
                      'big, _ := stats.Mean(stats.Float64Data{1e308, 1e308})\n'
                      'big')
    check(stdout_of(out) == "2.5 2.5\n", "stats from v0.13.0", out)
    # v0.13.0 overflows to +Inf on the mean of two huge numbers; v0.14.0 does not.
    check(result_of(out) == "+Inf", "v0.13.0's mean overflows", out)
    out = ok_cell(kc, "%go mod")
    check("github.com/montanaflynn/stats v0.13.0" in stdout_of(out), "%go mod names v0.13.0", out)
    ok_cell(kc, "%go get github.com/montanaflynn/stats@v0.14.0")
    out = ok_cell(kc, "%go mod")
    check("github.com/montanaflynn/stats v0.14.0" in stdout_of(out), "%go mod names v0.14.0", out)
    out = ok_cell(kc, "big2, _ := stats.Mean(stats.Float64Data{1e308, 1e308})\nbig2")
    check(result_of(out) == "1e+308", "the upgraded package runs", out)
    # Generics: a constraint of a module from the proxy in a generic function.
    out = ok_cell(kc, 'import "golang.org/x/exp/constraints"\n'
                      'func biggest[T constraints.Ordered](xs ...T) T { m := xs[0]; for _, x := range xs { if x > m { m = x } }; return m }\n'
                      'fmt.Println(biggest(3, 9, 2), biggest("a", "c"))')
    check(stdout_of(out) == "9 c\n", "a generic function over x/exp/constraints", out)


def gonum(kc, args):
    """Packages from source that import gonum share its compiled types."""
    out = ok_cell(kc, 'import "github.com/sjwhitworth/golearn/metrics/pairwise"\n'
                      'a := mat.NewDense(2, 1, []float64{0, 0})\n'
                      'pairwise.NewEuclidean().Distance(a, mat.NewDense(2, 1, []float64{3, 4}))')
    check(result_of(out) == "5", "golearn's Euclidean distance of two *mat.Dense", out)
    out = ok_cell(kc, 'import "gonum.org/v1/gonum/diff/fd"\n'
                      'g := fd.Gradient(nil, func(x []float64) float64 { return x[0]*x[0] + 3*x[1] }, []float64{2, 5}, nil)\n'
                      'fmt.Printf("%.4f %.4f\\n", g[0], g[1])')
    check(stdout_of(out) == "4.0000 3.0000\n", "gonum's finite differences", out)


def refusals(kc, args):
    """A cgo-only package is refused; an unknown module is the go command's error."""
    failing(kc, 'import "github.com/go-zeromq/goczmq/v4"',
            "package github.com/go-zeromq/goczmq/v4 needs cgo", "wrap it in a compiled package")
    t0 = time.monotonic()
    failing(kc, 'import "github.com/gocvx-test-nonexistent/nothing"', "github.com/gocvx-test-nonexistent/nothing")
    print("measure: unknown module answered in %.1f s" % (time.monotonic() - t0), flush=True)
    out = ok_cell(kc, "1 + 1")
    check(result_of(out) == "2", "the kernel goes on after refusals", out)


def noproxy(kc, args):
    """Without a proxy and with an empty module cache: the go command's error."""
    failing(kc, 'import "github.com/montanaflynn/stats"', "github.com/montanaflynn/stats", "GOPROXY=off")


def local(kc, args):
    """A local module used, edited and imported again."""
    lib = os.path.join(args.local, "lib.go")
    out = ok_cell(kc, "%%go work use %s" % args.local)
    check("example.com/mylib comes from" in stdout_of(out), "%go work use", out)
    out = ok_cell(kc, 'import "example.com/mylib"\nmylib.Answer()')
    check(result_of(out) == "41", "the local package", out)
    with open(lib) as f:
        text = f.read()
    with open(lib, "w") as f:
        f.write(text.replace("return 41", "return 42"))
    later = time.time() + 2
    os.utime(lib, (later, later))
    out = ok_cell(kc, "mylib.Answer()")
    check(result_of(out) == "42", "the edited package", out)


def magics(kc, args):
    out = ok_cell(kc, "%env GOCVX_TEST_MAGIC=hello")
    check("env: GOCVX_TEST_MAGIC=hello" in stdout_of(out), "%env sets", out)
    out = ok_cell(kc, "!echo $GOCVX_TEST_MAGIC from sh\nx := 6 * 7\nx")
    check(stdout_of(out) == "hello from sh\n" and result_of(out) == "42", "! then Go", out)
    out = ok_cell(kc, "%%sh\necho one\necho two >&2\n")
    check(stdout_of(out) == "one\n" and stdout_of(out, "stderr") == "two\n", "%%sh", out)
    out = ok_cell(kc, "%time y := x + 1\ny")
    check("CPU times: user" in stdout_of(out) and "Wall time:" in stdout_of(out) and result_of(out) == "43", "%time", out)
    out = ok_cell(kc, "%%time\nz := y * 2\nfmt.Println(z)")
    check(stdout_of(out).startswith("86\nCPU times: user"), "%%time", out)
    out = ok_cell(kc, "%who")
    check(stdout_of(out) == "x\ty\tz\n", "%who", out)
    out = ok_cell(kc, "%whos")
    check("x          int    42" in stdout_of(out), "%whos", out)

    # Completion, inspection and is_complete on cells with magics.
    code = "!ls\n%time w := strings.ToU"
    msg_id = kc.complete(code, len(code))
    r = reply_to(kc.get_shell_msg, msg_id)["content"]
    check("ToUpper" in r["matches"], "completion after %time", r)
    msg_id = kc.inspect("!ls\nstrings.ToUpper", len("!ls\nstrings.ToU"))
    r = reply_to(kc.get_shell_msg, msg_id)["content"]
    check(r["found"] and "ToUpper" in r["data"]["text/plain"], "inspection below a magic", r)
    for code, status in [("!ls", "complete"), ("%time for {", "incomplete"), ("%%nothing", "invalid")]:
        msg_id = kc.is_complete(code)
        r = reply_to(kc.get_shell_msg, msg_id)["content"]
        check(r["status"] == status, "is_complete(%r)" % code, r)

    # %help is a page.
    msg_id = kc.execute("%help")
    reply = reply_to(kc.get_shell_msg, msg_id)["content"]
    iopub_of(kc, msg_id)
    pages = [p for p in reply.get("payload", []) if p.get("source") == "page"]
    check(pages and "%go get MODULE[@VERSION]" in pages[0]["data"]["text/plain"], "%help page", reply)

    # ! reads its input through input_request.
    msg_id = kc.execute('!read -r a; echo "got $a"', allow_stdin=True)
    req = reply_to(kc.get_stdin_msg, msg_id)
    check(req["msg_type"] == "input_request", "input_request for !read", req)
    kc.input("typed-line")
    reply = reply_to(kc.get_shell_msg, msg_id)["content"]
    out = iopub_of(kc, msg_id)
    check(reply["status"] == "ok" and stdout_of(out) == "got typed-line\n", "! got the line", reply, out)

    # An interrupt sends SIGINT to the command's process group.
    msg_id = kc.execute("!trap 'echo got INT; exit 1' INT; echo started; sleep 60 & wait")
    out = []
    deadline = time.monotonic() + TIMEOUT
    while "started" not in stdout_of(out):  # the trap is set
        check(time.monotonic() < deadline, "the command started", out)
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            out.append(msg)
    ir = send(kc, kc.control_channel, "interrupt_request", {})
    reply_to(kc.get_control_msg, ir)
    reply = reply_to(kc.get_shell_msg, msg_id)["content"]
    out += iopub_of(kc, msg_id)
    check(reply["status"] == "error" and reply["ename"] == "Interrupted", "interrupted !", reply, out)
    check("got INT" in stdout_of(out), "the command got SIGINT", out)

    out = ok_cell(kc, "%reset\n%who")
    check(stdout_of(out) == "Interactive namespace is empty.\n", "%reset", out)
    failing(kc, "x", "undefined: x")


SCENARIOS = {"proxy": proxy, "gonum": gonum, "refusals": refusals, "noproxy": noproxy,
             "local": local, "magics": magics}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--local")
    ap.add_argument("scenarios", nargs="+")
    args = ap.parse_args()
    km = KernelManager(kernel_name=args.kernel)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    status = 0
    try:
        kc.wait_for_ready(timeout=60)
        for name in args.scenarios:
            SCENARIOS[name](kc, args)
            check(km.is_alive(), "the kernel process is alive after " + name)
            print("ok", name, flush=True)
    except Failure as e:
        print("FAIL", e, flush=True)
        status = 1
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
