package solver

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// randomBlocks gives the polisher S blocks of minR to minR+2 columns, a random
// n × R matrix Ã (po.at) over them, and returns a random point w of R entries.
func randomBlocks(rng *rand.Rand, po *polisher, S, minR int) []float64 {
	R := 0
	for j := 0; j < S; j++ {
		r := minR + rng.IntN(3)
		po.blocks = append(po.blocks, &polishBlock{r: r, off: R})
		R += r
	}
	po.cols = R
	po.at = make([]float64, po.n*R)
	for i := range po.at {
		po.at[i] = rng.NormFloat64()
	}
	w := make([]float64, R)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	return w
}

// TestReducedStep checks the reduced Newton system against the dense one it
// replaces: the same direction δ (and multipliers ν) for random blocks, rows, and
// the smooth (B = √W Ã, e = 1) and margin (e small) forms.
func TestReducedStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 6; trial++ {
		n, S := 12+rng.IntN(10), 2+rng.IntN(4)
		po := &polisher{n: n, beta: 0.1 + rng.Float64(), scale: 1}
		w := randomBlocks(rng, po, S, 1)
		R := po.cols
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

// TestPolishLimit: a polisher whose budget is below the cost of one Newton step takes
// none (the blocks keep their values, the work stays within the budget), and the
// same program without a budget converges and moves them.
func TestPolishLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	n, d := 30, 4
	X := mat.NewDense(n, d, nil)
	y := make([]float64, n)
	for k := 0; k < n; k++ {
		for c := 0; c < d; c++ {
			X.Set(k, c, rng.NormFloat64())
		}
		y[k] = rng.NormFloat64()
	}
	blocks := func() ([]*polishBlock, [][]float64) {
		var bs []*polishBlock
		var start [][]float64
		for j := 0; j < 2; j++ {
			b := &polishBlock{base: X.RawMatrix(), pred: make([]float64, n), u: make([]float64, d)}
			for k := range b.pred {
				b.pred[k] = float64(1 - 2*j) // v and −w of one gate
			}
			for c := range b.u {
				b.u[c] = rng.NormFloat64()
			}
			bs, start = append(bs, b), append(start, append([]float64(nil), b.u...))
		}
		return bs, start
	}
	bs, start := blocks()
	po := newPolisher(Squared, y, 0.5, bs)
	po.limit = 1
	before := po.spent()
	if po.run(nil) {
		t.Error("a polisher without budget for a step reports convergence")
	}
	if spent := po.spent() - before; spent > float64(3*n*po.cols) { // laying out Ã and the final prediction
		t.Errorf("work %g after no step (a step costs %g)", spent, po.stepCost(n))
	}
	for j, b := range bs {
		for c := range b.u {
			if math.Abs(b.u[c]-start[j][c]) > 1e-12*(1+math.Abs(start[j][c])) {
				t.Fatalf("block %d moved without a step: %v from %v", j, b.u, start[j])
			}
		}
	}
	bs, start = blocks()
	po = newPolisher(Squared, y, 0.5, bs)
	if !po.run(nil) {
		t.Fatal("the unlimited polisher did not converge")
	}
	moved := false
	for j, b := range bs {
		for c := range b.u {
			moved = moved || math.Abs(b.u[c]-start[j][c]) > 1e-6
		}
	}
	if !moved {
		t.Error("the unlimited polisher left the blocks where they were")
	}
}

