// Command etcd is the etcd server at the version this module pins. etcd's own
// main package lives in a module we cannot depend on at a tagged version, so
// this calls the same entry point it does.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
