package solver

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// setupProgram is the squared-loss program (n = 150, d = 7 with a bias column,
// 12 sampled patterns) on which the setup's polls are tested.
func setupProgram(t *testing.T) (*Problem, *Arrangement, *program) {
	t.Helper()
	p := smallProblem(Squared, 150, 9)
	p.X = randomData(150, 7, true, 9)
	arr, err := SampleArrangement(p.X, 12, 1)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := newProgram(p, arr)
	if err != nil {
		t.Fatal(err)
	}
	return p, arr, pr
}

// TestSetupStops: newLinsys (both routes) and program.gram stop at a poll of pr.stop
// with errInterrupted and no Gram matrix kept, and unstopped they compute what
// gonum's Syrk and Potrf compute, bit for bit.
func TestSetupStops(t *testing.T) {
	_, _, pr := setupProgram(t)
	n, d := pr.n, pr.d
	for _, route := range []string{FactorCholesky, FactorWoodbury} {
		polls := 0
		pr.stop = func() bool { polls++; return false }
		ls, err := newLinsys(pr, route, 0.7)
		if err != nil {
			t.Fatal(err)
		}
		all := polls
		for k := 1; k < all; k += max(1, all/7) {
			polls = 0
			pr.stop = func() bool { polls++; return polls >= k }
			if _, err := newLinsys(pr, route, 0.7); err != errInterrupted || polls != k {
				t.Fatalf("%s: stop at poll %d of %d: %v after %d polls", route, k, all, err, polls)
			}
		}
		// The same factors as gonum's: B's, and S's or A_D's.
		b := make([]float64, d*d)
		blas64.Syrk(blas.Trans, 1, pr.X, 0, blas64.Symmetric{Uplo: blas.Lower, N: d, Stride: d, Data: b})
		for i := 0; i < d; i++ {
			b[i*d+i] += pr.tau2
		}
		lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: d, Stride: d, Data: b})
		for i, v := range b {
			if r, c := i/d, i%d; c <= r && v != ls.bChol.Data[i] {
				t.Fatalf("%s: factor of B differs from gonum's at (%d, %d): %v, %v", route, r, c, ls.bChol.Data[i], v)
			}
		}
		t.Logf("%s: %d polls", route, all)
	}
	// The lower triangle of A Aᵀ (the Woodbury route's H and co-activations) in
	// blocks of rows.
	low, lowRef := make([]float64, n*n), make([]float64, n*n)
	blas64.Syrk(blas.NoTrans, 1, pr.X, 0, blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: lowRef})
	for i0 := 0; i0 < n; i0 += 17 {
		syrkRows(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: low}, pr.X, false, i0, min(n, i0+17))
	}
	for i, v := range lowRef {
		if low[i] != v {
			t.Fatalf("A Aᵀ (lower) differs from gonum's Syrk at (%d, %d)", i/n, i%n)
		}
	}
	pr.stop = nil
	ref := make([]float64, n*n)
	blas64.Syrk(blas.NoTrans, 1, pr.X, 0, blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: ref})
	pr.stop = func() bool { return true }
	if g := pr.gram(); g != nil || pr.gramXX != nil {
		t.Fatal("a stopped gram returned or kept a matrix")
	}
	pr.stop = func() bool { return false }
	g := pr.gram()
	for r := 0; r < n; r++ {
		for c := r; c < n; c++ {
			if g[r*n+c] != ref[r*n+c] || g[c*n+r] != ref[r*n+c] {
				t.Fatalf("XXᵀ differs from gonum's Syrk at (%d, %d)", r, c)
			}
		}
	}
}

