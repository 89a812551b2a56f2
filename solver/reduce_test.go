package solver

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// deficientData returns n points with columns (a, b, a − 2b, 0, 1): d = 5, rank 3,
// every nonzero column dense (so the reduction rotates), and the null vectors
// (1, −2, −1, 0, 0) and (0, 0, 0, 1, 0); labels ±1 from a noisy nonlinear rule.
func deficientData(n int, seed uint64) (*mat.Dense, []float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	X := mat.NewDense(n, 5, nil)
	y := make([]float64, n)
	for k := 0; k < n; k++ {
		a, b := rng.NormFloat64(), rng.NormFloat64()
		X.SetRow(k, []float64{a, b, a - 2*b, 0, 1})
		y[k] = 1
		if a*b+0.3*rng.NormFloat64() < 0 {
			y[k] = -1
		}
	}
	return X, y
}

var deficientNull = [][]float64{{1, -2, -1, 0, 0}, {0, 0, 0, 1, 0}}

func TestNewRowSpace(t *testing.T) {
	X, _ := deficientData(30, 1)
	rs, err := newRowSpace(X)
	if err != nil || rs == nil {
		t.Fatalf("rank-deficient X: reduction %v, %v", rs, err)
	}
	if rs.r != 3 || rs.basis == nil || len(rs.cols) != 4 {
		t.Fatalf("rank %d, %d nonzero columns, rotated %v; want 3, 4, true", rs.r, len(rs.cols), rs.basis != nil)
	}
	// X̃ X̃ᵀ = X Xᵀ: the reduced rows have the original inner products.
	var g, gt mat.Dense
	g.Mul(X, X.T())
	gt.Mul(rs.x, rs.x.T())
	if !mat.EqualApprox(&g, &gt, 1e-12) {
		t.Error("X̃X̃ᵀ differs from XXᵀ")
	}
	// A row of the row space survives the round trip.
	back := rs.toOriginal(rs.toReduced(mat.NewDense(1, 5, []float64{1, 1, -1, 0, 2})))
	if !mat.EqualApprox(back, mat.NewDense(1, 5, []float64{1, 1, -1, 0, 2}), 1e-12) {
		t.Errorf("round trip of a row-space vector gave %v", mat.Formatted(back))
	}

	// Zero columns and full rank otherwise: the columns are dropped, not rotated.
	Z := mat.NewDense(20, 4, nil)
	full := randomData(20, 2, true, 3)
	for k := 0; k < 20; k++ {
		Z.Set(k, 0, full.At(k, 0))
		Z.Set(k, 2, full.At(k, 1))
	}
	rs, err = newRowSpace(Z)
	if err != nil || rs == nil || rs.basis != nil || rs.r != 2 || rs.cols[0] != 0 || rs.cols[1] != 2 {
		t.Fatalf("zero columns: %+v, %v; want the columns 0 and 2, no rotation", rs, err)
	}
	// Sparse and dependent: fewer than half the entries nonzero, so no rotation.
	S := mat.NewDense(20, 3, nil)
	for k := 0; k < 20; k += 3 {
		S.Set(k, 0, float64(k+1))
		S.Set(k, 1, float64(2*k+2)) // column 1 = 2 × column 0
		S.Set(k+1, 2, 1)
	}
	if rs, err = newRowSpace(S); err != nil || rs != nil {
		t.Errorf("sparse full-width X: reduction %+v, %v; want none", rs, err)
	}
	// Full rank: nothing to do.
	if rs, err = newRowSpace(randomData(20, 4, true, 5)); err != nil || rs != nil {
		t.Errorf("full-rank X: reduction %+v, %v; want none", rs, err)
	}
}

