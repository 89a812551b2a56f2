"""Drives Jupyter widgets in a gocvx kernel through jupyter_client, as a front end's
widget manager does: it reads the comm messages of the widgets that cells make,
sends the updates, clicks and state requests that a user's actions send, and
checks what the kernel answers and where the output of callbacks goes.

usage: widgets.py --kernel NAME SCENARIO...

Prints one line per scenario ("ok NAME") and "measure: ..." lines with the figures
it observed; exits 1 at the first failure. Every wait is bounded.
"""

import argparse
import os
import queue
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "kernel", "testdata"))

from client import Failure, check, reply_to, result_of, send  # noqa: E402
from jupyter_client import KernelManager  # noqa: E402

TIMEOUT = 30


def measure(what, value):
    print("measure: %s: %s" % (what, value), flush=True)


class Inbox:
    """Every iopub message received, kept so that a wait for some messages loses
    none of the others."""

    def __init__(self, kc):
        self.kc = kc
        self.msgs = []

    def wait(self, pred, what, timeout=TIMEOUT):
        """Waits until pred(messages) holds and returns what it returns."""
        deadline = time.monotonic() + timeout
        while True:
            got = pred(self.msgs)
            if got:
                return got
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("waiting for %s: got %r" % (what, [(m["msg_type"], m["parent_header"].get("msg_id"))
                                                                  for m in self.msgs[-20:]]))
            try:
                self.msgs.append(self.kc.get_iopub_msg(timeout=min(left, 0.1)))
            except queue.Empty:
                pass

    def of(self, msg_id, idles=1, timeout=TIMEOUT):
        """Returns the messages with parent msg_id, statuses left out, once its
        idles-th idle status arrived."""
        def done(msgs):
            mine = [m for m in msgs if m["parent_header"].get("msg_id") == msg_id]
            if sum(1 for m in mine if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle") < idles:
                return None
            return [m for m in mine if m["msg_type"] != "status"] or [None]
        out = self.wait(done, "%d idle of %s" % (idles, msg_id), timeout)
        return [m for m in out if m is not None]

    def children(self, msg_id):
        """Returns the messages received so far with parent msg_id, statuses left out."""
        return [m for m in self.msgs if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] != "status"]


def cell(kc, code):
    """Runs a cell that must succeed; returns its msg_id and iopub messages."""
    msg_id = kc.execute(code)
    reply = reply_to(kc.get_shell_msg, msg_id, TIMEOUT)
    out = kc.inbox.of(msg_id)
    check(reply["content"]["status"] == "ok", "cell %r" % code, reply["content"], out)
    return msg_id, out


def opened(out, model):
    """Returns the comm_open messages of out whose state has _model_name model."""
    return [m for m in out if m["msg_type"] == "comm_open" and
            m["content"]["data"]["state"]["_model_name"] == model]


def comm_msg(kc, comm_id, data, buffers=None):
    """Sends a comm_msg as a front end does; returns its msg_id."""
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
    kc.session.send(kc.shell_channel.socket, msg, buffers=buffers or [])
    return msg["header"]["msg_id"]


def update(kc, comm_id, state, buffer_paths=(), buffers=None):
    return comm_msg(kc, comm_id, {"method": "update", "state": state, "buffer_paths": list(buffer_paths)}, buffers)


def stream_text(out, name="stdout"):
    return "".join(m["content"]["text"] for m in out if m["msg_type"] == "stream" and m["content"]["name"] == name)


def alive(kc):
    _, out = cell(kc, "1 + 1")
    check(result_of(out) == "2", "the kernel still runs cells", out)


def value_of(kc, expr):
    _, out = cell(kc, expr)
    return result_of(out)


def comm_methods(out):
    return [(m["content"]["data"].get("method"), m["content"]["data"].get("state"))
            for m in out if m["msg_type"] == "comm_msg"]


def mine(kc, msg_id, msg_type):
    """A predicate: the messages of type msg_type with parent msg_id."""
    return lambda msgs: [m for m in kc.inbox.children(msg_id) if m["msg_type"] == msg_type]


# Scenarios.

