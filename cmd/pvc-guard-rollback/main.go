// Command pvc-guard-rollback is `pvc-guard rollback`, which runs it: Helm's
// own rollback with the target revision's manifest first rewritten against
// the live cluster. It is a binary of its own because it links Helm's SDK,
// which would triple the start-up time of pvc-guard, the post-renderer Helm
// starts for every upgrade.
package main

import (
	"os"

	"github.com/pvc-guard/pvc-guard/internal/cli"
	"github.com/pvc-guard/pvc-guard/internal/rollbackcmd"
)

func main() {
	os.Exit(rollbackcmd.Execute(os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
