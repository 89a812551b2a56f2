package solver

import (
	"context"
	"fmt"
)

// Auto is the default Method (Solve with a nil method): it picks the route by the
// estimated work of an interior-point solve, and Result.Route says which it took
// and why.
//
//   - InteriorPoint when β > 0 and its estimated work (ipmEstimate: 50 Newton steps
//     on the cheaper route of the Newton system, the dense dP×dP one, about
//     (dP)³/3 + n(dP)² per step, or the n×n one of Woodbury's identity, about
//     2Σᵢ nᵢ²d + n³/3, plus for the hinge loss on the n×n route 4 dense steps for the
//     iterations after its solves lose accuracy; the dense route whenever its step is
//     estimated at ≤ 3e7 operations, where both are cheap: see InteriorPoint) is at
//     most Loss.interiorBudget:
//     1e11 operations for the squared loss, 3e11 for the hinge loss, 3.5e10 for the
//     logistic loss. It needs 20–50 Newton steps whatever β and certifies to 1e-8
//     where a first-order method may need many thousands of iterations (small β).
//   - ADMM otherwise: its iterations cost O(ndP), and polishing finishes the solve
//     once its iterates have found the structure of the solution.
//
// β is the user's and often small, so the route bounds the worst time over β rather
// than the best. The budgets are measured. Issue 11's profile (bench/profile: one
// thread, 30 s per solve, certified 1e-6, load 2.8–5.7): on breast cancer (n = 569,
// 2Pd = 3 968; estimates 3.3e10 / 5.4e10 / 3.3e10 for the three losses) InteriorPoint
// on the n×n route certified all 18 problems, squared in 7.8–18 s, hinge in 8–25 s,
// logistic in 5–18 s, where ADMM had left the squared loss at β ≤ 1e-3, the hinge
// loss at β ≤ 1e-2 and the logistic loss at β = 1e-4 uncertified; on digits 3 vs 8 and
// 4 vs 9 (n ≈ 350, 2Pd = 7 540–8 190; squared 3.7–4.4e10, hinge 1.3–1.6e11) it
// certified all 24 squared and hinge problems (squared 6.9–16 s; hinge 5.8–33 s, the
// 1e-6 solves at β ≤ 1e-1 spending 20–34 s because their last steps are dense),
// where ADMM had left the hinge loss at β ≤ 1e-2 and the squared loss at β = 1e-4
// uncertified. Their logistic loss (3.7–4.4e10) stays with ADMM, which certified it
// at every β within 7.6 s. MNIST 2 vs 8 at 10×10 (n = 1 935, 2Pd = 12 928:
// 1.4e12–2.1e12) stays with ADMM: 50 n×n steps of about 28e9 operations would take
// minutes. bench/solver -route (the benchmark's instances with n < dP at
// 2Pd = 2 000 / 3 000 / 5 000, both methods to 1e-6 within 30 s, 2 threads, load
// 3.5–8): squared at β = 1e-3 InteriorPoint took 1.9 / 5.9 / 18 s against ADMM's
// 3.9 / 30 s / uncertified (gap 0.17), at β = 0.02n it lost (1.2 / 4.1 / 12 s against
// 0.29 / 0.72 / 3.6 s); hinge at β = 1e-3 2.4 / 17 s where ADMM did not certify
// within 30 s (dense InteriorPoint had taken 6.8 s and not certified at 3 000), at
// β = 0.02n 1.9 / 13 / 22 s against ADMM's 2.8 / 23 s / uncertified; logistic: both
// certified every instance, ADMM 1.4–3.2× sooner (β = 1e-3: 1.7 / 5.7 / 10 s against
// 2.4 / 12 / 21 s). So the logistic budget admits breast cancer's programs, where
// ADMM's worst case was uncertified, and not digits', where ADMM's worst was 7.6 s;
// it is the least certain of the three.
type Auto struct{}

func (m *Auto) String() string { return "auto" }

// route returns the method Auto takes for p with patterns arr, and the reason.
func (m *Auto) route(p *Problem, arr *Arrangement) (Method, string) {
	n, d := p.X.Dims()
	weights := 2 * arr.Len() * d
	if !(p.Beta > 0) {
		return &ADMM{}, "ADMM: β = 0 (InteriorPoint needs β > 0)"
	}
	route, work := ipmEstimate(n, d, arr.Len(), p.Loss, activeCounts(arr))
	budget := p.Loss.interiorBudget()
	if work > budget {
		return &ADMM{}, fmt.Sprintf("ADMM: 2Pd = %d weights, InteriorPoint's estimated %.2g operations (%s) above %.2g for the %v loss", weights, work, route, budget, p.Loss)
	}
	return &InteriorPoint{Factorization: route}, fmt.Sprintf("interior point (%s): 2Pd = %d weights, estimated %.2g operations, at most %.2g for the %v loss", route, weights, work, budget, p.Loss)
}

func (m *Auto) solve(ctx context.Context, p *Problem, s *Settings) (*Result, error) {
	return m.solveFrom(ctx, p, s, nil)
}

// solveFrom samples the patterns (so that the route and the chosen method see the
// same program), picks the route and solves, from prev when the chosen method can
// start from a solution (see Path).
func (m *Auto) solveFrom(ctx context.Context, p *Problem, s *Settings, prev *Result) (*Result, error) {
	arr, err := arrangementFor(p, s, admmDefaultPatterns)
	if err != nil {
		return nil, err
	}
	s2 := *s
	s2.Arrangement = arr
	method, why := m.route(p, arr)
	var res *Result
	if w, ok := method.(warmStarter); ok && prev != nil {
		res, err = w.solveFrom(ctx, p, &s2, prev)
	} else {
		res, err = method.solve(ctx, p, &s2)
	}
	if err != nil {
		return nil, err
	}
	res.Route = why
	return res, nil
}
