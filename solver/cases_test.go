package solver

import (
	"context"
	"math"
	"path/filepath"
	"testing"
)

// userCase is an instance that once failed when tried as a user would, in the JSON
// form of shared/cases/solver (copied to testdata/cases): the program, what happened
// (Note) and the optimum of cvxopt at 1e-8–1e-9 tolerances (Reference.Objective).
type userCase struct {
	Method     string      `json:"method"`
	X          [][]float64 `json:"X"`
	Y          []float64   `json:"y"`
	Loss       string      `json:"loss"`
	Beta       float64     `json:"beta"`
	Patterns   [][]float64 `json:"patterns"`
	Generators [][]float64 `json:"generators"`
	Directions [][]float64 `json:"directions"`
	Tolerance  float64     `json:"tolerance"`
	Reference  reference   `json:"reference"`
	Note       string      `json:"note"`
}

// arrangement is the case's arrangement: its patterns (0/1 rows) with their
// generators.
func (c *userCase) arrangement(t *testing.T) *Arrangement {
	t.Helper()
	pats := make([][]bool, len(c.Patterns))
	for i, row := range c.Patterns {
		pats[i] = make([]bool, len(row))
		for k, v := range row {
			pats[i][k] = v == 1
		}
	}
	arr, err := NewArrangement(pats, denseOf(c.Generators))
	if err != nil {
		t.Fatal(err)
	}
	return arr
}

// solve runs the case's method on its program with its tolerance.
func (c *userCase) solve(t *testing.T) (*Problem, *Result) {
	t.Helper()
	p := &Problem{X: denseOf(c.X), Y: c.Y, Loss: lossNamed(t, c.Loss), Beta: c.Beta}
	s := &Settings{Tolerance: c.Tolerance}
	var m Method
	switch c.Method {
	case "admm":
		s.Arrangement = c.arrangement(t)
		m = &ADMM{}
	case "scp":
		m = &SCP{Directions: denseOf(c.Directions)}
	default:
		t.Fatalf("unknown method %q", c.Method)
	}
	res, err := Solve(context.Background(), p, s, m)
	if err != nil {
		t.Fatal(err)
	}
	return p, res
}

// TestUserCases solves the instances that once failed (testdata/cases; each file's
// note says how): each must end Optimal with a certified relative gap within its
// tolerance and an objective within that tolerance of cvxopt's.
func TestUserCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("want the three cases, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c := readJSON[userCase](t, f)
			p, res := c.solve(t)
			ref := c.Reference.Objective
			t.Logf("%s: %v after %d iterations in %v, objective %.10g (cvxopt %.10g), gap %.3g", res.Method, res.Status, res.Iterations, res.Runtime, res.Objective, ref, res.Gap)
			if res.Status != Optimal {
				t.Errorf("status %v (%s)", res.Status, res.Message)
			}
			if !(res.Gap <= c.Tolerance) {
				t.Errorf("certified gap %.3g, tolerance %g", res.Gap, c.Tolerance)
			}
			// The certificate bounds the objective's distance to the optimum; the
			// reference is itself accurate to about 1e-8.
			if rel := (res.Objective - ref) / math.Abs(ref); math.Abs(rel) > c.Tolerance+1e-8 {
				t.Errorf("objective %.10g, cvxopt %.10g: relative difference %.3g", res.Objective, ref, rel)
			}
			if res.Certificate.Dual > ref+1e-8*math.Abs(ref) {
				t.Errorf("dual bound %.10g above the optimum %.10g", res.Certificate.Dual, ref)
			}
			net, err := res.Network.Objective(p.X, p.Y, p.Loss, p.Beta)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(net-res.Objective) > 1e-9*math.Abs(net) {
				t.Errorf("network objective %.10g, reported %.10g", net, res.Objective)
			}
		})
	}
}
