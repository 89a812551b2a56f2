"""Startup and execute round-trip times of the gocvx kernel against ipykernel.

Starts each kernelspec through jupyter_client's KernelManager in the same run and
reports, for each: the time from process start to the first kernel_info_reply and
to the reply of a first trivial execute (median and p95 over --starts starts), and the round-trip time of a trivial
execute_request, from sending it to receiving its execute_reply (median and p95 over
--n requests, after --warmup unmeasured ones).

usage: /usr/bin/python3 bench/kernel/bench.py [--kernels gocvx,python3] [--n 200] [--starts 10]
(bench/kernel/run.sh builds gocvx, installs it into a temporary folder and runs this.)
"""

import argparse
import queue
import statistics
import time

from jupyter_client import KernelManager

TIMEOUT = 30
TRIVIAL = {"gocvx": "1 + 1", "python3": "1 + 1"}


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


def start(name):
    """Starts a kernel; returns (manager, client, seconds to the first kernel_info_reply,
    seconds to the reply of a first trivial execute sent right after it)."""
    km = KernelManager(kernel_name=name)
    t0 = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    shell_reply(kc, kc.kernel_info())
    t_info = time.perf_counter() - t0
    # (No wait for its idle status: iopub may not be subscribed yet at this point.)
    shell_reply(kc, kc.execute(TRIVIAL.get(name, "1 + 1")))
    return km, kc, t_info, time.perf_counter() - t0


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=False)


def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def bench(name, n, starts, warmup):
    startup, first = [], []
    for _ in range(starts):
        km, kc, dt, dt_exec = start(name)
        startup.append(dt)
        first.append(dt_exec)
        stop(km, kc)
    km, kc, _, _ = start(name)
    kc.wait_for_ready(timeout=TIMEOUT)  # iopub subscribed: idle statuses arrive
    code = TRIVIAL.get(name, "1 + 1")
    rtt = []
    try:
        for i in range(warmup + n):
            t0 = time.perf_counter()
            msg_id = kc.execute(code)
            reply = shell_reply(kc, msg_id)
            dt = time.perf_counter() - t0
            if reply["content"]["status"] != "ok":
                raise RuntimeError("%s: %r failed: %r" % (name, code, reply["content"]))
            idle(kc, msg_id)
            if i >= warmup:
                rtt.append(dt)
    finally:
        stop(km, kc)
    return startup, first, rtt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernels", default="gocvx,python3")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--starts", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=10)
    args = ap.parse_args()
    results = {}
    for name in args.kernels.split(","):
        results[name] = bench(name, args.n, args.starts, args.warmup)
    cols = ("startup to kernel_info_reply", "startup to first execute_reply", "trivial execute RTT")
    print("%-8s %-33s %-33s %-27s" % (("kernel",) + cols))
    print("%-8s %-33s %-33s %-27s" % ("", "median / p95 (ms)", "median / p95 (ms)", "median / p95 (ms)"))
    for name, (startup, first, rtt) in results.items():
        print("%-8s %-33s %-33s %-27s" % (
            name, "%.1f / %.1f" % (1e3 * statistics.median(startup), 1e3 * p95(startup)),
            "%.1f / %.1f" % (1e3 * statistics.median(first), 1e3 * p95(first)),
            "%.3f / %.3f" % (1e3 * statistics.median(rtt), 1e3 * p95(rtt))))
    names = list(results)
    if len(names) == 2:
        a, b = names
        print("startup: %s is %.1fx faster than %s; execute RTT median: %s/%s = %.2f" % (
            a, statistics.median(results[b][0]) / statistics.median(results[a][0]), b,
            a, b, statistics.median(results[a][2]) / statistics.median(results[b][2])))


if __name__ == "__main__":
    main()
