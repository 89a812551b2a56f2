"""Serves the JupyterLab application that lab/build.sh builds, with Debian's
jupyter_server and jupyterlab_server, for gocvx's browser tests.

    /usr/bin/python3 lab/server.py --build DIR --state DIR --root DIR --port N --token T

serves the notebooks under --root at http://127.0.0.1:N/lab?token=T. Kernels come from
the usual Jupyter paths (JUPYTER_PATH). The application's default settings are in
lab/settings/overrides.json (notebooks render every cell, not only those in view, so a
test sees all outputs; no update or news checks, which would reach outside); what the
user changes while it runs (settings, workspaces)
goes to --state, so the build folder is never written. Only 127.0.0.1 is served. The
server stops, with its kernels, when the process that started it goes away (a test
killed by its timeout leaves nothing behind).
"""

import argparse
import os
import signal
import sys
import threading
import time

# Configuration files of the machine or the user must not change what the tests see.
os.environ["JUPYTER_NO_CONFIG"] = "1"

from jupyterlab_server import LabServerApp  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": GocvxLab}]


class GocvxLab(LabServerApp):
    name = __name__
    app_name = "JupyterLab (gocvx tests)"
    extension_url = "/lab"
    default_url = "/lab"
    load_other_extensions = False
    templates_dir = os.path.join(HERE, "templates")
    app_settings_dir = os.path.join(HERE, "settings")


def stop_with_parent():
    """Sends this process SIGTERM (jupyter_server's orderly stop, kernels included) once
    its parent process has gone."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", required=True, help="the folder lab/build.sh printed")
    parser.add_argument("--state", required=True, help="a writable folder for settings and workspaces")
    parser.add_argument("--root", required=True, help="the folder of notebooks to serve")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    for folder in (args.build, args.root):
        if not os.path.isdir(folder):
            sys.exit(f"lab/server.py: {folder} is not a folder")
    if not os.path.isfile(os.path.join(args.build, "bundle.js")):
        sys.exit(f"lab/server.py: {args.build} holds no bundle.js (run lab/build.sh)")

    stop_with_parent()
    GocvxLab.static_dir = args.build
    GocvxLab.schemas_dir = os.path.join(args.build, "schemas")
    GocvxLab.themes_dir = os.path.join(args.build, "themes")
    GocvxLab.user_settings_dir = os.path.join(args.state, "settings")
    GocvxLab.workspaces_dir = os.path.join(args.state, "workspaces")
    GocvxLab.launch_instance(
        argv=[
            "--ip=127.0.0.1",
            f"--port={args.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.token={args.token}",
            f"--ServerApp.root_dir={args.root}",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
        ]
    )


if __name__ == "__main__":
    main()
