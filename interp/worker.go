package interp

// workers runs cells on goroutines that outlive them. A cell runs on a goroutine
// other than the executor's, so that runtime.Goexit in the cell, or rtAt ending a
// cell that was abandoned, ends that goroutine and not the caller; but a fresh
// goroutine starts with a small stack, and yaegi's recursion grows it by copying it
// again for every cell (6 % of the CPU of a trivial cell in BenchmarkExecuteTrivial,
// in runtime.copystack). A worker keeps its grown stack from one cell to the next.
//
// A job goes to an idle worker, or to a new one when none is idle (the previous
// cell was abandoned and still runs, or its worker ended in runtime.Goexit). A
// worker during whose job the guard stopped a runaway recursion ends after it: the
// guard does not look again at a goroutine it stopped (stoppedDeep), and the
// stack the recursion grew is freed. The workers end when the session closes.
type workers struct {
	jobs chan func()
	quit chan struct{}
}

func newWorkers() *workers {
	return &workers{jobs: make(chan func()), quit: make(chan struct{})}
}

// run starts job on an idle worker or a new one, and returns at once.
func (w *workers) run(job func()) {
	select {
	case w.jobs <- job:
	default:
		go w.serve(job)
	}
}

// serve runs job, then the jobs it is handed, until the session closes.
func (w *workers) serve(job func()) {
	for {
		stops := deepStops.Load()
		job()
		if deepStops.Load() != stops {
			return
		}
		select {
		case job = <-w.jobs:
		case <-w.quit:
			return
		}
	}
}

// close ends the idle workers; a busy one ends after its job.
func (w *workers) close() { close(w.quit) }
