#!/usr/bin/env bash
# make demo: the rollback story, told for a newcomer, against a real local
# control plane with the real helm3 and helm4 CLIs.
#
#   1. install revision 1 of examples/grafana-like: no volumeName; the claim binds
#   2. upgrade: the chart's lookup now renders the bound volumeName
#   3. stock `helm3 rollback REL 1` fails with "spec is immutable"; so does
#      helm4 on a client-side-apply release
#   4. the pvc-guard way: `pvc-guard rollback REL 1` succeeds for both
#      releases, and an upgrade that stock Helm 3 cannot apply succeeds
#      through pvc-guard as a post-renderer
#   5. the claims' UIDs and volumeNames before and after: same claims, same
#      volumes
#
# Exits 0 only when every step behaved as stated. Reuses the cluster running
# in $PVC_GUARD_STATE if there is one (and leaves it running, minus the demo's
# objects); otherwise starts a private one and stops it at the end.
#
# Environment: PVC_GUARD_BIN (default <repo>/bin/pvc-guard), plus the
# variables of lib.sh.
set -euo pipefail

CLUSTER_DIR=$(cd "$(dirname "$0")" && pwd)
. "$CLUSTER_DIR/lib.sh"

REPO=$(dirname "$CLUSTER_DIR")
CHART=$REPO/examples/grafana-like
PVC_GUARD_BIN=${PVC_GUARD_BIN:-$REPO/bin/pvc-guard}
REL3=demo3 # the Helm 3 release
REL4=demo4 # the Helm 4 release, client-side apply
# The chart names its claim <release>-grafana-like.
CLAIM3=$REL3-grafana-like
CLAIM4=$REL4-grafana-like

if [ -t 1 ]; then
	BOLD=$(printf '\033[1m') GREEN=$(printf '\033[32m') RED=$(printf '\033[31m') RESET=$(printf '\033[0m')
else
	BOLD="" GREEN="" RED="" RESET=""
fi

# --- narration helpers ------------------------------------------------------

heading() { printf '\n%s== %s ==%s\n' "$BOLD" "$*" "$RESET"; }
say() { printf '\n%s\n' "$*" | fold -s -w 78; }
ok() { printf '%s✓ %s%s\n' "$GREEN" "$*" "$RESET"; }
fail() {
	printf '%s✗ %s%s\n' "$RED" "$*" "$RESET" >&2
	exit 1
}
indent() { sed 's/^/    /'; }

# show CMD...: print the command as the reader would type it, run it, show
# its output indented, and stop the demo if it fails.
show() {
	printf '%s$ %s%s\n' "$BOLD" "$*" "$RESET"
	local out
	if ! out=$("$@" 2>&1); then
		printf '%s\n' "$out" | indent
		fail "this command was expected to succeed"
	fi
	[ -z "$out" ] || printf '%s\n' "$out" | indent
}

# show_refused CMD...: like show, but the command must fail with the API
# server's "spec is immutable" refusal. Shown: the first 20 lines of the
# error and the API server's field diff; left out: Helm 4's log line that
# repeats the error with escaped newlines.
show_refused() {
	printf '%s$ %s%s\n' "$BOLD" "$*" "$RESET"
	local out
	if out=$("$@" 2>&1); then
		printf '%s\n' "$out" | indent
		fail "this command was expected to fail with \"spec is immutable\", but it succeeded"
	fi
	printf '%s\n' "$out" | grep -v '^level=' | head -n 20 | indent
	case $out in
	*"spec is immutable"*) ;;
	*) fail "this command failed, but not with the API server's \"spec is immutable\" refusal" ;;
	esac
}

# claim_field CLAIM JSONPATH: one field of a claim in the demo namespace.
claim_field() { kubectl get pvc "$1" --namespace "$NS" -o "jsonpath={$2}"; }

# manifest_volume HELM RELEASE REVISION: the volumeName line of the claim
# in a stored release revision, or nothing.
manifest_volume() {
	"$1" get manifest "$2" --revision "$3" --namespace "$NS" | grep 'volumeName:' || true
}

# volume_yaml CLAIM: a hostPath PersistentVolume of class "manual" reserved
# for CLAIM in the demo namespace, as an administrator provisions storage by
# hand. The reservation (claimRef) keeps the demo's claims from taking, or
# being taken by, other volumes of a shared cluster; the binder still binds
# the claim and fills in its volumeName. Nothing mounts the path: the
# cluster has no kubelet.
volume_yaml() {
	cat <<-YAML
		apiVersion: v1
		kind: PersistentVolume
		metadata:
		  generateName: pvc-guard-demo-
		  labels: {pvc-guard.dev/demo: "$NS"}
		spec:
		  capacity: {storage: 1Gi}
		  accessModes: [ReadWriteOnce]
		  storageClassName: manual
		  persistentVolumeReclaimPolicy: Retain
		  hostPath: {path: /srv/pvc-guard-demo/$1}
		  claimRef: {namespace: "$NS", name: "$1"}
	YAML
}

