"""Drives a Jupyter kernel through jupyter_client's BlockingKernelClient, the client
that Jupyter's own front ends build on, and checks what the kernel answers.

usage: client.py (--connection-file FILE | --kernel NAME) --cells JSON SCENARIO...

With --connection-file the kernel is already running; with --kernel it is started
from its kernelspec by a KernelManager (found through JUPYTER_PATH) and shut down at
the end. --cells maps the cell names a scenario uses to code in the kernel's language.
Prints one line per scenario; exits 1 at the first failure. Every wait is bounded.
"""

import argparse
import json
import os
import queue
import signal
import sys
import time

from jupyter_client import BlockingKernelClient, KernelManager
from jupyter_client.session import Session

TIMEOUT = 20


class Failure(Exception):
    pass


def check(cond, what, *detail):
    if not cond:
        raise Failure(what + "".join("\n  " + repr(d) for d in detail))


def reply_to(get, msg_id, timeout=TIMEOUT):
    """Returns the next message from get (a channel's get_msg) whose parent is msg_id."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("no reply to %s within %ss" % (msg_id, timeout))
        try:
            msg = get(timeout=left)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def iopub_of(kc, msg_id, timeout=TIMEOUT):
    """Returns the iopub messages of a request up to its idle status, without statuses."""
    out = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("no idle status for %s within %ss; got %r" % (msg_id, timeout, out))
        try:
            msg = kc.get_iopub_msg(timeout=left)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status":
            if msg["content"]["execution_state"] == "idle":
                return out
            continue
        out.append(msg)


def execute(kc, code, **kw):
    msg_id = kc.execute(code, **kw)
    reply = reply_to(kc.get_shell_msg, msg_id)
    return reply["content"], iopub_of(kc, msg_id)


def stdout_of(outputs, name="stdout"):
    return "".join(m["content"]["text"] for m in outputs
                   if m["msg_type"] == "stream" and m["content"]["name"] == name)


def result_of(outputs):
    for m in outputs:
        if m["msg_type"] == "execute_result":
            return m["content"]["data"].get("text/plain")
    return None


def drain(get, wait=0.3):
    msgs = []
    while True:
        try:
            msgs.append(get(timeout=wait))
        except queue.Empty:
            return msgs


def send(kc, channel, msg_type, content):
    """Sends a request on a channel and returns its msg_id."""
    msg = kc.session.msg(msg_type, content)
    channel.send(msg)
    return msg["header"]["msg_id"]


def wait_started(kc, msg_id):
    """Waits until the kernel publishes execute_input for msg_id (the cell started)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
            return
    raise Failure("cell %s never started" % msg_id)


# Scenarios. Each takes the client, the cells and the run (for the manager and pid).

def sequence(kc, cells, run):
    """cells["sequence"]: [{"code", optional "result" (text/plain), "stdout", "status"}]."""
    for step in cells["sequence"]:
        reply, outputs = execute(kc, step["code"])
        want_status = step.get("status", "ok")
        check(reply["status"] == want_status, "status of %r" % step["code"], reply, outputs)
        if "result" in step:
            check(result_of(outputs) == step["result"], "result of %r" % step["code"], outputs)
        if "stdout" in step:
            check(step["stdout"] in stdout_of(outputs), "stdout of %r" % step["code"], outputs)


def interrupt_with(kc, cells, run, how):
    reply, outputs = execute(kc, cells["define"])
    check(reply["status"] == "ok", "define", reply, outputs)
    drain(kc.get_iopub_msg, 0.1)
    msg_id = kc.execute(cells["loop"])
    wait_started(kc, msg_id)
    time.sleep(0.3)
    if how == "message":
        ir = send(kc, kc.control_channel, "interrupt_request", {})
        r = reply_to(kc.get_control_msg, ir)
        check(r["msg_type"] == "interrupt_reply" and r["content"]["status"] == "ok",
              "interrupt_reply on control", r)
    else:
        check(run.pid is not None, "SIGINT needs the kernel's pid")
        os.kill(run.pid, signal.SIGINT)
    reply = reply_to(kc.get_shell_msg, msg_id)
    check(reply["content"]["status"] == "error", "interrupted cell's reply", reply)
    check(isinstance(reply["content"]["traceback"], list), "traceback is a list", reply)
    iopub_of(kc, msg_id)
    reply, outputs = execute(kc, cells["check"])
    check(reply["status"] == "ok", "kernel alive after the interrupt", reply, outputs)
    check(result_of(outputs) == cells["check_result"], "variables kept after the interrupt", outputs)


def interrupt(kc, cells, run):
    interrupt_with(kc, cells, run, "message")


def sigint(kc, cells, run):
    interrupt_with(kc, cells, run, "signal")


