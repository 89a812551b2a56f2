package solver

import (
	"context"
	"fmt"
)

// Auto is the default Method (Solve with a nil method): it picks the route by the
// program's size and loss, and Result.Route says which it took and why.
//
//   - InteriorPoint when β > 0 and the program is small: 2Pd weights at most 2 000 for
//     the squared loss, 3 000 for the hinge loss and 600 for the logistic loss
//     (Loss.interiorMax). Its Newton steps cost about (dP)³/3 + n(dP)² and it needs
//     20–50 of them whatever β; it certifies to 1e-8 where a first-order method may
//     need many thousands of iterations (small β).
//   - ADMM otherwise: its iterations cost O(ndP), and polishing finishes the solve
//     once its iterates have found the structure of the solution.
//
// The thresholds are measured (go run ./bench/solver -route: the benchmark's
// instances at 2Pd = 200, 600, 1 200, 2 000, 3 000 and 5 000 weights, labels sign(y)
// for the classification losses, both methods to a certified 1e-6 with at most 30 s
// each, 2 threads, load averages 1.5–8.5). β is the user's and often small, so the
// route bounds the worst time over β rather than the best:
//
//   - squared: at β = 1e-3 InteriorPoint took 0.017 / 0.14 / 0.67 / 2.5 / 21 s at
//     2Pd = 200 / 600 / 1 200 / 2 000 / 3 000 against ADMM's 0.24 / 2.4 / 16.5 / 8.9 /
//     14.4 s; at β = 0.02n it lost (0.014 / 0.094 / 0.48 / 1.9 / 16 s against 0.010 /
//     0.043 / 0.12 / 0.21 / 1.5 s). Up to 2 000 weights its worst time stays under
//     3 s where ADMM's reaches 16 s; at 3 000 ADMM is faster at both β's.
//   - hinge: ADMM did not certify 1e-6 within 30 s at β = 1e-3 from 600 weights on
//     (gaps 0.12–0.67), InteriorPoint took 0.04 / 0.33 / 1.8 / 6.8 s up to 2 000 and
//     reached 1.4e-5 in 30 s at 3 000; at β = 0.02n it took 0.03 / 0.22 / 1.2 / 8.2 s
//     against ADMM's 0.05 / 0.33 / 3.2 / 4.8 s, and at 3 000 both hit the limit
//     (gaps 7.9e-6 and certified after 28 s). At 5 000 neither certified.
//   - logistic: ADMM is reliable at both β's (0.26 / 0.49 / 0.99 / 1.9 / 13 s at
//     β = 1e-3); InteriorPoint is faster only up to 600 weights (0.03 / 0.22 s) and
//     1.4–6 times slower from 1 200 on (1.4 / 5.7 / 25 s).
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
