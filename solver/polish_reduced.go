package solver

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// reduced reports whether the Newton system with rows rows of Ã is cheaper solved by
// reducedStep (a system of rows + S unknowns, S the live blocks) than densely in
// the R unknowns of w.
func (po *polisher) reduced(rows int) bool {
	dense, reduced := po.stepCosts(rows)
	return reduced < dense || po.cols > polishMaxColumns
}

// stepCost returns the operations of a Newton step with rows rows of Ã, by the route
// reduced chooses.
func (po *polisher) stepCost(rows int) float64 {
	dense, reduced := po.stepCosts(rows)
	if reduced < dense || po.cols > polishMaxColumns {
		return reduced
	}
	return dense
}

// stepCosts returns the operations of a Newton step with rows rows of Ã solved densely
// and by reducedStep.
func (po *polisher) stepCosts(rows int) (dense, reduced float64) {
	R, S := float64(po.cols), 0.0
	for _, b := range po.blocks {
		if !b.gone {
			S++
		}
	}
	m := float64(rows)
	dense = m*R*R + R*R*R/3
	if po.loss == Hinge {
		dense = 2 * (R + m) * (R + m) * (R + m) / 3
	}
	return dense, m*m*R + 2*(m+S)*(m+S)*(m+S)/3
}

// reducedStep solves the Newton (KKT) system
//
//	[H + εI  Bᵀ] [δ]   [r₁]
//	[B      −eI] [ν] = [r₂],   H = blockdiag(cⱼ(I − ŵⱼŵⱼᵀ)),  cⱼ = β/‖wⱼ‖,
//
// with B the given rows of Ã, each scaled, through a system in ν and one unknown per
// block (our derivation): with C = blockdiag((cⱼ + ε)I), U = blockdiag(ŵⱼ) and
// Λ = diag(cⱼ), H + εI = C − UΛUᵀ, and the system is that of the augmented
// [[C, Bᵀ, U], [B, −eI, 0], [Uᵀ, 0, Λ⁻¹]] in (δ, ν, m); eliminating δ = C⁻¹(r₁ − Bᵀν − Um),
// whose C is a scalar per block, leaves
//
//	[BC⁻¹Bᵀ + eI   BC⁻¹U        ] [ν]   [BC⁻¹r₁ − r₂]
//	[UᵀC⁻¹Bᵀ       UᵀC⁻¹U − Λ⁻¹ ] [m] = [UᵀC⁻¹r₁    ],
//
// of size rows + S. The smooth losses' Newton system (ÃᵀWÃ + H)δ = r₁ is the case
// B = √W Ã, e = 1, r₂ = 0 (then ν = Bδ); the hinge loss's KKT system has the margin
// rows −yₖÃₖ, e the proximal weight and r₂ the margins' residuals. Forming BC⁻¹Bᵀ
// costs rows²·R, against R³ for the dense system: the route for many blocks and
// few rows (the hinge loss's margin points), and for R larger than the points. For
// the hinge loss, BC⁻¹Bᵀ is summed from the blocks' Gram matrices, kept across steps
// and updated at each active-set change (gramBlocks): on MNIST 2 vs 8 at 10×10
// (β = 1e-3, m ≈ 127 margin points, S ≈ 42 blocks, R ≈ 1 700) an attempt's 133
// steps then count 1.7·10¹⁰ operations instead of 2.0·10¹⁰ (stepCosts still counts
// m²R, the first step's).
func (po *polisher) reducedStep(w []float64, rows []int, scale []float64, e, eps float64, r1, r2 []float64) ([]float64, []float64) {
	rs := po.newReducedSystem(w, rows, scale, e, eps)
	delta, nu := rs.solve(r1, r2)
	// The elimination loses the digits of ε against cⱼ (the radial directions have
	// eigenvalue ε): refinement against the residual of the full system restores them.
	for range polishRefinements {
		if delta == nil {
			return nil, nil
		}
		q1, q2 := po.kktResidual(w, rs.live, rows, scale, e, eps, delta, nu, r1, r2)
		dd, dn := rs.solve(q1, q2)
		if dd == nil {
			break
		}
		for i := range delta {
			delta[i] += dd[i]
		}
		for i := range nu {
			nu[i] += dn[i]
		}
	}
	return delta, nu
}

// reducedSystem is the factored system of reducedStep in (ν, m).
type reducedSystem struct {
	po    *polisher
	live  []*polishBlock
	rows  []int
	scale []float64
	cinv  []float64 // C⁻¹ per column
	what  []float64 // ŵ per column
	lu    mat.LU
}

