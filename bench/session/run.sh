#!/usr/bin/env bash
# Long-session measurements of the gocvx kernel (one command; ~10 minutes on 2 cores):
#   bench/session/run.sh [-executes 5000] [-restarts 50] [-cycles 50]
# Builds gocvx, installs its kernelspec into a temporary Jupyter data folder, and runs
# session.py long (executes in one kernel), session.py restarts (Jupyter-style restarts
# of the kernel process) and main.go (Serve cycles inside one process, then the same
# executes on the cell engine alone).
set -euo pipefail
cd "$(dirname "$0")/../.."
executes=5000 restarts=50 cycles=50
while (($#)); do
  case "$1" in
    -executes) executes=$2; shift 2 ;;
    -restarts) restarts=$2; shift 2 ;;
    -cycles) cycles=$2; shift 2 ;;
    *) echo "usage: $0 [-executes N] [-restarts N] [-cycles N]" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/gocvx" ./cmd/gocvx
export JUPYTER_DATA_DIR="$tmp/jupyter" JUPYTER_RUNTIME_DIR="$tmp/runtime" PYDEVD_DISABLE_FILE_VALIDATION=1
"$tmp/gocvx" install >/dev/null
echo "gocvx $(git rev-parse --short HEAD), $(go version | cut -d' ' -f3), $(nproc) cores"
/usr/bin/python3 bench/session/session.py long --n "$executes"
echo
/usr/bin/python3 bench/session/session.py restarts --n "$restarts"
echo
go run ./bench/session -cycles "$cycles" -engine "$executes"
