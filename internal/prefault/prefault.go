// Package prefault backs the Go heap with memory before it is needed.
//
// On the 2-core VMs pvc-guard is measured on, a page fault costs several
// microseconds, and rendering a large stream touches tens of megabytes of
// fresh heap 4 KiB at a time: about 6,000 faults and most of the system
// time of a 43 MB render. Heap asks the kernel to populate a block of heap
// in one call (with huge pages where it grants them), then hands the block
// back to the Go allocator, which reuses freed pages before it maps new
// ones. Measured with make bench on 100,000 documents: about 7,000 page
// faults fell to about 2,000, and the render took 133-141 ms instead of
// 176-200 ms in the same run.
//
// It is an optimisation only: where the kernel refuses, or the allocator
// behaves otherwise, the heap simply faults in as it grows.
package prefault

import "runtime"

// Heap populates size bytes of heap on another goroutine and returns at
// once, so a short render does not wait for it. It does nothing on a single
// CPU, where it would compete with the render itself.
func Heap(size int) {
	if runtime.NumCPU() < 2 {
		return
	}
	go populate(size)
}

// populate reports whether the kernel populated the block.
func populate(size int) bool {
	if !populateBlock(make([]byte, size)) {
		return false
	}
	// The block is garbage now: collecting it puts its populated pages
	// among the allocator's free pages, for the render to reuse.
	runtime.GC()
	return true
}
