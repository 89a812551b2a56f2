package solver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
)

// warmStarter is a Method that can start from the solution of the same program at
// another β: Path's warm start.
type warmStarter interface {
	solveFrom(ctx context.Context, p *Problem, s *Settings, prev *Result) (*Result, error)
}

// Path solves prob at every β of betas, as a regularization path (glmnet's and
// scikit-learn's lasso_path): in decreasing order of β, each solve starting from the
// solution at the previous β when the method can (ADMM, and Auto when it routes to
// ADMM: the point with the multipliers of a fixed point for its dual, scaled by
// β/β_prev so that it is feasible for the new β), on the
// one arrangement of patterns (Settings.Arrangement, or the one Settings samples,
// drawn once). The results come back in the order of betas, each with its Beta.
// Cancelling ctx stops the path: the result being computed has Status Canceled and
// the β's not reached have nil results. Along a path the warm-started solves are
// short (70–600 iterations at β = 1e-3 on the benchmark instance of n = 100, a cold
// solve 1 000), and a whole path of 5–12 β's costs about one cold solve at its
// smallest β.
func Path(ctx context.Context, prob *Problem, betas []float64, settings *Settings, method Method) ([]*Result, error) {
	s, err := checkInput(ctx, prob, settings)
	if err != nil {
		return nil, err
	}
	if len(betas) == 0 {
		return nil, errors.New("solver: Path needs at least one β")
	}
	for i, b := range betas {
		if math.IsNaN(b) || math.IsInf(b, 0) || b < 0 {
			return nil, fmt.Errorf("solver: betas[%d] must be finite and ≥ 0, got %v", i, b)
		}
	}
	if method == nil {
		method = &Auto{}
	}
	if _, adv := method.(*Adversarial); !adv && s.Arrangement == nil {
		// One draw of the patterns for the whole path (an adversarial method samples
		// its own robust patterns, seeded alike).
		arr, err := arrangementFor(prob, &s, admmDefaultPatterns)
		if err != nil {
			return nil, err
		}
		s.Arrangement = arr
	}
	rs, spent, err := rowSpaceFor(prob, method)
	if err != nil {
		return nil, err
	}
	order := make([]int, len(betas))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return betas[order[a]] > betas[order[b]] })
	out := make([]*Result, len(betas))
	var prev *Result
	for _, i := range order {
		p := *prob
		p.Beta = betas[i]
		res, err := solveMethod(ctx, &p, &s, method, prev, rs, spent)
		spent = 0 // the reduction counts in the first solve
		if err != nil {
			return out, err
		}
		finishResult(res, &p)
		out[i] = res
		if res.Status == Canceled || ctx.Err() != nil {
			break
		}
		if res.Status != Failure && res.V != nil {
			prev = res
		}
	}
	return out, nil
}
