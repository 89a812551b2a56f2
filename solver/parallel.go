package solver

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Threads: the solvers spread their per-block work (the cone projections of ADMM's
// v-step and certificate) over worker goroutines, handing out blocks one at a time
// (projections differ in cost); each worker owns its scratch, and every block's
// result depends only on the block's own inputs and warm start, so the result is the
// same for any number of workers. The matrix products run through gonum, whose Dgemm
// splits large products over GOMAXPROCS goroutines by itself.

// workers returns the number of worker goroutines for Settings.Threads: t when
// positive, else GOMAXPROCS.
func workers(t int) int {
	if t > 0 {
		return t
	}
	return runtime.GOMAXPROCS(0)
}

// parallelEach calls f(w, j) for j = 0…n−1 on w = 0…workers−1 goroutines (the
// caller's own for one worker), each j exactly once.
func parallelEach(workers, n int, f func(w, j int)) {
	if workers <= 1 || n <= 1 {
		for j := 0; j < n; j++ {
			f(0, j)
		}
		return
	}
	workers = min(workers, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				j := int(next.Add(1) - 1)
				if j >= n {
					return
				}
				f(w, j)
			}
		}(w)
	}
	wg.Wait()
}

// inParts calls f(i0, i1) on about equal consecutive parts of [0, n), one per
// worker (the caller's goroutine for one), and returns when all are done.
func inParts(workers, n int, f func(i0, i1 int)) {
	if workers <= 1 || n <= 1 {
		f(0, n)
		return
	}
	workers = min(workers, n)
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			f(w*n/workers, (w+1)*n/workers)
		}(w)
	}
	f(0, n/workers)
	wg.Wait()
}
