package solver

import (
	"encoding/json"
	"os"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// instance is a program stated in the JSON format of testdata/cvxopt_ref.py.
type instance struct {
	Program    string      `json:"program"`
	Loss       string      `json:"loss"`
	Beta       float64     `json:"beta"`
	Seed       int         `json:"seed,omitempty"`
	X          [][]float64 `json:"X"`
	Y          []float64   `json:"y"`
	Patterns   []string    `json:"patterns,omitempty"`
	Generators [][]float64 `json:"generators,omitempty"`
	Directions [][]float64 `json:"directions,omitempty"`
	Reference  *reference  `json:"reference,omitempty"`
}

// reference is what cvxopt_ref.py reports for an instance.
type reference struct {
	Objective float64 `json:"objective"`
	Status    string  `json:"status"`
	Seconds   float64 `json:"seconds"`
}

func readInstance(t testing.TB, path string) *instance {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in instance
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &in
}

func denseOf(rows [][]float64) *mat.Dense {
	if len(rows) == 0 {
		return nil
	}
	m := mat.NewDense(len(rows), len(rows[0]), nil)
	for i, r := range rows {
		m.SetRow(i, r)
	}
	return m
}

func lossNamed(t testing.TB, name string) Loss {
	for _, l := range []Loss{Squared, Hinge, Logistic} {
		if l.String() == name {
			return l
		}
	}
	t.Fatalf("unknown loss %q", name)
	return 0
}

// problem returns the instance's Problem and, for the ReLU and gated programs, its
// arrangement.
func (in *instance) problem(t testing.TB) (*Problem, *Arrangement) {
	t.Helper()
	p := &Problem{X: denseOf(in.X), Y: in.Y, Loss: lossNamed(t, in.Loss), Beta: in.Beta}
	if len(in.Patterns) == 0 {
		return p, nil
	}
	pats := make([][]bool, len(in.Patterns))
	for i, s := range in.Patterns {
		pats[i] = make([]bool, len(s))
		for k, c := range s {
			pats[i][k] = c == '1'
		}
	}
	arr, err := NewArrangement(pats, denseOf(in.Generators))
	if err != nil {
		t.Fatal(err)
	}
	return p, arr
}
