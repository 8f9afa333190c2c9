//go:build unix

package cli

import (
	"os"
	"syscall"
)

// replaceProcess runs path in place of this process, as git runs its
// subcommands. It returns only on failure.
func replaceProcess(path string, argv []string) error {
	return syscall.Exec(path, argv, os.Environ())
}