// TestPotrfPolled: the polled factorization gives gonum's Potrf bit for bit, stops at
// the poll that says so, and reports a matrix that is not positive definite.
func TestPotrfPolled(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{5, 64, 65, 200} {
		g := make([]float64, n*(n+3))
		for i := range g {
			g[i] = rng.NormFloat64()
		}
		a := make([]float64, n*n)
		blas64.Syrk(blas.NoTrans, 1, blas64.General{Rows: n, Cols: n + 3, Stride: n + 3, Data: g}, 0, blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: a})
		want := append([]float64(nil), a...)
		if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: want}); !ok {
			t.Fatal("gonum's Potrf failed")
		}
		got := append([]float64(nil), a...)
		polls := 0
		ok, err := potrfPolled(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: got}, func() bool { polls++; return false })
		if !ok || err != nil {
			t.Fatalf("n = %d: %v, %v", n, ok, err)
		}
		for i := 0; i < n; i++ {
			for j := 0; j <= i; j++ {
				if got[i*n+j] != want[i*n+j] {
					t.Fatalf("n = %d: (%d, %d) is %v, gonum's %v", n, i, j, got[i*n+j], want[i*n+j])
				}
			}
		}
		if wantPolls := (n + 63) / 64; n > 64 && polls != wantPolls {
			t.Errorf("n = %d: %d polls, want one per panel (%d)", n, polls, wantPolls)
		}
		if n > 64 {
			stopped := 0
			ok, err := potrfPolled(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: append([]float64(nil), a...)}, func() bool { stopped++; return stopped == 2 })
			if ok || err != errInterrupted || stopped != 2 {
				t.Errorf("n = %d, stop at the second panel: %v, %v after %d polls", n, ok, err, stopped)
			}
		}
		a[(n/2)*n+n/2] = -1
		if ok, err := potrfPolled(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: a}, nil); ok || err != nil {
			t.Errorf("n = %d: an indefinite matrix factored (%v, %v)", n, ok, err)
		}
	}
}

// countingContext is a context that ends at the at-th call of Err: a cancellation at
// every poll of a solve in turn, without a hook.
type countingContext struct {
	context.Context
	mu        sync.Mutex
	calls, at int
}

func (c *countingContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls >= c.at {
		return context.Canceled
	}
	return nil
}

// TestADMMSetupCanceled cancels an ADMM solve at each of its first polls in turn:
// those of its setup (newLinsys, the Gram matrix) and of its first iterations. Every
// solve returns Canceled with a finite objective and, when it has a certificate, one
// that brackets the optimum; those cancelled at a poll of newLinsys (or at the
// check before it) end in the setup, before the driver (no ADMM statistics).
func TestADMMSetupCanceled(t *testing.T) {
	p, arr, pr := setupProgram(t)
	polls := 0
	pr.noGram = true // as ADMM's default (cone) form: B = τ²I
	pr.stop = func() bool { polls++; return false }
	if _, err := newLinsys(pr, FactorWoodbury, 1); err != nil {
		t.Fatal(err)
	}
	s := &Settings{Arrangement: arr, Threads: 1, MaxIterations: 30, Tolerance: 1e-12}
	opt, err := Solve(context.Background(), p, &Settings{Arrangement: arr, Tolerance: 1e-9}, &InteriorPoint{})
	if err != nil || opt.Status != Optimal {
		t.Fatalf("the optimum: %v", err)
	}
	lo, hi := opt.Certificate.Dual, opt.Certificate.Primal
	inSetup := 0
	for at := 1; at <= polls+40; at++ {
		ctx := &countingContext{Context: context.Background(), at: at}
		res, err := Solve(ctx, p, s, &ADMM{Factorization: FactorWoodbury, NoPolish: true})
		if err != nil {
			t.Fatalf("cancelled at call %d: %v", at, err)
		}
		if res.Status != Canceled || !finite(res.Objective) {
			t.Fatalf("cancelled at call %d: status %v, objective %v", at, res.Status, res.Objective)
		}
		if c := res.Certificate; c != nil && (c.Dual > hi*(1+1e-12) || c.Primal < lo*(1-1e-12)) {
			t.Fatalf("cancelled at call %d: certificate %+v outside [%v, %v]", at, c, lo, hi)
		}
		if res.ADMM == nil {
			inSetup++
		}
	}
	if inSetup < polls+1 {
		t.Errorf("%d solves ended before the driver, want at least newLinsys's %d polls and the check before it", inSetup, polls)
	}
	t.Logf("newLinsys polls %d times; %d of %d solves ended in the setup", polls, inSetup, polls+40)
}
