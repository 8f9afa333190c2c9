package prefault

import "golang.org/x/sys/unix"

// populateBlock faults block in with one madvise call (Linux 5.14 and
// later), on transparent huge pages when the system allows them.
func populateBlock(block []byte) bool {
	_ = unix.Madvise(block, unix.MADV_HUGEPAGE) // advice; small pages also work
	return unix.Madvise(block, unix.MADV_POPULATE_WRITE) == nil
}