def open_state(kc, st):
    """A slider opens its layout, its style and itself on jupyter.widget, with the
    protocol version and the full state, and is displayed as a widget view."""
    msg_id, out = cell(kc, '\n'.join([
        'n := widget.NewIntSlider("n", 3, 0, 10)',
        'n.Observe(func(v int) {',
        '\tif v == 9 {',
        '\t\tpanic("nine")',
        '\t}',
        '\tfmt.Println("callback got", v)',
        '})',
        'n',
    ]))
    opens = [m for m in out if m["msg_type"] == "comm_open"]
    check(len(opens) == 3 and all(m["content"]["target_name"] == "jupyter.widget" for m in opens),
          "three comm_open on jupyter.widget", [m["content"] for m in opens])
    check(all(m["metadata"].get("version") == "2.1.0" for m in opens), "protocol version 2.1.0 in the metadata",
          [m["metadata"] for m in opens])
    slider = opened(out, "IntSliderModel")[0]
    state = slider["content"]["data"]["state"]
    layout = opened(out, "LayoutModel")[0]["content"]["comm_id"]
    style = opened(out, "SliderStyleModel")[0]["content"]["comm_id"]
    for key, want in [("_model_module", "@jupyter-widgets/controls"), ("_model_module_version", "2.0.0"),
                      ("_view_name", "IntSliderView"), ("_view_module", "@jupyter-widgets/controls"),
                      ("_view_module_version", "2.0.0"), ("value", 3), ("min", 0), ("max", 10),
                      ("description", "n"), ("layout", "IPY_MODEL_" + layout), ("style", "IPY_MODEL_" + style)]:
        check(state.get(key) == want, "state[%s] = %r" % (key, want), state)
    results = [m for m in out if m["msg_type"] == "execute_result"]
    check(results and out.index(slider) < out.index(results[0]), "the comm is open before the view is shown",
          [m["msg_type"] for m in out])
    result = results[0]["content"]["data"]
    view = result["application/vnd.jupyter.widget-view+json"]
    check(view == {"model_id": slider["content"]["comm_id"], "version_major": 2, "version_minor": 1},
          "widget view", result)
    check(result["text/plain"].startswith("IntSlider("), "text/plain fallback", result)
    st["slider"], st["slider_cell"] = slider["content"]["comm_id"], msg_id

    info = reply_to(kc.get_shell_msg, send(kc, kc.shell_channel, "comm_info_request", {"target_name": "jupyter.widget"}))
    comms = info["content"]["comms"]
    check({st["slider"], layout, style} <= set(comms) and
          all(c == {"target_name": "jupyter.widget"} for c in comms.values()), "comm_info lists the models", info)


def updates(kc, st):
    """An update from the front end is echoed at once (echo_update, with the update
    as parent); its callback runs after, its output in the cell that showed the
    slider; a value out of range is clamped and sent back; request_state gets the
    full state."""
    t0 = time.monotonic()
    msg_id = update(kc, st["slider"], {"value": 7})
    out = kc.inbox.of(msg_id, idles=2)
    check(comm_methods(out)[:1] == [("echo_update", {"value": 7})], "echo_update", out)
    check(out[0]["content"]["data"]["buffer_paths"] == [], "echo_update without buffers", out[0]["content"])
    kc.inbox.wait(lambda msgs: "callback got 7" in stream_text(kc.inbox.children(st["slider_cell"])),
                  "the callback's output in the slider's cell")
    measure("update → callback output in the widget's cell", "%.1f ms" % ((time.monotonic() - t0) * 1000))
    check(value_of(kc, "n.Value()") == "7", "the kernel's value")

    msg_id = update(kc, st["slider"], {"value": 25})
    out = kc.inbox.of(msg_id, idles=2)
    check(comm_methods(out) == [("echo_update", {"value": 25}), ("update", {"value": 10})], "clamped value sent back", out)

    msg_id = comm_msg(kc, st["slider"], {"method": "request_state"})
    full = [m["content"]["data"] for m in kc.inbox.of(msg_id) if m["msg_type"] == "comm_msg"]
    check(len(full) == 1 and full[0]["method"] == "update" and full[0]["state"]["value"] == 10 and
          full[0]["state"]["_model_name"] == "IntSliderModel", "request_state answered with the full state", full)


def latency(kc, st):
    """Round trips of updates whose callback prints, one at a time."""
    _, out = cell(kc, 'lat := widget.NewFloatSlider("lat", 0, 0, 1000, 1)\n'
                      'lat.Observe(func(v float64) { fmt.Println("v", v) })\nlat')
    comm_id = opened(out, "FloatSliderModel")[0]["content"]["comm_id"]
    times = []
    for i in range(1, 41):
        t0 = time.monotonic()
        msg_id = update(kc, comm_id, {"value": i})
        kc.inbox.of(msg_id, idles=2)
        times.append((time.monotonic() - t0) * 1000)
    times.sort()
    measure("update → its callback done (40 round trips; median / p90)", "%.1f / %.1f ms" % (times[20], times[36]))