wait_bound() {
	for _ in $(seq 300); do
		[ "$(claim_field "$1" .status.phase)" = Bound ] && return
		sleep 0.1
	done
	fail "claim $1 was not bound within 30s"
}

# --- the cluster ------------------------------------------------------------

started=""
tmp=""
NS=""
cleanup() {
	local status=$?
	set +e
	if [ -n "$started" ]; then
		log "stopping the demo's cluster"
		"$CLUSTER_DIR/down.sh" >/dev/null 2>&1
		rm -rf "$tmp"
	elif [ -n "$NS" ]; then
		log "removing the demo's namespace $NS and volumes"
		kubectl delete namespace "$NS" --wait=true --timeout=60s >/dev/null
		kubectl delete pv -l "pvc-guard.dev/demo=$NS" --wait=false >/dev/null
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if cluster_running; then
	log "using the cluster running in $PVC_GUARD_STATE"
else
	# A private state directory: the demo never interferes with a cluster
	# started meanwhile by `make cluster-up` or by a test run.
	mkdir -p "$PVC_GUARD_CACHE"
	tmp=$(mktemp -d "$PVC_GUARD_CACHE/demo.XXXXXX")
	export PVC_GUARD_STATE=$tmp/cluster
	started=yes
	log "starting a local control plane for the demo (it is stopped at the end)"
	# --owner: the cluster goes away with this script even if it is killed.
	if ! up_log=$("$CLUSTER_DIR/up.sh" --owner $$ 2>&1); then
		printf '%s\n' "$up_log" >&2
		fail "the control plane did not start"
	fi
fi
eval "$("$CLUSTER_DIR/env.sh")"
NS=pvc-guard-demo-$(date +%s)
kubectl create namespace "$NS" >/dev/null

# --- the story --------------------------------------------------------------

heading "pvc-guard demo: why helm rollback breaks a pinned volume"
say "Cluster: a local kube-apiserver $(kubectl version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -n 1) \
with the PersistentVolume binder; helm3 $(helm3 version --template '{{.Version}}') and \
helm4 $(helm4 version --template '{{.Version}}'). Namespace: $NS."
say "The chart examples/grafana-like looks up its own live claim and, once the \
claim exists, renders the volume the cluster bound it to (spec.volumeName), \
as several popular charts do. Kubernetes lets a bound claim's spec change \
only in its size; every other field, volumeName included, is immutable."

heading "1. Install revision 1"
say "An administrator has provisioned storage by hand: a PersistentVolume of \
class \"manual\" for each release's claim (this one, and the same for $CLAIM4)."
printf '%s$ kubectl create -f -%s\n' "$BOLD" "$RESET"
volume_yaml "$CLAIM3" | indent
volume_yaml "$CLAIM3" | kubectl create -f - | indent
volume_yaml "$CLAIM4" | kubectl create -f - | indent
say "No claim exists yet, so the chart's lookup finds nothing and revision 1 \
renders the claim without volumeName."
show helm3 install "$REL3" "$CHART" --namespace "$NS"
wait_bound "$CLAIM3"
[ -z "$(manifest_volume helm3 "$REL3" 1)" ] || fail "revision 1 should render no volumeName"
uid3_before=$(claim_field "$CLAIM3" .metadata.uid)
volume3_before=$(claim_field "$CLAIM3" .spec.volumeName)
show kubectl get pvc "$CLAIM3" --namespace "$NS"
ok "the binder bound claim $CLAIM3 (uid $uid3_before) to volume $volume3_before and set its volumeName"

heading "2. Upgrade to revision 2"
say "Now the lookup finds the bound claim, so revision 2 renders volumeName. \
The live claim already has that value: the upgrade changes nothing."
show helm3 upgrade "$REL3" "$CHART" --namespace "$NS"
printf '%s$ helm3 get manifest %s --revision 2 --namespace %s | grep volumeName:%s\n' \
	"$BOLD" "$REL3" "$NS" "$RESET"
manifest_volume helm3 "$REL3" 2 | indent
[ -n "$(manifest_volume helm3 "$REL3" 2)" ] || fail "revision 2 should render volumeName"
ok "revision 2 pins volumeName: $volume3_before"

heading "3. Roll back to revision 1"
say "Rollback re-applies revision 1's stored manifest, which has no \
volumeName. Helm 3 computes a three-way merge patch from revision 2 (has \
volumeName) to revision 1 (has none) and so asks the API server to clear the \
field. The API server refuses:"
show_refused helm3 rollback "$REL3" 1 --namespace "$NS"
ok "stock helm3 rollback failed: spec is immutable"
say "Helm 4 applies server-side by default, where the controller that set \
volumeName co-owns the field and the rollback gets through. But a release \
that uses client-side apply (made by Helm 3, or with --server-side=false) \
fails in exactly the same way:"
show helm4 install "$REL4" "$CHART" --namespace "$NS" --server-side=false
wait_bound "$CLAIM4"
uid4_before=$(claim_field "$CLAIM4" .metadata.uid)
volume4_before=$(claim_field "$CLAIM4" .spec.volumeName)
show helm4 upgrade "$REL4" "$CHART" --namespace "$NS" --server-side=false
[ -n "$(manifest_volume helm4 "$REL4" 2)" ] || fail "revision 2 of $REL4 should render volumeName"
show_refused helm4 rollback "$REL4" 1 --namespace "$NS" --server-side=false
ok "stock helm4 rollback of a client-side-apply release failed: spec is immutable"

heading "4. The pvc-guard way"
[ -x "$PVC_GUARD_BIN" ] || fail "$PVC_GUARD_BIN is missing: build it with 'make build'"
say "pvc-guard rollback is Helm's own rollback (hooks, history, apply method) \
with one difference: revision 1's stored manifest is first rewritten against \
the live cluster, so the claim keeps the volumeName the binder gave it. The \
rollbacks that failed in step 3 now succeed, for the Helm 3 release and for \
the Helm 4 one:"
show "$PVC_GUARD_BIN" rollback "$REL3" 1 --namespace "$NS"
show "$PVC_GUARD_BIN" rollback "$REL4" 1 --namespace "$NS"
for release in "$REL3" "$REL4"; do
	helm3 history "$release" --namespace "$NS" --max 1 -o json |
		grep -q '"status":"deployed".*"description":"Rollback to 1"' ||
		fail "release $release should be deployed as \"Rollback to 1\""
done
ok "both releases are rolled back to revision 1"

say "The same wall stands in front of upgrades: any change that renders a \
claim field differently from the live, bound claim. Take a values change \
that leaves the claim's storage class empty (say, a chart update that defers \
to the cluster's default class). Stock Helm 3 sends it, and the API server \
refuses:"
show_refused helm3 upgrade "$REL3" "$CHART" --namespace "$NS" --set persistence.storageClassName=
ok "stock helm3 upgrade failed: spec is immutable"
say "pvc-guard, as Helm 3's post-renderer, reads the live claim and keeps \
every immutable field at its live value before Helm submits anything. The \
same upgrade now succeeds:"
show helm3 upgrade "$REL3" "$CHART" --namespace "$NS" --set persistence.storageClassName= \
	--post-renderer "$PVC_GUARD_BIN" \
	--post-renderer-args="--namespace=$NS" --post-renderer-args="--kubeconfig=$KUBECONFIG"
[ "$(helm3 status "$REL3" --namespace "$NS" -o json | sed -n 's/.*"status":"\([a-z-]*\)".*/\1/p')" = deployed ] ||
	fail "release $REL3 should be deployed after the pvc-guard upgrade"
say "The values asked for no storage class; what Helm applied and stored keeps \
the live claim's class and volume:"
printf '%s$ helm3 get manifest %s --namespace %s | grep -E "storageClassName|volumeName"%s\n' \
	"$BOLD" "$REL3" "$NS" "$RESET"
helm3 get manifest "$REL3" --namespace "$NS" | grep -E 'storageClassName|volumeName' | indent
ok "the upgrade through pvc-guard succeeded"
say "The release history tells the whole story (descriptions shortened):"
printf '%s$ helm3 history %s --namespace %s%s\n' "$BOLD" "$REL3" "$NS" "$RESET"
helm3 history "$REL3" --namespace "$NS" | cut -c1-110 | sed 's/ *$//' | indent

heading "5. Same claims, same volumes"
printf '    %-20s %-7s %-38s %s\n' claim "" UID volumeName
# same_claim CLAIM UID VOLUME: print the claim before (UID, VOLUME, from
# step 1) and now, and fail unless it is the same claim on the same volume,
# still bound, still of class "manual".
same_claim() {
	local uid volume
	uid=$(claim_field "$1" .metadata.uid)
	volume=$(claim_field "$1" .spec.volumeName)
	printf '    %-20s %-7s %-38s %s\n' "$1" before "$2" "$3" "" now "$uid" "$volume"
	[ "$uid" = "$2" ] || fail "claim $1 was replaced (its UID changed)"
	[ "$volume" = "$3" ] || fail "claim $1 moved to another volume"
	[ "$(claim_field "$1" .spec.storageClassName)" = manual ] || fail "claim $1 changed storage class"
	[ "$(claim_field "$1" .status.phase)" = Bound ] || fail "claim $1 is no longer bound"
}
same_claim "$CLAIM3" "$uid3_before" "$volume3_before"
same_claim "$CLAIM4" "$uid4_before" "$volume4_before"
ok "same claims, same volumes, still bound: nothing lost"

heading "Done"
say "Every step behaved as described. Cleaning up."
