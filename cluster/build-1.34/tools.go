//go:build tools

// Package tools pins the commands that cluster/build.sh compiles from this
// module, so that `go mod tidy` keeps their dependencies in go.sum: the
// Kubernetes commands, and etcd's entry point, which ../etcd/main.go calls
// (one file for every build module). The build tag keeps this file out of
// every normal build.
package tools

import (
	_ "go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