// TestRowSpaceSameOptimum solves a rank-deficient program (rank 3 of d = 5) through
// Solve, in the row space, and with the method itself on X, for the three losses:
// both certified to 1e-8 with the same optimum (each certificate's dual bound below
// the other's objective), the reduced solution mapped back into X's row space (zero
// on the null vectors), and its certificate the one computed on the original X:
// the convex objective and cone violation of the mapped-back point evaluated with X.
func TestRowSpaceSameOptimum(t *testing.T) {
	X, y := deficientData(40, 2)
	arr, err := SampleArrangement(X, 12, 3)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, loss := range []Loss{Squared, Hinge, Logistic} {
		p := &Problem{X: X, Y: y, Loss: loss, Beta: 0.05}
		s := Settings{Arrangement: arr, Tolerance: 1e-8}
		red, err := Solve(ctx, p, &s, &InteriorPoint{})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := (&InteriorPoint{}).solve(ctx, p, &s)
		if err != nil {
			t.Fatal(err)
		}
		if red.Status != Optimal || plain.Status != Optimal {
			t.Fatalf("%v: reduced %v (gap %.2g), on X %v (gap %.2g); want both optimal", loss, red.Status, red.Gap, plain.Status, plain.Gap)
		}
		if red.Rank != 3 || plain.Rank != 0 {
			t.Errorf("%v: Rank %d reduced, %d on X; want 3, 0", loss, red.Rank, plain.Rank)
		}
		rc, pc := red.Certificate, plain.Certificate
		if rc.Dual > pc.Primal+1e-9*math.Abs(pc.Primal) || pc.Dual > rc.Primal+1e-9*math.Abs(rc.Primal) {
			t.Errorf("%v: certificates disagree: reduced [%.12g, %.12g], on X [%.12g, %.12g]", loss, rc.Dual, rc.Primal, pc.Dual, pc.Primal)
		}
		if r, c := red.V.Dims(); r != arr.Len() || c != 5 {
			t.Fatalf("%v: V is %d×%d, want %d×5", loss, r, c, arr.Len())
		}
		for _, blocks := range []*mat.Dense{red.V, red.W, red.Network.U} {
			rows, _ := blocks.Dims()
			for i := 0; i < rows; i++ {
				b := blocks.RawRowView(i)
				for _, nv := range deficientNull {
					if math.Abs(dot(b, nv)) > 1e-10*math.Max(norm2(b), 1e-300) {
						t.Errorf("%v: row %d = %v leaves the row space", loss, i, b)
					}
				}
			}
		}
		// The certificate on the original X for the mapped-back point.
		pr, err := newProgram(p, arr)
		if err != nil {
			t.Fatal(err)
		}
		u := append(append([]float64(nil), red.V.RawMatrix().Data...), red.W.RawMatrix().Data...)
		convex, network, violation := pr.eval(u, newEvaluation(pr))
		if relErr(convex, rc.Primal) > 1e-12 || relErr(network, red.Objective) > 1e-12 {
			t.Errorf("%v: on X the point has objectives %.15g / %.15g, the certificate %.15g and result %.15g", loss, convex, network, rc.Primal, red.Objective)
		}
		if math.Abs(violation-rc.ConeViolation) > 1e-12 {
			t.Errorf("%v: cone violation on X %.3g, certificate %.3g", loss, violation, rc.ConeViolation)
		}
	}
}