def stdin(kc, cells, run):
    msg_id = kc.execute(cells["read"], allow_stdin=True)
    req = reply_to(kc.get_stdin_msg, msg_id)
    check(req["msg_type"] == "input_request", "input_request on stdin", req)
    kc.input("hello_gocvx")
    reply = reply_to(kc.get_shell_msg, msg_id)
    outputs = iopub_of(kc, msg_id)
    check(reply["content"]["status"] == "ok", "status of the reading cell", reply, outputs)
    check("hello_gocvx" in stdout_of(outputs), "the cell got the line", outputs)
    # Without allow_stdin the cell reads end of file instead of hanging.
    reply, outputs = execute(kc, cells["read"], allow_stdin=False)
    check(reply["status"] in ("ok", "error"), "reading without stdin", reply)


def interrupt_input(kc, cells, run):
    """Interrupting a cell that waits for input ends the wait; the kernel goes on."""
    execute(kc, cells["define"])
    msg_id = kc.execute(cells["read"], allow_stdin=True)
    req = reply_to(kc.get_stdin_msg, msg_id)
    check(req["msg_type"] == "input_request", "input_request on stdin", req)
    ir = send(kc, kc.control_channel, "interrupt_request", {})
    reply_to(kc.get_control_msg, ir)
    reply = reply_to(kc.get_shell_msg, msg_id)
    check(reply["content"]["status"] == "error", "interrupted input's reply", reply)
    iopub_of(kc, msg_id)
    reply, outputs = execute(kc, cells["check"])
    check(result_of(outputs) == cells["check_result"], "kernel alive after interrupting input", reply, outputs)


def control(kc, cells, run):
    drain(kc.get_shell_msg, 0.1)
    msg_id = send(kc, kc.control_channel, "kernel_info_request", {})
    r = reply_to(kc.get_control_msg, msg_id)
    check(r["msg_type"] == "kernel_info_reply", "kernel_info_reply on control", r)
    li = r["content"]["language_info"]
    check(li["name"] == "go" and li["pygments_lexer"] == "go" and li["file_extension"] == ".go",
          "language_info", li)
    check(all(v != "" for v in li.values()), "no empty strings in language_info", li)
    check(not [m for m in drain(kc.get_shell_msg, 0.5) if m["parent_header"].get("msg_id") == msg_id],
          "no control reply on shell")


def heartbeat(kc, cells, run):
    """The heartbeat socket echoes what it gets."""
    import zmq
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.REQ)
    sock.linger = 0
    try:
        sock.connect(kc._make_url("hb"))
        for payload in (b"ping", b"\x00\x01binary"):
            sock.send(payload)
            check(sock.poll(TIMEOUT * 1000), "heartbeat echo within %ss" % TIMEOUT)
            check(sock.recv() == payload, "heartbeat echoes the payload")
    finally:
        sock.close()


def badkey(kc, cells, run):
    execute(kc, cells["define"])
    drain(kc.get_shell_msg, 0.1)
    bad = Session(key=b"not-the-key", session=kc.session.session, username=kc.session.username)
    sock = kc.shell_channel.socket
    msg = bad.msg("kernel_info_request", {})
    bad.send(sock, msg)
    sock.send_multipart([b"garbage"])
    sock.send_multipart([b"<IDS|MSG>", b"00", b"{", b"{}", b"{}", b"{}"])
    sock.send_multipart([b"<IDS|MSG>"])
    late = [m for m in drain(kc.get_shell_msg, 1.5) if m["parent_header"].get("msg_id") == msg["header"]["msg_id"]]
    check(not late, "a badly signed request was answered", late)
    msg_id = kc.kernel_info()
    r = reply_to(kc.get_shell_msg, msg_id)
    check(r["msg_type"] == "kernel_info_reply", "kernel still answers", r)
    reply, outputs = execute(kc, cells["check"])
    check(reply["status"] == "ok", "kernel still executes", reply)


def abort(kc, cells, run):
    """A failing cell with stop_on_error aborts the executes queued behind it. The
    queue is built deterministically behind a cell that waits for input."""
    execute(kc, cells["define"])
    gate = kc.execute(cells["read"], allow_stdin=True)
    req = reply_to(kc.get_stdin_msg, gate)
    first = kc.execute(cells["fail"], stop_on_error=True)
    second = kc.execute(cells["check"])
    # The kernel reads shell requests in order: once kernel_info is answered, both
    # executes are in its queue.
    reply_to(kc.get_shell_msg, kc.kernel_info())
    kc.input("go")
    r0 = reply_to(kc.get_shell_msg, gate)
    r1 = reply_to(kc.get_shell_msg, first)
    r2 = reply_to(kc.get_shell_msg, second)
    check(r0["content"]["status"] == "ok", "gate cell", r0)
    check(r1["content"]["status"] == "error", "failing cell", r1)
    check(r2["content"]["status"] == "aborted", "queued cell aborted", r2)
    drain(kc.get_iopub_msg, 0.3)
    reply, outputs = execute(kc, cells["check"])
    check(reply["status"] == "ok", "next cell runs", reply)


