package pipes

import (
	"os"

	"golang.org/x/sys/unix"
)

func widen(f *os.File) {
	// Refusal (EPERM above the limit, EBUSY while full) leaves the pipe as
	// it was, which still works.
	_, _ = unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, Size)
}
