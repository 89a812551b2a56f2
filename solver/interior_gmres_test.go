package solver

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestInteriorPointPrecision solves the programs of testdata/golden/precision
// (TestLiveCvxopt's generator at GOCVX_SEED=643 and 647, logistic loss, β = 1e-4 and
// 1e-3; each file's note says how they failed) on both routes of the Newton system
// with one and two workers, and checks them against cvxopt as
// TestGoldenInteriorPoint does: status Optimal with a certified gap ≤ 1e-8. Before
// the Krylov refinement (pdip.gmres) and the clipped blocks (pdip.clipCinv) the
// dense route ended both with status Failure at gaps of 2.1–2.2e-8, and the n×n
// route the second at 1.7e-8.
func TestInteriorPointPrecision(t *testing.T) {
	files := globGolden(t, filepath.Join("testdata", "golden", "precision"), "relu")
	if len(files) < 2 {
		t.Fatalf("%d precision programs, want ≥ 2", len(files))
	}
	for _, f := range files {
		in := readJSON[instance](t, f)
		p, arr := in.problem(t)
		for _, route := range []string{FactorCholesky, FactorWoodbury} {
			for _, threads := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s/%s/%d", filepath.Base(f), route, threads), func(t *testing.T) {
					s := &Settings{Arrangement: arr, Tolerance: 1e-8, Threads: threads}
					res, err := Solve(context.Background(), p, s, &InteriorPoint{Factorization: route})
					if err != nil {
						t.Fatal(err)
					}
					fell := strings.HasPrefix(res.Factorization, FactorCholesky+" (after "+FactorWoodbury)
					if !(res.Factorization == route || route == FactorWoodbury && fell) {
						t.Errorf("factorization %q, want %q", res.Factorization, route)
					}
					checkInteriorPoint(t, res, in.Reference.Objective, 1e-8)
					t.Logf("%d Newton steps, gap %.2g, %s", res.Iterations, res.Gap, res.Factorization)
				})
			}
		}
	}
}

// TestGMRESRepairsPreconditioner solves the Newton system of a random interior
// point of a small program (every loss, dense route) with a factorization spoiled in
// a few directions (three diagonal entries of the Cholesky factor multiplied by 10,
// as rounding spoils the reduced matrix of the last iterations at small β):
// iterative refinement from the spoiled solve must not reach the accuracy that
// GMRES, preconditioned by the same factorization, must reach (a relative residual
// of the unreduced equations ≤ 1e-8).
func TestGMRESRepairsPreconditioner(t *testing.T) {
	for _, loss := range []Loss{Squared, Hinge, Logistic} {
		t.Run(loss.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(loss)))
			ip := randomInteriorPoint(t, rng, loss, FactorCholesky, 1)
			cn, w := ip.cn, ip.work
			ip.hessian(w)
			if err := ip.factor(w.hess); err != nil {
				t.Fatal(err)
			}
			for _, r := range []int{0, ip.dp / 2, ip.dp - 1} {
				ip.a[r*ip.dp+r] *= 10
			}
			m := cn.size()
			bxu, bxt, bxx, bz, bs := randomVec(rng, ip.N), randomVec(rng, ip.nb), randomVec(rng, len(ip.xi)), randomVec(rng, m), randomVec(rng, m)
			d := w.dir
			ip.solveOnce(w, d, bxu, bxt, bxx, bz, bs)
			refined := ip.refineChecked(w, d, ipmDenseRefinements, bxu, bxt, bxx, bz, bs)
			ip.solveOnce(w, d, bxu, bxt, bxx, bz, bs)
			rel := ip.gmres(d, bxu, bxt, bxx, bz, bs)
			// The residual gmres reports is the one of the direction it leaves.
			ip.kktResidual(w, d, bxu, bxt, bxx, bz, bs)
			rf := w.rf
			bn := math.Sqrt(dot(bxu, bxu) + dot(bxt, bxt) + dot(bxx, bxx) + dot(bz, bz) + dot(bs, bs))
			got := math.Sqrt(dot(rf.u, rf.u)+dot(rf.t, rf.t)+dot(rf.x, rf.x)+dot(rf.z, rf.z)+dot(rf.s, rf.s)) / bn
			if math.Abs(got-rel) > 1e-3*rel+1e-15 {
				t.Errorf("gmres reported a residual of %.3g, the direction's is %.3g", rel, got)
			}
			if !(got <= ipmRefinedResidual) {
				t.Errorf("relative residual after gmres %.3g, want ≤ %g", got, ipmRefinedResidual)
			}
			if !(refined > 1e-3) {
				t.Errorf("refinement reached %.3g with the spoiled factorization: the test does not test gmres", refined)
			}
			t.Logf("relative residual: refinement %.3g, gmres %.3g", refined, got)
		})
	}
}

// TestClipCinv checks that clipCinv sets the negative eigenvalues of each block
// C⁻¹ᵢ to zero and keeps the rest: a block with eigenvalues (−1, 2, 5) becomes
// Q diag(0, 2, 5) Qᵀ, a positive definite one stays as it was.
func TestClipCinv(t *testing.T) {
	const d = 3
	rng := rand.New(rand.NewPCG(3, 4))
	var qr mat.QR
	qr.Factorize(mat.NewDense(d, d, []float64{1, 2, 0, -1, 1, 3, 2, 0, 1}))
	var q mat.Dense
	qr.QTo(&q)
	block := func(vals []float64) []float64 {
		var m mat.Dense
		m.Mul(&q, mat.NewDiagDense(d, vals))
		m.Mul(&m, q.T())
		return append([]float64(nil), m.RawMatrix().Data...)
	}
	definite := make([]float64, d*d)
	a := mat.NewDense(d, d, nil)
	for i := range d * d {
		a.RawMatrix().Data[i] = rng.NormFloat64()
	}
	var spd mat.Dense
	spd.Mul(a.T(), a)
	for r := range d {
		spd.Set(r, r, spd.At(r, r)+0.1)
	}
	copy(definite, spd.RawMatrix().Data)
	ip := &pdip{d: d, P: 2, cinv: append(block([]float64{-1, 2, 5}), definite...)}
	ip.clipCinv()
	want := append(block([]float64{0, 2, 5}), definite...)
	for k, v := range ip.cinv {
		if math.Abs(v-want[k]) > 1e-12 {
			t.Fatalf("entry %d (block %d): %v, want %v", k, k/(d*d), v, want[k])
		}
	}
}
