package solver

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"
)

// The tests of this file give Solve hostile input, with every Method: shapes from one
// point to more features than points, NaN and Inf, zero rows and columns, constant
// columns, duplicate points, labels out of range, β = 0 and huge, extreme ρ and
// nonsense settings. Each solve must return a result or an error with the package
// prefix, never panic, and return within a generous bound (every solve runs under a
// short Settings.TimeLimit and a context deadline).
//
// The fuzz target (not run by CI beyond its seeds):
//
//	go test -run '^$' -fuzz '^FuzzSolve$' -fuzztime 60s ./solver

// hostileMethods returns every Method, in default and extreme configurations.
func hostileMethods() []Method {
	nan, inf := math.NaN(), math.Inf(1)
	return []Method{
		&ADMM{}, &ADMM{Rho: 1e-300}, &ADMM{Rho: 1e300}, &ADMM{Rho: -1}, &ADMM{Rho: nan}, &ADMM{Rho: inf},
		&ADMM{Slack: true}, &ADMM{Relaxation: 5}, &ADMM{Relaxation: -1}, &ADMM{FixedRho: true, Rho: 1e-9},
		&ADMM{Anderson: 1000}, &ADMM{Factorization: "no such route"}, &ADMM{WarmStart: true},
		&SCP{}, &SCP{Samples: -1}, &SCP{Samples: 1}, &SCP{Directions: mat.NewDense(1, 1, []float64{0})},
		&GatedReLU{},
		&InteriorPoint{},
		&SGD{}, &SGD{LearningRate: 1e300}, &SGD{LearningRate: -1}, &SGD{BatchSize: -5}, &SGD{Neurons: -1}, &SGD{Momentum: 2},
		&Adam{}, &Adam{LearningRate: nan}, &Adam{Epsilon: -1}, &Adam{InitScale: inf},
		&PGDTraining{Epsilon: 0.1}, &PGDTraining{Epsilon: -1}, &PGDTraining{Epsilon: 1e300, Steps: -3}, &PGDTraining{Epsilon: 0.1, Bias: true},
		&Adversarial{Epsilon: 0.1}, &Adversarial{Epsilon: 0}, &Adversarial{Epsilon: -1}, &Adversarial{Epsilon: 1e9},
		&Adversarial{Epsilon: 0.1, Bias: true, Rho: 1e300}, &Adversarial{Epsilon: nan},
	}
}

// methodName describes a method value with its configuration, for reproductions.
func methodName(m Method) string {
	v := reflect.ValueOf(m)
	if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		// The struct value, not the pointer: its String method would hide the fields.
		var b strings.Builder
		b.WriteString(v.Elem().Type().Name() + "{")
		for i := range v.Elem().NumField() {
			f := v.Elem().Type().Field(i)
			if !f.IsExported() || v.Elem().Field(i).IsZero() {
				continue
			}
			fmt.Fprintf(&b, "%s: %v, ", f.Name, v.Elem().Field(i))
		}
		return strings.TrimSuffix(b.String(), ", ") + "}"
	}
	return fmt.Sprintf("%T", m)
}

// hostileProblem is one input of the table.
type hostileProblem struct {
	name string
	prob *Problem
	set  *Settings // nil: the default short settings
}

// randomProblem returns n points in d dimensions with ±1 labels (by the sign of the
// first coordinate), from seed.
func randomProblem(n, d int, loss Loss, beta float64, seed uint64) *Problem {
	r := rand.New(rand.NewPCG(seed, 1))
	X := mat.NewDense(n, d, nil)
	y := make([]float64, n)
	for i := range n {
		for j := range d {
			X.Set(i, j, r.NormFloat64())
		}
		y[i] = 1
		if X.At(i, 0) < 0 {
			y[i] = -1
		}
	}
	return &Problem{X: X, Y: y, Loss: loss, Beta: beta}
}

