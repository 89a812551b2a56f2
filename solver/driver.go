package solver

import (
	"context"
	"math"
	"time"
)

// iterative is the run state of an iterative method as the driver sees it. The
// driver owns the loop: cancellation, the time and iteration limits, the cadence of
// the certificate, the best point and the best lower bound found, the stopping test,
// the recovery from a breakdown, and the history and recorder. A method supplies one
// iteration, a certificate of its current point, and what to adapt between checks.
type iterative interface {
	// step performs one iteration and fills the method's columns of row: Objective,
	// PrimalResidual, DualResidual, TrainAccuracy, ActiveNeurons and Rho. It returns
	// errInterrupted when the context or the time limit stopped it before it changed
	// the iterate, and any other error for a breakdown (non-finite values), after
	// which the state is a finite point again (the one the step started from).
	step(row *Iteration) error
	// certify returns the certificate of the current point. Its Primal must be an
	// upper bound on the optimum (the objective of a feasible point) unless
	// ConeViolation says otherwise; its Dual a lower bound (−Inf for none). It may
	// replace the point by a better one (polishing), and then updates row.
	certify(row *Iteration) Certificate
	// converged reports whether the run may stop at a check whose certificate is c,
	// given the certified relative gap between the best point and the best bound.
	converged(c *Certificate, gap, tol float64) bool
	// adapt runs after a check that did not stop: residual balancing of ρ,
	// continuation of a smoothing. An error ends the solve.
	adapt(c *Certificate) error
	// keep remembers the current point as the best one; restore returns to it.
	keep()
	restore()
	// recover runs after a breakdown, with the best point restored if there is one:
	// it reports whether the run can continue (with safer parameters).
	recover() bool
}

// driver runs an iterative method: one loop for every method (as gonum/optimize's
// minimize.go). It checks cancellation and the time limit before every iteration,
// certifies every `every` iterations and after the last, keeps the point with the
// least certified objective (so a solve never returns a point its own history beats)
// and the largest lower bound (every dual bound holds for the whole run), and stops
// when the method's test on the gap between the two passes.
type driver struct {
	ctx      context.Context
	settings *Settings
	start    time.Time
	maxIter  int
	tol      float64
	every    int // certificate cadence
	patterns int // the Patterns column of the history
	// current: return the current point, certified by its own certificate, instead
	// of the best one (ADMM's slack form, whose iterates are feasible only in the
	// limit, so that no objective of theirs bounds the optimum).
	current bool

	recovered   int
	checkedLast bool // the last completed iteration was certified
	partial     bool // an interrupted step may have moved the iterate

	// After run: the outcome.
	status     Status
	message    string
	iterations int
	history    []Iteration
	last       Certificate // the last certificate computed
	best       Certificate // the best point's certificate, with the best bound as Dual
	haveBest   bool
	bestDual   float64
}

// driverMaxRecoveries bounds the restarts after breakdowns: each one makes the method
// safer (ρ frozen at a value that worked), so a second is already rare.
const driverMaxRecoveries = 3

// driverFeasibility is the cone violation (relative to the largest |Xuⱼ|) up to which
// a point counts as feasible for the best-point record: the cone projections stop
// there when the next violated row depends on the active ones to a sine of 1e-6
// (coneDependent), which leaves violations of order 1e-7 on nearly degenerate
// blocks (measured: 1.5e-7 on the n = 1000 benchmark instance); the recovered
// network's objective then equals the convex one to about that.
const driverFeasibility = 1e-6

func newDriver(ctx context.Context, s *Settings, start time.Time, maxIter int, tol float64, every, patterns int) *driver {
	return &driver{ctx: ctx, settings: s, start: start, maxIter: maxIter, tol: tol, every: every,
		patterns: patterns, bestDual: math.Inf(-1)}
}

// interrupted returns Canceled or TimeLimit when the run must stop now, and
// NotTerminated otherwise; methods with long iterations (an epoch of mini-batches)
// also call it inside one.
func (dr *driver) interrupted() Status { return interruption(dr.ctx, dr.settings, dr.start) }

// interruption returns Canceled when ctx ended, TimeLimit when s.TimeLimit has passed
// since start, and NotTerminated otherwise: the one test of both, for the driver and
// for the work before it runs (newLinsys, program.gram, InteriorPoint's steps).
func interruption(ctx context.Context, s *Settings, start time.Time) Status {
	if ctx.Err() != nil {
		return Canceled
	}
	if s.TimeLimit > 0 && time.Since(start) > s.TimeLimit {
		return TimeLimit
	}
	return NotTerminated
}

