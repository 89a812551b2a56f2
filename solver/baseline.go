package solver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/mat"
)

// The non-convex baselines (*SGD, *Adam, *PGDTraining) train the network of the
// Problem directly by back-propagation, as in the experiments that [BGS] and [PE]
// compare the convex route with. They share this file's machinery:
//
//   - Initialization: uⱼ ~ N(0, (s²/d) I) and αⱼ ~ N(0, s²/m) with s the method's
//     InitScale (default 1), i.e. LeCun's variance 1/fan-in per layer.
//   - Steps descend the objective divided by n, J(θ)/n with
//     J = ℓ(f(X), y) + (β/2) Σⱼ (‖uⱼ‖² + αⱼ²): a batch B contributes the estimate
//     (1/|B|) Σ_{k∈B} ∇ℓₖ + (β/n) θ, unbiased for ∇J/n. Dividing by n (the mean-loss
//     scaling of deep-learning libraries) lets one learning rate suit any n.
//   - Gradients are exact, with the subgradient 0 at every kink: 1[z > 0] for the ReLU
//     at z = 0, and 0 for the hinge loss at yŷ = 1. The gradient of the ReLU network
//     with respect to uⱼ is αⱼ 1[xᵀuⱼ > 0] x and with respect to αⱼ is (xᵀuⱼ)₊.
//   - Batches: each epoch shuffles the points (seeded) and visits them in batches of
//     BatchSize (the last may be smaller); BatchSize 0 or ≥ n is full-batch gradient
//     descent, one step per epoch.
//   - One History row per epoch, evaluated on the whole training set after the epoch;
//     the Result holds the best network over the evaluated iterates (the initial one
//     included), so a cancelled or time-limited run returns the best point so far.
//   - Stopping: after Epochs epochs (Status IterationLimit; Settings.MaxIterations, when
//     set and smaller, caps Epochs), at Settings.TimeLimit (TimeLimit), on ctx
//     cancellation (Canceled), on a non-finite objective (Failure: the step diverged),
//     or, when Settings.Tolerance > 0, once an epoch changes the objective by less
//     than Tolerance relative to its size (Optimal: a stationary point of the
//     non-convex problem, which need not be a global minimum).
//   - Settings.Patterns and Settings.Exact do not apply and are ignored.

// Random streams of the baselines (see the stream constants of the convex methods).
const (
	ncStreamInit  = 0x6e63696e // "ncin": initial weights
	ncStreamBatch = 0x6e636261 // "ncba": batch order and PGD random starts
)

// defaultBaselineEpochs is the epoch count when neither the method nor the settings
// set one: enough for full-batch Adam to settle on the notebooks' small data sets.
const defaultBaselineEpochs = 500

// defaultBaselineNeurons is the width when a method leaves Neurons zero: more than the
// convex solutions of the notebooks' data sets use, so width does not limit SGD.
const defaultBaselineNeurons = 64

// ncConfig holds what the baseline methods share, with defaults filled in.
type ncConfig struct {
	name      string
	neurons   int
	batch     int
	epochs    int
	initScale float64
}

func (c *ncConfig) fill(name string, neurons, batch, epochs int, initScale float64, s *Settings) error {
	c.name = name
	if neurons < 0 || batch < 0 || epochs < 0 {
		return fmt.Errorf("solver: %s Neurons, BatchSize and Epochs must be ≥ 0", name)
	}
	if math.IsNaN(initScale) || math.IsInf(initScale, 0) || initScale < 0 {
		return fmt.Errorf("solver: %s InitScale must be finite and ≥ 0, got %v", name, initScale)
	}
	c.neurons, c.batch, c.epochs, c.initScale = neurons, batch, epochs, initScale
	if c.neurons == 0 {
		c.neurons = defaultBaselineNeurons
	}
	if c.initScale == 0 {
		c.initScale = 1
	}
	if c.epochs == 0 {
		c.epochs = defaultBaselineEpochs
		if s.MaxIterations > 0 {
			c.epochs = s.MaxIterations
		}
	} else if s.MaxIterations > 0 && s.MaxIterations < c.epochs {
		c.epochs = s.MaxIterations
	}
	return nil
}

