package solver

import (
	"context"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// program is the convex program of a Problem over a fixed arrangement (MATH.md §3):
//
//	minimize ℓ(Σᵢ DᵢX(vᵢ − wᵢ), y) + β Σᵢ (‖vᵢ‖₂ + ‖wᵢ‖₂)
//	subject to (2Dᵢ − I)Xvᵢ ≥ 0, (2Dᵢ − I)Xwᵢ ≥ 0.
//
// The variables u = (v₁..vₚ, w₁..wₚ) are the rows of a 2P×d matrix; block j < P is vⱼ
// and block P + i is wᵢ, both with pattern i.
type program struct {
	n, d, P int
	// dims is the number of columns of the user's X, for ADMM's scale-aware ρ: d, or
	// more when the program is X's reduction to its row space (see reduce.go).
	dims   int
	x      []float64      // X, n×d row-major, contiguous
	X      blas64.General // view of x
	y      []float64
	loss   Loss
	beta   float64
	tau2   float64   // weight τ² of the consensus constraint u = v in ADMM
	noGram bool      // the ADMM matrix has no GᵀG term
	tbuf   []float64 // scratch of mulXT
	arr    *Arrangement
	mask   []float64 // n×P: mask[k*P+i] = dᵢₖ ∈ {0, 1}
	sign   []float64 // n×P: 2dᵢₖ − 1 ∈ {−1, +1}
	gramXX []float64 // XXᵀ (n×n, full) once computed, see gram
	// stop is polled by the long work of the setup (newLinsys, gram) between blocks
	// of rows; nil never stops (see watch).
	stop func() bool
}

// watch makes the setup's long work poll the interruption of a solve started at
// start under s and ctx (see interruption): it then ends with errInterrupted.
func (pr *program) watch(ctx context.Context, s *Settings, start time.Time) {
	pr.stop = func() bool { return interruption(ctx, s, start) != NotTerminated }
}

// gramMaxPoints bounds the n for which the projections use the Gram matrix XXᵀ:
// n² floats (256 MB at n = 5 792), like the Woodbury route's n×n matrix.
const gramMaxPoints = 5792

// gram returns XXᵀ (n×n, row-major, both triangles), computed on first use, or nil
// when n exceeds gramMaxPoints or pr.stop said stop while it was formed (n²d
// operations, about a second at n = 1 935, d = 785; the projections then work without
// it).
func (pr *program) gram() []float64 {
	if pr.gramXX != nil || pr.n > gramMaxPoints {
		return pr.gramXX
	}
	n := pr.n
	g := make([]float64, n*n)
	gs := blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: g}
	if inRows(n, setupRows, pr.stop, func(i0, i1 int) { syrkRows(gs, pr.X, false, i0, i1) }) != nil {
		return nil
	}
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			g[i*n+j] = g[j*n+i]
		}
	}
	pr.gramXX = g
	return g
}

func newProgram(p *Problem, arr *Arrangement) (*program, error) {
	n, d := p.X.Dims()
	if arr == nil || arr.Len() == 0 {
		return nil, fmt.Errorf("solver: no activation patterns")
	}
	if arr.Points() != n {
		return nil, fmt.Errorf("solver: arrangement has patterns of %d points, X has %d rows", arr.Points(), n)
	}
	if arr.Generators != nil {
		if _, c := arr.Generators.Dims(); c != d {
			return nil, fmt.Errorf("solver: arrangement generators have %d columns, X has %d", c, d)
		}
	}
	P := arr.Len()
	pr := &program{n: n, d: d, dims: d, P: P, y: p.Y, loss: p.Loss, beta: p.Beta, arr: arr,
		x: make([]float64, n*d), mask: make([]float64, n*P), sign: make([]float64, n*P)}
	for k := 0; k < n; k++ {
		for j := 0; j < d; j++ {
			pr.x[k*d+j] = p.X.At(k, j)
		}
	}
	pr.X = blas64.General{Rows: n, Cols: d, Stride: d, Data: pr.x}
	for i := 0; i < P; i++ {
		row := arr.row(i)
		for k := 0; k < n; k++ {
			if row[k>>6]>>(uint(k)&63)&1 == 1 {
				pr.mask[k*P+i] = 1
				pr.sign[k*P+i] = 1
			} else {
				pr.sign[k*P+i] = -1
			}
		}
	}
	pr.tau2 = 1
	return pr, nil
}

// mulXT sets dst (n×rows) = X Aᵀ for A = rows×d.
func (pr *program) mulXT(dst, a []float64, rows int) {
	mulXT(pr.X, dst, a, rows, &pr.tbuf)
}

// mulXT sets dst (n×rows) = X Aᵀ for X n×d and A rows×d. It transposes A into *buf
// first: gonum's NoTrans×NoTrans product (row axpys of length rows) runs 20–50 times
// faster than NoTrans×Trans (dot products of length d) at these shapes (measured on
// n = 2000, d = 20, rows = 100).
func mulXT(X blas64.General, dst, a []float64, rows int, buf *[]float64) {
	d := X.Cols
	if cap(*buf) < rows*d {
		*buf = make([]float64, rows*d)
	}
	at := (*buf)[:rows*d]
	for j := 0; j < rows; j++ {
		for c, v := range a[j*d : (j+1)*d] {
			at[c*rows+j] = v
		}
	}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, X, blas64.General{Rows: d, Cols: rows, Stride: rows, Data: at},
		0, blas64.General{Rows: X.Rows, Cols: rows, Stride: rows, Data: dst})
}

