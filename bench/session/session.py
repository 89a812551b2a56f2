"""Long-session measurements of the gocvx kernel through jupyter_client.

  long      N executes of a typical small cell (a rotation of three) in one kernel
            started from its kernelspec: the kernel process's resident memory (VmRSS)
            and open file descriptors after the first 100 and after every 500, and the
            median and p95 round trip (execute_request to its idle status) per block of
            500.
  restarts  R restarts of one kernel as Jupyter does them (KernelManager.restart_kernel:
            shutdown_request with restart true on control, then a new process on the
            same ports): per restart its time, and the new process's resident memory and
            open file descriptors once it has run a cell; kernel processes left running.
  cycles    (driven by `go run ./bench/session`) connects to a connection file and, R
            times: runs a cell, sends shutdown_request {restart: true} and waits for the
            kernel (served again in the same process) to answer again.

usage: /usr/bin/python3 bench/session/session.py long [--n 5000]
       /usr/bin/python3 bench/session/session.py restarts [--n 50]
       /usr/bin/python3 bench/session/session.py cycles --connection-file F --n 50
(bench/session/run.sh builds gocvx, installs it into a temporary folder and runs all.)
"""

import argparse
import os
import queue
import statistics
import sys
import time

from jupyter_client import BlockingKernelClient, KernelManager

TIMEOUT = 60

CELLS = [
    'import "fmt"\nx := make([]float64, 1000)\nfor i := range x {\n\tx[i] = float64(i)\n}\nfmt.Println(len(x))',
    's := 0.0\nfor _, v := range x {\n\ts += v\n}\ns',
    'func double(n int) int { return 2 * n }\ndouble(21)',
]


def wait(get, msg_id, idle=False):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            msg = get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            break
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if not idle or (msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"):
            return msg
    raise RuntimeError("no %s for %s within %ss" % ("idle" if idle else "reply", msg_id, TIMEOUT))


def execute(kc, code):
    """Runs code; returns (reply content, seconds from request to idle)."""
    t0 = time.perf_counter()
    msg_id = kc.execute(code)
    reply = wait(kc.get_shell_msg, msg_id)
    wait(kc.get_iopub_msg, msg_id, idle=True)
    return reply["content"], time.perf_counter() - t0


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def threads(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def ms(s):
    return "%.2f" % (s * 1000)


def long_session(n):
    km = KernelManager(kernel_name="gocvx")
    km.start_kernel()
    pid = km.provisioner.process.pid
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    print("long session: %d executes of a rotation of %d small cells, kernel pid %d" % (n, len(CELLS), pid))
    print("%8s %10s %6s %8s %12s %12s" % ("executes", "RSS MB", "fds", "threads", "median ms", "p95 ms"))
    block, first = [], None
    try:
        for i in range(1, n + 1):
            reply, dt = execute(kc, CELLS[(i - 1) % len(CELLS)])
            if reply["status"] != "ok":
                raise RuntimeError("cell %d failed: %r" % (i, reply))
            block.append(dt)
            if i == 100:
                first = rss_mb(pid)
                print("%8d %10.1f %6d %8d %12s %12s" % (i, first, fds(pid), threads(pid),
                                                       ms(statistics.median(block)), "-"))
            if i % 500 == 0:
                q = statistics.quantiles(block, n=20)
                print("%8d %10.1f %6d %8d %12s %12s" % (i, rss_mb(pid), fds(pid), threads(pid),
                                                       ms(statistics.median(block)), ms(q[18])), flush=True)
                block = []
        last = rss_mb(pid)
        print("RSS growth from execute 100 to %d: %.1f MB" % (n, last - first))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def restarts(n):
    km = KernelManager(kernel_name="gocvx")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    pids = [km.provisioner.process.pid]
    print("restarts: %d restarts through KernelManager.restart_kernel (shutdown_request restart=true)" % n)
    print("%8s %6s %10s %6s %8s" % ("restart", "pid", "RSS MB", "fds", "s"))
    try:
        for i in range(1, n + 1):
            execute(kc, CELLS[0])
            kc.stop_channels()
            t0 = time.perf_counter()
            km.restart_kernel(now=False)
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=TIMEOUT)
            reply, _ = execute(kc, CELLS[2])
            dt = time.perf_counter() - t0
            pid = km.provisioner.process.pid
            pids.append(pid)
            if i <= 3 or i % 10 == 0:
                print("%8d %6d %10.1f %6d %8.2f" % (i, pid, rss_mb(pid), fds(pid), dt), flush=True)
        alive = [p for p in pids[:-1] if os.path.exists("/proc/%d" % p) and not is_zombie(p)]
        print("earlier kernel processes still running after %d restarts: %d" % (n, len(alive)))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def cycles(connection_file, n):
    kc = BlockingKernelClient(connection_file=connection_file)
    kc.load_connection_file()
    kc.start_channels()
    try:
        for i in range(n):
            kc.wait_for_ready(timeout=TIMEOUT)
            reply, _ = execute(kc, CELLS[0] if i % 2 == 0 else CELLS[2])  # each cycle starts empty
            if reply["status"] != "ok":
                raise RuntimeError("cycle %d: %r" % (i, reply))
            msg = kc.session.msg("shutdown_request", {"restart": True})
            kc.control_channel.send(msg)
            wait(kc.get_control_msg, msg["header"]["msg_id"])
    finally:
        kc.stop_channels()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["long", "restarts", "cycles"])
    ap.add_argument("--n", type=int)
    ap.add_argument("--connection-file")
    args = ap.parse_args()
    if args.what == "long":
        long_session(args.n or 5000)
    elif args.what == "restarts":
        restarts(args.n or 50)
    else:
        cycles(args.connection_file, args.n or 50)


if __name__ == "__main__":
    sys.exit(main())
