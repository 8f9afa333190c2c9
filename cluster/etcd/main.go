//go:build ignore

// Command etcd is the etcd server at the version of the build module that
// compiles it: cluster/build.sh builds this file from each
// cluster/build-<minor>/ module (`go build ../etcd/main.go`), so every
// Kubernetes minor gets the etcd its go.mod pins from one source. etcd's own
// main package lives in a module we cannot depend on at a tagged version, so
// this calls the same entry point it does. The build tag keeps the file out
// of pvc-guard's own module; a file named on the command line is built
// regardless.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
