"""Runs hostile cells in a gocvx kernel through jupyter_client and checks that the
kernel survives each one, answers promptly, and keeps the notebook's state: before
each hostile cell the scenario defines a variable, after it a cell reads it back.

usage: hostile.py --kernel NAME SCENARIO...

The kernel is started from its kernelspec by a KernelManager (found through
JUPYTER_PATH), with the environment of this process (GOCVX_MEMORY_LIMIT among it).
Prints one line per scenario ("ok NAME") and "measure: ..." lines with the figures
it observed (latencies, memory); exits 1 at the first failure. Every wait is bounded.
"""

import argparse
import os
import queue
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "kernel", "testdata"))

from client import (Failure, check, drain, execute, iopub_of, reply_to, result_of,  # noqa: E402
                    send, stdout_of, wait_started)
from jupyter_client import KernelManager  # noqa: E402

TIMEOUT = 60


def measure(what, value):
    print("measure: %s: %s" % (what, value), flush=True)


def define(kc, name, value):
    reply, out = execute(kc, "%s := %s" % (name, value))
    check(reply["status"] == "ok", "define " + name, reply, out)


def intact(kc, name, value):
    """The variable defined before the hostile cell still holds its value."""
    reply, out = execute(kc, name)
    check(reply["status"] == "ok" and result_of(out) == value,
          "%s is still %s after the hostile cell" % (name, value), reply, out)


def interrupt_after(kc, code, delay):
    """Runs code, interrupts it after delay seconds (interrupt_request on control),
    and returns the reply, the outputs and the seconds from the interrupt to the
    reply."""
    msg_id = kc.execute(code)
    wait_started(kc, msg_id)
    time.sleep(delay)
    ir = send(kc, kc.control_channel, "interrupt_request", {})
    t0 = time.monotonic()
    r = reply_to(kc.get_control_msg, ir)
    check(r["content"]["status"] == "ok", "interrupt_reply", r)
    reply = reply_to(kc.get_shell_msg, msg_id, TIMEOUT)
    latency = time.monotonic() - t0
    return reply["content"], iopub_of(kc, msg_id), latency


def failing(kc, code, ename, evalue_part=""):
    reply, out = execute(kc, code)
    check(reply["status"] == "error" and reply["ename"] == ename and evalue_part in reply["evalue"],
          "%r fails with %s (%s)" % (code, ename, evalue_part), reply, out)
    errors = [m for m in out if m["msg_type"] == "error"]
    check(errors and errors[0]["content"]["ename"] == ename, "an error message on iopub", out)
    return reply, out