def comm(kc, cells, run):
    msg_id = send(kc, kc.shell_channel, "comm_info_request", {})
    r = reply_to(kc.get_shell_msg, msg_id)
    check(r["content"] == {"status": "ok", "comms": {}}, "comm_info_reply", r)
    msg_id = send(kc, kc.shell_channel, "comm_open",
                  {"comm_id": "c0ffee", "target_name": "no-such-target", "data": {}})
    out = iopub_of(kc, msg_id)
    check([m["content"]["comm_id"] for m in out if m["msg_type"] == "comm_close"] == ["c0ffee"],
          "comm to an unknown target closed", out)


def shutdown(kc, cells, run):
    msg_id = send(kc, kc.control_channel, "shutdown_request", {"restart": True})
    r = reply_to(kc.get_control_msg, msg_id)
    check(r["msg_type"] == "shutdown_reply" and r["content"]["restart"] is True,
          "shutdown_reply on control", r)


def restart(kc, cells, run):
    check(run.km is not None, "restart needs a kernel manager")
    execute(kc, cells["define"])
    kc.stop_channels()
    run.km.restart_kernel(now=False)
    run.pid = run.km.provisioner.process.pid
    kc = run.km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    run.kc = kc
    reply, outputs = execute(kc, cells["after_restart"])
    check(reply["status"] == "ok", "kernel works after restart", reply, outputs)
    check(result_of(outputs) == cells["after_restart_result"], "result after restart", outputs)


def outputs(kc, cells, run):
    reply, out = execute(kc, cells["display"])
    check(reply["status"] == "ok", "display cell", reply, out)
    types = [m["msg_type"] for m in out]
    check("display_data" in types and "update_display_data" in types and "clear_output" in types,
          "display, update and clear", types)
    upd = [m for m in out if m["msg_type"] == "update_display_data"][0]
    check(upd["content"]["transient"].get("display_id"), "update names its display", upd)


def user_expressions(kc, cells, run):
    """user_expressions are evaluated after the code, also in a silent request with no
    code (as front ends query values), each to a MIME bundle or an error; none are
    evaluated when the code fails."""
    reply, out = execute(kc, cells["define"])
    check(reply["status"] == "ok", "define", reply, out)
    exprs = {"good": cells["check"], "bad": cells["user_expression_bad"]}
    reply, out = execute(kc, "", silent=True, store_history=False, user_expressions=exprs)
    check(reply["status"] == "ok", "silent request with user_expressions", reply)
    ue = reply["user_expressions"]
    check(set(ue) == {"good", "bad"}, "every name answered", ue)
    check(ue["good"]["status"] == "ok" and ue["good"]["data"].get("text/plain") == cells["check_result"],
          "a user expression's value", ue)
    check(ue["bad"]["status"] == "error" and ue["bad"]["ename"] and isinstance(ue["bad"]["traceback"], list),
          "a failing user expression's error", ue)
    check(not [m for m in out if m["msg_type"] in ("execute_input", "execute_result")],
          "a silent request publishes no input or result", out)
    reply, out = execute(kc, cells["fail"], user_expressions={"good": cells["check"]})
    check(reply["status"] == "error" and not reply.get("user_expressions"),
          "no user_expressions after a failed cell", reply)
    reply, out = execute(kc, cells["check"])
    check(result_of(out) == cells["check_result"], "user expressions leave the state as it was", out)


def two_clients(kc, cells, run):
    """Two clients attached to one kernel (as JupyterLab attaches a console and a
    notebook) both receive the iopub output of either's cells; each gets only its own
    replies on shell."""
    kc2 = BlockingKernelClient()
    kc2.load_connection_info(kc.get_connection_info())
    check(kc2.session.session != kc.session.session, "two sessions")
    kc2.start_channels()
    try:
        kc2.wait_for_ready(timeout=TIMEOUT)
        drain(kc.get_iopub_msg, 0.3)
        drain(kc2.get_iopub_msg, 0.3)
        drain(kc.get_shell_msg, 0.1)
        for sender, other in ((kc, kc2), (kc2, kc)):
            msg_id = sender.execute(cells["print"])
            reply = reply_to(sender.get_shell_msg, msg_id)
            check(reply["content"]["status"] == "ok", "print cell", reply)
            for c in (sender, other):
                out = iopub_of(c, msg_id)
                types = [m["msg_type"] for m in out]
                check("execute_input" in types, "both clients see execute_input", types)
                check(cells["print_stdout"] in stdout_of(out), "both clients see the output", out)
            stray = [m for m in drain(other.get_shell_msg, 0.5) if m["parent_header"].get("msg_id") == msg_id]
            check(not stray, "the other client got the reply", stray)
    finally:
        kc2.stop_channels()


