# Local Kubernetes control plane and Helm CLIs for end-to-end tests and the
# demo. Included by the root Makefile; the scripts next to this file do the
# work and document the details.
#
#   make cluster-build   build kube-apiserver, kube-controller-manager, kubectl
#                        and etcd of every Kubernetes minor (build-<minor>/)
#                        into $(CLUSTER_BIN)/k8s-<minor>, and helm3, helm4 and
#                        kustomize into $(CLUSTER_BIN) (cached)
#   make cluster-up      start a control plane on 127.0.0.1 (idempotent)
#   eval "$$(make -s cluster-env)"
#                        point kubectl, helm3 and helm4 at it in this shell
#   make cluster-down    stop it and remove its state
#   make demo            the rollback story, narrated, with real helm3 and helm4
#
# Overridable: PVC_GUARD_K8S (the Kubernetes minor of cluster-up, cluster-env,
# cluster-down, demo and the end-to-end tests; cluster/lib.sh has the default),
# PVC_GUARD_CACHE (where binaries and state live, outside git), CLUSTER_BIN
# (the binaries), PVC_GUARD_STATE (one cluster's state directory, by default
# one per minor; give two shells two directories to run two clusters of one
# minor side by side).

CLUSTER_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

PVC_GUARD_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/pvc-guard
CLUSTER_BIN ?= $(PVC_GUARD_CACHE)/bin
export PVC_GUARD_CACHE CLUSTER_BIN PVC_GUARD_K8S

.PHONY: cluster-build cluster-up cluster-env cluster-down demo

cluster-build:
	@$(CLUSTER_DIR)/build.sh

cluster-up: cluster-build
	@$(CLUSTER_DIR)/up.sh

cluster-env:
	@$(CLUSTER_DIR)/env.sh

cluster-down:
	@$(CLUSTER_DIR)/down.sh

# The demo's last act pipes Helm's output through bin/pvc-guard, which the
# root Makefile's build target produces.
demo: cluster-build build
	@PVC_GUARD_BIN=$(CURDIR)/bin/pvc-guard $(CLUSTER_DIR)/demo.sh
