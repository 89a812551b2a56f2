package solver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"
)

// GatedReLU trains the gated ReLU model of Mishkin, Sahiner and Pilanci (MATH.md §3):
// the convex program without its cone constraints,
//
//	minimize_{uᵢ} ℓ(Σᵢ DᵢX uᵢ, y) + β Σᵢ ‖uᵢ‖₂,
//
// a group lasso with fixed gates hᵢ (the generators of the patterns Dᵢ), solved by
// FISTA (for the hinge loss, which FISTA could only smooth, by ADMM without the cone
// constraints). It is a relaxation of the ReLU program (its optimum is a lower bound, since
// vᵢ − wᵢ ranges over all of ℝᵈ), a model of its own, and a warm start for ADMM.
//
// Result.Gated predicts with the gates; Result.Network is a ReLU network with the same
// predictions on the training points, from the cone decomposition uᵢ = vᵢ − wᵢ with
// wᵢ = t hᵢ, vᵢ = uᵢ + t hᵢ and the least t ≥ 0 putting vᵢ in its cone (hᵢ is interior
// to the cone, so such a t exists); its objective is larger (‖vᵢ‖ + ‖wᵢ‖ ≥ ‖uᵢ‖).
type GatedReLU struct{}

func (m *GatedReLU) String() string { return "gated ReLU" }

const (
	gatedDefaultIterations = 10000
	gatedDefaultTolerance  = 1e-6 // relative duality gap
)

// GatedNetwork is a gated ReLU model g(x) = Σᵢ 1[xᵀhᵢ ≥ 0] xᵀuᵢ.
type GatedNetwork struct {
	H *mat.Dense // P×d gates hᵢ (rows)
	U *mat.Dense // P×d weights uᵢ (rows)
}

// Predict returns g(xₖ) for every row of X.
func (g *GatedNetwork) Predict(X *mat.Dense) ([]float64, error) {
	if g == nil || g.H == nil || g.U == nil {
		return nil, errors.New("solver: gated network has no weights")
	}
	p, d := g.H.Dims()
	if pu, du := g.U.Dims(); pu != p || du != d {
		return nil, fmt.Errorf("solver: gates are %d×%d but weights %d×%d", p, d, pu, du)
	}
	if X == nil || X.IsEmpty() {
		return nil, errors.New("solver: no data")
	}
	n, c := X.Dims()
	if c != d {
		return nil, fmt.Errorf("solver: X has %d columns, the network takes %d inputs", c, d)
	}
	var gate, lin mat.Dense
	gate.Mul(X, g.H.T())
	lin.Mul(X, g.U.T())
	out := make([]float64, n)
	for k := range out {
		gr, lr := gate.RawRowView(k), lin.RawRowView(k)
		s := 0.0
		for i, v := range gr {
			if v >= 0 {
				s += lr[i]
			}
		}
		out[k] = s
	}
	return out, nil
}

// Accuracy returns the fraction of rows whose sign(g(xₖ)) equals yₖ ∈ {−1, +1}.
func (g *GatedNetwork) Accuracy(X *mat.Dense, y []float64) (float64, error) {
	pred, err := g.Predict(X)
	if err != nil {
		return 0, err
	}
	if len(y) != len(pred) {
		return 0, fmt.Errorf("solver: X has %d rows, y has %d", len(pred), len(y))
	}
	a := trainAccuracy(pred, y)
	if math.IsNaN(a) {
		return 0, errors.New("solver: accuracy needs labels in {-1, +1}")
	}
	return a, nil
}

// gatedModel is A u = Σᵢ DᵢX uᵢ over u = (u₁..uₚ) as the rows of a P×d matrix.
type gatedModel struct {
	pr  *program
	buf []float64 // n×P
}

func (g *gatedModel) size() int  { return g.pr.P * g.pr.d }
func (g *gatedModel) group() int { return g.pr.d }

func (g *gatedModel) apply(u, au []float64) {
	pr := g.pr
	pr.mulXT(g.buf, u, pr.P)
	for k := 0; k < pr.n; k++ {
		au[k] = dot(pr.mask[k*pr.P:(k+1)*pr.P], g.buf[k*pr.P:(k+1)*pr.P])
	}
}

func (g *gatedModel) polishBlocks(x []float64) []*polishBlock {
	pr := g.pr
	n, d, P := pr.n, pr.d, pr.P
	blocks := make([]*polishBlock, P)
	for i := range blocks {
		pred := make([]float64, n)
		for k := range pred {
			pred[k] = pr.mask[k*P+i]
		}
		blocks[i] = &polishBlock{base: pr.X, pred: pred, u: x[i*d : (i+1)*d]}
	}
	return blocks
}

func (g *gatedModel) adjoint(r, atr []float64) {
	pr := g.pr
	for k := 0; k < pr.n; k++ {
		row := g.buf[k*pr.P : (k+1)*pr.P]
		for i, m := range pr.mask[k*pr.P : (k+1)*pr.P] {
			row[i] = m * r[k]
		}
	}
	pr.mulTX(atr, g.buf, pr.P, 1, 0)
}

