#!/usr/bin/env bash
# Builds gocvx and, from their Go modules at pinned versions, the Go kernels it is
# compared with (gophernotes, gonb); installs their kernelspecs into a temporary
# Jupyter data folder; and runs bench.py against them and Debian's ipykernel
# (python3) in the same run. Arguments go to bench.py.
#
#   GOCVX_BASELINE=<git revision>  also measure gocvx as built at that revision
#   GOPHERNOTES_DIR=<checkout>     build gophernotes from a checkout of its pinned commit
#   GOCVX_BENCH_CACHE=<dir>        where the other kernels are built (~/.cache/gocvx-bench)
#
# The other kernels are built once into $GOCVX_BENCH_CACHE (default
# ~/.cache/gocvx-bench), never into the repository. A kernel that cannot be built,
# or that lacks what it needs to run, is skipped with a note.
set -euo pipefail
cd "$(dirname "$0")/../.."

# gophernotes at its latest commit, 55142043 (Nov 2023; its last tag, v0.7.5,
# panics at start on the generic functions of Go >= 1.21's standard library), with
# x/tools 0.29 (0.14, which it requires, does not compile with Go 1.26). Where the
# module proxy cannot serve that commit, GOPHERNOTES_DIR may name a checkout of it.
GOPHERNOTES_VERSION=v0.7.6-0.20231103180139-55142043d196
GOPHERNOTES_DEPS="golang.org/x/tools@v0.29.0"
GONB_VERSION=v0.11.1
cache=${GOCVX_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gocvx-bench}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# gocvx is built as its README installs it: statically (CGO_ENABLED=0); the peers
# as theirs do (go install, cgo enabled).
export CGO_ENABLED=${CGO_ENABLED:-0}
go build -o "$tmp/gocvx" ./cmd/gocvx
export JUPYTER_DATA_DIR="$tmp/jupyter" JUPYTER_RUNTIME_DIR="$tmp/runtime" PYDEVD_DISABLE_FILE_VALIDATION=1
export GOCVX_HISTORY_FILE="$tmp/history.jsonl"
"$tmp/gocvx" install >/dev/null

# build NAME MODULE VERSION [MODULE@VERSION...]: prints the path of the kernel's
# binary, built from the module at VERSION (with the given dependencies' versions)
# through the module proxy, or from the directory $DIR if it is set, or nothing if
# it cannot be built.
build() {
	local name=$1 module=$2 version=$3
	shift 3
	local bin="$cache/$name-$version${*:+-$(echo "$*" | cksum | cut -d' ' -f1)}"
	if [ ! -x "$bin" ]; then
		mkdir -p "$cache"
		local mod get="$module@$version"
		mod=$(mktemp -d)
		if [ -n "${DIR:-}" ]; then
			get="$module@$version"
			(cd "$mod" && go mod init gocvx-bench && go mod edit -require="$module@$version" -replace="$module=$DIR") >/dev/null 2>&1
		fi
		if ! (cd "$mod" && { [ -f go.mod ] || go mod init gocvx-bench; } && go get $get "$@" &&
			CGO_ENABLED=1 go build -o "$bin" "$module") >"$bin.log" 2>&1; then
			echo "note: cannot build $name $version (see $bin.log); skipped" >&2
			rm -rf "$mod"
			return
		fi
		rm -rf "$mod"
	fi
	echo "$bin"
}

# spec NAME DISPLAY_NAME ENV_JSON ARGV...: installs a kernelspec.
spec() {
	local dir="$JUPYTER_DATA_DIR/kernels/$1" name=$1 display=$2 env=$3
	shift 3
	mkdir -p "$dir"
	/usr/bin/python3 - "$dir/kernel.json" "$display" "$env" "$@" <<'EOF'
import json, sys
path, display, env, argv = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4:]
with open(path, "w") as f:
    json.dump({"argv": argv, "display_name": display, "language": "go", "env": env}, f)
EOF
}

# GOCVX_BASELINE=REV also builds gocvx at the git revision REV as the kernel
# gocvx-baseline, for figures before and after a change from the same run.
if [ -n "${GOCVX_BASELINE:-}" ]; then
	mkdir "$tmp/baseline"
	git archive "$GOCVX_BASELINE" | tar -x -C "$tmp/baseline"
	(cd "$tmp/baseline" && go build -o "$tmp/gocvx-baseline" ./cmd/gocvx)
	spec gocvx-baseline "Go (gocvx $GOCVX_BASELINE)" '{}' "$tmp/gocvx-baseline" kernel -f "{connection_file}"
fi

# gophernotes type-checks with go/types; Go >= 1.23's alias types make it fail on
# cells, hence gotypesalias=0.
if bin=$(DIR=${GOPHERNOTES_DIR:-} build gophernotes github.com/gopherdata/gophernotes $GOPHERNOTES_VERSION $GOPHERNOTES_DEPS) && [ -n "$bin" ]; then
	spec gophernotes "Go (gophernotes $GOPHERNOTES_VERSION)" '{"GODEBUG": "gotypesalias=0"}' "$bin" "{connection_file}"
fi
# gonb compiles each cell with the go command and goimports.
export PATH="$PATH:$(go env GOPATH)/bin"
if ! command -v goimports >/dev/null; then
	echo "note: gonb needs goimports on PATH (go install golang.org/x/tools/cmd/goimports); skipped" >&2
elif bin=$(build gonb github.com/janpfeifer/gonb $GONB_VERSION) && [ -n "$bin" ]; then
	spec gonb "Go (gonb $GONB_VERSION)" '{}' "$bin" --kernel "{connection_file}"
fi

echo "$(uptime)"
echo "kernels' standard output and error: $cache/kernels.log"
/usr/bin/python3 bench/kernel/bench.py --kernel-log "$cache/kernels.log" "$@"
echo "$(uptime)"
