#!/usr/bin/env bash
# Builds gocvx, installs its kernelspec into a temporary Jupyter data folder and runs
# bench.py against it and Debian's ipykernel (python3). Arguments go to bench.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/gocvx" ./cmd/gocvx
export JUPYTER_DATA_DIR="$tmp/jupyter" JUPYTER_RUNTIME_DIR="$tmp/runtime" PYDEVD_DISABLE_FILE_VALIDATION=1
"$tmp/gocvx" install >/dev/null
/usr/bin/python3 bench/kernel/bench.py "$@"
