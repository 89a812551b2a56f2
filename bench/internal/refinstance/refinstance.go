// Package refinstance writes a convex program in the form that the independent
// reference solver reads (solver/testdata/cvxopt_ref.py), and matrices as the rows
// the Python benchmarks read, for the benchmarks that compare with cvxopt and
// PyTorch.
package refinstance

import (
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/gocvx/gocvx/solver"
)

// Instance is the ReLU program of a Problem over an arrangement as cvxopt_ref.py
// reads it: the data, the loss, β and each pattern as a string of 0s and 1s.
// encoding/json writes every float64 so that Python reads back the same bits.
type Instance struct {
	Program  string      `json:"program"`
	Loss     string      `json:"loss"`
	Beta     float64     `json:"beta"`
	X        [][]float64 `json:"X"`
	Y        []float64   `json:"y"`
	Patterns []string    `json:"patterns"`
}

// New returns the instance of prob over the patterns of arr.
func New(prob *solver.Problem, arr *solver.Arrangement) Instance {
	in := Instance{Program: "relu", Loss: prob.Loss.String(), Beta: prob.Beta, X: Rows(prob.X), Y: prob.Y}
	for i := 0; i < arr.Len(); i++ {
		var b strings.Builder
		for _, on := range arr.Pattern(i) {
			if on {
				b.WriteByte('1')
			} else {
				b.WriteByte('0')
			}
		}
		in.Patterns = append(in.Patterns, b.String())
	}
	return in
}

// Rows returns the rows of A, copied.
func Rows(A *mat.Dense) [][]float64 {
	r, _ := A.Dims()
	out := make([][]float64, r)
	for i := range out {
		out[i] = append([]float64(nil), A.RawRowView(i)...)
	}
	return out
}
