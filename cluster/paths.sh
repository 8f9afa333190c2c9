#!/usr/bin/env bash
# Prints where the cluster scripts find binaries and state, after lib.sh's
# defaults, one NAME=VALUE a line: the selected Kubernetes minor, CLUSTER_BIN,
# its K8S_BIN and PVC_GUARD_STATE. internal/testutil/testcluster reads it, so the
# tests and the scripts never disagree about a default. Fails, saying why,
# when PVC_GUARD_K8S names a minor without a build module.
set -euo pipefail

CLUSTER_DIR=$(cd "$(dirname "$0")" && pwd)
. "$CLUSTER_DIR/lib.sh"

printf 'PVC_GUARD_K8S=%s\nCLUSTER_BIN=%s\nK8S_BIN=%s\nPVC_GUARD_STATE=%s\n' \
	"$PVC_GUARD_K8S" "$CLUSTER_BIN" "$K8S_BIN" "$PVC_GUARD_STATE"
