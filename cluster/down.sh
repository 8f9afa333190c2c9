#!/usr/bin/env bash
# Stops the cluster recorded in $PVC_GUARD_STATE (processes by their recorded
# PIDs, newest first, waiting until each is gone) and removes the state.
# Does nothing when no cluster state exists.
#
# Usage: down.sh [--state DIR] [--after PID]
#   --state DIR  the cluster's state directory (default $PVC_GUARD_STATE)
#   --after PID  first wait until process PID has exited; up.sh --owner runs
#                this as the cluster's watchdog
set -euo pipefail

CLUSTER_DIR=$(cd "$(dirname "$0")" && pwd)
. "$CLUSTER_DIR/lib.sh"

after=""
while [ $# -gt 0 ]; do
	case $1 in
	--state | --after)
		[ $# -ge 2 ] || die "$1 needs a value"
		if [ "$1" = --state ]; then PVC_GUARD_STATE=$2; else after=$2; fi
		shift 2
		;;
	*) die "unknown argument: $1 (usage: down.sh [--state DIR] [--after PID])" ;;
	esac
done

need flock

if [ -n "$after" ]; then
	while kill -0 "$after" 2>/dev/null; do
		sleep 1
	done
	log "process $after has exited; stopping its cluster in $PVC_GUARD_STATE"
fi

if [ ! -d "$PVC_GUARD_STATE" ]; then
	log "no cluster in $PVC_GUARD_STATE"
	exit 0
fi
with_lock stop_cluster
log "cluster in $PVC_GUARD_STATE stopped and its state removed"