def ping_heartbeat(kc, n=3):
    import zmq
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.REQ)
    sock.linger = 0
    try:
        sock.connect(kc._make_url("hb"))
        for i in range(n):
            payload = b"ping %d" % i
            sock.send(payload)
            check(sock.poll(TIMEOUT * 1000), "heartbeat echo within %ss" % TIMEOUT)
            check(sock.recv() == payload, "heartbeat echoes the payload")
    finally:
        sock.close()


def busy(kc, cells, run):
    """While a long cell runs (cells["long"], after cells["long_setup"]): completion,
    inspection, is_complete and kernel_info are answered on shell, kernel_info on
    control, and the heartbeat echoes; then an interrupt stops the cell."""
    if cells.get("long_setup"):
        reply, out = execute(kc, cells["long_setup"])
        check(reply["status"] == "ok", "long_setup", reply, out)
    drain(kc.get_shell_msg, 0.1)
    msg_id = kc.execute(cells["long"])
    wait_started(kc, msg_id)
    time.sleep(0.5)
    seen = []

    def answer(channel, get, msg_type, content):
        req = send(kc, channel, msg_type, content)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                m = get(timeout=1)
            except queue.Empty:
                continue
            seen.append(m)
            if m["parent_header"].get("msg_id") == req:
                check(m["msg_type"] == msg_type.replace("_request", "_reply"), "reply type", m)
                ok = ("complete", "incomplete", "invalid", "unknown") if msg_type == "is_complete_request" else ("ok",)
                check(m["content"]["status"] in ok, msg_type + " answered", m)
                return m["content"]
        raise Failure("no %s reply within %ss while a cell runs" % (msg_type, TIMEOUT))

    code = cells["complete_code"]
    c = answer(kc.shell_channel, kc.get_shell_msg, "complete_request", {"code": code, "cursor_pos": len(code)})
    check(cells["complete_match"] in c["matches"], "completion while busy", c)
    code = cells["inspect_code"]
    c = answer(kc.shell_channel, kc.get_shell_msg, "inspect_request", {"code": code, "cursor_pos": len(code), "detail_level": 0})
    check(c["found"], "inspection while busy", c)
    answer(kc.shell_channel, kc.get_shell_msg, "is_complete_request", {"code": code})
    answer(kc.shell_channel, kc.get_shell_msg, "kernel_info_request", {})
    answer(kc.control_channel, kc.get_control_msg, "kernel_info_request", {})
    ping_heartbeat(kc)
    check(not [m for m in seen if m["parent_header"].get("msg_id") == msg_id],
          "the long cell was still running", seen)
    ir = send(kc, kc.control_channel, "interrupt_request", {})
    reply_to(kc.get_control_msg, ir)
    reply = reply_to(kc.get_shell_msg, msg_id)
    check(reply["content"]["status"] == "error" and "nterrupt" in reply["content"]["ename"],
          "the long cell was interrupted", reply)
    iopub_of(kc, msg_id)
    reply, out = execute(kc, cells["check"])
    check(result_of(out) == cells["check_result"], "kernel goes on after the interrupt", reply, out)


SCENARIOS = {f.__name__: f for f in (sequence, user_expressions, interrupt, sigint, stdin, interrupt_input, control, heartbeat, badkey, abort,
                                     comm, shutdown, restart, outputs, two_clients, busy)}


class Run:
    km = None
    kc = None
    pid = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connection-file")
    ap.add_argument("--kernel")
    ap.add_argument("--pid", type=int)
    ap.add_argument("--cells", default="{}")
    ap.add_argument("scenarios", nargs="+")
    args = ap.parse_args()
    cells = json.loads(args.cells)
    run = Run()
    run.pid = args.pid
    if args.kernel:
        run.km = KernelManager(kernel_name=args.kernel)
        run.km.start_kernel()
        run.pid = run.km.provisioner.process.pid
        run.kc = run.km.client()
    else:
        run.kc = BlockingKernelClient(connection_file=args.connection_file)
        run.kc.load_connection_file()
    run.kc.start_channels()
    status = 0
    try:
        run.kc.wait_for_ready(timeout=TIMEOUT)
        for name in args.scenarios:
            SCENARIOS[name](run.kc, cells, run)
            print("ok", name, flush=True)
    except Failure as e:
        print("FAIL", e, flush=True)
        status = 1
    finally:
        run.kc.stop_channels()
        if run.km is not None:
            run.km.shutdown_kernel(now=False)
    sys.exit(status)


if __name__ == "__main__":
    main()
