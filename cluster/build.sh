#!/usr/bin/env bash
# Builds the pinned local control planes and Helm CLIs into $CLUSTER_BIN:
# for each Kubernetes minor with a build module cluster/build-<minor>/,
# kube-apiserver, kube-controller-manager, kubectl and etcd into
# $CLUSTER_BIN/k8s-<minor>/; then helm3, helm4, kustomize, and helm3.17, the
# oldest Helm 3 pvc-guard supports.
#
# Usage: build.sh [MINOR...]   (default: every minor, e.g. 1.34 1.37)
#
# A binary is rebuilt only when its pin changes. The pin of each binary is
# recorded in $CLUSTER_BIN/.pins/<path>; for the binaries built from a build
# module it includes a digest of that module's go.mod and go.sum, so any
# change to its dependency set is a new pin too. Cold builds take long (see
# the README's quick start for the measured times); a warm check takes a
# second.
set -euo pipefail

CLUSTER_DIR=$(cd "$(dirname "$0")" && pwd)
. "$CLUSTER_DIR/lib.sh"

need go sha256sum

# Helm is installed straight from the module proxy at these versions;
# Kubernetes and etcd are pinned in each build-<minor>/go.mod, the one place
# to change them.
HELM3_VERSION=v3.22.0
HELM4_VERSION=v4.3.1
# The oldest Helm 3 the plugin supports: before 3.18 Helm 3 reads plugin.yaml
# strictly, so the end-to-end tests install the plugin with it too.
HELM3_OLDEST_VERSION=v3.17.3
KUSTOMIZE_VERSION=v5.7.1

PIN_DIR=$CLUSTER_BIN/.pins

