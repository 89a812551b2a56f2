package solver

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// TestWoodburyPredictions: after a u-step solve on the Woodbury route, F u comes
// from the solve (linsys.predictions) and equals F u formed by a product; the
// Cholesky route does not offer it, nor does a solve after a refactorization.
func TestWoodburyPredictions(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	X := randomData(30, 5, true, 23)
	arr, _ := SampleArrangement(X, 9, 4)
	p := &Problem{X: X, Y: labels(Hinge, 30, rng), Loss: Hinge, Beta: 0.1}
	pr, _ := newProgram(p, arr)
	n, d, P := pr.n, pr.d, pr.P
	for _, noGram := range []bool{false, true} {
		for _, route := range []string{FactorCholesky, FactorWoodbury} {
			pr.noGram, pr.tau2 = noGram, 1.3
			ls, err := newLinsys(pr, route, 0.41)
			if err != nil {
				t.Fatal(err)
			}
			rhs, u := make([]float64, 2*P*d), make([]float64, 2*P*d)
			for i := range rhs {
				rhs[i] = rng.NormFloat64()
			}
			ls.solve(rhs, u)
			got := make([]float64, n)
			ok := ls.predictions(got)
			if ok != (route == FactorWoodbury) {
				t.Fatalf("%s noGram=%v: predictions offered %v", route, noGram, ok)
			}
			if !ok {
				continue
			}
			xu := make([]float64, n*2*P)
			pr.mulXT(xu, u, 2*P)
			for k := 0; k < n; k++ {
				want := 0.0
				for i := 0; i < P; i++ {
					want += pr.mask[k*P+i] * (xu[k*2*P+i] - xu[k*2*P+P+i])
				}
				if math.Abs(got[k]-want) > 1e-9*(1+math.Abs(want)) {
					t.Fatalf("%s noGram=%v: (Fu)_%d = %v from the solve, %v by the product", route, noGram, k, got[k], want)
				}
			}
			if err := ls.factor(0.9); err != nil {
				t.Fatal(err)
			}
			if ls.predictions(got) {
				t.Errorf("%s noGram=%v: predictions offered after a refactorization, before a solve", route, noGram)
			}
		}
	}
}

// TestLinearImagesSameIterates: the split cone form's shortcuts (F u from the
// solve, the right-hand side carried through Anderson acceleration as a linear
// image) give the iterates that recomputing every product gives, up to rounding:
// the same history row by row, for the hinge and logistic losses on both
// factorization routes; the dual residual is reported at the first iteration and
// the certificate checks only.
func TestLinearImagesSameIterates(t *testing.T) {
	for _, loss := range []Loss{Hinge, Logistic} {
		for _, route := range []string{FactorWoodbury, FactorCholesky} {
			p := randomProblem(40, 4, loss, 1e-2, 7)
			arr, err := SampleArrangement(p.X, 8, 3)
			if err != nil {
				t.Fatal(err)
			}
			var rows [2][]Iteration
			for v, noImages := range []bool{false, true} {
				s := &Settings{Arrangement: arr, MaxIterations: 80, Tolerance: 1e-12, Recorder: RecorderFunc(func(it Iteration) { rows[v] = append(rows[v], it) })}
				m := &ADMM{Factorization: route, NoPolish: true, noImages: noImages}
				if _, err := Solve(context.Background(), p, s, m); err != nil {
					t.Fatal(err)
				}
			}
			if len(rows[0]) != len(rows[1]) || len(rows[0]) == 0 {
				t.Fatalf("%v %s: %d and %d rows", loss, route, len(rows[0]), len(rows[1]))
			}
			close := func(a, b float64) bool {
				return math.IsNaN(a) && math.IsNaN(b) || math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b))+1e-12
			}
			for i := range rows[0] {
				a, b := rows[0][i], rows[1][i]
				// The dual residual is computed at the first iteration and at the
				// certificate checks only.
				if due := a.Iteration == 1 || a.Iteration%admmCheckEvery == 0; due == math.IsNaN(a.DualResidual) {
					t.Fatalf("%v %s, iteration %d: dual residual %v", loss, route, a.Iteration, a.DualResidual)
				}
				if !close(a.Objective, b.Objective) || !close(a.PrimalResidual, b.PrimalResidual) || !close(a.DualResidual, b.DualResidual) || !close(a.Rho, b.Rho) {
					t.Fatalf("%v %s, iteration %d: objective %v / %v, residuals %v, %v / %v, %v, ρ %v / %v", loss, route, a.Iteration,
						a.Objective, b.Objective, a.PrimalResidual, a.DualResidual, b.PrimalResidual, b.DualResidual, a.Rho, b.Rho)
				}
			}
		}
	}
}

// TestCholSolveBlocked: the blocked triangular solves give cholSolve's solution to
// rounding, and the same bits for any number of workers.
func TestCholSolveBlocked(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, n := range []int{1, 5, cholBlock - 1, cholBlock, cholBlock + 1, 2*cholBlock + 37} {
		// L lower triangular with a dominant positive diagonal.
		l := make([]float64, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < i; j++ {
				l[i*n+j] = rng.NormFloat64() / math.Sqrt(float64(n))
			}
			l[i*n+i] = 1 + rng.Float64()
		}
		tri := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: n, Stride: n, Data: l}
		b := make([]float64, n)
		for i := range b {
			b[i] = rng.NormFloat64()
		}
		want := append([]float64(nil), b...)
		cholSolve(tri, want)
		var first []float64
		for _, w := range []int{1, 2, 3} {
			got := append([]float64(nil), b...)
			cholSolveBlocked(tri, got, w)
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-10*(1+math.Abs(want[i])) {
					t.Fatalf("n = %d, %d workers: x[%d] = %v, cholSolve %v", n, w, i, got[i], want[i])
				}
			}
			if first == nil {
				first = got
			} else {
				for i := range got {
					if got[i] != first[i] {
						t.Fatalf("n = %d: x[%d] = %v with %d workers, %v with one", n, i, got[i], w, first[i])
					}
				}
			}
		}
	}
}