def requests_states(kc, st):
    """The control comm answers request_states with every model's state."""
    ctl = uuid.uuid4().hex
    send(kc, kc.shell_channel, "comm_open", {"comm_id": ctl, "target_name": "jupyter.widget.control", "data": {}})
    msg_id = comm_msg(kc, ctl, {"method": "request_states"})
    answers = [m["content"]["data"] for m in kc.inbox.of(msg_id) if m["msg_type"] == "comm_msg"]
    check(len(answers) == 1 and answers[0]["method"] == "update_states", "update_states", answers)
    entry = answers[0]["states"].get(st["slider"])
    check(entry and entry["model_name"] == "IntSliderModel" and entry["model_module"] == "@jupyter-widgets/controls" and
          entry["state"]["value"] == 10, "the slider's state", entry)
    send(kc, kc.shell_channel, "comm_close", {"comm_id": ctl, "data": {}})


def buffers(kc, st):
    """Binary values travel as buffers named by buffer_paths, both ways."""
    _, out = cell(kc, 'img := widget.NewImage([]byte{0, 1, 2, 255}, "png")\nimg')
    o = opened(out, "ImageModel")[0]
    check(o["content"]["data"]["buffer_paths"] == [["value"]] and
          [bytes(b) for b in o["buffers"]] == [b"\x00\x01\x02\xff"] and "value" not in o["content"]["data"]["state"],
          "comm_open with the image as a buffer", o["content"], o["buffers"])
    comm_id = o["content"]["comm_id"]
    msg_id = update(kc, comm_id, {}, buffer_paths=[["value"]], buffers=[b"\x89PNG new"])
    echo = [m for m in kc.inbox.of(msg_id) if m["msg_type"] == "comm_msg"]
    check(echo and echo[0]["content"]["data"]["buffer_paths"] == [["value"]] and
          [bytes(b) for b in echo[0]["buffers"]] == [b"\x89PNG new"], "echo_update with the buffer", echo)
    check(value_of(kc, "string(img.Value()[1:])") == "PNG new", "the kernel has the bytes")


def panics(kc, st):
    """A panic in a callback is reported, with its traceback, in the widget's cell;
    the kernel goes on."""
    msg_id = update(kc, st["slider"], {"value": 9})
    kc.inbox.of(msg_id, idles=2)
    kc.inbox.wait(lambda msgs: "panic in a callback: nine" in stream_text(kc.inbox.children(st["slider_cell"]), "stderr"),
                  "the panic in the slider's cell")
    text = stream_text(kc.inbox.children(st["slider_cell"]), "stderr")
    check("Cell" in text.split("panic in a callback: nine", 1)[1], "the panic's traceback names a cell", text)
    alive(kc)


def interrupts(kc, st):
    """An interrupt stops a callback that loops; the kernel goes on; the callback
    runs again at the next click (the interrupt ends what runs, not the functions
    of earlier cells)."""
    msg_id, out = cell(kc, 'spins := 0\nspin := widget.NewButton("spin")\n'
                           'spin.OnClick(func() {\n\tspins++\n\tfor spins == 1 {\n\t}\n\tfmt.Println("click", spins)\n})\nspin')
    button = opened(out, "ButtonModel")[0]["content"]["comm_id"]
    click = comm_msg(kc, button, {"method": "custom", "content": {"event": "click"}})
    kc.inbox.wait(lambda msgs: [m for m in kc.inbox.msgs if m["parent_header"].get("msg_id") == click and
                                m["msg_type"] == "status" and m["content"]["execution_state"] == "busy"][1:],
                  "the callback started")
    time.sleep(0.3)
    t0 = time.monotonic()
    r = reply_to(kc.get_control_msg, send(kc, kc.control_channel, "interrupt_request", {}))
    check(r["content"]["status"] == "ok", "interrupt_reply", r)
    out = kc.inbox.of(click, idles=2)
    measure("looping callback interrupted: idle after the interrupt", "%.3f s" % (time.monotonic() - t0))
    errors = [m["content"] for m in out if m["msg_type"] == "error"]
    check(errors and errors[0]["ename"] == "Interrupted", "Interrupted error with the click as parent", out)
    alive(kc)
    again = comm_msg(kc, button, {"method": "custom", "content": {"event": "click"}})
    kc.inbox.of(again, idles=2)
    kc.inbox.wait(lambda msgs: "click 2" in stream_text(kc.inbox.children(msg_id)),
                  "the callback ran again after the interrupt, printing in the button's cell")


