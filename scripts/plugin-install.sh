#!/bin/sh
# Install hook of both Helm plugins (plugin.yaml, plugins/pvc-guard-render):
# make sure the binaries the plugin runs exist in $HELM_PLUGIN_DIR/bin:
# pvc-guard for both, and pvc-guard-rollback for the CLI plugin, whose
# `helm pvc-guard rollback` runs it (the post-renderer plugin only renders).
# A release tarball ships them prebuilt; a source checkout builds them with
# Go, no download needed.
set -eu

plugin_dir=${HELM_PLUGIN_DIR:?run by helm plugin install, which sets HELM_PLUGIN_DIR}

binaries="pvc-guard pvc-guard-rollback"
if grep -q '^type: postrenderer/v1' "$plugin_dir/plugin.yaml"; then
	binaries=pvc-guard
fi
missing=
for name in $binaries; do
	if [ ! -x "$plugin_dir/bin/$name" ]; then
		missing="$missing $name"
	fi
done
if [ -z "$missing" ]; then
	exit 0
fi

# The checkout this script belongs to (plugins/pvc-guard-render/scripts is
# a symlink to it, hence -P).
source_dir=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd -P)
if [ ! -f "$source_dir/go.mod" ]; then
	echo "pvc-guard:$missing missing from $plugin_dir/bin and there is no source to build from; install a release tarball for $(uname -s)/$(uname -m)" >&2
	exit 1
fi
if ! command -v go >/dev/null 2>&1; then
	echo "pvc-guard: building the plugin needs Go 1.26 or later (https://go.dev/dl/), which is not on PATH." >&2
	echo "pvc-guard: install Go and run 'helm plugin update pvc-guard', or install a release tarball with prebuilt binaries." >&2
	exit 1
fi
cd "$source_dir"
for name in $missing; do
	package=.
	if [ "$name" = pvc-guard-rollback ]; then
		package=./cmd/pvc-guard-rollback
	fi
	echo "pvc-guard: building $plugin_dir/bin/$name with $(go version)"
	go build -trimpath -o "$plugin_dir/bin/$name" "$package"
done
