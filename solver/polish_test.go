package solver

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestReducedStep checks the reduced Newton system against the dense one it
// replaces: the same direction δ (and multipliers ν) for random blocks, rows, and
// the smooth (B = √W Ã, e = 1) and margin (e small) forms.
func TestReducedStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 6; trial++ {
		n, S := 12+rng.IntN(10), 2+rng.IntN(4)
		po := &polisher{n: n, beta: 0.1 + rng.Float64(), scale: 1}
		R := 0
		for j := 0; j < S; j++ {
			r := 1 + rng.IntN(3)
			po.blocks = append(po.blocks, &polishBlock{r: r, off: R})
			R += r
		}
		po.cols = R
		po.at = make([]float64, n*R)
		for i := range po.at {
			po.at[i] = rng.NormFloat64()
		}
		w := make([]float64, R)
		for i := range w {
			w[i] = rng.NormFloat64()
		}
		m := 1 + rng.IntN(n)
		rows, scale := rng.Perm(n)[:m], make([]float64, m)
		for r := range scale {
			scale[r] = rng.NormFloat64()
		}
		e, eps := 1.0, 1e-3
		if trial%2 == 1 {
			e, eps = 1e-8, 1e-8
		}
		r1, r2 := make([]float64, R), make([]float64, m)
		for i := range r1 {
			r1[i] = rng.NormFloat64()
		}
		for i := range r2 {
			r2[i] = rng.NormFloat64()
		}
		delta, nu := po.reducedStep(w, rows, scale, e, eps, r1, r2)
		// The dense system [[H + εI, Bᵀ], [B, −eI]].
		N := R + m
		kkt := mat.NewDense(N, N, nil)
		h := make([]float64, R*R)
		po.regularizerHessian(w, h, make([]float64, R))
		for i := 0; i < R; i++ {
			for j := 0; j < R; j++ {
				kkt.Set(i, j, h[i*R+j])
			}
			kkt.Set(i, i, kkt.At(i, i)+eps)
		}
		for r, k := range rows {
			for c := 0; c < R; c++ {
				v := scale[r] * po.at[k*R+c]
				kkt.Set(R+r, c, v)
				kkt.Set(c, R+r, v)
			}
			kkt.Set(R+r, R+r, -e)
		}
		rhs := mat.NewVecDense(N, append(append([]float64(nil), r1...), r2...))
		var x mat.VecDense
		if err := x.SolveVec(kkt, rhs); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < R; i++ {
			if math.Abs(delta[i]-x.AtVec(i)) > 1e-8*(1+math.Abs(x.AtVec(i))) {
				t.Fatalf("trial %d: δ[%d] = %v, dense %v", trial, i, delta[i], x.AtVec(i))
			}
		}
		for r := 0; r < m; r++ {
			if math.Abs(nu[r]-x.AtVec(R+r)) > 1e-8*(1+math.Abs(x.AtVec(R+r))) {
				t.Fatalf("trial %d: ν[%d] = %v, dense %v", trial, r, nu[r], x.AtVec(R+r))
			}
		}
	}
}