func checkRate(name, field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Errorf("solver: %s %s must be finite and ≥ 0, got %v", name, field, v)
	}
	return nil
}

// ncParams are the weights as one flat vector θ = (vec(W), α), so that optimizers
// update both layers with one loop; W = Uᵀ (d×m, column j is uⱼ) and Alpha are views
// of theta. Training keeps the first layer transposed because the products XW and
// XᵀG then run on rows of length m, which gonum's kernels do faster than the
// length-d dot products of XUᵀ and GᵀX (measured 1.7× on the breast-cancer sizes).
type ncParams struct {
	theta []float64
	W     *mat.Dense
	Alpha []float64
}

func newNCParams(m, d int) *ncParams {
	theta := make([]float64, m*d+m)
	return &ncParams{theta: theta, W: mat.NewDense(d, m, theta[:m*d]), Alpha: theta[m*d:]}
}

// network returns a Network holding a copy of the weights.
func (p *ncParams) network() *Network {
	return &Network{U: mat.DenseCopyOf(p.W.T()), Alpha: append([]float64(nil), p.Alpha...)}
}

// active counts the active neurons of the weights (see ncActiveNeurons).
func (p *ncParams) active() int {
	d, m := p.W.Dims()
	scales := make([]float64, m)
	for i := 0; i < d; i++ {
		for j, v := range p.W.RawRowView(i) {
			scales[j] += v * v
		}
	}
	largest := 0.0
	for j, a := range p.Alpha {
		scales[j] = math.Abs(a) * math.Sqrt(scales[j])
		largest = math.Max(largest, scales[j])
	}
	return ncCountActive(scales, largest)
}

// predict returns f(xₖ) for every row of X.
func (p *ncParams) predict(X *mat.Dense) []float64 {
	n, _ := X.Dims()
	var Z mat.Dense
	Z.Mul(X, p.W)
	out := make([]float64, n)
	for k := range out {
		s := 0.0
		for j, z := range Z.RawRowView(k) {
			if z > 0 {
				s += z * p.Alpha[j]
			}
		}
		out[k] = s
	}
	return out
}

// ncInit draws the initial weights (see the file comment).
func ncInit(m, d int, scale float64, seed uint64) *ncParams {
	r := rand.New(rand.NewPCG(seed, ncStreamInit))
	p := newNCParams(m, d)
	su, sa := scale/math.Sqrt(float64(d)), scale/math.Sqrt(float64(m))
	for j := 0; j < m; j++ { // U row by row: uⱼ is column j of W
		for i := 0; i < d; i++ {
			p.W.Set(i, j, su*r.NormFloat64())
		}
	}
	for j := range p.Alpha {
		p.Alpha[j] = sa * r.NormFloat64()
	}
	return p
}

// InitialNetwork returns the initial weights that SGD, Adam and PGDTraining draw for
// the given width, input dimension, InitScale (zero means 1) and Settings.Seed, so that
// another implementation (the PyTorch benchmark) or a plot can start from the same
// point.
func InitialNetwork(neurons, inputs int, initScale float64, seed uint64) (*Network, error) {
	if neurons <= 0 || inputs <= 0 {
		return nil, fmt.Errorf("solver: InitialNetwork needs a positive width and input dimension, got %d and %d", neurons, inputs)
	}
	if math.IsNaN(initScale) || math.IsInf(initScale, 0) || initScale < 0 {
		return nil, fmt.Errorf("solver: InitScale must be finite and ≥ 0, got %v", initScale)
	}
	if initScale == 0 {
		initScale = 1
	}
	return ncInit(neurons, inputs, initScale, seed).network(), nil
}

// ncWorkspace holds the buffers of one gradient evaluation so that an epoch
// allocates nothing per batch.
type ncWorkspace struct {
	xb, z []float64
}

func (w *ncWorkspace) dense(buf *[]float64, r, c int) *mat.Dense {
	if cap(*buf) < r*c {
		*buf = make([]float64, r*c)
	}
	return mat.NewDense(r, c, (*buf)[:r*c])
}