// mulTX sets dst (cols×d) = Tᵀ X for T = n×cols, scaled: dst = alpha Tᵀ X + beta dst.
func (pr *program) mulTX(dst, t []float64, cols int, alpha, beta float64) {
	blas64.Gemm(blas.Trans, blas.NoTrans, alpha, blas64.General{Rows: pr.n, Cols: cols, Stride: cols, Data: t}, pr.X,
		beta, blas64.General{Rows: cols, Cols: pr.d, Stride: pr.d, Data: dst})
}

// evaluation holds what the objectives of a point u (2P×d) need.
type evaluation struct {
	xu      []float64 // X uᵀ, n×2P
	convex  []float64 // Σᵢ DᵢX(vᵢ − wᵢ)
	network []float64 // Σᵢ (Xvᵢ)₊ − (Xwᵢ)₊, the recovered network's predictions
	norms   []float64 // ‖u_j‖ for the 2P blocks
}

func newEvaluation(pr *program) *evaluation {
	return &evaluation{xu: make([]float64, pr.n*2*pr.P), convex: make([]float64, pr.n),
		network: make([]float64, pr.n), norms: make([]float64, 2*pr.P)}
}

// eval fills e for the point u and returns the convex objective, the objective of the
// recovered network, and the cone violation maxⱼ ‖((2Dᵢ − I)Xuⱼ)₋‖∞ relative to the
// largest |Xuⱼ| entry (0 for a feasible point).
func (pr *program) eval(u []float64, e *evaluation) (convex, network, violation float64) {
	pr.mulXT(e.xu, u, 2*pr.P)
	return pr.evalXU(u, e)
}

// evalXU is eval with e.xu = X uᵀ already computed.
func (pr *program) evalXU(u []float64, e *evaluation) (convex, network, violation float64) {
	convex, network = pr.objectivesXU(u, e)
	return convex, network, pr.violationXU(e)
}

// objectivesXU fills e from e.xu = X uᵀ and returns the convex objective and the
// objective of the recovered network.
func (pr *program) objectivesXU(u []float64, e *evaluation) (convex, network float64) {
	n, d, P := pr.n, pr.d, pr.P
	reg := 0.0
	for j := 0; j < 2*P; j++ {
		e.norms[j] = norm2(u[j*d : (j+1)*d])
		reg += e.norms[j]
	}
	for k := 0; k < n; k++ {
		row := e.xu[k*2*P : (k+1)*2*P]
		m := pr.mask[k*P : (k+1)*P]
		c, net := 0.0, 0.0
		for i := 0; i < P; i++ {
			a, b := row[i], row[P+i]
			c += m[i] * (a - b)
			net += max(a, 0) - max(b, 0) // no branch on the signs
		}
		e.convex[k] = c
		e.network[k] = net
	}
	reg *= pr.beta
	return pr.loss.Value(e.convex, pr.y) + reg, pr.loss.Value(e.network, pr.y) + reg
}

// violationXU returns the cone violation maxⱼ ‖((2Dᵢ − I)Xuⱼ)₋‖∞ relative to the
// largest |Xuⱼ| entry, from e.xu = X uᵀ (0 for a feasible point).
func (pr *program) violationXU(e *evaluation) float64 {
	n, P := pr.n, pr.P
	worst, scale := 0.0, 0.0
	for k := 0; k < n; k++ {
		row := e.xu[k*2*P : (k+1)*2*P]
		sg := pr.sign[k*P : (k+1)*P]
		for j, a := range row {
			s := sg[j%P]
			if w := -s * a; w > worst {
				worst = w
			}
			if a > scale {
				scale = a
			} else if -a > scale {
				scale = -a
			}
		}
	}
	if scale > 0 {
		return worst / scale
	}
	return 0
}

// network recovers the two-layer network of a point u (2P×d) (MATH.md §3): each
// nonzero vᵢ gives a neuron vᵢ/√‖vᵢ‖ with output weight +√‖vᵢ‖, each nonzero wᵢ one
// with −√‖wᵢ‖. Then (β/2)(‖u‖² + α²) = β‖vᵢ‖ and (xᵀu)₊α = ±(xᵀvᵢ)₊.
func (pr *program) network(u []float64) *Network {
	d, P := pr.d, pr.P
	var rows []float64
	var alpha []float64
	for j := 0; j < 2*P; j++ {
		b := u[j*d : (j+1)*d]
		nb := norm2(b)
		if nb == 0 {
			continue
		}
		s := math.Sqrt(nb)
		for _, v := range b {
			rows = append(rows, v/s)
		}
		if j < P {
			alpha = append(alpha, s)
		} else {
			alpha = append(alpha, -s)
		}
	}
	net := &Network{Alpha: alpha}
	if len(alpha) > 0 {
		net.U = mat.NewDense(len(alpha), d, rows)
	}
	return net // U is nil for the zero network
}

// trainAccuracy returns the fraction of signs of yhat matching y, NaN when y is not
// a ±1 labelling.
func trainAccuracy(yhat, y []float64) float64 {
	correct := 0
	for k, p := range yhat {
		if y[k] != 1 && y[k] != -1 {
			return math.NaN()
		}
		if (p >= 0) == (y[k] > 0) {
			correct++
		}
	}
	return float64(correct) / float64(len(y))
}
