#!/bin/sh
# Install and update hook of both Helm plugins (plugin.yaml and
# plugins/pvc-guard-render/plugin.yaml): make sure $HELM_PLUGIN_DIR/bin holds
# the binaries the plugin runs, at the plugin's version: pvc-guard for both,
# and pvc-guard-rollback for the CLI plugin, whose `helm pvc-guard rollback`
# runs it (the post-renderer plugin only renders).
#
# Binaries that are there and report the version in plugin.yaml are kept
# (a release tarball ships them). Otherwise the release tarball of that
# version for this OS and architecture is downloaded, with SHA256SUMS, from
#   ${PVC_GUARD_RELEASE_URL:-https://github.com/pvc-guard/pvc-guard/releases/download}/vVERSION/
# and nothing reaches bin/ unless its checksum matches. When the download
# fails and Go is on PATH, the binaries are built from the checkout this
# script belongs to. PVC_GUARD_RELEASE_URL=none never downloads: binaries
# already in bin/ are kept whatever their version, missing ones are built
# (make plugin-install, which has just built them from the checkout).
set -eu

say() { echo "pvc-guard: $*" >&2; }
note() { echo "pvc-guard: $*"; } # progress, on stdout: stderr explains failures

plugin_dir=${HELM_PLUGIN_DIR:?run by helm plugin install and update, which set HELM_PLUGIN_DIR}
release_url=${PVC_GUARD_RELEASE_URL:-https://github.com/pvc-guard/pvc-guard/releases/download}

field() { sed -n "s/^$1: *//p" "$plugin_dir/plugin.yaml" | tr -d "\"'"; }
name=$(field name)
version=$(field version)
case $name in
pvc-guard) binaries="pvc-guard pvc-guard-rollback" ;;
pvc-guard-render) binaries=pvc-guard ;;
*) say "$plugin_dir/plugin.yaml names plugin '$name', not pvc-guard or pvc-guard-render"; exit 1 ;;
esac

# In a checkout, plugins/pvc-guard-render/bin is a symbolic link to the
# checkout's bin/, which git does not track: create what it points to
# (relative to the link's own directory, hence cd -P).
bin_dir=$plugin_dir/bin
if [ -L "$bin_dir" ] && [ ! -e "$bin_dir" ]; then
	(CDPATH='' cd -P -- "$plugin_dir" && mkdir -p -- "$(readlink "$bin_dir")")
fi
mkdir -p -- "$bin_dir"

# reports_version BINARY: whether it says it is v$version (a whole word:
# v0.1.0 is not v0.1.0-dirty). pvc-guard-rollback answers --version.
reports_version() {
	case $1 in
	pvc-guard) flag=version ;;
	*) flag=--version ;;
	esac
	pattern="(^|[^0-9A-Za-z.+-])v$(printf '%s' "$version" | sed 's/\./\\./g')([^0-9A-Za-z.+-]|\$)"
	"$bin_dir/$1" "$flag" 2>/dev/null | grep -Eq "$pattern"
}

stale=
missing=
for binary in $binaries; do
	if [ ! -x "$bin_dir/$binary" ]; then
		missing="$missing $binary"
		stale="$stale $binary"
	elif [ "$release_url" != none ] && ! reports_version "$binary"; then
		stale="$stale $binary"
	fi
done
[ -n "$stale" ] || exit 0

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

# fetch URL FILE: download with curl or wget, whichever exists. A network
# that drops packets fails in about a minute, not wget's 20 tries.
fetch() {
	if command -v curl >/dev/null 2>&1; then
		curl --fail --silent --show-error --location --connect-timeout 20 --retry 2 --output "$2" -- "$1"
	elif command -v wget >/dev/null 2>&1; then
		wget --quiet --connect-timeout=20 --tries=3 --output-document="$2" -- "$1"
	else
		echo "neither curl nor wget is on PATH" >&2
		return 1
	fi
}

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum -- "$1" | cut -d' ' -f1
	else
		shasum -a 256 -- "$1" | cut -d' ' -f1
	fi
}

platform() {
	case $(uname -s) in
	Linux) os=linux ;;
	Darwin) os=darwin ;;
	*) echo "no release binaries for $(uname -s)" >&2; return 1 ;;
	esac
	case $(uname -m) in
	x86_64 | amd64) arch=amd64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) echo "no release binaries for $(uname -m)" >&2; return 1 ;;
	esac
	echo "$os-$arch"
}