// TestRowSpaceDualNorms checks the dual side of the invariance: for a dual candidate
// η the constraint values ‖Π_{Kᵢ}(±Xᵀ(dᵢ ∘ η))‖ of every pattern are the same
// computed on X (in ℝ⁵) and on X̃ (in ℝ³).
func TestRowSpaceDualNorms(t *testing.T) {
	X, _ := deficientData(40, 4)
	arr, err := SampleArrangement(X, 12, 5)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := newRowSpace(X)
	if err != nil || rs == nil {
		t.Fatal("no reduction", err)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	eta := make([]float64, 40)
	for k := range eta {
		eta[k] = rng.NormFloat64()
	}
	norms := func(A *mat.Dense) []float64 {
		n, d := A.Dims()
		cp := newConeProjector(blas64.General{Rows: n, Cols: d, Stride: d, Data: mat.DenseCopyOf(A).RawMatrix().Data})
		var out []float64
		for i := 0; i < arr.Len(); i++ {
			sign := make([]float64, n)
			g := make([]float64, d)
			for k := 0; k < n; k++ {
				sign[k] = -1
				if arr.Active(i, k) {
					sign[k] = 1
					axpy(eta[k], A.RawRowView(k), g)
				}
			}
			for _, s := range []float64{1, -1} {
				a := make([]float64, d)
				axpy(s, g, a)
				v, _, _ := cp.project(a, sign, 0, 1, nil, nil)
				out = append(out, norm2(v))
			}
		}
		return out
	}
	orig, red := norms(X), norms(rs.x)
	for j := range orig {
		if math.Abs(orig[j]-red[j]) > 1e-10*math.Max(1, orig[j]) {
			t.Errorf("constraint %d: ‖Π_K‖ = %.12g on X, %.12g on X̃", j, orig[j], red[j])
		}
	}
}

// TestRowSpaceMethods runs ADMM, GatedReLU and a Path in the row space against the
// same methods on X (ADMM and GatedReLU called directly, which do not reduce), and
// checks that SCP, which is not invariant, is left alone.
func TestRowSpaceMethods(t *testing.T) {
	X, y := deficientData(40, 8)
	arr, err := SampleArrangement(X, 10, 9)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := &Problem{X: X, Y: y, Loss: Squared, Beta: 0.1}
	s := Settings{Arrangement: arr, Tolerance: 1e-7}
	for _, m := range []Method{&ADMM{}, &GatedReLU{}} {
		t0 := time.Now()
		red, err := Solve(ctx, p, &s, m)
		if err != nil {
			t.Fatal(err)
		}
		// Runtime is the solve's own time: never more than the call took.
		if elapsed := time.Since(t0); red.Runtime > elapsed {
			t.Errorf("%v: Runtime %v, but Solve returned after %v", m, red.Runtime, elapsed)
		}
		plain, err := m.solve(ctx, p, &s)
		if err != nil {
			t.Fatal(err)
		}
		if red.Status != Optimal || plain.Status != Optimal || red.Rank != 3 {
			t.Fatalf("%v: reduced %v (rank %d), on X %v; want optimal, rank 3", m, red.Status, red.Rank, plain.Status)
		}
		// GatedReLU's Objective is that of a ReLU network decomposed along the
		// generators, which the reduction projects onto the row space: compare the
		// gated program's optimum, its certificate's objective.
		if relErr(red.Certificate.Primal, plain.Certificate.Primal) > 1e-5 {
			t.Errorf("%v: optimum %.10g reduced, %.10g on X", m, red.Certificate.Primal, plain.Certificate.Primal)
		}
		if red.Gated != nil {
			pred, err := red.Gated.Predict(X)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := plain.Gated.Predict(X)
			for k := range pred {
				if math.Abs(pred[k]-want[k]) > 1e-4 {
					t.Fatalf("gated prediction %d: %.8g reduced, %.8g on X", k, pred[k], want[k])
				}
			}
		}
	}
	betas := []float64{0.3, 0.03}
	path, err := Path(ctx, p, betas, &s, &ADMM{})
	if err != nil {
		t.Fatal(err)
	}
	for i, res := range path {
		q := *p
		q.Beta = betas[i]
		cold, err := (&ADMM{}).solve(ctx, &q, &s)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != Optimal || res.Rank != 3 || relErr(res.Objective, cold.Objective) > 1e-5 {
			t.Errorf("path β = %g: %v, rank %d, objective %.10g; cold solve on X %.10g", betas[i], res.Status, res.Rank, res.Objective, cold.Objective)
		}
	}
	scp, err := Solve(ctx, p, &Settings{Patterns: 20, MaxIterations: 50}, &SCP{})
	if err != nil {
		t.Fatal(err)
	}
	if scp.Rank != 0 {
		t.Errorf("SCP solved in a row space of rank %d", scp.Rank)
	}
}
