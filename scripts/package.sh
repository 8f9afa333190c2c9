#!/bin/sh
# make package: release tarballs of both Helm plugins with prebuilt binaries,
# at the version in plugin.yaml (the one the install hook downloads):
#
#   DIST/pvc-guard-VERSION-OS-ARCH.tgz         the CLI plugin (Helm 3 and 4):
#                                             bin/pvc-guard and bin/pvc-guard-rollback,
#                                             plugin.yaml at the archive root (the
#                                             layout Helm 3 installs from a URL), and
#                                             plugins/pvc-guard-render/plugin.yaml for
#                                             `helm pvc-guard install-render-plugin`
#   DIST/pvc-guard-render-VERSION-OS-ARCH.tgz  Helm 4's post-renderer plugin:
#                                             bin/pvc-guard alone (it only renders), in
#                                             a pvc-guard-render/ directory (the layout
#                                             Helm 4 installs from a path)
#   DIST/*.tgz.prov                            with SIGN_KEY: Helm 4 provenance files
#   DIST/SHA256SUMS
#
# Environment: VERSION (when set, it must be plugin.yaml's version, with or
# without a leading v: a tag build says which release it means to make),
# DIST (default dist), PLATFORMS (default: linux and darwin, amd64 and arm64,
# as "os/arch" words), SIGN_KEY (the name of the signing key; no signing
# without it) and KEYRING (the secret keyring holding it, default
# ~/.gnupg/secring.gpg; HELM_KEY_PASSPHRASE unlocks it, as for helm).
set -eu

root=$(CDPATH='' cd -P -- "$(dirname -- "$0")/.." && pwd)
dist=${DIST:-$root/dist}
platforms=${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
version=$(sed -n 's/^version: *//p' "$root/plugin.yaml")
render_version=$(sed -n 's/^version: *//p' "$root/plugins/pvc-guard-render/plugin.yaml")
if [ "$version" != "$render_version" ]; then
	echo "package: plugin.yaml says $version, plugins/pvc-guard-render/plugin.yaml says $render_version" >&2
	exit 1
fi
if [ -n "${VERSION:-}" ] && [ "${VERSION#v}" != "$version" ]; then
	echo "package: VERSION=$VERSION, but plugin.yaml says $version: set the version in plugin.yaml and plugins/pvc-guard-render/plugin.yaml first" >&2
	exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf -- "$stage"' EXIT
mkdir -p "$dist"

if [ -n "${SIGN_KEY:-}" ]; then
	(cd "$root" && go build -trimpath -o "$stage/sign-plugin" ./scripts/sign-plugin)
fi

for platform in $platforms; do
	os=${platform%/*}
	arch=${platform#*/}
	echo "package: pvc-guard $version for $os/$arch"

	cli=$stage/$os-$arch/cli
	render=$stage/$os-$arch/render/pvc-guard-render
	mkdir -p "$cli/bin" "$cli/scripts" "$cli/plugins/pvc-guard-render" "$render/bin" "$render/scripts"
	# -o into a directory: bin/pvc-guard and bin/pvc-guard-rollback.
	(cd "$root" && CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
		-ldflags "-X github.com/pvc-guard/pvc-guard/internal/cli.Version=v$version" -o "$cli/bin/" . ./cmd/pvc-guard-rollback)
	cp "$root/plugin.yaml" "$root/README.md" "$cli/"
	cp "$root/plugins/pvc-guard-render/plugin.yaml" "$cli/plugins/pvc-guard-render/"
	cp "$root/plugins/pvc-guard-render/plugin.yaml" "$render/"
	cp "$root/scripts/plugin-install.sh" "$cli/scripts/"
	cp "$root/scripts/plugin-install.sh" "$render/scripts/"
	cp "$cli/bin/pvc-guard" "$render/bin/"

	# Name the entries: Helm 3 refuses an archive with a "./" directory
	# entry. plugin.yaml comes first: Helm 4 reads the first plugin.yaml of
	# an archive as the plugin's.
	tar -czf "$dist/pvc-guard-$version-$os-$arch.tgz" -C "$cli" plugin.yaml README.md bin scripts plugins
	tar -czf "$dist/pvc-guard-render-$version-$os-$arch.tgz" -C "$(dirname "$render")" pvc-guard-render
	if [ -n "${SIGN_KEY:-}" ]; then
		"$stage/sign-plugin" -key "$SIGN_KEY" -keyring "${KEYRING:-$HOME/.gnupg/secring.gpg}" \
			"$dist/pvc-guard-$version-$os-$arch.tgz" "$dist/pvc-guard-render-$version-$os-$arch.tgz"
	fi
done

# Every tarball in DIST, so a second run for other platforms adds to the list.
# shasum -a 256 writes the same format on macOS, which has no sha256sum.
sha256sum=sha256sum
command -v sha256sum >/dev/null 2>&1 || sha256sum='shasum -a 256'
(cd "$dist" && $sha256sum -- *.tgz >SHA256SUMS)
echo "package: tarballs and SHA256SUMS in $dist"
