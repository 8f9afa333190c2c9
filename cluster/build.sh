#!/usr/bin/env bash
# Builds the pinned local control plane and Helm CLIs into $CLUSTER_BIN:
# kube-apiserver, kube-controller-manager, kubectl, etcd, helm3, helm4, kustomize,
# and helm3.17, the oldest Helm 3 pvc-guard supports.
#
# A binary is rebuilt only when its pin changes. The pin of each binary is
# recorded in $CLUSTER_BIN/.pins/<name>; for the binaries built from build/
# it includes a digest of build/go.mod and go.sum, so any change to that
# module's dependency set is a new pin too. A cold build takes about eight
# minutes and 2.3 GB of RAM on two cores; a warm one takes a second.
set -euo pipefail

CLUSTER_DIR=$(cd "$(dirname "$0")" && pwd)
. "$CLUSTER_DIR/lib.sh"

need go sha256sum

# Helm is installed straight from the module proxy at these versions;
# Kubernetes and etcd are pinned in build/go.mod, the one place to change them.
HELM3_VERSION=v3.22.0
HELM4_VERSION=v4.3.1
# The oldest Helm 3 the plugin supports: before 3.18 Helm 3 reads plugin.yaml
# strictly, so the end-to-end tests install the plugin with it too.
HELM3_OLDEST_VERSION=v3.17.3
KUSTOMIZE_VERSION=v5.7.1

MODULE_DIR=$CLUSTER_DIR/build
PIN_DIR=$CLUSTER_BIN/.pins

# module_version PATH: the version build/go.mod requires for module PATH,
# read from the file itself so a warm check never needs the network.
module_version() {
	awk -v m="$1" '
		$1 == "require" && $2 == m { print $3; exit }
		$1 == m && $2 ~ /^v/      { print $2; exit }
	' "$MODULE_DIR/go.mod"
}

K8S_VERSION=$(module_version k8s.io/kubernetes)
ETCD_VERSION=$(module_version go.etcd.io/etcd/server/v3)
[ -n "$K8S_VERSION" ] || die "no k8s.io/kubernetes requirement in $MODULE_DIR/go.mod"
[ -n "$ETCD_VERSION" ] || die "no go.etcd.io/etcd/server/v3 requirement in $MODULE_DIR/go.mod"
MODULE_DIGEST=$(cat "$MODULE_DIR/go.mod" "$MODULE_DIR/go.sum" | sha256sum | cut -c1-12)

# Without these stamps the binaries report v0.0.0-master, and Helm's
# .Capabilities.KubeVersion (and any chart that checks it) would be wrong.
k8s_minor=${K8S_VERSION#v1.}
k8s_minor=${k8s_minor%%.*}
K8S_LDFLAGS=""
for stamp in \
	"k8s.io/component-base/version.gitVersion=$K8S_VERSION" \
	"k8s.io/component-base/version.gitMajor=1" \
	"k8s.io/component-base/version.gitMinor=$k8s_minor" \
	"k8s.io/component-base/version.gitTreeState=clean" \
	"k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION" \
	"k8s.io/client-go/pkg/version.gitMajor=1" \
	"k8s.io/client-go/pkg/version.gitMinor=$k8s_minor"; do
	K8S_LDFLAGS="$K8S_LDFLAGS -X $stamp"
done
# etcd's version is a constant of its api module; only the commit is a
# variable, and a module build has none, so say where the binary came from.
ETCD_LDFLAGS="-X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION"

# Static binaries, as the upstream releases are: nothing depends on the
# machine's C library, and the build needs no C compiler.
export CGO_ENABLED=0

STEPS=8
step=0
announced=""

# build NAME PIN COMMAND...: run COMMAND (which must write $out/NAME) unless
# the cached binary already carries PIN. The binary is moved into place only
# after a successful build, so an interrupted build never leaves half a file.
# The go tool's own output (mostly "go: downloading" lines) is kept out of
# the way and shown only if the step fails.
build() {
	local name=$1 pin=$2
	shift 2
	step=$((step + 1))
	if [ -x "$CLUSTER_BIN/$name" ] && [ "$(cat "$PIN_DIR/$name" 2>/dev/null)" = "$pin" ]; then
		log "[$step/$STEPS] $name: up to date ($pin)"
		return
	fi
	if [ -z "$announced" ]; then
		log "(from empty Go caches all eight take about 10 minutes on an idle machine and 2.3 GB of RAM on two cores)"
		announced=yes
	fi
	log "[$step/$STEPS] $name: building $pin ..."
	local start=$SECONDS out
	# The build commands see $out through bash's dynamic scoping.
	out=$(mktemp -d "$CLUSTER_BIN/.build-$name.XXXXXX")
	if ! "$@" >"$out/build.log" 2>&1 || ! mv -f "$out/$name" "$CLUSTER_BIN/$name" 2>>"$out/build.log"; then
		cat "$out/build.log" >&2
		rm -rf "$out"
		die "building $name failed (output above)"
	fi
	rm -rf "$out"
	printf '%s\n' "$pin" >"$PIN_DIR/$name"
	log "[$step/$STEPS] $name: built in $((SECONDS - start))s"
}

# go_build PACKAGE NAME LDFLAGS: build a command of the build/ module.
go_build() {
	(cd "$MODULE_DIR" && go build -trimpath -ldflags "$3" -o "$out/$2" "$1")
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
log "Local control plane and Helm binaries in $CLUSTER_BIN:"

build kube-apiserver "$K8S_VERSION module:$MODULE_DIGEST" \
	go_build k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver "$K8S_LDFLAGS"
build kube-controller-manager "$K8S_VERSION module:$MODULE_DIGEST" \
	go_build k8s.io/kubernetes/cmd/kube-controller-manager kube-controller-manager "$K8S_LDFLAGS"
build kubectl "$K8S_VERSION module:$MODULE_DIGEST" \
	go_build k8s.io/kubernetes/cmd/kubectl kubectl "$K8S_LDFLAGS"
build etcd "$ETCD_VERSION module:$MODULE_DIGEST" \
	go_build ./etcd etcd "$ETCD_LDFLAGS"
build helm3 "$HELM3_VERSION" helm_install 3 "$HELM3_VERSION" helm3
build helm4 "$HELM4_VERSION" helm_install 4 "$HELM4_VERSION" helm4
build helm3.17 "$HELM3_OLDEST_VERSION" helm_install 3 "$HELM3_OLDEST_VERSION" helm3.17
# kubectl kustomize cannot run exec KRM functions (it has no --enable-exec),
# so the kustomize end-to-end tests use the standalone CLI.
build kustomize "$KUSTOMIZE_VERSION" kustomize_install "$KUSTOMIZE_VERSION"

log "All binaries ready in $CLUSTER_BIN"
