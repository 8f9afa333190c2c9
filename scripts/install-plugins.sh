#!/bin/sh
# make plugin-install: install pvc-guard's Helm plugins for every Helm found.
#
#   Helm 3: pvc-guard          (CLI plugin: helm pvc-guard rollback|upgrade|...)
#   Helm 4: pvc-guard          and pvc-guard-render (postrenderer/v1 plugin)
#
# Helms are $HELM_BINS (space-separated), else helm, helm3 and helm4 on PATH.
# Helm 4 installs plugins into $HELM_DATA_HOME/plugins; Helm 3 reads
# $HELM_PLUGINS. If a Helm 3 would read the directory Helm 4 installs into,
# pvc-guard-render is refused: Helm 3 rejects its format and then loads no
# plugin at all. Give Helm 4 its own HELM_DATA_HOME to install both.
#
# The plugins use this checkout's bin/, which `make plugin-install` has just
# built: PVC_GUARD_RELEASE_URL=none tells the install hook to keep those
# binaries rather than download the release of plugin.yaml's version.
set -eu

PVC_GUARD_RELEASE_URL=${PVC_GUARD_RELEASE_URL:-none}
export PVC_GUARD_RELEASE_URL

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd -P)

helms=${HELM_BINS:-}
if [ -z "$helms" ]; then
	for name in helm helm3 helm4; do
		if command -v "$name" >/dev/null 2>&1; then
			helms="$helms $(command -v "$name")"
		fi
	done
fi
[ -n "$helms" ] || { echo "plugin-install: no helm found on PATH (or set HELM_BINS)" >&2; exit 1; }

major() { "$1" version --template '{{.Version}}' | cut -d. -f1; }
real_dir() { mkdir -p "$1" && CDPATH='' cd -- "$1" && pwd -P; }

# Directories Helm 3s read plugins from.
helm3_dirs=
for helm in $helms; do
	if [ "$(major "$helm")" = v3 ]; then
		helm3_dirs="$helm3_dirs $(real_dir "$("$helm" env HELM_PLUGINS)")"
	fi
done

install() { # helm, plugin source directory, plugin name
	if "$1" plugin list 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx "$3"; then
		echo "plugin-install: $1 already has $3"
	else
		"$1" plugin install "$2"
	fi
}

status=0
for helm in $helms; do
	case $(major "$helm") in
	v3)
		install "$helm" "$root" pvc-guard ;;
	v4)
		install "$helm" "$root" pvc-guard
		target=$(real_dir "$("$helm" env HELM_DATA_HOME)/plugins")
		refused=false
		for dir in $helm3_dirs; do
			if [ "$dir" = "$target" ]; then refused=true; fi
		done
		if $refused; then
			echo "plugin-install: refusing to install pvc-guard-render with $helm into $target:" >&2
			echo "  Helm 3 reads plugins there, and a Helm 4 post-renderer plugin would make it load none." >&2
			echo "  Give Helm 4 its own HELM_DATA_HOME (e.g. export HELM_DATA_HOME=~/.local/share/helm4) and re-run." >&2
			status=1
		else
			install "$helm" "$root/plugins/pvc-guard-render" pvc-guard-render
		fi ;;
	*)
		echo "plugin-install: skipping $helm: not Helm 3 or 4" >&2 ;;
	esac
done
exit $status