// hostileProblems returns the table: one thing wrong or extreme at a time.
func hostileProblems() []hostileProblem {
	var ps []hostileProblem
	add := func(name string, p *Problem, s *Settings) { ps = append(ps, hostileProblem{name, p, s}) }
	for _, loss := range []Loss{Squared, Hinge, Logistic} {
		base := func() *Problem { return randomProblem(12, 3, loss, 1e-3, 1) }
		l := loss.String()
		add(l+"/plain", base(), nil)
		for _, nd := range [][2]int{{1, 1}, {1, 3}, {2, 1}, {3, 8}, {40, 1}} {
			add(fmt.Sprintf("%s/n=%d,d=%d", l, nd[0], nd[1]), randomProblem(nd[0], nd[1], loss, 1e-3, 2), nil)
		}
		p := base()
		p.X.Zero()
		add(l+"/X zero", p, nil)
		p = base()
		for j := range 3 {
			p.X.Set(4, j, 0)
		}
		add(l+"/a zero row", p, nil)
		p = base()
		for i := range 12 {
			p.X.Set(i, 1, 3)
		}
		add(l+"/a constant column", p, nil)
		p = base()
		for i := range 12 {
			p.X.SetRow(i, []float64{1, 2, 3})
		}
		add(l+"/all points the same", p, nil)
		p = base()
		for i := 1; i < 12; i += 2 {
			p.X.SetRow(i, p.X.RawRowView(i-1))
			p.Y[i] = -p.Y[i-1]
		}
		add(l+"/duplicate points with opposite labels", p, nil)
		p = base()
		for i := range p.Y {
			p.Y[i] = 1
		}
		add(l+"/one class", p, nil)
		p = base()
		p.X.Scale(1e150, p.X)
		add(l+"/huge X", p, nil)
		p = base()
		p.X.Scale(1e99, p.X)
		add(l+"/X at 1e99", p, nil)
		p = base()
		p.X.Scale(1e-300, p.X)
		add(l+"/tiny X", p, nil)
		p = base()
		p.X.Scale(1e-99, p.X)
		add(l+"/X at 1e-99", p, nil)
		p = base()
		p.X.Set(3, 2, math.NaN())
		add(l+"/NaN in X", p, nil)
		p = base()
		p.X.Set(0, 0, math.Inf(-1))
		add(l+"/Inf in X", p, nil)
		p = base()
		p.Y[5] = math.NaN()
		add(l+"/NaN label", p, nil)
		p = base()
		p.Y[5] = 0
		add(l+"/label 0", p, nil)
		p = base()
		p.Y[2] = 2
		add(l+"/label 2", p, nil)
		p = base()
		p.Y = p.Y[:5]
		add(l+"/fewer labels than points", p, nil)
		p = base()
		p.Y = append(p.Y, 1)
		add(l+"/more labels than points", p, nil)
		for _, beta := range []float64{0, 1e12, 1e300, -1, math.NaN(), math.Inf(1)} {
			p = base()
			p.Beta = beta
			add(fmt.Sprintf("%s/beta=%g", l, beta), p, nil)
		}
		add(l+"/exact arrangement", base(), &Settings{Exact: true, MaxIterations: 30, TimeLimit: time.Second})
		add(l+"/one pattern", base(), &Settings{Patterns: 1, MaxIterations: 30, TimeLimit: time.Second})
		add(l+"/tolerance 1e300", base(), &Settings{Tolerance: 1e300, MaxIterations: 30, TimeLimit: time.Second})
		add(l+"/negative settings", base(), &Settings{Patterns: -1, MaxIterations: -1, TimeLimit: -1, Tolerance: -1})
		add(l+"/reference NaN", base(), &Settings{Reference: math.NaN(), MaxIterations: 30, TimeLimit: time.Second})
	}
	p := randomProblem(12, 3, Squared, 1e-3, 1)
	for i := range p.Y {
		p.Y[i] = 1e200 * float64(i)
	}
	add("squared/huge targets", p, nil)
	p = randomProblem(12, 3, Loss(7), 1e-3, 1)
	add("unknown loss", p, nil)
	add("nil X", &Problem{Y: []float64{1}}, nil)
	add("empty X", &Problem{X: &mat.Dense{}, Loss: Squared}, nil)
	add("nil problem", nil, nil)
	return ps
}

// shortSettings are the settings of a hostile solve unless the table gives others.
func shortSettings() *Settings {
	return &Settings{Patterns: 8, MaxIterations: 30, TimeLimit: time.Second, Seed: 1}
}

// solveOutcome is what one guarded Solve did.
type solveOutcome struct {
	res   *Result
	err   error
	panic string // the panic and its stack, if Solve panicked
	hung  bool   // Solve did not return within the bound
}

// guardedSolve runs Solve in a goroutine under a context deadline, recovering a panic,
// and gives up waiting after bound (the goroutine is then left running).
func guardedSolve(p *Problem, s *Settings, m Method, bound time.Duration) solveOutcome {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	done := make(chan solveOutcome, 1)
	go func() {
		defer cancel()
		var o solveOutcome
		defer func() {
			if v := recover(); v != nil {
				o.panic = fmt.Sprintf("%v\n%s", v, debug.Stack())
			}
			done <- o
		}()
		o.res, o.err = Solve(ctx, p, s, m)
	}()
	select {
	case o := <-done:
		return o
	case <-time.After(bound):
		return solveOutcome{hung: true}
	}
}

