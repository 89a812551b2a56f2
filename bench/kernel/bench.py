"""Startup and execute round-trip times of Jupyter kernels, side by side in one run.

Starts each kernelspec through jupyter_client's KernelManager, as a front end does,
and measures for each:

  startup   from KernelManager.start_kernel to the first kernel_info_reply (median
            and p90 over --starts starts);
  first     from start_kernel to the reply of a first trivial execute sent right
            after kernel_info (median), and the kernel process's CPU time by
            then (median; the load of other processes inflates it less than
            the wall times);
  RTT       the round trip of a trivial execute_request, from sending it to its
            execute_reply (median and p90 over --n requests after --warmup ones),
            and the kernel process's CPU time per execute (its children's
            included: gonb compiles each cell with the go command).

The kernels are measured side by side, so that they meet the same load on a
shared machine: in each of --rounds rounds, the first start of every kernel, then
the second start of every kernel, ...; then every kernel is started and kept
running while blocks of --block executes go to each in turn. The 1-minute load
average is printed beside every figure (read when the round starts and ends).
Each kernel runs its smallest cell (TRIVIAL).

usage: /usr/bin/python3 bench/kernel/bench.py [--kernels gocvx,gocvx-baseline,python3,gophernotes,gonb]
                     [--n 200] [--starts 10] [--rounds 2] [--block 20] [--kernel-log FILE]
(bench/kernel/run.sh builds gocvx and the other Go kernels and installs their
kernelspecs into a temporary Jupyter data folder, then runs this.)
"""

import argparse
import os
import queue
import statistics
import time

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

