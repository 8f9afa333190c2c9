#!/bin/sh
# Builds release tarballs of both Helm plugins with prebuilt binaries:
#
#   DIST/pvc-guard-VERSION-OS-ARCH.tgz         the CLI plugin (Helm 3 and 4):
#                                             bin/pvc-guard and bin/pvc-guard-rollback;
#                                             plugin.yaml at the archive root,
#                                             the layout Helm 3 installs from a URL
#   DIST/pvc-guard-render-VERSION-OS-ARCH.tgz  Helm 4's post-renderer plugin:
#                                             bin/pvc-guard alone (it only renders);
#                                             in a pvc-guard-render/ directory,
#                                             the layout Helm 4 installs from a path
#   DIST/SHA256SUMS
#
# Environment: DIST (default dist), PLATFORMS (default: linux and darwin,
# amd64 and arm64, as "os/arch" words).
set -eu

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd -P)
dist=${DIST:-$root/dist}
platforms=${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
version=$(sed -n 's/^version: *//p' "$root/plugin.yaml")
render_version=$(sed -n 's/^version: *//p' "$root/plugins/pvc-guard-render/plugin.yaml")
if [ "$version" != "$render_version" ]; then
	echo "package: plugin.yaml says $version, plugins/pvc-guard-render/plugin.yaml says $render_version" >&2
	exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$dist"

for platform in $platforms; do
	os=${platform%/*}
	arch=${platform#*/}
	echo "package: pvc-guard $version for $os/$arch"

	cli=$stage/$os-$arch/cli
	render=$stage/$os-$arch/render/pvc-guard-render
	mkdir -p "$cli/bin" "$cli/scripts" "$render/bin" "$render/scripts"
	# -o into a directory: bin/pvc-guard and bin/pvc-guard-rollback.
	(cd "$root" && CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
		-ldflags "-X github.com/pvc-guard/pvc-guard/internal/cli.Version=v$version" -o "$cli/bin/" . ./cmd/pvc-guard-rollback)
	cp "$root/plugin.yaml" "$root/README.md" "$cli/"
	cp "$root/plugins/pvc-guard-render/plugin.yaml" "$render/"
	cp "$root/scripts/plugin-install.sh" "$cli/scripts/"
	cp "$root/scripts/plugin-install.sh" "$render/scripts/"
	cp "$cli/bin/pvc-guard" "$render/bin/"

	# Name the entries: Helm 3 refuses an archive with a "./" directory entry.
	tar -czf "$dist/pvc-guard-$version-$os-$arch.tgz" -C "$cli" plugin.yaml README.md bin scripts
	tar -czf "$dist/pvc-guard-render-$version-$os-$arch.tgz" -C "$(dirname "$render")" pvc-guard-render
done

(cd "$dist" && sha256sum ./*.tgz | sed 's| \./| |' >SHA256SUMS)
echo "package: tarballs and SHA256SUMS in $dist"