// check returns what is wrong with an outcome, or "".
func (o solveOutcome) check() string {
	switch {
	case o.panic != "":
		return "panic: " + o.panic
	case o.hung:
		return "did not return"
	case o.err != nil && o.res != nil:
		return fmt.Sprintf("both a result and an error (%v)", o.err)
	case o.err != nil:
		if !strings.HasPrefix(o.err.Error(), "solver: ") {
			return fmt.Sprintf("error without the package prefix: %q", o.err)
		}
	case o.res == nil:
		return "neither a result nor an error"
	case o.res.Status == NotTerminated || o.res.Status > Failure:
		return fmt.Sprintf("result with status %v", o.res.Status)
	case o.res.Network == nil:
		return "result without a network"
	case o.res.Status == Failure && o.res.Message == "":
		return "failure without a message"
	case o.res.Status != Failure && !finite(o.res.Objective):
		return fmt.Sprintf("status %v with objective %v", o.res.Status, o.res.Objective)
	}
	return ""
}

// knownFailures are failure modes found by these tests in code of other owners, each
// reported with its reproduction; a case listed here is logged instead of failing (a
// hang is not run at all, so that it does not keep a core busy). Remove an entry when
// its fix lands: the test then checks the case again. (Emptied when fista's line
// search got its bound and context checks, Validate its limit on the data's scale,
// and the logistic proximal map its bracket for tiny ρ.)
var knownFailures = map[string]string{}

// TestSolveHostileInputs runs every method on every hostile problem of the table.
func TestSolveHostileInputs(t *testing.T) {
	methods := hostileMethods()
	for _, hp := range hostileProblems() {
		for _, m := range methods {
			key := hp.name + " | " + methodName(m)
			if why, ok := knownFailures[key]; ok {
				t.Logf("known failure, not checked: %s: %s", key, why)
				continue
			}
			s := hp.set
			if s == nil {
				s = shortSettings()
			}
			o := guardedSolve(hp.prob, s, m, 20*time.Second)
			if msg := o.check(); msg != "" {
				t.Errorf("%s: %s", key, msg)
			} else if o.res != nil && o.res.Status == Failure {
				t.Logf("%s: failure: %s", key, o.res.Message)
			}
		}
	}
}

// FuzzSolve builds a small problem from the fuzzer's numbers (shape, values with NaN,
// Inf, zero rows, constant columns and duplicates mixed in, labels, β, ρ, method) and
// checks that Solve returns a result or a clear error, without panicking, in time.
func FuzzSolve(f *testing.F) {
	f.Add(uint8(12), uint8(3), uint64(1), uint8(0), uint8(0), 1e-3, 0.0, uint16(0))
	f.Add(uint8(1), uint8(1), uint64(2), uint8(1), uint8(3), 0.0, 1e-300, uint16(0xffff))
	f.Add(uint8(30), uint8(8), uint64(3), uint8(2), uint8(6), 1e300, 1e300, uint16(0x0f0f))
	f.Add(uint8(5), uint8(2), uint64(4), uint8(1), uint8(9), math.Inf(1), math.NaN(), uint16(0x8001))
	methods := hostileMethods()
	f.Fuzz(func(t *testing.T, n, d uint8, seed uint64, loss, method uint8, beta, rho float64, flags uint16) {
		rows, cols := int(n%40)+1, int(d%8)+1
		p := randomProblem(rows, cols, Loss(loss%4), beta, seed)
		r := rand.New(rand.NewPCG(seed, 2))
		if flags&1 != 0 {
			p.X.Set(r.IntN(rows), r.IntN(cols), math.NaN())
		}
		if flags&2 != 0 {
			p.X.Set(r.IntN(rows), r.IntN(cols), math.Inf(1))
		}
		if flags&4 != 0 {
			p.X.SetRow(r.IntN(rows), make([]float64, cols))
		}
		if flags&8 != 0 {
			c := r.IntN(cols)
			for i := range rows {
				p.X.Set(i, c, 1)
			}
		}
		if flags&16 != 0 && rows > 1 {
			p.X.SetRow(1, p.X.RawRowView(0))
		}
		if flags&32 != 0 {
			p.Y[r.IntN(rows)] = float64(r.IntN(5) - 2)
		}
		if flags&64 != 0 {
			p.X.Scale(math.Ldexp(1, int(flags>>8)*4-512), p.X)
		}
		if flags&128 != 0 {
			p.Y = p.Y[:rows-1]
		}
		var m Method
		if int(method) < len(methods) {
			m = methods[method]
		} else {
			switch method % 3 {
			case 0:
				m = &ADMM{Rho: rho}
			case 1:
				m = &Adversarial{Epsilon: math.Abs(rho), Rho: rho}
			default:
				m = &SGD{LearningRate: rho}
			}
		}
		s := &Settings{Patterns: int(flags>>12) + 1, MaxIterations: 20, TimeLimit: 500 * time.Millisecond, Seed: seed}
		if msg := guardedSolve(p, s, m, time.Minute).check(); msg != "" {
			t.Fatalf("%s on %dx%d %v β=%g flags=%#x: %s", methodName(m), rows, cols, p.Loss, beta, flags, msg)
		}
	})
}
