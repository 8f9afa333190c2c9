# shellcheck shell=bash
# Shared settings for the cluster scripts. Each script sets CLUSTER_DIR to the
# directory holding this file, then sources it.
#
# Everything lives outside the git checkout:
#   PVC_GUARD_CACHE  root of pvc-guard's cache (default ${XDG_CACHE_HOME:-~/.cache}/pvc-guard)
#   CLUSTER_BIN      built binaries (default $PVC_GUARD_CACHE/bin): Helm and
#                    kustomize, and each Kubernetes minor's in k8s-<minor>/
#   PVC_GUARD_K8S    the Kubernetes minor of the control plane (default 1.37):
#                    one with a build module build-<minor>/ next to this file
#   PVC_GUARD_STATE  one running cluster: PKI, kubeconfigs, data, logs, PIDs
#                    (default $PVC_GUARD_CACHE/cluster-<minor>); point two shells
#                    at two state directories to run two clusters side by side.

log() { printf '%s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# k8s_minors: the Kubernetes minors that have a build module, oldest first.
k8s_minors() {
	local mod minors=()
	for mod in "$CLUSTER_DIR"/build-*/go.mod; do
		mod=${mod%/go.mod}
		minors+=("${mod##*/build-}")
	done
	printf '%s\n' "${minors[@]}" | sort -V | paste -sd ' '
}

PVC_GUARD_CACHE=${PVC_GUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pvc-guard}
CLUSTER_BIN=${CLUSTER_BIN:-$PVC_GUARD_CACHE/bin}
PVC_GUARD_K8S=${PVC_GUARD_K8S:-1.37}
[ -f "$CLUSTER_DIR/build-$PVC_GUARD_K8S/go.mod" ] ||
	die "PVC_GUARD_K8S=$PVC_GUARD_K8S: no such Kubernetes minor here (known: $(k8s_minors))"
K8S_BIN=$CLUSTER_BIN/k8s-$PVC_GUARD_K8S
PVC_GUARD_STATE=${PVC_GUARD_STATE:-$PVC_GUARD_CACHE/cluster-$PVC_GUARD_K8S}

# The control-plane processes in start order; they are stopped in reverse.
COMPONENTS="etcd kube-apiserver kube-controller-manager"

# need TOOL...: fail early, naming the Debian package, when a tool is missing.
need() {
	local tool package
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 && continue
		case $tool in
		flock | setsid) package=util-linux ;;
		base64 | sha256sum) package=coreutils ;;
		go) die "go is required but not on PATH (Go 1.26 or later: https://go.dev/dl/)" ;;
		*) package=$tool ;;
		esac
		die "$tool is required but not on PATH (Debian: apt-get install $package)"
	done
}

# pid_alive PID: true when PID runs and is one of ours, i.e. its command line
# mentions this cluster's state directory. The check guards against killing an
# unrelated process that inherited a recycled PID.
pid_alive() {
	local cmdline
	# The process may exit at any moment: a failed read means "not alive".
	cmdline=$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null) || return 1
	case $cmdline in
	*"$PVC_GUARD_STATE"*) return 0 ;;
	*) return 1 ;;
	esac
}

# cluster_running: true when every component recorded in the state directory
# is alive. Readiness is checked separately by the caller that needs it.
cluster_running() {
	for c in $COMPONENTS; do
		[ -s "$PVC_GUARD_STATE/pids/$c" ] || return 1
		pid_alive "$(cat "$PVC_GUARD_STATE/pids/$c")" || return 1
	done
}

# check_state_minor: fail unless the cluster in $PVC_GUARD_STATE runs the
# selected Kubernetes minor (up.sh records it), so that nothing silently runs
# against, or starts the kubectl of, another minor.
check_state_minor() {
	local running
	running=$(cat "$PVC_GUARD_STATE/k8s-minor" 2>/dev/null) || running="an unrecorded minor"
	[ "$running" = "$PVC_GUARD_K8S" ] ||
		die "the cluster in $PVC_GUARD_STATE runs Kubernetes $running, not PVC_GUARD_K8S=$PVC_GUARD_K8S: select its minor, use another PVC_GUARD_STATE, or stop it with 'make cluster-down'"
}

# with_lock CMD...: run CMD holding an exclusive lock for this state
# directory, so concurrent up/down calls on one cluster take turns. The lock
# file sits next to the state directory because down removes the directory.
with_lock() {
	mkdir -p "$(dirname "$PVC_GUARD_STATE")"
	exec 9>"$PVC_GUARD_STATE.lock"
	flock 9
	"$@"
}

# stop_pid NAME PID: stop one recorded process and wait until it is gone:
# TERM first so it shuts down cleanly, KILL if it has not exited after 10 s.
stop_pid() {
	local name=$1 pid=$2
	pid_alive "$pid" || return 0
	log "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	wait_gone "$pid" 100 && return 0
	log "$name (pid $pid) ignored SIGTERM for 10s; killing it"
	kill -KILL "$pid" 2>/dev/null || true
	wait_gone "$pid" 50 && return 0
	die "$name (pid $pid) is still running after SIGKILL"
}

# wait_gone PID TENTHS: succeed once PID has exited, fail if it is still
# running after TENTHS tenths of a second.
wait_gone() {
	for _ in $(seq "$2"); do
		pid_alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

# stop_cluster: stop every process recorded in the state directory, newest
# first (the watchdog, then the control plane in reverse start order), then
# remove the state. A process never stops itself: the watchdog runs this too.
stop_cluster() {
	local c pid order=""
	for c in $COMPONENTS; do order="$c $order"; done
	order="watchdog $order"
	[ -d "$PVC_GUARD_STATE" ] || return 0
	for c in $order; do
		[ -s "$PVC_GUARD_STATE/pids/$c" ] || continue
		pid=$(cat "$PVC_GUARD_STATE/pids/$c")
		[ "$pid" = "$$" ] || stop_pid "$c" "$pid"
	done
	rm -rf "$PVC_GUARD_STATE"
}