// lossGradient sets gW (d×m, the gradient in W = Uᵀ) and gAlpha to scale · Σₖ ∇_θ ℓ(f(xₖ), yₖ) over the rows of Xb
// and returns Σₖ ℓ(f(xₖ), yₖ) and the number of rows with sign(f(xₖ)) = yₖ (f = 0
// counting as +1, as Network.Accuracy). It does not add the regularizer.
func (w *ncWorkspace) lossGradient(p *ncParams, Xb *mat.Dense, y []float64, loss Loss, scale float64, gW *mat.Dense, gAlpha []float64) (total float64, correct int) {
	b, _ := Xb.Dims()
	m := len(p.Alpha)
	Z := w.dense(&w.z, b, m)
	Z.Mul(Xb, p.W)
	for j := range gAlpha {
		gAlpha[j] = 0
	}
	for k := 0; k < b; k++ {
		row := Z.RawRowView(k)
		yhat := 0.0
		for j, z := range row {
			if z > 0 {
				yhat += z * p.Alpha[j]
			}
		}
		total += loss.point(yhat, y[k])
		if (yhat >= 0) == (y[k] > 0) {
			correct++
		}
		g := scale * loss.derivative(yhat, y[k])
		// Row k becomes ∂/∂zₖⱼ = g αⱼ 1[zₖⱼ > 0] after its use in ∂/∂αⱼ.
		for j, z := range row {
			if z > 0 {
				gAlpha[j] += g * z
				row[j] = g * p.Alpha[j]
			} else {
				row[j] = 0
			}
		}
	}
	gW.Mul(Xb.T(), Z)
	return total, correct
}

// gather copies the given rows of X (and y) into the workspace's batch buffer.
func (w *ncWorkspace) gather(X *mat.Dense, rows []int) *mat.Dense {
	_, d := X.Dims()
	Xb := w.dense(&w.xb, len(rows), d)
	for i, r := range rows {
		copy(Xb.RawRowView(i), X.RawRowView(r))
	}
	return Xb
}

// ncRegularizer returns (1/2) Σⱼ (‖uⱼ‖² + αⱼ²) = ‖θ‖²/2.
func ncRegularizer(theta []float64) float64 {
	s := 0.0
	for _, v := range theta {
		s += v * v
	}
	return s / 2
}

// ncEvaluate returns the objective and (for classification) the training accuracy of
// the weights on the whole problem.
func ncEvaluate(p *ncParams, prob *Problem) (objective, accuracy float64) {
	pred := p.predict(prob.X)
	objective = prob.Loss.Value(pred, prob.Y) + prob.Beta*ncRegularizer(p.theta)
	accuracy = math.NaN()
	if prob.Loss.Classification() {
		correct := 0
		for k, f := range pred {
			if (f >= 0) == (prob.Y[k] > 0) {
				correct++
			}
		}
		accuracy = float64(correct) / float64(len(pred))
	}
	return objective, accuracy
}

// ncActiveThreshold: weight decay shrinks an unused neuron geometrically but gradient
// steps never make it exactly zero; a neuron whose output scale |αⱼ|‖uⱼ‖ is below this
// fraction of the largest one changes predictions by less than that relative amount,
// so it is not counted as active.
const ncActiveThreshold = 1e-6

// ncActiveNeurons counts the neurons of net whose output scale |αⱼ|‖uⱼ‖₂ is above
// ncActiveThreshold times the largest.
func ncActiveNeurons(net *Network) int {
	if net == nil || net.U == nil {
		return 0
	}
	scales := make([]float64, len(net.Alpha))
	largest := 0.0
	for j, a := range net.Alpha {
		ss := 0.0
		for _, v := range net.U.RawRowView(j) {
			ss += v * v
		}
		scales[j] = math.Abs(a) * math.Sqrt(ss)
		largest = math.Max(largest, scales[j])
	}
	return ncCountActive(scales, largest)
}

func ncCountActive(scales []float64, largest float64) int {
	count := 0
	for _, s := range scales {
		if s > 0 && s > ncActiveThreshold*largest {
			count++
		}
	}
	return count
}

// ncOptimizer turns a gradient estimate of J/n into a step on θ.
type ncOptimizer interface {
	step(theta, grad []float64)
}

// ncBatchHook, when set, replaces a batch by other points before the gradient is
// taken (PGD adversarial training perturbs it); it may overwrite Xb.
type ncBatchHook func(p *ncParams, Xb *mat.Dense, y []float64, r *rand.Rand)

