#!/bin/sh
# Fails when regenerating the symbol tables and the documentation table
# (`go generate ./interp/...`) changes what is committed: run it in CI from a
# clean checkout, after the packages they describe have been committed.
set -eu
cd "$(dirname "$0")/../.."
go generate ./interp/...
if ! git diff --quiet -- interp/symbols || [ -n "$(git status --porcelain --untracked-files=all -- interp/symbols)" ]; then
	echo "interp/symbols is stale: run 'go generate ./interp/...' and commit the result" >&2
	git status --short -- interp/symbols >&2
	exit 1
fi
