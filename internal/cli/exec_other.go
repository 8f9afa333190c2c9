//go:build !unix

package cli

import "errors"

// replaceProcess is not possible here (no execve): RollbackDispatchOptions.Run
// runs the program as a child instead.
func replaceProcess(string, []string) error { return errors.ErrUnsupported }