// ncEvaluator returns the objective and accuracy recorded after each epoch; nil means
// ncEvaluate on the clean problem.
type ncEvaluator func(p *ncParams, prob *Problem) (objective, accuracy float64)

// ncTrain runs the shared training loop on the iteration driver: one epoch per
// iteration, each one's objective the certificate's primal value (the baselines have
// no lower bound), the best network so far kept, and the stop on the relative change
// of the objective when Settings.Tolerance is set.
func ncTrain(ctx context.Context, prob *Problem, s *Settings, cfg ncConfig, opt ncOptimizer, hook ncBatchHook, eval ncEvaluator) (*Result, error) {
	start := time.Now()
	if eval == nil {
		eval = ncEvaluate
	}
	t := newNCRun(prob, s, cfg, opt, hook, eval)
	dr := newDriver(ctx, s, start, cfg.epochs, s.Tolerance, 1, 0)
	t.dr = dr
	// The initial network is a candidate like any epoch's.
	t.obj, t.acc = t.evaluate()
	t.prevObj = t.obj
	dr.offer(t, Certificate{Primal: t.obj, Dual: math.Inf(-1)})
	if err := dr.run(t); err != nil {
		return nil, err
	}
	best := dr.best.Primal
	res := &Result{Method: cfg.name, Status: dr.status, Iterations: dr.iterations, History: dr.history,
		Objective: best, Gap: relGap(best, s.Reference), Network: t.best, ActiveNeurons: ncActiveNeurons(t.best),
		Runtime: time.Since(start)}
	if dr.status == Failure {
		res.Message = fmt.Sprintf("%s: %s: the steps diverged (a smaller learning rate, or data of a smaller scale, would help); the network is the best one before", cfg.name, dr.message)
	}
	return res, nil
}

// ncRun is the state of one training run.
type ncRun struct {
	prob   *Problem
	cfg    ncConfig
	opt    ncOptimizer
	hook   ncBatchHook
	eval   ncEvaluator
	dr     *driver
	p      *ncParams
	r      *rand.Rand
	batch  int
	order  []int
	grad   []float64
	gW     *mat.Dense
	gAlpha []float64
	w      ncWorkspace
	yb     []float64
	// fused: full-batch training without a batch hook evaluates the objective of θₜ
	// in the forward pass that computes the gradient at θₜ (as PyTorch's
	// loss.backward() does), so an epoch costs one forward and one backward pass, not
	// two forwards.
	fused        bool
	obj, acc     float64 // objective and accuracy of the current weights
	prevObj      float64
	best         *Network
	partialEpoch bool // an interrupted epoch moved the weights
}

func newNCRun(prob *Problem, s *Settings, cfg ncConfig, opt ncOptimizer, hook ncBatchHook, eval ncEvaluator) *ncRun {
	n, d := prob.X.Dims()
	m := cfg.neurons
	t := &ncRun{prob: prob, cfg: cfg, opt: opt, hook: hook, eval: eval,
		p: ncInit(m, d, cfg.initScale, s.Seed), r: rand.New(rand.NewPCG(s.Seed, ncStreamBatch)), batch: cfg.batch}
	if t.batch == 0 || t.batch > n {
		t.batch = n
	}
	t.order = make([]int, n)
	for k := range t.order {
		t.order[k] = k
	}
	t.grad = make([]float64, len(t.p.theta))
	t.gW = mat.NewDense(d, m, t.grad[:m*d])
	t.gAlpha = t.grad[m*d:]
	t.yb = make([]float64, t.batch)
	t.fused = t.batch == n && hook == nil
	return t
}

// gradient sets grad to the estimate of ∇J/n on the batch Xb and returns the batch's
// loss and correct count.
func (t *ncRun) gradient(Xb *mat.Dense, ys []float64) (float64, int) {
	n, _ := t.prob.X.Dims()
	reg := t.prob.Beta / float64(n)
	total, correct := t.w.lossGradient(t.p, Xb, ys, t.prob.Loss, 1/float64(len(ys)), t.gW, t.gAlpha)
	for i, v := range t.p.theta {
		t.grad[i] += reg * v
	}
	return total, correct
}

