// Package solver trains two-layer ReLU networks to global optimality through their
// convex reformulation over hyperplane arrangements (Pilanci and Ergen 2020), with the
// ADMM and sampled-convex-program algorithms of Bai, Gautam and Sojoudi (2023), the
// gated ReLU relaxation, convex adversarial training, and the non-convex baselines
// they are compared with. Everything runs compiled on gonum; the notebooks call it
// through the kernel.
//
// # The problem
//
// Data X ∈ ℝⁿˣᵈ (rows xₖ; a bias is a column of ones), targets y. A network with m
// neurons is f(x) = Σⱼ (xᵀuⱼ)₊ αⱼ, trained with weight decay:
//
//	minimize_{u,α}  ℓ(f(X), y) + (β/2) Σⱼ (‖uⱼ‖₂² + αⱼ²)
//
// for the Squared loss ½‖ŷ − y‖², the Hinge loss Σ(1 − yₖŷₖ)₊ or the Logistic loss
// Σ log(1 + exp(−yₖŷₖ)). A Problem holds X, y, the Loss and β.
//
// # Hyperplane arrangements
//
// A direction u activates the points D(u) = diag(1[Xu ≥ 0]). Only finitely many
// patterns D₁…D_P occur, at most 2r(e(n−1)/r)^r for rank(X) = r (ArrangementBound),
// and exactly 2 Σ_{i<r} C(n−1, i) for points in general position
// (GeneralPositionCount). SampleArrangement draws Gaussian directions and keeps the
// distinct patterns (stored as bitsets); PatternCurve is its count as sampling goes
// on; EnumerateArrangement finds all of them for low-rank data by visiting the
// vertices of the arrangement on the sphere.
//
// # The convex program
//
// With patterns D₁…D_P the training problem becomes (Pilanci and Ergen, Theorem 1)
//
//	minimize_{vᵢ,wᵢ ∈ ℝᵈ}  ℓ(Σᵢ DᵢX(vᵢ − wᵢ), y) + β Σᵢ (‖vᵢ‖₂ + ‖wᵢ‖₂)
//	subject to             (2Dᵢ − I)Xvᵢ ≥ 0,  (2Dᵢ − I)Xwᵢ ≥ 0,
//
// whose optimum equals the non-convex optimum when all patterns are used and the
// network is wide enough, and bounds it from above with sampled patterns. Every nonzero
// vᵢ gives a neuron vᵢ/√‖vᵢ‖ with output weight √‖vᵢ‖ (−√‖wᵢ‖ for wᵢ); on the
// training points that network's weight-decay objective equals the convex objective
// (Result.Network; the tests check the identity). Predictions on new points always go
// through the network.
//
// # Methods
//
// Solve(ctx, problem, settings, method) runs a Method; Settings choose the patterns
// (Patterns sampled directions, Exact enumeration, or an explicit Arrangement), the
// Seed (same seed, same bits), limits, the Tolerance, the Threads of the per-block
// work and a Recorder that sees every Iteration (for live plots). Cancelling ctx
// returns promptly with Status Canceled and the best point found.
//
// # The default route
//
// Solve with a nil method runs Auto, which picks the route by the program's size and
// loss, and says which it took and why in Result.Route:
//
//   - InteriorPoint at β > 0 when its estimated work fits the loss's budget: about
//     50 Newton steps whatever β, each solving the dP×dP Newton system densely
//     ((dP)³/3 + n(dP)²) or, when there are fewer points than dP, through an n×n
//     matrix (Woodbury's identity: Σᵢ nᵢ²d + n³/3), whichever is cheaper.
//   - ADMM otherwise: β = 0 and every larger program.
//
// Why (figures in Auto's documentation): at small β ADMM needs thousands of
// iterations, and on the hinge loss it did not certify within 30 s from 600 weights
// on; the interior point certifies in 20–50 steps. With the n×n route it certifies
// breast cancer and digits (4 000–8 200 weights, n ≈ 350–570) at every β of issue
// 11's profile in 5–33 s on one thread, where ADMM left the small β's uncertified.
// At an easy β ADMM is faster (squared, 3 000 weights, β = 0.02n: 0.72 s against
// 4.1 s), but the route bounds the worst time over β. The logistic loss stays with
// ADMM except on the smallest programs and breast cancer's, and MNIST (12 928
// weights, n = 1 935) with ADMM, where 50 Newton steps would take minutes.
//
// Path(ctx, problem, betas, settings, method) solves a regularization path, in
// decreasing β, each solve of ADMM (or of Auto routing to it) starting from the
// previous solution with the multipliers of an ADMM fixed point for its dual
// candidate scaled by β/β_prev (feasible for the new β; below some β the hinge
// program's solution does not change and such a solve is certified at its first
// check).
//
// # One iteration driver
//
// Every iterative method (ADMM, Adversarial, FISTA for GatedReLU and SCP, the
// non-convex baselines) runs on one loop (driver.go): it checks cancellation and the
// time limit, certifies every few iterations, keeps the point with the least
// certified objective and the largest lower bound seen (every dual bound holds for
// the whole run, so the certified gap is (best objective − best bound)/|best
// objective| and never grows), stops when the method's test on it passes, records
// the history, and recovers from a breakdown. A solve never returns a point its own
// history beats. Every adaptive parameter is bounded: ADMM's and Adversarial's ρ
// stays within 1e±4 of its default (balancing once drove it to 2e-15 and returned the
// zero network), an iterate whose objective exceeds 1e6 times the zero network's (or
// the best's) has diverged, and after a breakdown the run continues from the best
// point with ρ frozen at the value that reached it; FISTA's L is floored at 1e-12 of
// its initial estimate.
//
// Long work inside an iteration polls the time limit and the context too: every step
// of the outer loop of ADMM's cone projections (v-step and certificate), every basis
// and Newton step of polishing, every doubling of FISTA's line search. A stopped
// v-step returns to the point it started from; a stopped certificate bounds the
// blocks it did not project by their warm-started bounds (any multipliers ζ ≥ 0 give
// one), so it stays valid, only looser; no ρ is adapted once the run is to stop. A
// solve then ends within about one u-step, one projection step and one such
// certificate (a product with X) after its limit. Measured on MNIST 2 vs 8 at 28×28
// (d = 785, 100 480 weights), ADMM, squared, hinge and logistic loss at β = 1e-3 and
// 1, TimeLimit 10 s and 30 s, load average 2.5–4.5: Solve returned 0.08–0.42 s after
// the limit, where it had returned up to 30 s after it (14–40 s for 10 s, 30–63 s for
// 30 s: the first certificate's projections alone took 46 s).
//
// # ADMM
//
// ADMM splits u = (v₁..v_P, w₁..w_P) from a copy and alternates
//
//	u ← (I + (1/ρ)FᵀF)⁻¹ (v − λ + (1/ρ)Fᵀy)            (squared loss)
//	vⱼ ← (1 − (β/ρ)/‖Π_{Kⱼ}(aⱼ)‖)₊ Π_{Kⱼ}(aⱼ),  aⱼ = ûⱼ + λⱼ
//	λ ← λ + û − v,   û = αu + (1 − α)v                  (over-relaxation α = 1.6)
//
// with F = [D₁X … D_PX −D₁X … −D_PX] and Kⱼ = {v : (2Dᵢ − I)Xv ≥ 0}. The v-step is
// the exact proximal map of β‖·‖₂ + 𝟙_K: the group soft threshold of the projection
// onto the polyhedral cone, computed by Lawson–Hanson non-negative least squares
// warm-started from the previous active rows, and cut short when its iterate (whose
// norm bounds the projection's from above) falls within the threshold β/ρ, or its
// argument already does: the block is zero then, whatever the exact projection (on
// MNIST 2 vs 8 at 10×10, squared, β = 0.02n, where 2 of the 128 blocks end nonzero,
// the solve took 4.9 s instead of 8.4 s for the same 170 iterations, one thread).
// The u-step matrix never changes (while
// ρ does not): because FᵀF = [K −K; −K K], only the dP×dP matrix I + (2/ρ)K needs a
// factorization, done directly by Cholesky or, when n is smaller, through Woodbury's
// identity with the n×n matrix S = (ρ/2)I + (XXᵀ) ∘ C, C = Σᵢ dᵢdᵢᵀ (co-activation
// counts), whichever the cost model (routeCosts) prefers; Result.Factorization says
// which. One iteration costs O(ndP) plus O((dP)²) or O(n²): quadratic, against the
// cubic iterations of an interior-point method. The hinge and logistic losses add the
// split z = Fu with the elementwise proximal map of ℓ (closed form for the hinge loss,
// safeguarded Newton for the logistic one), which keeps the matrix independent of ρ.
//
// ADMM{Slack: true} is Bai, Gautam and Sojoudi's Algorithm 3.1 as MATH.md states it:
// slack variables s = Gu ≥ 0 for the cone constraints, so the v- and s-steps are a
// plain group soft threshold and an orthant projection and the u-step matrix gains
// I ⊗ XᵀX. It needs no inner solver but 3–10 times more iterations on the golden
// instances, and on the d = 20 benchmark instances it did not reach 1e-4 within 5000
// iterations for any ρ tried (bench/solver): the reason the default form keeps the
// cones in the v-step.
//
// ρ matters. Its default is scale-aware: a per-loss factor (admmDefaults) times the
// balance point tr(FᵀF)/tr(I ⊗ B) of the loss and constraint terms of the u-step.
// Residual balancing (Boyd et al. §3.4.1, normalized as in OSQP) moves ρ when the
// primal and dual residuals drift apart by more than a factor 5, in either direction
// (for the hinge loss not below the default, where it converged far more slowly;
// that default is scaled to β when β < 1e-4 β_max, β_max the least β at which the
// zero network is optimal, since below some β the hinge program's solution is the
// same whatever β and only its multipliers scale with β: on MNIST 2 vs 8 at 10×10,
// β = 1e-3, ρ = 0.0096 instead of 1.08 left a certified gap of 0.15 instead of 0.95
// after 30 s on one thread, at β = 1e-2 0.13 instead of 0.88, at β = 1e-4 0.71
// instead of 0.96; the optimum at 1e-3, 0.112781, by InteriorPoint in 666 s),
// refactoring the matrix for the squared loss. The fixed-point iteration is Anderson-accelerated
// (type II, memory 20) with a safeguard that falls back to the plain step whenever an
// extrapolation increases the fixed-point residual.
//
// ADMM stops when the certified relative gap is below Settings.Tolerance (its
// iterates are feasible: the v-step projects onto the cones). The certificate
// (Result.Certificate) is the dual of the program,
//
//	maximize −ℓ*(η)   subject to   ‖Π_{Kⱼ}(−Fⱼᵀη)‖₂ ≤ β for every block j,
//
// at a candidate η scaled to the best feasible multiple (at most 1/t,
// t = max(1, maxⱼ ‖Π_{Kⱼ}(−Fⱼᵀη)‖/β)): the multiplier of the split Fu = z for the
// hinge and logistic losses; for the squared loss the better of Fu − y at the
// u-iterate and Ca − y, the point's blocks rescaled by the magnitudes a ≥ 0 best for
// the loss with their directions fixed (an S-unknown nonnegative least squares: it
// meets the radial part of every active block's constraint exactly, so η violates
// them only to second order, where ŷ − y does to first), and then the best
// nonnegative combination of these two and ŷ − y (each constraint is sublinear in η,
// so the candidates' own constraint values bound the combination's, no projection
// needed). The refit pays only once the iterates' directions have settled, and is
// paused (up to 16 checks) while it loses to Fu − y. On MNIST 2 vs 8 at 10×10
// (squared, β = 1e-3, one thread) it certified 2e-5 after 3 591 iterations in
// 100 s without the pause, 7.1e-4 after 3 440 with it (a run that spent 22 s in a
// polishing attempt), where main's certificate had 1.5e-3 at 3 200 and a run
// reached 6.5e-3 after 2 853 (with a 30 s polishing check); after 30 s (about
// 1 000 iterations, before the refit pays) its gaps were 0.41 and 0.57 at β = 1e-3
// and 1e-4 against main's 0.34 and 0.50, 0.0058 at 1e-2 against 0.033. On the
// n = 250, β = 1e-3 benchmark
// instance without polishing 1e-6 after 3 000–3 700 iterations, where ŷ − y and
// Fu − y alone left 1.2e-6 after 6 000; on golden/small_beta's
// relu_squared_n40_d6_P16 at β = 1e-3 1e-9 after 1 230 iterations instead of
// 2.6e-8 after 3 000. The projections are computed
// exactly, and only for the blocks whose warm-started upper bound could decide the
// maximum (at most 16). The slack form stops on its own point's gap and a small
// primal residual, as its iterates are feasible only in the limit.
//
// # Polishing: small β
//
// At small β the program is nearly the group basis pursuit min Σⱼ‖uⱼ‖ subject to
// interpolation (squared loss) or margins (hinge): η* is of order β, and a dual point
// good to a relative ε needs the predictions to about εβ/‖F‖, far beyond the accuracy
// first-order iterates reach in reasonable time. The certificate lagged the iterates
// 3.5–4.7× on the benchmark at β = 1e-3, and a 48-weight hinge program needed 200 000
// iterations. Polishing (polish.go) is an active-set Newton method on the program
// restricted to the structure the iterates have found: the nonzero blocks, their
// tight cone rows (each block in the null space of its tight rows) and, for the hinge
// loss, the points on the margin (equality constraints, with their multipliers as η).
// It moves rows, margin points and blocks in and out by the ratio test and the signs
// of the multipliers, enters the blocks the dual candidate violates, and its systems
// are solved densely or, when cheaper, in one unknown per row and per block
// (reducedStep). At the right structure its dual candidate is exact and the gap
// closes to rounding. ADMM and FISTA try it at a check when their gap has stalled
// (fallen less than tenfold over three checks) and their objective has settled
// (within 1e-2), ADMM in trials of at most 32 Newton steps and 1/16 of its
// iterations' work (at least 1e8 operations), both doubled after each attempt that
// fails (attempts at the right structure take 3–4 steps), the work up to 1/4 of the
// iterations' (bases, steps and the polished point's certificate all told: about
// half their time, as the dense steps run at half ADMM's rate; doubling up to the
// half let one check on MNIST 2 vs 8, squared, β = 1e-3, take 32.8 s of a 120 s
// solve), an attempt without room for 4 Newton steps not starting, and never more
// than its
// iterations would need to reach the tolerance at their recent rate (on the
// `bench/solver -polish` programs this cut the cost of polishing where it does not
// help, up to 1.62× of ADMM's time without it, to at most 1.2× on the solves of a
// second or more; bench/solver/RESULTS.md, run 8), ADMM spending at most half the
// work its iterations did in all its attempts together, FISTA as much in each attempt,
// and both waiting, after an attempt that is not adopted, until the iterations' work
// has doubled; a basis or a Newton step is taken only when its operations fit in that
// budget and, under a TimeLimit, in the time left at the rate the work has run so far
// (one step of the restricted MNIST program, 1 935 rows, took 11 CPU seconds and
// overran a 40 s limit by 19 s). A polished point that beats the record becomes the
// iterate, with the multipliers of a fixed point there. Measured (testdata/cases,
// testdata/golden/small_beta): the 48-weight hinge program at β = 1e-3 is certified
// to 1e-6 after 240 iterations (10 000 ended 5 % off), the logistic one that
// balancing used to ruin after 3 740, 23 of the 24
// small-β golden programs (β = 1e-4, 1e-3) to 1e-6 in 40–5 000 iterations (the
// gated hinge program at β = 1e-4 is not). On larger programs the structure takes
// longer to settle and an attempt costs more: on the benchmark at n = 250, β = 1e-3 it
// cut the iterations from 3 410 to 2 380 but not the time, and on MNIST 2 vs 8 (2Pd =
// 12 928, about 5 000 tight rows) it did not converge.
//
// Other candidates measured for small β: continuation (Path) gives a whole path of
// 5–12 β's at the cost of about one cold solve at the smallest (bench instance,
// n = 100), not a faster single solve; a default ρ scaled down 3–100× (the duals
// scale with β) took 2 390–4 760 iterations without polishing on the n = 250
// benchmark at β = 1e-3 against 3 740 at the default, balancing ending at
// ρ ≈ 0.04–0.14 from any of them, so the default stays; the cone projections
// read Xa and the Gram matrix XXᵀ instead of a product per Lawson–Hanson step, and the
// certificate projects only the blocks that decide it: an MNIST hinge iteration's CPU
// time halved (15.1 → 7.8 s per 100). At d = 785 (MNIST 28×28) the certificate's
// projections read the Gram matrix too and take at most 64 outer steps from their warm
// start (a cut projection still bounds its dual constraint), and a projection forms v
// only at its end: 1.9 iterations per CPU second instead of 0.18 (squared, β = 1,
// certificates included; bench/solver/RESULTS.md, run 8).
//
// GatedReLU solves the program without its cone constraints (Mishkin, Sahiner and
// Pilanci's gated ReLU model, a group lasso with fixed gates) by FISTA with backtracking
// and gradient restarts; it is cheap, a lower bound, and ADMM's optional warm start.
//
// SCP samples N unit directions hₕ, fixes the first layer and solves
// minimize_α ℓ(Σₕ (Xhₕ)₊αₕ, y) + β‖α‖₁ by the same FISTA (for the hinge loss with
// Huber smoothing and continuation μ → 0), with its own duality-gap certificate.
//
// # How many patterns are enough
//
// CheckViolations draws M fresh patterns after a solve and counts those whose block
// would lower the objective, ‖Π_{K_D}(∓XᵀDη)‖ > β, computed exactly; ScenarioLevel
// and ScenarioPatterns state the scenario bound of MATH.md §6 beside it.
//
// InteriorPoint is a primal-dual interior-point method (Mehrotra predictor–corrector
// with Nesterov–Todd scaling, as cvxopt's coneqp) on the conic form of the program,
// for every loss: one dense dP×dP Cholesky factorization per iteration, or one of an
// n×n matrix when n < dP (Woodbury's identity, refined by conjugate gradients), 12–50
// iterations to a certified 1e-6–1e-8 whatever β, with the same dual certificate as
// ADMM's. It is Auto's route for programs whose Newton steps are cheap and the
// baseline bench/solver times.
//
// # Deviations from MATH.md
//
// The default ADMM projects onto each cone in the v-step instead of splitting the
// cone constraints off with slacks (kept as ADMM.Slack): several times fewer
// iterations at a comparable cost per iteration. The u-step system is reduced to the
// dP×dP matrix of v − w (our derivation, above). The hinge loss is smoothed inside
// FISTA (GatedReLU, SCP), which needs a differentiable loss; the reported objectives
// and certificates are those of the exact hinge loss.
//
// # Tolerances and constants
//
//   - Settings.Tolerance: 1e-6 by default (the certified relative duality gap), below
//     the accuracy a trained network's objective is ever compared at.
//   - rhoRange = 1e4: ρ stays within 1e±4 of its default; the best fixed ρ of every
//     test and benchmark instance lies within 1e±3.
//   - rhoBetaScale = 1e4: the hinge loss's default ρ is scaled by min(1, 1e4 β/β_max)
//     (scaleRhoToBeta): ρ/β constant at small β, where its solution no longer
//     depends on β.
//   - divergenceFactor = 1e6: an objective a million times the zero network's is no
//     progress.
//   - driverFeasibility = 1e-6: the cone projections leave violations of order 1e-7 on
//     nearly degenerate blocks; such a point still counts as feasible.
//   - certExact = 16: the exact projections of one certificate (see above).
//   - polishStall = 3, polishSettled = 1e-2, admmPolishShare = 0.5: when to polish and
//     how much (see above).
//   - Loss.interiorBudget = 1e11 / 3e11 / 3.5e10 estimated operations of an
//     InteriorPoint solve for the squared / hinge / logistic loss (see Auto).
//   - fistaLFloor = 1e-12: 0.9ᵏ would underflow to a zero L after 7 000 iterations
//     along a direction without curvature.
//   - admmCheckEvery = 10: the certificate costs one extra product, so it is computed
//     every tenth iteration.
//   - defaultRelaxation = 1.6: in the range 1.5–1.8 that Boyd et al. recommend.
//   - rhoChangeFactor = 5, maxRefactorizations = 20: as OSQP, refactor only for a
//     large imbalance, and bound the refactoring work.
//   - andersonDefaultMemory = 20: twice the usual upper end for ADMM; 10–25 % fewer
//     iterations than 10 on the tests' and benchmarks' instances, for a few dot
//     products of the state per iteration.
//   - coneTolerance = 1e-12 (relative to ‖a‖·maxₖ‖xₖ‖): above the rounding of a d-term
//     product, so the projection neither misses violated rows nor chases rounding.
//   - violationSlack = 1e-2: patterns of the program itself sit at ratio 1 up to about
//     the square root of the certified gap.
//   - enumOnPlane = 1e-10: a unit row through a unit vertex up to rounding.
//   - hingeSmoothMin = 1e-9: the Huber smoothing error nμ/2 is then far below any
//     tolerance allowed.
//
// # References
//
//   - Y. Bai, T. Gautam, S. Sojoudi, "Efficient Global Optimization of Two-Layer ReLU
//     Networks: Quadratic-Time Algorithms and Adversarial Training", SIAM J. Math.
//     Data Sci. 5(2), 2023.
//   - M. Pilanci, T. Ergen, "Neural Networks are Convex Regularizers", ICML 2020.
//   - A. Mishkin, A. Sahiner, M. Pilanci, "Fast Convex Optimization for Two-Layer
//     ReLU Networks", ICML 2022.
//   - G. Calafiore, M. Campi, "The scenario approach to robust control design", IEEE
//     TAC 2006.
//   - S. Boyd, N. Parikh, E. Chu, B. Peleato, J. Eckstein, "Distributed Optimization
//     and Statistical Learning via the ADMM", Found. Trends Mach. Learn. 2011.
//   - B. Stellato et al., "OSQP: an operator splitting solver for quadratic programs",
//     Math. Prog. Comp. 2020 (residual balancing).
//   - J. Zhang, B. O'Donoghue, S. Boyd, "Globally convergent type-I Anderson
//     acceleration for nonsmooth fixed-point iterations", SIAM J. Optim. 2020.
//   - A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm", SIAM
//     J. Imaging Sci. 2009; B. O'Donoghue, E. Candès, "Adaptive restart for
//     accelerated gradient schemes", Found. Comput. Math. 2015.
//   - C. Lawson, R. Hanson, Solving Least Squares Problems, 1974 (NNLS).
//   - T. Cover, "Geometrical and statistical properties of systems of linear
//     inequalities", IEEE Trans. Electron. Comput. 1965.
package solver
