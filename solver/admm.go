package solver

import (
	"context"
	"errors"
)

// ADMM solves the convex program by the alternating direction method of multipliers.
// (Being implemented: see issue 4.)
type ADMM struct {
	// Rho is the penalty ρ; zero means a scale-aware default.
	Rho float64
}

func (m *ADMM) String() string { return "ADMM" }

func (m *ADMM) solve(ctx context.Context, p *Problem, s *Settings) (*Result, error) {
	return nil, errors.New("solver: ADMM is not implemented yet")
}
