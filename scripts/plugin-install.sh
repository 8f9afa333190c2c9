#!/bin/sh
# Install hook of both Helm plugins (plugin.yaml, plugins/pvc-guard-render):
# make sure $HELM_PLUGIN_DIR/bin/pvc-guard exists. A release tarball ships
# it prebuilt; a source checkout builds it with Go, no download needed.
set -eu

plugin_dir=${HELM_PLUGIN_DIR:?run by helm plugin install, which sets HELM_PLUGIN_DIR}
binary=$plugin_dir/bin/pvc-guard

if [ -x "$binary" ]; then
	exit 0
fi

# The checkout this script belongs to (plugins/pvc-guard-render/scripts is
# a symlink to it, hence -P).
source_dir=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd -P)
if [ ! -f "$source_dir/go.mod" ]; then
	echo "pvc-guard: $binary is missing and there is no source to build it from; install a release tarball for $(uname -s)/$(uname -m)" >&2
	exit 1
fi
if ! command -v go >/dev/null 2>&1; then
	echo "pvc-guard: building the plugin needs Go 1.26 or later (https://go.dev/dl/), which is not on PATH." >&2
	echo "pvc-guard: install Go and run 'helm plugin update pvc-guard', or install a release tarball with a prebuilt binary." >&2
	exit 1
fi
echo "pvc-guard: building $binary with $(go version)"
cd "$source_dir"
go build -trimpath -o "$binary" .