// evaluate returns the objective and accuracy of the current weights: from the
// gradient's forward pass when fused (leaving the gradient in grad), else by eval.
func (t *ncRun) evaluate() (float64, float64) {
	if !t.fused {
		return t.eval(t.p, t.prob)
	}
	n, _ := t.prob.X.Dims()
	total, correct := t.gradient(t.prob.X, t.prob.Y)
	acc := math.NaN()
	if t.prob.Loss.Classification() {
		acc = float64(correct) / float64(n)
	}
	return total + t.prob.Beta*ncRegularizer(t.p.theta), acc
}

// step is one epoch: one full-batch step, or a pass over shuffled mini-batches (the
// driver's interruption checked before each).
func (t *ncRun) step(row *Iteration) error {
	if t.fused {
		t.opt.step(t.p.theta, t.grad)
	} else {
		n, _ := t.prob.X.Dims()
		if t.batch < n {
			t.r.Shuffle(n, func(i, j int) { t.order[i], t.order[j] = t.order[j], t.order[i] })
		}
		for lo := 0; lo < n; lo += t.batch {
			if t.dr.interrupted() != NotTerminated {
				if lo > 0 { // a partial epoch moved the weights: consider them too
					t.obj, t.acc = t.evaluate()
					t.partialEpoch = true
				}
				return errInterrupted
			}
			rows := t.order[lo:min(lo+t.batch, n)]
			Xb := t.w.gather(t.prob.X, rows)
			ys := t.yb[:len(rows)]
			for i, k := range rows {
				ys[i] = t.prob.Y[k]
			}
			if t.hook != nil {
				t.hook(t.p, Xb, ys, t.r)
			}
			t.gradient(Xb, ys)
			t.opt.step(t.p.theta, t.grad)
		}
	}
	t.obj, t.acc = t.evaluate()
	if math.IsNaN(t.obj) || math.IsInf(t.obj, 0) {
		return fmt.Errorf("the objective became %v at epoch %d", t.obj, t.dr.iterations+1)
	}
	row.Objective, row.TrainAccuracy, row.ActiveNeurons = t.obj, t.acc, t.p.active()
	return nil
}

// certify: the objective of the current weights; no lower bound.
func (t *ncRun) certify(row *Iteration) Certificate {
	return Certificate{Primal: t.obj, Dual: math.Inf(-1), Gap: math.Inf(1), DualScale: math.NaN()}
}

// converged: the objective changed by at most the tolerance (relative), when one is set.
func (t *ncRun) converged(c *Certificate, gap, tol float64) bool {
	done := tol > 0 && math.Abs(t.prevObj-c.Primal) <= tol*math.Max(math.Abs(c.Primal), math.SmallestNonzeroFloat64)
	t.prevObj = c.Primal
	return done
}

func (t *ncRun) adapt(c *Certificate) error { return nil }
func (t *ncRun) keep()                      { t.best = t.p.network() }

// restore: the result is the kept network itself; training does not resume from it.
func (t *ncRun) restore() {}

// recover: a diverged training run ends (the learning rate is the user's).
func (t *ncRun) recover() bool { return false }

// SolveSeeds runs method on prob once per seed settings.Seed, settings.Seed+1, …,
// settings.Seed+seeds−1 (the experiment "SGD from many initializations against the
// convex optimum") and returns the results in seed order. On cancellation it returns
// the results so far, the last one with Status Canceled.
func SolveSeeds(ctx context.Context, prob *Problem, settings *Settings, method Method, seeds int) ([]*Result, error) {
	if seeds <= 0 {
		return nil, fmt.Errorf("solver: SolveSeeds needs at least one seed, got %d", seeds)
	}
	if ctx == nil {
		return nil, errors.New("solver: nil context (use context.Background or cell.Context)")
	}
	var s Settings
	if settings != nil {
		s = *settings
	}
	base := s.Seed
	var out []*Result
	for i := 0; i < seeds; i++ {
		s.Seed = base + uint64(i)
		res, err := Solve(ctx, prob, &s, method)
		if err != nil {
			return out, err
		}
		out = append(out, res)
		if res.Status == Canceled || ctx.Err() != nil {
			break
		}
	}
	return out, nil
}