# download: put the release binaries into bin/, or fail saying why on
# stderr. Exit status 2: the download was refused. (Called as `download ||`,
# so errexit is off inside and every step checks its own status.)
download() {
	tarball=$name-$version-$(platform).tgz || return 1
	base=$release_url/v$version
	fetch "$base/SHA256SUMS" "$work/SHA256SUMS" || return 1
	fetch "$base/$tarball" "$work/$tarball" || return 1
	want=$(awk -v f="$tarball" '$2 == f || $2 == "*" f { print $1; exit }' "$work/SHA256SUMS")
	got=$(sha256 "$work/$tarball")
	if [ -z "$want" ]; then
		echo "$base/SHA256SUMS lists no checksum for $tarball" >&2
		return 2
	fi
	if [ "$want" != "$got" ]; then
		echo "checksum mismatch for $base/$tarball: SHA256SUMS says $want, the download is $got" >&2
		return 2
	fi
	mkdir "$work/x" && tar -xzf "$work/$tarball" -C "$work/x" || return 2
	# The render tarball keeps its plugin in a pvc-guard-render/ directory.
	root=$work/x
	[ -d "$root/bin" ] || root=$work/x/$name
	for binary in $binaries; do
		[ -x "$root/bin/$binary" ] || { echo "$tarball has no bin/$binary" >&2; return 2; }
	done
	install_binaries "$root/bin" "$binaries" || return 1
	note "installed $binaries $version for $(platform) from $base/$tarball (sha256 $got)"
}

# install_binaries DIR NAMES: move the binaries NAMES from DIR into bin/.
# Each is first copied next to its final name and then renamed, so bin/
# never holds half a file.
install_binaries() {
	for binary in $2; do
		cp -- "$1/$binary" "$bin_dir/.$binary.new" && chmod 755 "$bin_dir/.$binary.new" || return 1
	done
	for binary in $2; do
		mv -f -- "$bin_dir/.$binary.new" "$bin_dir/$binary" || return 1
	done
}

# The checkout this script belongs to. plugins/pvc-guard-render/scripts is a
# symbolic link to scripts/, so .. must be taken physically (cd -P), not by
# dropping the last name.
source_dir=$(CDPATH='' cd -P -- "$(dirname -- "$0")/.." && pwd)

# build: build the stale binaries from the checkout with Go (errexit is
# off here too).
build() {
	if [ ! -f "$source_dir/go.mod" ]; then
		echo "$source_dir is not a pvc-guard checkout to build from" >&2
		return 1
	fi
	if ! command -v go >/dev/null 2>&1; then
		echo "Go is not on PATH" >&2
		return 1
	fi
	mkdir "$work/build" || return 1
	for binary in $stale; do
		package=.
		[ "$binary" = pvc-guard-rollback ] && package=./cmd/pvc-guard-rollback
		note "building $binary from $source_dir with $(go version)"
		(cd "$source_dir" && go build -trimpath -o "$work/build/$binary" "$package") || return 1
	done
	install_binaries "$work/build" "$stale"
}

if [ "$release_url" = none ]; then
	build 2>"$work/why" && exit 0
	say "cannot build$missing from source: $(cat "$work/why")"
	say "PVC_GUARD_RELEASE_URL=none builds from a checkout with Go 1.26 or later (https://go.dev/dl/); unset it to download release binaries."
	exit 1
fi

status=0
download 2>"$work/why" || status=$?
[ "$status" = 0 ] && exit 0
if [ "$status" = 2 ]; then
	say "refusing the download: $(cat "$work/why")"
	say "nothing was installed into $bin_dir. Check PVC_GUARD_RELEASE_URL ($release_url) and try again."
	exit 1
fi
say "could not download release $version from $release_url/v$version/: $(tr '\n' ' ' <"$work/why")"
build 2>"$work/why" && exit 0
say "and cannot build from source: $(cat "$work/why")"
say "Either make $release_url/v$version/ reachable (or point PVC_GUARD_RELEASE_URL at a copy of the release),"
say "or install Go 1.26 or later (https://go.dev/dl/) to build from source; then install the plugin again."
exit 1
