package yamltext

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Parallel calls work(0) ... work(n-1) on as many goroutines as there are
// CPUs. Parsing and rewriting claims are independent per document, and a
// post-renderer's wall time is what Helm waits for.
func Parallel(n int, work func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				work(i)
			}
		})
	}
	wg.Wait()
}
