"""Talks to a kernel whose early server (package early) runs and whose Serve has
not started, through jupyter_client, then to the kernel once it serves.

usage: early.py CONNECTION_FILE

1. kernel_info_request, answered by the early server, with busy and idle statuses on
   iopub (sent again, bounded, until the iopub subscription is live); prints
   {"early_info": content}.
2. execute A, kernel_info B, execute C, sent at once; prints "SENT" (the test then
   starts Serve).
3. Waits for the three replies on the same shell socket and for A's and C's idle
   statuses on the same iopub socket; prints {"kernel_info": B's content,
   "order": the msg_types of the replies in order, "streams": the stdout texts}.
Every wait is bounded; exits 1 with a message on a failure.
"""

import json
import queue
import sys
import time

from jupyter_client import BlockingKernelClient

TIMEOUT = 20


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def main():
    kc = BlockingKernelClient(connection_file=sys.argv[1])
    kc.load_connection_file()
    kc.start_channels()
    # 1. The early server answers, and publishes busy and idle.
    early_info, statuses = None, []
    deadline = time.monotonic() + TIMEOUT
    while not statuses:
        if time.monotonic() > deadline:
            fail("no busy and idle statuses on iopub for kernel_info")
        mid = kc.kernel_info()
        while True:
            try:
                r = kc.get_shell_msg(timeout=TIMEOUT)
            except queue.Empty:
                fail("no kernel_info_reply from the early server")
            if r["parent_header"].get("msg_id") == mid:
                break
        early_info = r["content"]
        got = []
        try:
            while len(got) < 2:
                m = kc.get_iopub_msg(timeout=0.5)
                if m["parent_header"].get("msg_id") == mid and m["msg_type"] == "status":
                    got.append(m["content"]["execution_state"])
        except queue.Empty:
            continue  # the subscription was not live yet: ask again
        statuses = got
    if statuses != ["busy", "idle"]:
        fail("statuses %r, want busy then idle" % statuses)
    print(json.dumps({"early_info": early_info}), flush=True)

    # 2. Requests that the kernel answers once it serves.
    a = kc.execute("print A")
    b = kc.kernel_info()
    c = kc.execute("print C")
    print("SENT", flush=True)

    # 3. Their replies, on the same connections.
    replies = {}
    order = []
    deadline = time.monotonic() + TIMEOUT
    while len(replies) < 3:
        left = deadline - time.monotonic()
        if left <= 0:
            fail("replies %r; want those to %s, %s, %s" % (order, a, b, c))
        try:
            r = kc.get_shell_msg(timeout=left)
        except queue.Empty:
            continue
        pid = r["parent_header"].get("msg_id")
        if pid in (a, b, c):
            replies[pid] = r
            order.append({a: "A", b: "B", c: "C"}[pid])
    if replies[a]["content"]["status"] != "ok" or replies[c]["content"]["status"] != "ok":
        fail("execute replies %r %r" % (replies[a]["content"], replies[c]["content"]))
    streams, idle = [], set()
    deadline = time.monotonic() + TIMEOUT
    while idle != {a, c}:
        left = deadline - time.monotonic()
        if left <= 0:
            fail("iopub: idle for %r, streams %r" % (idle, streams))
        try:
            m = kc.get_iopub_msg(timeout=left)
        except queue.Empty:
            continue
        pid = m["parent_header"].get("msg_id")
        if m["msg_type"] == "stream" and pid in (a, c):
            streams.append(m["content"]["text"])
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle" and pid in (a, c):
            idle.add(pid)
    print(json.dumps({"kernel_info": replies[b]["content"], "order": order, "streams": streams}), flush=True)
    kc.stop_channels()


main()