func (m *GatedReLU) solve(ctx context.Context, p *Problem, s *Settings) (*Result, error) {
	start := time.Now()
	arr, err := arrangementFor(p, s, admmDefaultPatterns)
	if err != nil {
		return nil, err
	}
	if arr.Generators == nil {
		return nil, errors.New("solver: GatedReLU needs the gates: an arrangement with generators")
	}
	pr, err := newProgram(p, arr)
	if err != nil {
		return nil, err
	}
	var out *fistaOutcome
	if p.Loss == Hinge {
		// FISTA needs a smooth loss and converges slowly on the smoothed hinge
		// loss; ADMM without the cone constraints handles it exactly (its z-step
		// is the hinge's proximal map), with u = v − w.
		res, err := (&ADMM{}).run(ctx, p, s, pr, start, true, nil)
		if err != nil {
			return nil, err
		}
		u := make([]float64, pr.P*pr.d)
		for i := range u {
			u[i] = res.V.RawMatrix().Data[i] - res.W.RawMatrix().Data[i]
		}
		out = &fistaOutcome{x: u, status: res.Status, message: res.Message, iters: res.Iterations, cert: *res.Certificate, eta: res.Dual, history: res.History}
	} else {
		var err error
		out, err = solveGated(ctx, pr, s, start, true)
		if err != nil {
			return nil, err
		}
	}
	u := out.x
	vw, err := coneDecompose(pr, u)
	if err != nil {
		return nil, err
	}
	net := pr.network(vw)
	objective, err := net.Objective(p.X, p.Y, p.Loss, p.Beta)
	if err != nil {
		return nil, err
	}
	cert := out.cert
	res := &Result{
		Method: m.String(), Status: out.status, Message: out.message, Objective: objective, Gap: cert.Gap,
		Iterations: out.iters, History: out.history, Network: net, ActiveNeurons: net.Neurons(),
		Arrangement: arr, Patterns: pr.P, Certificate: &cert,
		V:     mat.NewDense(pr.P, pr.d, append([]float64(nil), u...)),
		Dual:  append([]float64(nil), out.eta...),
		Gated: &GatedNetwork{H: mat.DenseCopyOf(arr.Generators), U: mat.NewDense(pr.P, pr.d, append([]float64(nil), u...))},
	}
	res.Runtime = time.Since(start)
	return res, nil
}

// solveGated runs FISTA on the gated program of pr.
func solveGated(ctx context.Context, pr *program, s *Settings, start time.Time, record bool) (*fistaOutcome, error) {
	fs := &fistaSettings{loss: pr.loss, y: pr.y, beta: pr.beta, tol: s.Tolerance, maxIter: s.MaxIterations,
		timeLimit: s.TimeLimit, start: start, reference: s.Reference, patterns: pr.P}
	if fs.tol == 0 {
		fs.tol = gatedDefaultTolerance
	}
	if fs.maxIter == 0 {
		fs.maxIter = gatedDefaultIterations
	}
	if record {
		fs.recorder = s.Recorder
	}
	return fista(ctx, &gatedModel{pr: pr, buf: make([]float64, pr.n*pr.P)}, fs, nil), nil
}

// coneDecompose writes each gated block uᵢ as vᵢ − wᵢ with vᵢ, wᵢ in the cone
// Kᵢ = {v : (2Dᵢ − I)Xv ≥ 0}: wᵢ = t hᵢ and vᵢ = uᵢ + t hᵢ with
// t = max(0, maxₖ −gₖᵀuᵢ / gₖᵀhᵢ), gₖ = (2dᵢₖ − 1)xₖ, since gₖᵀhᵢ > 0 for every
// nonzero xₖ (hᵢ generates Dᵢ and lies on no hyperplane). It returns the 2P×d point
// (v₁..vₚ, w₁..wₚ) of the ReLU program with the same predictions Σᵢ DᵢX(vᵢ − wᵢ).
func coneDecompose(pr *program, u []float64) ([]float64, error) {
	n, d, P := pr.n, pr.d, pr.P
	out := make([]float64, 2*P*d)
	h := pr.arr.Generators.RawMatrix()
	xu := make([]float64, n*P)
	xh := make([]float64, n*P)
	pr.mulXT(xu, u, P)
	hc := make([]float64, P*d)
	for i := 0; i < P; i++ {
		copy(hc[i*d:(i+1)*d], h.Data[i*h.Stride:i*h.Stride+d])
	}
	pr.mulXT(xh, hc, P)
	for i := 0; i < P; i++ {
		ub := u[i*d : (i+1)*d]
		if norm2(ub) == 0 {
			continue
		}
		hb := h.Data[i*h.Stride : i*h.Stride+d]
		t := 0.0
		for k := 0; k < n; k++ {
			sg := pr.sign[k*P+i]
			gu, gh := sg*xu[k*P+i], sg*xh[k*P+i]
			if gu >= 0 {
				continue
			}
			if gh <= 0 {
				return nil, fmt.Errorf("solver: gate %d does not generate its pattern at point %d (gᵀh = %g)", i, k, gh)
			}
			t = math.Max(t, -gu/gh)
		}
		vb := out[i*d : (i+1)*d]
		wb := out[(P+i)*d : (P+i+1)*d]
		for c := 0; c < d; c++ {
			vb[c] = ub[c] + t*hb[c]
			wb[c] = t * hb[c]
		}
	}
	return out, nil
}
