package input

import "syscall"

// adviseHugePages asks for 2 MiB pages where the kernel hands them out on
// request (transparent_hugepage=madvise), cutting page faults 512-fold. It
// is advice: when refused, the mapping works with small pages.
func adviseHugePages(buf []byte) {
	_ = syscall.Madvise(buf, syscall.MADV_HUGEPAGE)
}