def rss_kb(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


# Scenarios: each takes the client, the kernel's pid and the cells of the solver.

def loop(kc, pid):
    define(kc, "a", "21")
    reply, out, latency = interrupt_after(kc, "for {\n}", 1.0)
    check(reply["status"] == "error" and reply["ename"] == "Interrupted", "for {} interrupted", reply)
    measure("for {} interrupted: reply after the interrupt", "%.3f s" % latency)
    intact(kc, "a", "21")


def solver(kc, pid):
    define(kc, "b", "22")
    reply, out = execute(kc, "\n".join([
        "set, _ := dataset.Spirals(300, 0.2, 1)",
        "prob := &solver.Problem{X: dataset.AddBias(set.X), Y: set.Y, Loss: solver.Squared, Beta: 1e-4}",
        "settings := &solver.Settings{Patterns: 400, MaxIterations: 1 << 30, Tolerance: 1e-300, TimeLimit: 2 * time.Minute}",
    ]))
    check(reply["status"] == "ok", "solver setup", reply, out)
    reply, out, latency = interrupt_after(
        kc, "res, err := solver.Solve(cell.Context(), prob, settings, &solver.ADMM{})\nfmt.Println(res.Status, err)", 1.0)
    check(reply["status"] == "error" and reply["ename"] == "Interrupted", "the solve was interrupted", reply, out)
    measure("solver.Solve interrupted after 1 s: reply after the interrupt", "%.3f s" % latency)
    intact(kc, "b", "22")


def panics(kc, pid):
    define(kc, "c", "23")
    failing(kc, 'panic("at top level")', "panic", "at top level")
    failing(kc, 'func fail() { panic("in a function") }\nfail()', "panic", "in a function")
    failing(kc, 'func deferred() {\n\tdefer func() { panic("in a deferred call") }()\n}\ndeferred()',
            "panic", "in a deferred call")
    reply, out = execute(kc, 'done := make(chan bool)\ngo func() {\n\tdefer close(done)\n\tpanic("in a goroutine")\n}()\n<-done\ntime.Sleep(50 * time.Millisecond)')
    check(reply["status"] == "ok" and "panic in a goroutine started by" in stdout_of(out, "stderr"),
          "a goroutine's panic is reported on stderr", reply, out)
    reply, out = execute(kc, 'fired := make(chan bool)\ntime.AfterFunc(time.Millisecond, func() {\n\tdefer close(fired)\n\tpanic("in time.AfterFunc")\n})\n<-fired\ntime.Sleep(50 * time.Millisecond)')
    check(reply["status"] == "ok" and "in time.AfterFunc" in stdout_of(out, "stderr"),
          "a panic in a callback on a goroutine of compiled code is reported", reply, out)
    reply, out = execute(kc, 'done := make(chan bool)\nobj := new([64]int)\nruntime.SetFinalizer(obj, func(*[64]int) {\n\tdefer close(done)\n\tpanic("in a finalizer")\n})\nobj = nil\nfor i := 0; i < 40; i++ {\n\truntime.GC()\n\tselect {\n\tcase <-done:\n\t\ti = 40\n\tcase <-time.After(50 * time.Millisecond):\n\t}\n}\ntime.Sleep(50 * time.Millisecond)')
    check(reply["status"] == "ok" and "in a finalizer" in stdout_of(out, "stderr"),
          "a panic in a finalizer is reported", reply, out)
    intact(kc, "c", "23")


def exits(kc, pid):
    define(kc, "d", "24")
    failing(kc, "os.Exit(1)", "Exit", "os.Exit(1)")
    failing(kc, 'log.Fatal("fatal")', "Exit")
    intact(kc, "d", "24")


def recursion(kc, pid):
    define(kc, "e", "25")
    for code in ("func forever(n int) int { return forever(n+1) + 1 }\nforever(0)",
                 "var lit func(n int) int\nlit = func(n int) int { return lit(n+1) + 1 }\nlit(0)",
                 "type walker struct{}\nfunc (w walker) walk(n int) int { return w.walk(n+1) + 1 }\nwalker{}.walk(0)"):
        t0 = time.monotonic()
        failing(kc, code, "runtime error", "stack overflow")
        measure("runaway recursion stopped (%s)" % code.split("\n")[-1], "%.3f s" % (time.monotonic() - t0))
    intact(kc, "e", "25")


def memory(kc, pid):
    define(kc, "f", "26")
    t0 = time.monotonic()
    reply, out = failing(kc, "var hog [][]float64\nfor {\n\thog = append(hog, make([]float64, 1<<17))\n}",
                         "MemoryError", "past the memory ceiling of 512.0 MiB (GOCVX_MEMORY_LIMIT)")
    measure("allocating cell stopped by the 512 MiB ceiling", "%.3f s, %s" % (time.monotonic() - t0, reply["evalue"]))
    measure("kernel VmHWM after the allocating cell", "%d MB" % (rss_kb(pid, "VmHWM") // 1024))
    failing(kc, "huge := make([]float64, 1<<40)", "MemoryError", "is larger than the memory ceiling")
    failing(kc, "m := mat.NewDense(100000, 100000, nil)", "MemoryError", "an allocation of 74.5 GiB")
    intact(kc, "f", "26")
    reply, out = execute(kc, "more := make([]byte, 100<<20)\nlen(more)")
    check(reply["status"] == "ok" and result_of(out) == "104857600", "100 MB can be allocated again", reply, out)


def deadlock(kc, pid):
    define(kc, "g", "27")
    for code in ("select {}", "<-make(chan int)"):
        reply, out, latency = interrupt_after(kc, code, 0.5)
        check(reply["status"] == "error" and reply["ename"] == "Interrupted", code + " interrupted", reply)
        measure("%s interrupted: reply after the interrupt" % code, "%.3f s" % latency)
    reply, out, latency = interrupt_after(kc, "var wg sync.WaitGroup\nwg.Add(1)\nwg.Wait()", 0.5)
    check(reply["status"] == "error" and reply["ename"] == "Interrupted" and "abandoned" in reply["evalue"],
          "a WaitGroup that nothing releases is abandoned after the interrupt", reply)
    measure("wg.Wait() forever interrupted: reply after the interrupt (abandoned)", "%.3f s" % latency)
    intact(kc, "g", "27")


def printing(kc, pid):
    define(kc, "h", "28")
    drain(kc.get_iopub_msg, 0.2)
    before = rss_kb(pid)
    code = 'line := strings.Repeat("x", 99) + "\\n"\nfor i := 0; i < 1<<20; i++ {\n\tfmt.Print(line)\n}'
    t_cell = time.monotonic()
    msg_id = kc.execute(code)
    wait_started(kc, msg_id)
    # The kernel answers on control while the cell prints.
    t0 = time.monotonic()
    ki = send(kc, kc.control_channel, "kernel_info_request", {})
    r = reply_to(kc.get_control_msg, ki)
    check(r["msg_type"] == "kernel_info_reply", "kernel_info on control while printing", r)
    measure("kernel_info_reply on control while the cell prints", "%.3f s" % (time.monotonic() - t0))
    reply = reply_to(kc.get_shell_msg, msg_id, TIMEOUT)["content"]
    out = iopub_of(kc, msg_id, TIMEOUT)
    measure("printing 100 MiB in 1 Mi lines: cell time", "%.3f s" % (time.monotonic() - t_cell))
    after = rss_kb(pid)
    text = stdout_of(out)
    check(reply["status"] == "ok", "printing cell", reply)
    check(len(text) == 2 << 20, "stdout truncated at 2 MiB (got %d bytes)" % len(text))
    check("[gocvx: output truncated: 98.0 MiB more were written" in stdout_of(out, "stderr"),
          "truncation notice", stdout_of(out, "stderr"))
    measure("printing 100 MiB: kernel RSS before, after", "%d MB, %d MB (growth %d MB); stream messages: %d" % (
        before // 1024, after // 1024, (after - before) // 1024, sum(1 for m in out if m["msg_type"] == "stream")))
    check(after - before < 200 * 1024, "RSS grew by less than 200 MB while printing 100 MiB")
    intact(kc, "h", "28")


def goroutines(kc, pid):
    define(kc, "k", "29")
    reply, out = execute(kc, "before := runtime.NumGoroutine()")
    code = "\n".join([
        "var started sync.WaitGroup",
        "var sum atomic.Int64",
        "block := make(chan bool)",
        "for i := 0; i < 10000; i++ {",
        "\tstarted.Add(1)",
        "\tgo func() {",
        "\t\ts := 0",
        "\t\tfor j := 0; j <= i%100; j++ {",
        "\t\t\ts += j",
        "\t\t}",
        "\t\tsum.Add(int64(s))",
        "\t\tstarted.Done()",
        "\t\tif i%2 == 0 {",
        "\t\t\ttime.Sleep(time.Hour)",
        "\t\t} else {",
        "\t\t\t<-block",
        "\t\t}",
        "\t}()",
        "}",
        "started.Wait()",
        "fmt.Println(sum.Load(), runtime.NumGoroutine()-before)",
    ])
    reply, out = execute(kc, code)
    check(reply["status"] == "ok" and stdout_of(out).split()[0] == "16665000"
          and int(stdout_of(out).split()[1]) >= 10000, "10 000 goroutines computed and wait", reply, out)
    measure("kernel RSS with 10 000 goroutines waiting", "%d MB" % (rss_kb(pid) // 1024))
    reply, out, latency = interrupt_after(kc, "select {}", 0.3)
    check(reply["status"] == "error", "interrupted", reply)
    reply, out = execute(kc, "for i := 0; i < 2000 && runtime.NumGoroutine() > before+10; i++ {\n\ttime.Sleep(time.Millisecond)\n}\nruntime.NumGoroutine() - before")
    check(reply["status"] == "ok" and int(result_of(out)) <= 10, "the interrupt stopped the goroutines", reply, out)
    intact(kc, "k", "29")


def displays(kc, pid):
    """display_data, then update_display_data with the same display_id."""
    reply, out = execute(kc, 'import "github.com/gocvx/gocvx/display"\n'
                             'id := display.ShowID(display.AsHTML("<b>first</b>"))\n'
                             'display.Update(id, "second")')
    check(reply["status"] == "ok", "display cell", reply, out)
    kinds = [m["msg_type"] for m in out if m["msg_type"] in ("display_data", "update_display_data")]
    check(kinds == ["display_data", "update_display_data"], "display_data, then update_display_data", kinds)
    shown = [m for m in out if m["msg_type"] == "display_data"][0]["content"]
    update = [m for m in out if m["msg_type"] == "update_display_data"][0]["content"]
    did = shown["transient"].get("display_id")
    check(did and update["transient"].get("display_id") == did, "the same non-empty display_id", shown, update)
    check(shown["data"].get("text/html") == "<b>first</b>" and shown["data"].get("text/plain") == "first",
          "the first display's data", shown)
    check(update["data"].get("text/plain") == "second", "the update's data", update)


def live(kc, pid):
    """display.SolveLive: one display_data, then updates of the same display."""
    reply, out = execute(kc, "\n".join([
        "set, _ := dataset.Spirals(200, 0.2, 1)",
        "liveProb := &solver.Problem{X: dataset.AddBias(set.X), Y: set.Y, Loss: solver.Squared, Beta: 1e-4}",
        "liveSettings := &solver.Settings{Patterns: 200, MaxIterations: 1 << 30, Tolerance: 1e-300, TimeLimit: 1500 * time.Millisecond}",
        "res, err := display.SolveLive(cell.Context(), liveProb, liveSettings, &solver.ADMM{})",
        "fmt.Println(res.Status, err)",
    ]))
    check(reply["status"] == "ok", "SolveLive cell", reply, out)
    rich = [m for m in out if m["msg_type"] in ("display_data", "update_display_data")]
    kinds = [m["msg_type"] for m in rich]
    check(len(kinds) >= 3 and kinds[0] == "display_data" and all(k == "update_display_data" for k in kinds[1:]),
          "one display_data, then update_display_data messages", kinds)
    ids = {m["content"]["transient"].get("display_id") for m in rich}
    check(len(ids) == 1 and None not in ids and "" not in ids, "every update names the live display", ids)
    measure("SolveLive for 1.5 s: messages", "1 display_data, %d update_display_data" % (len(kinds) - 1))


SCENARIOS = {f.__name__: f for f in (loop, solver, panics, exits, recursion, memory, deadlock, printing,
                                     goroutines, displays, live)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("scenarios", nargs="+")
    args = ap.parse_args()
    km = KernelManager(kernel_name=args.kernel)
    km.start_kernel()
    pid = km.provisioner.process.pid
    kc = km.client()
    kc.start_channels()
    status = 0
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        for name in args.scenarios:
            SCENARIOS[name](kc, pid)
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
