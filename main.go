// Command pvc-guard is a Helm post-renderer that keeps upgrades and
// rollbacks from changing immutable PersistentVolumeClaim fields.
package main

import (
	"os"

	"github.com/pvc-guard/pvc-guard/internal/cli"
)

func main() {
	os.Exit(cli.Execute(os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