// TestPolishBuildIncremental: after each active-set change (a tight row added, a block
// dropped, a block entering) the layout of Ã that keeps the unchanged blocks' columns
// equals a fresh layout of every block, entry for entry.
func TestPolishBuildIncremental(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n, d := 25, 5
	X := mat.NewDense(n, d, nil)
	for k := 0; k < n; k++ {
		for c := 0; c < d; c++ {
			X.Set(k, c, rng.NormFloat64())
		}
	}
	var blocks []*polishBlock
	for j := 0; j < 6; j++ {
		b := &polishBlock{base: X.RawMatrix(), pred: make([]float64, n), cone: make([]float64, n), u: make([]float64, d)}
		for k := range b.pred {
			b.pred[k] = float64(rng.IntN(2))
			b.cone[k] = float64(2*rng.IntN(2) - 1)
		}
		for c := range b.u {
			b.u[c] = rng.NormFloat64()
		}
		blocks = append(blocks, b)
	}
	po := newPolisher(Squared, make([]float64, n), 0.5, blocks[:4])
	po.dormant = blocks[4:]
	po.prepare()
	po.build()
	check := func(what string) {
		t.Helper()
		fresh := &polisher{n: n, scale: po.scale}
		for _, b := range po.blocks {
			c := *b
			c.laid = false
			fresh.blocks = append(fresh.blocks, &c)
		}
		fresh.build()
		if fresh.cols != po.cols {
			t.Fatalf("%s: %d columns, fresh %d", what, po.cols, fresh.cols)
		}
		for i, v := range fresh.at {
			if po.at[i] != v {
				t.Fatalf("%s: Ã[%d, %d] = %v, fresh %v", what, i/po.cols, i%po.cols, po.at[i], v)
			}
		}
	}
	check("first layout")
	changes := 0
	for step := 0; step < 12; step++ {
		b := po.blocks[rng.IntN(len(po.blocks))]
		switch op := rng.IntN(3); {
		case op == 0 && !b.gone && b.r > 1:
			b.act = append(b.act, rng.IntN(n))
			b.basis()
		case op == 1 && !b.gone:
			b.gone = true
		case op == 2 && len(po.dormant) > 0:
			e := po.dormant[0]
			po.dormant = po.dormant[1:]
			e.basis()
			po.blocks = append(po.blocks, e)
		default:
			continue
		}
		changes++
		po.build()
		check("change " + string(rune('a'+step)))
	}
	if changes < 4 {
		t.Fatalf("only %d active-set changes tried", changes)
	}
}

// TestPolishGramUpdate: the hinge loss's per-block Gram matrices, updated as margin
// rows join and leave and as a block's basis changes, equal freshly formed ones, and
// the reduced step built from them solves the dense KKT system (as in
// TestReducedStep).
func TestPolishGramUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	n, S := 30, 4
	po := &polisher{n: n, loss: Hinge, beta: 0.3, scale: 1}
	w := randomBlocks(rng, po, S, 2)
	R := po.cols
	rows := rng.Perm(n)[:8]
	for step := 0; step < 8; step++ {
		switch step % 3 {
		case 0: // a margin point joins
			for _, k := range rng.Perm(n) {
				if !slices.Contains(rows, k) {
					rows = append(rows, k)
					break
				}
			}
		case 1: // one leaves
			i := rng.IntN(len(rows))
			rows = append(rows[:i], rows[i+1:]...)
		case 2: // a block's basis changes: new columns
			b := po.blocks[rng.IntN(S)]
			b.version++
			for k := 0; k < n; k++ {
				for c := b.off; c < b.off+b.r; c++ {
					po.at[k*R+c] = rng.NormFloat64()
				}
			}
		}
		slices.Sort(rows)
		m := len(rows)
		for j, b := range po.blocks {
			g := po.gram(b, rows)
			for i := 0; i < m; i++ {
				for q := i; q < m; q++ {
					want := dot(po.at[rows[i]*R+b.off:rows[i]*R+b.off+b.r], po.at[rows[q]*R+b.off:rows[q]*R+b.off+b.r])
					if math.Abs(g[i*m+q]-want) > 1e-12*(1+math.Abs(want)) {
						t.Fatalf("step %d, block %d: G[%d, %d] = %v, fresh %v", step, j, i, q, g[i*m+q], want)
					}
				}
			}
		}
		scale, r1, r2 := make([]float64, m), make([]float64, R), make([]float64, m)
		for r := range scale {
			scale[r], r2[r] = float64(2*rng.IntN(2)-1), rng.NormFloat64()
		}
		for i := range r1 {
			r1[i] = rng.NormFloat64()
		}
		e, eps := 1e-8, 1e-6
		delta, nu := po.reducedStep(w, rows, scale, e, eps, r1, r2)
		if delta == nil {
			t.Fatalf("step %d: singular reduced system", step)
		}
		// The residual of the full system [[H + εI, Bᵀ], [B, −eI]].
		q1, q2 := po.kktResidual(w, po.blocks, rows, scale, e, eps, delta, nu, r1, r2)
		if res := math.Hypot(norm2(q1), norm2(q2)); res > 1e-8*math.Hypot(norm2(r1), norm2(r2)) {
			t.Fatalf("step %d: KKT residual %g", step, res)
		}
	}
}
