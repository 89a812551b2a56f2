#!/bin/sh
# Builds the JupyterLab front end of the browser tests, once per version of its
# dependencies and sources, into a cache folder outside the checkout:
#
#   $GOCVX_LAB_CACHE (default ~/.cache/gocvx-lab)/<hash of package-lock.json>/
#       node_modules/         npm ci of package-lock.json (also playwright-core)
#       build-<hash of sources>/  the built application: bundle.js, schemas/, themes/
#
# and prints the build folder's path as its last line. A warm run only hashes files.
# Builds and dependency sets unused for a week are removed.
# Exit status 3 means a tool is missing (node, npm or the npm registry), so that tests
# can skip locally and fail in CI.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
missing() { echo "lab/build.sh: $*" >&2; exit 3; }
command -v node >/dev/null 2>&1 || missing "node is not installed (Node.js 20 or later with npm)"
command -v npm >/dev/null 2>&1 || missing "npm is not installed"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
	missing "node $(node --version) is too old: playwright-core needs Node.js 20 or later"

[ -f "$here/package-lock.json" ] || { echo "lab/build.sh: $here/package-lock.json is missing" >&2; exit 1; }
cache=${GOCVX_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gocvx-lab}
deps=$(sha256sum "$here/package-lock.json" | cut -c1-16)
sources="package.json package-lock.json index.js webpack.config.js"
srcs=$(cd "$here" && cat $sources | sha256sum | cut -c1-16)
dir=$cache/$deps
build=$dir/build-$srcs
mkdir -p "$dir"

# One build at a time per dependency set (tests of several checkouts may share it).
exec 9>"$dir/.lock"
flock 9

if [ ! -f "$dir/node_modules/.gocvx-complete" ]; then
	echo "lab/build.sh: npm ci into $dir" >&2
	rm -rf "$dir/node_modules"
	cp "$here/package.json" "$here/package-lock.json" "$dir/"
	# Install scripts are not run: none of the packages needs one to work here.
	if ! (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund >&2); then
		npm ping >/dev/null 2>&1 || missing "the npm registry ($(npm config get registry)) is not reachable"
		echo "lab/build.sh: npm ci failed" >&2
		exit 1
	fi
	touch "$dir/node_modules/.gocvx-complete"
fi

if [ ! -f "$build/bundle.js" ]; then
	echo "lab/build.sh: webpack into $build" >&2
	(cd "$here" && cp $sources "$dir/")
	rm -rf "$dir/build"
	(cd "$dir" && node node_modules/webpack-cli/bin/cli.js --config webpack.config.js >&2)
	# Builds of other sources go after a week (another checkout's test may still be
	# serving one now).
	find "$dir" -mindepth 1 -maxdepth 1 -name 'build-*' -mtime +7 -exec rm -rf {} +
	mv "$dir/build" "$build"
fi
# Dependency sets that no run has used for a week go (each run opens its .lock).
find "$cache" -mindepth 2 -maxdepth 2 -name .lock -mtime +7 | while read -r stale; do
	[ "$(dirname "$stale")" = "$dir" ] || rm -rf "$(dirname "$stale")"
done
echo "$build"