// workLeft returns the floating-point operations that fit before the time limit at
// the rate of the work done so far (done operations since the start), or +Inf
// without a time limit: a budget for work that is not interrupted between its
// steps (polishing's Newton steps).
func (dr *driver) workLeft(done float64) float64 {
	limit := dr.settings.TimeLimit
	elapsed := time.Since(dr.start)
	if limit <= 0 || elapsed <= 0 || done <= 0 {
		return math.Inf(1)
	}
	return done / elapsed.Seconds() * math.Max(0, (limit-elapsed).Seconds())
}

// run drives m until it converges, breaks down for good, or a limit is reached, and
// leaves m at the point it returns (the best one certified, if any).
func (dr *driver) run(m iterative) error {
	dr.status = IterationLimit
	for dr.iterations < dr.maxIter {
		if st := dr.interrupted(); st != NotTerminated {
			dr.status = st
			break
		}
		row := Iteration{Iteration: dr.iterations + 1, Patterns: dr.patterns, DualityGap: math.NaN(),
			PrimalResidual: math.NaN(), DualResidual: math.NaN(), TrainAccuracy: math.NaN()}
		if err := m.step(&row); err == errInterrupted {
			dr.status = dr.interrupted()
			dr.checkedLast, dr.partial = false, true // a partial step may have moved the iterate
			break
		} else if err != nil {
			if dr.haveBest && !dr.current {
				m.restore()
			}
			if dr.recovered < driverMaxRecoveries && m.recover() {
				dr.recovered++
				continue
			}
			dr.status, dr.message = Failure, err.Error()
			break
		}
		dr.iterations++
		dr.checkedLast = false
		row.Elapsed = time.Since(dr.start)
		row.Gap = relGap(row.Objective, dr.settings.Reference)
		done := false
		if dr.iterations%dr.every == 0 || dr.iterations == dr.maxIter {
			gap := dr.check(m, &row)
			row.DualityGap = gap
			switch {
			case m.converged(&dr.last, gap, dr.tol):
				done = true
			case dr.interrupted() != NotTerminated:
				// The run stops at the next iteration: no adaptation (a new ρ
				// refactors the u-step matrix, a second at d = 785).
			default:
				if err := m.adapt(&dr.last); err != nil {
					return err
				}
			}
		}
		dr.history = record(dr.history, dr.settings.Recorder, row)
		if done {
			dr.status = Optimal
			break
		}
	}
	dr.finish(m)
	return nil
}

// check certifies the current point and records it: the point becomes the best when
// it is feasible and its objective is below the best one, and its bound the best when
// above. It returns the certified relative gap.
func (dr *driver) check(m iterative, row *Iteration) float64 {
	c := m.certify(row)
	dr.last, dr.checkedLast = c, true
	if dr.current {
		return c.Gap
	}
	if c.ConeViolation <= driverFeasibility {
		dr.offer(m, c)
	} else if c.Dual > dr.bestDual {
		dr.bestDual = c.Dual
	}
	if !dr.haveBest {
		return math.Inf(1)
	}
	return relativeGap(dr.best.Primal, dr.bestDual)
}

// offer records the certificate of a point that is no iterate (a method's start):
// it becomes the best point, m having kept it, if it beats the record.
func (dr *driver) offer(m iterative, c Certificate) {
	if c.Dual > dr.bestDual {
		dr.bestDual = c.Dual
	}
	if finite(c.Primal) && (!dr.haveBest || c.Primal < dr.best.Primal) {
		m.keep()
		dr.best, dr.haveBest = c, true
	}
}

// finish leaves m at the point to return: the best one (certified once more if the
// last iteration was not), or the current one.
func (dr *driver) finish(m iterative) {
	if (dr.iterations > 0 || dr.partial) && !dr.checkedLast && dr.status != Failure {
		var row Iteration
		dr.check(m, &row)
	}
	if dr.haveBest {
		m.restore()
		dr.best.Dual = dr.bestDual
		dr.best.Gap = relativeGap(dr.best.Primal, dr.bestDual)
	}
}

// certificate returns the certificate of the returned point: the best one's with the
// best bound, or else the last one computed (ok false when none was).
func (dr *driver) certificate() (c Certificate, ok bool) {
	if dr.haveBest {
		return dr.best, true
	}
	return dr.last, dr.checkedLast || dr.current && dr.iterations > 0
}