def serialized(kc, st):
    """While a cell runs, a change is applied and echoed at once but its callback
    waits for the cell to end; the running cell reads the new value."""
    _, out = cell(kc, 'w := widget.NewIntSlider("w", 0, 0, 100)\n'
                      'w.Observe(func(v int) { fmt.Println("callback", v) })\nw')
    comm_id = opened(out, "IntSliderModel")[0]["content"]["comm_id"]
    msg_id = kc.execute('for w.Value() != 42 {\n\ttime.Sleep(10 * time.Millisecond)\n}\n'
                        'time.Sleep(300 * time.Millisecond)\nfmt.Println("cell saw", w.Value())')
    kc.inbox.wait(mine(kc, msg_id, "execute_input"), "the cell started")
    t0 = time.monotonic()
    up = update(kc, comm_id, {"value": 42})
    kc.inbox.wait(mine(kc, up, "comm_msg"), "echo_update while the cell runs")
    measure("echo_update while a cell runs", "%.1f ms" % ((time.monotonic() - t0) * 1000))
    # The update's idle does not leave the kernel idle: the cell's busy is said again.
    kc.inbox.wait(lambda msgs: len([m for m in msgs if m["parent_header"].get("msg_id") == msg_id and
                                    m["msg_type"] == "status" and m["content"]["execution_state"] == "busy"]) >= 2,
                  "the running cell's busy status again after the update's idle")
    reply = reply_to(kc.get_shell_msg, msg_id, TIMEOUT)
    check(reply["content"]["status"] == "ok", "the waiting cell", reply)
    out = kc.inbox.of(msg_id)
    check("cell saw 42" in stream_text(out), "the running cell read the new value", out)
    check("callback 42" not in stream_text(kc.inbox.msgs), "the callback did not run beside the cell")
    kc.inbox.of(up, idles=2)
    check("callback 42" in stream_text(kc.inbox.msgs), "the callback ran after the cell")


def stop_button(kc, st):
    """widget.StopButton's click cancels a running solve at once: the cell returns
    with status canceled, and the button says Stopped."""
    cell(kc, '\n'.join([
        'set, _ := dataset.Spirals(300, 0.2, 1)',
        'prob := &solver.Problem{X: dataset.AddBias(set.X), Y: set.Y, Loss: solver.Squared, Beta: 1e-4}',
        'settings := &solver.Settings{Patterns: 400, MaxIterations: 1 << 30, Tolerance: 1e-300, TimeLimit: 2 * time.Minute}',
    ]))
    msg_id = kc.execute('ctx, done := widget.StopButton(cell.Context())\n'
                        'res, err := solver.Solve(ctx, prob, settings, &solver.ADMM{})\n'
                        'done()\nfmt.Println(res.Status, err)')
    opens = kc.inbox.wait(lambda msgs: opened(kc.inbox.children(msg_id), "ButtonModel"), "the Stop button")
    button = opens[0]["content"]["comm_id"]
    time.sleep(1.0)
    t0 = time.monotonic()
    comm_msg(kc, button, {"method": "custom", "content": {"event": "click"}})
    reply = reply_to(kc.get_shell_msg, msg_id, TIMEOUT)
    measure("Stop clicked during solver.Solve: execute_reply after the click", "%.3f s" % (time.monotonic() - t0))
    out = kc.inbox.of(msg_id)
    check(reply["content"]["status"] == "ok" and "canceled" in stream_text(out), "the solve was stopped", reply, out)
    descs = [m["content"]["data"]["state"].get("description") for m in out
             if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == button]
    check("Stopped" in descs, "the button says Stopped", descs)


SCENARIOS = {f.__name__: f for f in (open_state, updates, latency, requests_states, buffers, panics, interrupts,
                                     serialized, stop_button)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("scenarios", nargs="+")
    args = ap.parse_args()
    km = KernelManager(kernel_name=args.kernel)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.inbox = Inbox(kc)
    status = 0
    st = {}
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        for name in args.scenarios:
            SCENARIOS[name](kc, st)
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
