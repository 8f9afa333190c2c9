#!/usr/bin/env bash
# Prints shell commands that point kubectl (of the cluster's Kubernetes
# minor), helm3 and helm4 at the running local cluster:
# eval "$(make -s cluster-env)". Helm's cache, config and data
# homes move into the cluster's state directory, so the user's own Helm
# repositories, plugins and registry logins are neither used nor touched.
set -euo pipefail

CLUSTER_DIR=$(cd "$(dirname "$0")" && pwd)
. "$CLUSTER_DIR/lib.sh"

cluster_running || die "no cluster is running in $PVC_GUARD_STATE: start one with 'make cluster-up'"
check_state_minor

# quote VALUE: VALUE as one single-quoted shell word.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

printf 'export KUBECONFIG=%s\n' "$(quote "$PVC_GUARD_STATE/admin.kubeconfig")"
# $PATH stays literal: it expands when the caller evaluates the line.
# shellcheck disable=SC2016
printf 'export PATH=%s:%s:"$PATH"\n' "$(quote "$K8S_BIN")" "$(quote "$CLUSTER_BIN")"
printf 'export HELM_CACHE_HOME=%s\n' "$(quote "$PVC_GUARD_STATE/helm/cache")"
printf 'export HELM_CONFIG_HOME=%s\n' "$(quote "$PVC_GUARD_STATE/helm/config")"
printf 'export HELM_DATA_HOME=%s\n' "$(quote "$PVC_GUARD_STATE/helm/data")"
