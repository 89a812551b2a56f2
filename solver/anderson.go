package solver

import (
	"math"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// anderson is type-II Anderson acceleration of a fixed-point iteration w ← T(w)
// (Walker and Ni 2011; for ADMM/Douglas–Rachford, Zhang, O'Donoghue and Boyd 2020):
// with the residuals g = T(w) − w of the last m iterates it extrapolates
//
//	w⁺ = T(wₖ) − (ΔW + ΔG) γ,   γ = argmin ‖gₖ − ΔG γ‖² + r‖γ‖²,
//
// where ΔW, ΔG hold differences of consecutive iterates and residuals.
//
// When the iterate carries linear images L(w) of its state (products a step
// computes anyway, see linearImage), the extrapolation's image follows from the
// images of the steps' outputs: dwⱼ + dgⱼ = T(wⱼ) − T(wⱼ₋₁), so
// L(w⁺) = L(T(wₖ)) − Σⱼ γⱼ (L(T(wⱼ)) − L(T(wⱼ₋₁))), kept in a ring of image differences.
type anderson struct {
	m, dim int
	dw, dg [][]float64 // ring buffers of differences
	dl     [][]float64 // ring buffer of image differences (nil: no images)
	lPrev  []float64   // the image of the last step's output
	count  int         // stored columns
	next   int         // ring position
	wPrev  []float64
	gPrev  []float64
	have   bool
	gram   []float64 // ΔGᵀΔG, m×m
	gamma  []float64
}

// andersonRegularization is the Tikhonov weight r relative to ‖ΔG‖²_F: it keeps the
// least-squares problem solvable when residual differences are nearly dependent.
const andersonRegularization = 1e-10

// newAnderson returns the acceleration of memory m for states of length dim, with
// images of length imgDim (0: none).
func newAnderson(m, dim, imgDim int) *anderson {
	a := &anderson{m: m, dim: dim, wPrev: make([]float64, dim), gPrev: make([]float64, dim),
		gram: make([]float64, m*m), gamma: make([]float64, m)}
	a.dw = make([][]float64, m)
	a.dg = make([][]float64, m)
	for i := range a.dw {
		a.dw[i] = make([]float64, dim)
		a.dg[i] = make([]float64, dim)
	}
	if imgDim > 0 {
		a.lPrev, a.dl = make([]float64, imgDim), make([][]float64, m)
		for i := range a.dl {
			a.dl[i] = make([]float64, imgDim)
		}
	}
	return a
}

func (a *anderson) reset() { a.count, a.next, a.have = 0, 0, false }

// extrapolate takes the current iterate w and its image tw = T(w) and overwrites tw
// with the accelerated point, and l, the linear image L(tw) (nil without images),
// with the accelerated point's. It reports whether it extrapolated (false while the
// memory is empty or the least-squares problem is degenerate).
func (a *anderson) extrapolate(w, tw, l []float64) bool {
	if a.have {
		col := a.next
		dw, dg := a.dw[col], a.dg[col]
		for i := range dw {
			g := tw[i] - w[i]
			dw[i] = w[i] - a.wPrev[i]
			dg[i] = g - a.gPrev[i]
		}
		if l != nil {
			for i, v := range l {
				a.dl[col][i] = v - a.lPrev[i]
			}
		}
		a.next = (a.next + 1) % a.m
		a.count = min(a.count+1, a.m)
		for j := 0; j < a.count; j++ {
			v := vdot(a.dg[col], a.dg[j])
			a.gram[col*a.m+j] = v
			a.gram[j*a.m+col] = v
		}
	}
	copy(a.wPrev, w)
	for i := range tw {
		a.gPrev[i] = tw[i] - w[i]
	}
	copy(a.lPrev, l)
	a.have = true
	k := a.count
	if k == 0 {
		return false
	}
	// Solve (ΔGᵀΔG + rI) γ = ΔGᵀ g.
	h := mat.NewSymDense(k, nil)
	trace := 0.0
	for i := 0; i < k; i++ {
		trace += a.gram[i*a.m+i]
	}
	reg := andersonRegularization * trace
	rhs := mat.NewVecDense(k, nil)
	for i := 0; i < k; i++ {
		for j := i; j < k; j++ {
			h.SetSym(i, j, a.gram[i*a.m+j])
		}
		h.SetSym(i, i, a.gram[i*a.m+i]+reg)
		rhs.SetVec(i, vdot(a.dg[i], a.gPrev))
	}
	var ch mat.Cholesky
	if !ch.Factorize(h) {
		a.reset()
		return false
	}
	var gamma mat.VecDense
	if err := ch.SolveVecTo(&gamma, rhs); err != nil {
		a.reset()
		return false
	}
	for j := 0; j < k; j++ {
		gj := gamma.AtVec(j)
		if math.IsNaN(gj) || math.IsInf(gj, 0) {
			a.reset()
			return false
		}
		vaxpy(-gj, a.dw[j], tw)
		vaxpy(-gj, a.dg[j], tw)
		if l != nil {
			vaxpy(-gj, a.dl[j], l)
		}
	}
	return true
}

// fixedPoint is an iteration w ← T(w) whose state can be written out and restored:
// the ADMM solvers (admm and adv).
type fixedPoint interface {
	pack(w []float64)   // writes the state of the current iterate
	unpack(w []float64) // makes w the current iterate
}

// linearImage is a fixedPoint whose iterate carries linear images L(w) of its state:
// products that a step computes for its output anyway and that unpack would
// otherwise compute again for an extrapolated point (see anderson).
type linearImage interface {
	fixedPoint
	image(l []float64)          // writes L of the current iterate
	unpackImage(w, l []float64) // makes w the current iterate, l being L(w)
}

// safeguard drives the Anderson acceleration of an ADMM solver with the safeguard of
// Zhang, O'Donoghue and Boyd: an extrapolated point must not increase the fixed-point
// residual ‖T(w) − w‖ (which plain relaxed ADMM never does); when it does, the run
// continues from the plain step's output and the memory is cleared. It tracks whether
// the current iterate is an extrapolation or the output of a step, so that a solve
// returns a step's output (whose multipliers its certificate uses).
//
// A method calls before ahead of every step and after once the step has been
// certified (ahead of the next step: the driver certifies a step's output, never an
// extrapolation), and restart when the map changes (ρ) or the iterate is replaced.
type safeguard struct {
	aa           *anderson
	w, tw, plain []float64 // the state a step started from, its image, the last plain image
	ltw, lplain  []float64 // the linear images of tw and plain (nil: none)
	// extrapolated: the current iterate is an extrapolation (set by after, cleared by
	// before); fromExtrapolation: the running step started from one.
	extrapolated, fromExtrapolation bool
	skip                            bool    // restart: no secant pair from the running step
	lastResidual                    float64 // ‖T(w) − w‖ of the step before the extrapolation
	accelerated, rejected           int
}

// newSafeguard returns the safeguarded acceleration of memory m for states of length
// dim and, if imgDim > 0, linear images of that length (the fixed point must then be
// a linearImage).
func newSafeguard(memory, dim, imgDim int) *safeguard {
	g := &safeguard{aa: newAnderson(memory, dim, imgDim), w: make([]float64, dim), tw: make([]float64, dim), plain: make([]float64, dim)}
	if imgDim > 0 {
		g.ltw, g.lplain = make([]float64, imgDim), make([]float64, imgDim)
	}
	return g
}

// before records the state the next step starts from.
func (g *safeguard) before(fp fixedPoint) {
	fp.pack(g.w)
	g.fromExtrapolation, g.extrapolated = g.extrapolated, false
}

// restart forgets the memory after the map changed: the running step's pair (w, T(w))
// belongs to the old map, so it neither extrapolates nor enters the memory.
func (g *safeguard) restart() {
	g.aa.reset()
	g.fromExtrapolation = false
	g.skip = true
}

// after runs after a step: it checks the step against the safeguard, then
// extrapolates from its output.
func (g *safeguard) after(fp fixedPoint) {
	if g.skip {
		g.skip = false
		return
	}
	fp.pack(g.tw)
	li, _ := fp.(linearImage)
	if g.ltw == nil {
		li = nil
	}
	if li != nil {
		li.image(g.ltw)
	}
	res := 0.0
	for i, v := range g.tw {
		r := v - g.w[i]
		res += r * r
	}
	res = math.Sqrt(res)
	if g.fromExtrapolation && res > g.lastResidual {
		g.rejected++
		g.aa.reset()
		if li != nil {
			li.unpackImage(g.plain, g.lplain)
		} else {
			fp.unpack(g.plain)
		}
		return
	}
	copy(g.plain, g.tw)
	copy(g.lplain, g.ltw)
	if g.aa.extrapolate(g.w, g.tw, g.ltw) {
		if li != nil {
			li.unpackImage(g.tw, g.ltw)
		} else {
			fp.unpack(g.tw)
		}
		g.accelerated++
		g.extrapolated = true
		g.lastResidual = res
	}
}

// vdot and vaxpy are dot and axpy through gonum's assembly kernels, for the long
// vectors of the fixed-point state (the plain loops cost a tenth of an iteration).
func vdot(x, y []float64) float64 {
	return blas64.Dot(blas64.Vector{N: len(x), Inc: 1, Data: x}, blas64.Vector{N: len(y), Inc: 1, Data: y})
}

func vaxpy(alpha float64, x, y []float64) {
	blas64.Axpy(alpha, blas64.Vector{N: len(x), Inc: 1, Data: x}, blas64.Vector{N: len(y), Inc: 1, Data: y})
}
