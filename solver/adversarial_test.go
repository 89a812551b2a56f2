package solver

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// advInstance is a robust program in the JSON format of testdata/adversarial_ref.py.
type advInstance struct {
	Program    string      `json:"program"`
	Loss       string      `json:"loss"`
	Beta       float64     `json:"beta"`
	Epsilon    float64     `json:"epsilon"`
	Bias       bool        `json:"bias"`
	Seed       int         `json:"seed,omitempty"`
	X          [][]float64 `json:"X"`
	Y          []float64   `json:"y"`
	Patterns   []string    `json:"patterns"`
	Generators [][]float64 `json:"generators,omitempty"`
	Reference  *struct {
		Objective     float64 `json:"objective"`
		Status        string  `json:"status"`
		Seconds       float64 `json:"seconds"`
		ConeViolation float64 `json:"cone_violation"`
	} `json:"reference,omitempty"`
}

func advMatrix(rows [][]float64) *mat.Dense {
	if len(rows) == 0 {
		return nil
	}
	m := mat.NewDense(len(rows), len(rows[0]), nil)
	for i, r := range rows {
		m.SetRow(i, r)
	}
	return m
}

func advLoss(t testing.TB, name string) Loss {
	for _, l := range []Loss{Squared, Hinge, Logistic} {
		if l.String() == name {
			return l
		}
	}
	t.Fatalf("unknown loss %q", name)
	return 0
}

func readAdvInstance(t testing.TB, path string) *advInstance {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in advInstance
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &in
}

// problem returns the instance's Problem, arrangement and method.
func (in *advInstance) problem(t testing.TB) (*Problem, *Arrangement, *Adversarial) {
	t.Helper()
	p := &Problem{X: advMatrix(in.X), Y: in.Y, Loss: advLoss(t, in.Loss), Beta: in.Beta}
	pats := make([][]bool, len(in.Patterns))
	for i, s := range in.Patterns {
		pats[i] = make([]bool, len(s))
		for k, c := range s {
			pats[i][k] = c == '1'
		}
	}
	arr, err := NewArrangement(pats, advMatrix(in.Generators))
	if err != nil {
		t.Fatal(err)
	}
	return p, arr, &Adversarial{Epsilon: in.Epsilon, Bias: in.Bias}
}

func TestAdversarialGoldenDev(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "adversarial", "*.json"))
	for _, f := range files {
		in := readAdvInstance(t, f)
		p, arr, m := in.problem(t)
		res, err := Solve(context.Background(), p, &Settings{Arrangement: arr, Tolerance: 1e-7, MaxIterations: 50000}, m)
		if err != nil {
			t.Fatal(err)
		}
		ref := in.Reference.Objective
		c := res.Certificate
		t.Logf("%s: %v it=%d primal %.8g net %.8g ref %.8g rel %.2g dual %.8g gap %.2g viol %.2g rho %.3g",
			filepath.Base(f), res.Status, res.Iterations, c.Primal, res.Objective, ref, math.Abs(c.Primal-ref)/ref, c.Dual, c.Gap, c.ConeViolation, res.Rho)
	}
}

func TestAdversarialTuneDev(t *testing.T) {
	f := os.Getenv("ADV_FILE")
	if f == "" {
		t.Skip()
	}
	in := readAdvInstance(t, f)
	ref := in.Reference.Objective
	for _, fixed := range []bool{true} {
		for _, rs := range []float64{0.01, 0.03, 0.1, 0.3} {
			for _, gs := range []float64{3, 10, 100, 1000} {
				for _, ts := range []float64{1, 10, 100} {
					p, arr, m := in.problem(t)
					m.rhoScale, m.gammaScale, m.tauScale, m.FixedRho = rs, gs, ts, fixed
					res, _ := Solve(context.Background(), p, &Settings{Arrangement: arr, Tolerance: 1e-9, MaxIterations: 3000}, m)
					t.Logf("fixed=%v rho×%g gamma×%g tau×%g: rel %.2g gap %.2g", fixed, rs, gs, ts, math.Abs(res.Certificate.Primal-ref)/ref, res.Certificate.Gap)
				}
			}
		}
	}
}