TIMEOUT = 60
# Each kernel's smallest cell with a visible result: gonb runs a cell as a Go
# program (%% is its main function) and shows what it prints.
TRIVIAL = {"gonb": "%%\nfmt.Println(1 + 1)"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def trivial(name):
    return TRIVIAL.get(name, "1 + 1")


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def cpu_seconds(pid):
    """CPU time of process pid (its threads' run time in nanoseconds, from
    /proc/PID/task/*/schedstat) and of the children it has waited for (in clock
    ticks, from /proc/PID/stat), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # Fields 16-17 of proc(5), counted from 1: cutime cstime.
    children = sum(int(x) for x in fields[13:15]) / CLK_TCK
    threads = 0
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, task)) as f:
                threads += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended
    return threads / 1e9 + children


def kernel_pid(km):
    return km.provisioner.process.pid


def shell_reply(kc, msg_id):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            msg = kc.get_shell_msg(timeout=deadline - time.monotonic())
        except queue.Empty:
            break
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg
    raise RuntimeError("no reply to %s within %ss" % (msg_id, TIMEOUT))


def idle(kc, msg_id):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=deadline - time.monotonic())
        except queue.Empty:
            break
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"):
            return
    raise RuntimeError("no idle status for %s" % msg_id)


KERNEL_LOG = None  # where the kernels' standard output and error go (--kernel-log)


def start(name):
    """Starts a kernel; returns (manager, client, seconds to the first kernel_info_reply,
    seconds to the reply of a first trivial execute sent right after it, the kernel
    process's CPU seconds by then)."""
    km = KernelManager(kernel_name=name)
    t0 = time.perf_counter()
    km.start_kernel(stdout=KERNEL_LOG, stderr=KERNEL_LOG)
    kc = km.client()
    kc.start_channels()
    shell_reply(kc, kc.kernel_info())
    t_info = time.perf_counter() - t0
    # (No wait for its idle status: iopub may not be subscribed yet at this point.)
    reply = shell_reply(kc, kc.execute(trivial(name)))
    t_exec = time.perf_counter() - t0
    cpu = cpu_seconds(kernel_pid(km))
    if reply["content"]["status"] != "ok":
        raise RuntimeError("%s: first execute failed: %r" % (name, reply["content"]))
    return km, kc, t_info, t_exec, cpu


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=False)


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


class Run:
    """The figures of one kernel in one round."""

    def __init__(self, name):
        self.name = name
        self.startup, self.first, self.first_cpu, self.rtt = [], [], [], []
        self.cpu_per_exec = 0.0
        self.load = (0.0, 0.0)


def executes(kc, name, k):
    """Runs the kernel's trivial cell k times, each after the previous one's idle
    status; returns the round trip of each, in seconds."""
    code = trivial(name)
    out = []
    for _ in range(k):
        t0 = time.perf_counter()
        msg_id = kc.execute(code)
        reply = shell_reply(kc, msg_id)
        dt = time.perf_counter() - t0
        if reply["content"]["status"] != "ok":
            raise RuntimeError("%s: %r failed: %r" % (name, code, reply["content"]))
        idle(kc, msg_id)
        out.append(dt)
    return out


def bench_round(i, names, n, starts, warmup, block):
    """Measures the kernels named in one round (see the module's doc); a kernel
    that fails is reported and left out of the round."""
    runs = {name: Run(name) for name in names}

    def drop(name, e):
        print("note: round %d: %s failed: %s; skipped" % (i, name, e), flush=True)
        runs.pop(name, None)

    load0 = load()
    for _ in range(starts):
        for name in list(runs):
            try:
                km, kc, dt, dt_exec, cpu_first = start(name)
                stop(km, kc)
            except Exception as e:  # a kernel that cannot run is reported, not fatal
                drop(name, e)
                continue
            runs[name].startup.append(dt)
            runs[name].first.append(dt_exec)
            runs[name].first_cpu.append(cpu_first)
    live, cpu = {}, {}
    try:
        for name in list(runs):
            try:
                km, kc, _, _, _ = start(name)
                live[name] = (km, kc)
                kc.wait_for_ready(timeout=TIMEOUT)  # iopub subscribed: idle statuses arrive
                executes(kc, name, warmup)
                cpu[name] = 0.0
            except Exception as e:
                drop(name, e)
        done = 0
        while done < n:
            k = min(block, n - done)
            for name in [x for x in live if x in runs]:
                km, kc = live[name]
                try:
                    pid = kernel_pid(km)
                    c0 = cpu_seconds(pid)
                    runs[name].rtt += executes(kc, name, k)
                    cpu[name] += cpu_seconds(pid) - c0
                except Exception as e:
                    drop(name, e)
            done += k
    finally:
        for km, kc in live.values():
            stop(km, kc)
    load1 = load()
    for name, r in runs.items():
        r.cpu_per_exec = cpu[name] / n
        r.load = (load0, load1)
    return runs


def available(names):
    """The kernels whose kernelspec is installed; the others are reported and skipped."""
    ksm = KernelSpecManager()
    out = []
    for name in names:
        try:
            ksm.get_kernel_spec(name)
            out.append(name)
        except NoSuchKernel:
            print("note: no kernelspec %r; skipped" % name)
    return out


def ms(x):
    return "%.1f" % (1e3 * x) if x >= 0.01 else "%.2f" % (1e3 * x)


def table(rounds, names):
    """Prints the figures of every round as a Markdown table, rounds separated by ' · '."""
    base = "python3"
    print()
    print("| kernel | startup → kernel_info_reply, median / p90 (ms) "
          "| start → first execute_reply, median (ms) | kernel CPU by then, median (ms) "
          "| trivial execute RTT, median / p90 (ms) "
          "| RTT median / ipykernel's | kernel CPU per execute (ms) | load average |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        runs = [rd[name] for rd in rounds if name in rd]
        if not runs:
            continue

        def join(f):
            return " · ".join(f(r) for r in runs)

        def ratio(r):
            b = next((rd[base] for rd in rounds if rd.get(name) is r and base in rd), None)
            return "%.3f" % (statistics.median(r.rtt) / statistics.median(b.rtt)) if b else "–"

        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name,
            join(lambda r: "%s / %s" % (ms(statistics.median(r.startup)), ms(quantile(r.startup, 0.9)))),
            join(lambda r: ms(statistics.median(r.first))),
            join(lambda r: ms(statistics.median(r.first_cpu))),
            join(lambda r: "%s / %s" % (ms(statistics.median(r.rtt)), ms(quantile(r.rtt, 0.9)))),
            join(ratio),
            join(lambda r: ms(r.cpu_per_exec)),
            join(lambda r: "%.1f–%.1f" % r.load)))
    for i, rd in enumerate(rounds, 1):
        for name in (n for n in names if n.startswith("gocvx") and n in rd and base in rd):
            g, b = rd[name], rd[base]
            print("round %d: %s startup p90 = %.1f %% of ipykernel's median; RTT median = %.3f × ipykernel's" % (
                i, name, 100 * quantile(g.startup, 0.9) / statistics.median(b.startup),
                statistics.median(g.rtt) / statistics.median(b.rtt)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernels", default="gocvx,gocvx-baseline,python3,gophernotes,gonb")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--starts", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--block", type=int, default=20, help="executes per kernel in turn")
    ap.add_argument("--kernel-log", default=os.devnull, help="file for the kernels' standard output and error")
    args = ap.parse_args()
    global KERNEL_LOG
    KERNEL_LOG = open(args.kernel_log, "a")
    names = available(args.kernels.split(","))
    rounds = []
    for i in range(1, args.rounds + 1):
        rd = bench_round(i, names, args.n, args.starts, args.warmup, args.block)
        for name, r in rd.items():
            print("round %d %-14s startup %s ms, RTT %s ms (load %.1f–%.1f)" % (
                i, name, ms(statistics.median(r.startup)), ms(statistics.median(r.rtt)), *r.load),
                flush=True)
        rounds.append(rd)
    table(rounds, names)


if __name__ == "__main__":
    main()
