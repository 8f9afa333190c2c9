#!/bin/sh
# make release VERSION=v1.2.3 SIGN_KEY=NAME [KEYRING=FILE]: what a tag build
# runs. It writes every asset of the GitHub release VERSION into DIST
# (default dist/): the tarballs of both plugins for linux and darwin, amd64
# and arm64, their Helm 4 .prov signatures and SHA256SUMS, then checks the
# sums. VERSION must be the version in plugin.yaml, the one the install hook
# downloads; upload the files as they are, e.g.
#   gh release create "$VERSION" dist/*
set -eu

root=$(CDPATH='' cd -P -- "$(dirname -- "$0")/.." && pwd)
dist=${DIST:-$root/dist}
: "${VERSION:?release: set VERSION to the tag being released (e.g. VERSION=v0.1.0)}"
: "${SIGN_KEY:?release: set SIGN_KEY to the signing key's name (and KEYRING to its secret keyring): Helm 4 verifies plugin tarballs by their .prov files}"

# Only this release's files: SHA256SUMS lists every tarball in DIST.
rm -f -- "$dist"/*.tgz "$dist"/*.tgz.prov "$dist/SHA256SUMS"
unset PLATFORMS
DIST=$dist "$root/scripts/package.sh"
if command -v sha256sum >/dev/null 2>&1; then
	(cd "$dist" && sha256sum --check --quiet SHA256SUMS)
else
	(cd "$dist" && shasum -a 256 --check --quiet SHA256SUMS)
fi
for tarball in "$dist"/*.tgz; do
	[ -s "$tarball.prov" ] || { echo "release: $tarball has no signature" >&2; exit 1; }
done
echo "release: $VERSION is in $dist; upload every file there to the GitHub release $VERSION"
ls -1 "$dist"