// newReducedSystem forms and factors reducedStep's system of rows + S unknowns at w.
func (po *polisher) newReducedSystem(w []float64, rows []int, scale []float64, e, eps float64) *reducedSystem {
	R, m := po.cols, len(rows)
	rs := &reducedSystem{po: po, rows: rows, scale: scale, cinv: make([]float64, R), what: make([]float64, R)}
	for _, b := range po.blocks {
		if !b.gone {
			rs.live = append(rs.live, b)
		}
	}
	S := len(rs.live)
	N := m + S
	kkt := make([]float64, N*N)
	for j, b := range rs.live {
		wb := w[b.off : b.off+b.r]
		nw := norm2(wb)
		c := po.beta / nw
		for i := range wb {
			rs.cinv[b.off+i] = 1 / (c + eps)
			rs.what[b.off+i] = wb[i] / nw
		}
		// UᵀC⁻¹U − Λ⁻¹ = 1/(c + ε) − 1/c, without the cancellation.
		kkt[(m+j)*N+m+j] = -eps / (c * (c + eps))
	}
	rs.rowBlocks(kkt, N, e)
	if po.loss != Hinge || S*m*m > polishMaxEntries {
		po.work += float64(m) * float64(m) * float64(R) // BC⁻¹Bᵀ (else gramBlocks)
	}
	po.work += 2*float64(N)*float64(N)*float64(N)/3 + 4*float64(m)*float64(R)
	rs.lu.Factorize(mat.NewDense(N, N, kkt))
	return rs
}

// rowBlocks fills the blocks of the system that involve the rows: BC⁻¹Bᵀ + eI (from
// B C^{-1/2}) and BC⁻¹U with its transpose.
func (rs *reducedSystem) rowBlocks(kkt []float64, N int, e float64) {
	po := rs.po
	R, m := po.cols, len(rs.rows)
	bs := make([]float64, m*R) // B C^{-1/2}
	root := make([]float64, R) // C^{-1/2}, once per column (not per row)
	for c, v := range rs.cinv {
		root[c] = math.Sqrt(v)
	}
	for r, k := range rs.rows {
		src := po.at[k*R : (k+1)*R]
		dst := bs[r*R : (r+1)*R]
		for c, v := range src {
			dst[c] = rs.scale[r] * v * root[c]
		}
		for j, b := range rs.live {
			s := 0.0
			for i := b.off; i < b.off+b.r; i++ {
				s += rs.scale[r] * src[i] * rs.cinv[i] * rs.what[i]
			}
			kkt[r*N+m+j], kkt[(m+j)*N+r] = s, s
		}
	}
	if m == 0 {
		return
	}
	if po.loss == Hinge && len(rs.live)*m*m <= polishMaxEntries {
		rs.gramBlocks(kkt, N, e)
		return
	}
	k11 := make([]float64, m*m)
	blas64.Syrk(blas.NoTrans, 1, blas64.General{Rows: m, Cols: R, Stride: R, Data: bs}, 0,
		blas64.Symmetric{Uplo: blas.Upper, N: m, Stride: m, Data: k11})
	for i := 0; i < m; i++ {
		for j := i; j < m; j++ {
			kkt[i*N+j], kkt[j*N+i] = k11[i*m+j], k11[i*m+j]
		}
		kkt[i*N+i] += e
	}
}

// solve returns (δ, ν) for the right-hand side (r₁, r₂), or nils when the system is
// singular.
func (rs *reducedSystem) solve(r1, r2 []float64) ([]float64, []float64) {
	po := rs.po
	R, m := po.cols, len(rs.rows)
	N := m + len(rs.live)
	rhs := make([]float64, N)
	c1 := make([]float64, R) // C⁻¹r₁
	for i := range c1 {
		c1[i] = rs.cinv[i] * r1[i]
	}
	for r, k := range rs.rows {
		rhs[r] = rs.scale[r]*dot(po.at[k*R:(k+1)*R], c1) - r2[r]
	}
	for j, b := range rs.live {
		rhs[m+j] = dot(rs.what[b.off:b.off+b.r], c1[b.off:b.off+b.r])
	}
	var x mat.VecDense
	if err := rs.lu.SolveVecTo(&x, false, mat.NewVecDense(N, rhs)); err != nil && !isCondition(err) {
		return nil, nil
	}
	sol := x.RawVector().Data
	if len(sol) != N || !allFinite(sol) {
		return nil, nil
	}
	nu, mm := sol[:m], sol[m:]
	// δ = C⁻¹(r₁ − Bᵀν − Um).
	delta := append([]float64(nil), r1...)
	for r, k := range rs.rows {
		axpy(-rs.scale[r]*nu[r], po.at[k*R:(k+1)*R], delta)
	}
	for j, b := range rs.live {
		for i := b.off; i < b.off+b.r; i++ {
			delta[i] -= mm[j] * rs.what[i]
		}
	}
	for i := range delta {
		delta[i] *= rs.cinv[i]
	}
	return delta, append([]float64(nil), nu...)
}

