//go:build tools

// Package tools pins the Kubernetes commands that cluster/build.sh compiles,
// so that `go mod tidy` keeps their dependencies in go.sum. The build tag keeps
// this file out of every normal build.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
