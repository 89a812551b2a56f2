package solver

import (
	"context"
	"fmt"
)

// Auto is the default Method (Solve with a nil method): it picks the route by the
// program's size and loss, and Result.Route says which it took and why.
//
//   - InteriorPoint, when the loss is one it solves (the squared loss), β > 0 and the
//     program is small: 2Pd ≤ autoInteriorMax weights. Its Newton steps cost (2Pd)³,
//     and it needs a hundred of them whatever β; it certifies to 1e-8 where a
//     first-order method may need many iterations (small β).
//   - ADMM otherwise: its iterations cost O(ndP), and polishing finishes the solve
//     once its iterates have found the structure of the solution.
//
// The threshold is measured (go run ./bench/solver -route, squared loss, certified
// 1e-6, two runs at load averages 5–11): InteriorPoint's Newton steps do not care
// about β, ADMM's iterations do. At 2Pd = 200 InteriorPoint took 0.15–0.86 s against
// ADMM's 0.29–1.7 s at β = 1e-3 but 0.20–0.62 s against 0.014–0.09 s at β = 0.02n; at
// 2Pd = 600 2.3–2.8 s against 3.3–9.4 s at β = 1e-3 but 1.5–1.7 s against
// 0.04–0.23 s at β = 0.02n; at 2Pd = 2000 it had not converged after a minute. 400
// weights keeps the programs where InteriorPoint's loss at a large β is a fraction of
// a second.
type Auto struct{}

func (m *Auto) String() string { return "auto" }

// autoInteriorMax is the largest 2Pd that Auto gives InteriorPoint (see Auto).
const autoInteriorMax = 400

// route returns the method Auto takes for p with patterns arr, and the reason.
func (m *Auto) route(p *Problem, arr *Arrangement) (Method, string) {
	_, d := p.X.Dims()
	weights := 2 * arr.Len() * d
	switch {
	case p.Loss != Squared:
		return &ADMM{}, fmt.Sprintf("ADMM: InteriorPoint does not solve the %v loss", p.Loss)
	case !(p.Beta > 0):
		return &ADMM{}, "ADMM: β = 0 (InteriorPoint needs β > 0)"
	case weights > autoInteriorMax:
		return &ADMM{}, fmt.Sprintf("ADMM: 2Pd = %d weights, above %d for InteriorPoint", weights, autoInteriorMax)
	}
	return &InteriorPoint{}, fmt.Sprintf("interior point: 2Pd = %d weights, at most %d", weights, autoInteriorMax)
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