// kktResidual returns the residual (r₁ − (H + εI)δ − Bᵀν, r₂ − Bδ + eν) of
// reducedStep's system.
func (po *polisher) kktResidual(w []float64, live []*polishBlock, rows []int, scale []float64, e, eps float64, delta, nu, r1, r2 []float64) ([]float64, []float64) {
	R := po.cols
	q1 := append([]float64(nil), r1...)
	for _, b := range live {
		wb := w[b.off : b.off+b.r]
		db := delta[b.off : b.off+b.r]
		nw := norm2(wb)
		c := po.beta / nw
		rad := dot(wb, db) / nw
		for i := range db {
			q1[b.off+i] -= c*(db[i]-rad*wb[i]/nw) + eps*db[i]
		}
	}
	q2 := append([]float64(nil), r2...)
	for r, k := range rows {
		row := po.at[k*R : (k+1)*R]
		axpy(-scale[r]*nu[r], row, q1)
		q2[r] -= scale[r]*dot(row, delta) - e*nu[r]
	}
	return q1, q2
}

// blockGram is Ãⱼ,M Ãⱼ,Mᵀ, the Gram matrix of one block's columns of Ã over the rows
// M, for the block's basis of the given version.
type blockGram struct {
	version int
	rows    []int
	g       []float64 // len(rows)², row-major
}

// gramBlocks fills BC⁻¹Bᵀ + eI for the hinge loss's margin rows as
// D (Σⱼ Ãⱼ,M Ãⱼ,Mᵀ/(cⱼ + ε)) D, D = diag(scale): C is a scalar per block, so the
// blocks' Gram matrices, kept from step to step, need only the weights of the new w.
// An active-set change updates them instead of forming BC⁻¹Bᵀ again (m²R operations):
// a margin point joining adds a row and column to each (m·R in all), one leaving
// removes them, and a block whose basis changed (a tight row) or that entered is
// formed again (m²rⱼ). Their S·m² entries are bounded by polishMaxEntries (else
// rowBlocks forms BC⁻¹Bᵀ at once).
func (rs *reducedSystem) gramBlocks(kkt []float64, N int, e float64) {
	po := rs.po
	m := len(rs.rows)
	k11 := make([]float64, m*m)
	for _, b := range rs.live {
		g := po.gram(b, rs.rows)
		c := rs.cinv[b.off]
		for i := 0; i < m; i++ {
			for j := i; j < m; j++ {
				k11[i*m+j] += c * g[i*m+j]
			}
		}
	}
	po.work += float64(len(rs.live) * m * m)
	for i := 0; i < m; i++ {
		for j := i; j < m; j++ {
			v := rs.scale[i] * rs.scale[j] * k11[i*m+j]
			kkt[i*N+j], kkt[j*N+i] = v, v
		}
		kkt[i*N+i] += e
	}
}

// gram returns block b's Gram matrix over rows (upper triangle), reusing the entries
// of the rows it had at the same basis.
func (po *polisher) gram(b *polishBlock, rows []int) []float64 {
	if po.grams == nil {
		po.grams = make(map[*polishBlock]*blockGram)
	}
	R, m := po.cols, len(rows)
	old := po.grams[b]
	if old != nil && old.version == b.version && slices.Equal(old.rows, rows) {
		return old.g
	}
	pos := make(map[int]int) // a row's index in the old matrix
	if old != nil && old.version == b.version {
		for i, k := range old.rows {
			pos[k] = i
		}
	}
	g := make([]float64, m*m)
	for i, k := range rows {
		oi, hadI := pos[k]
		ri := po.at[k*R+b.off : k*R+b.off+b.r]
		for j := i; j < m; j++ {
			if oj, hadJ := pos[rows[j]]; hadI && hadJ {
				lo, hi := min(oi, oj), max(oi, oj)
				g[i*m+j] = old.g[lo*len(old.rows)+hi]
				continue
			}
			g[i*m+j] = dot(ri, po.at[rows[j]*R+b.off:rows[j]*R+b.off+b.r])
			po.work += float64(2 * b.r)
		}
	}
	po.grams[b] = &blockGram{version: b.version, rows: append([]int(nil), rows...), g: g}
	return g
}