minors=("$@")
if [ ${#minors[@]} -eq 0 ]; then
	read -ra minors <<<"$(k8s_minors)"
fi
for minor in "${minors[@]}"; do
	[ -f "$CLUSTER_DIR/build-$minor/go.mod" ] ||
		die "no build module $CLUSTER_DIR/build-$minor for Kubernetes $minor (known: $(k8s_minors))"
done

# module_version DIR PATH: the version DIR/go.mod requires for module PATH,
# read from the file itself so a warm check never needs the network.
module_version() {
	awk -v m="$2" '
		$1 == "require" && $2 == m { print $3; exit }
		$1 == m && $2 ~ /^v/      { print $2; exit }
	' "$1/go.mod"
}

# k8s_ldflags VERSION: the version stamps. Without them the binaries report
# v0.0.0-master, and Helm's .Capabilities.KubeVersion (and any chart that
# checks it) would be wrong.
k8s_ldflags() {
	local minor=${1#v1.} stamp flags=""
	minor=${minor%%.*}
	for stamp in \
		"k8s.io/component-base/version.gitVersion=$1" \
		"k8s.io/component-base/version.gitMajor=1" \
		"k8s.io/component-base/version.gitMinor=$minor" \
		"k8s.io/component-base/version.gitTreeState=clean" \
		"k8s.io/client-go/pkg/version.gitVersion=$1" \
		"k8s.io/client-go/pkg/version.gitMajor=1" \
		"k8s.io/client-go/pkg/version.gitMinor=$minor"; do
		flags="$flags -X $stamp"
	done
	printf '%s' "$flags"
}

# Static binaries, as the upstream releases are: nothing depends on the
# machine's C library, and the build needs no C compiler.
export CGO_ENABLED=0

STEPS=$((4 * ${#minors[@]} + 4))
step=0
announced=""

# build TARGET PIN COMMAND...: run COMMAND (which must write $out/NAME, NAME
# being TARGET's last path element) unless $CLUSTER_BIN/TARGET already
# carries PIN. The binary is moved into place only after a successful build,
# so an interrupted build never leaves half a file. The go tool's own output
# (mostly "go: downloading" lines) is kept out of the way and shown only if
# the step fails.
build() {
	local target=$1 pin=$2 name=${1##*/}
	shift 2
	step=$((step + 1))
	if [ -x "$CLUSTER_BIN/$target" ] && [ "$(cat "$PIN_DIR/$target" 2>/dev/null)" = "$pin" ]; then
		log "[$step/$STEPS] $target: up to date ($pin)"
		return
	fi
	if [ -z "$announced" ]; then
		log "(from empty Go caches this is long: about 24 minutes for everything on two idle cores, far longer on busy ones; 2.3 GB of RAM)"
		announced=yes
	fi
	log "[$step/$STEPS] $target: building $pin ..."
	local start=$SECONDS out
	mkdir -p "$(dirname "$CLUSTER_BIN/$target")" "$(dirname "$PIN_DIR/$target")"
	# The build commands see $out through bash's dynamic scoping.
	out=$(mktemp -d "$CLUSTER_BIN/.build-$name.XXXXXX")
	if ! "$@" >"$out/build.log" 2>&1 || ! mv -f "$out/$name" "$CLUSTER_BIN/$target" 2>>"$out/build.log"; then
		cat "$out/build.log" >&2
		rm -rf "$out"
		die "building $target failed (output above)"
	fi
	rm -rf "$out"
	printf '%s\n' "$pin" >"$PIN_DIR/$target"
	log "[$step/$STEPS] $target: built in $((SECONDS - start))s"
}

# go_build DIR PACKAGE NAME LDFLAGS: build PACKAGE of the build module in DIR
# into $out/NAME.
go_build() {
	(cd "$1" && go build -trimpath -ldflags "$4" -o "$out/$3" "$2")
}

# build_k8s MINOR: etcd and the Kubernetes commands of one minor, from its
# build module, into $CLUSTER_BIN/k8s-MINOR/.
build_k8s() {
	local dir=$CLUSTER_DIR/build-$1 k8s etcd digest ldflags cmd
	k8s=$(module_version "$dir" k8s.io/kubernetes)
	etcd=$(module_version "$dir" go.etcd.io/etcd/server/v3)
	[ "${k8s%.*}" = "v$1" ] || die "$dir/go.mod requires k8s.io/kubernetes ${k8s:-(nothing)}, not a $1 release"
	[ -n "$etcd" ] || die "no go.etcd.io/etcd/server/v3 requirement in $dir/go.mod"
	digest=$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-12)
	ldflags=$(k8s_ldflags "$k8s")
	for cmd in kube-apiserver kube-controller-manager kubectl; do
		build "k8s-$1/$cmd" "$k8s module:$digest" go_build "$dir" "k8s.io/kubernetes/cmd/$cmd" "$cmd" "$ldflags"
	done
	# etcd's main package lives in a module no build module can depend on at
	# a tagged version; ../etcd/main.go calls the same entry point, compiled
	# with each module's etcd. The version is a constant of etcd's api module;
	# only the commit is a variable, and a module build has none, so say where
	# the binary came from.
	build "k8s-$1/etcd" "$etcd module:$digest" go_build "$dir" ../etcd/main.go etcd \
		"-X go.etcd.io/etcd/api/v3/version.GitSHA=module-$etcd"
}

# helm_install MAJOR VERSION NAME: go install the Helm CLI and name it NAME.
# GOBIN is a private directory because every Helm installs a binary "helm".
helm_install() {
	local module=helm.sh/helm/v$1
	GOBIN=$out go install -trimpath \
		-ldflags "-X $module/internal/version.version=$2" "$module/cmd/helm@$2" &&
		mv "$out/helm" "$out/$3"
}

# kustomize_install VERSION: go install the standalone kustomize CLI.
kustomize_install() {
	GOBIN=$out go install -trimpath "sigs.k8s.io/kustomize/kustomize/v5@$1"
}

mkdir -p "$CLUSTER_BIN" "$PIN_DIR"
log "Local control planes (Kubernetes ${minors[*]}) and Helm binaries in $CLUSTER_BIN:"

for minor in "${minors[@]}"; do
	build_k8s "$minor"
done
build helm3 "$HELM3_VERSION" helm_install 3 "$HELM3_VERSION" helm3
build helm4 "$HELM4_VERSION" helm_install 4 "$HELM4_VERSION" helm4
build helm3.17 "$HELM3_OLDEST_VERSION" helm_install 3 "$HELM3_OLDEST_VERSION" helm3.17
# kubectl kustomize cannot run exec KRM functions (it has no --enable-exec),
# so the kustomize end-to-end tests use the standalone CLI.
build kustomize "$KUSTOMIZE_VERSION" kustomize_install "$KUSTOMIZE_VERSION"

log "All binaries ready in $CLUSTER_BIN"
