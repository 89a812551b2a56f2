package dataset

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Set is a labelled data set: n points as the rows of the n×d matrix X and their
// labels Y (class indices 0, 1, … as read from a file, or ±1 after Pair or
// OneVsRest, or real targets).
type Set struct {
	X *mat.Dense
	Y []float64
	// Classes names the classes when Y holds class indices (Classes[c] names label c);
	// nil when the labels are ±1 or the file named no classes.
	Classes []string
}

// Len returns the number of points n.
func (s *Set) Len() int { return len(s.Y) }

// Features returns the number of features d (the columns of X).
func (s *Set) Features() int {
	if s.X == nil {
		return 0
	}
	_, d := s.X.Dims()
	return d
}

// Counts returns how many points carry each label.
func (s *Set) Counts() map[float64]int {
	c := make(map[float64]int)
	for _, y := range s.Y {
		c[y]++
	}
	return c
}

// Subset returns a new set holding the given rows, in that order (rows may repeat).
func (s *Set) Subset(rows []int) (*Set, error) {
	n := s.Len()
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, fmt.Errorf("dataset: row %d out of range [0, %d)", r, n)
		}
	}
	if len(rows) == 0 {
		return nil, errors.New("dataset: empty subset")
	}
	d := s.Features()
	X := mat.NewDense(len(rows), d, nil)
	Y := make([]float64, len(rows))
	for i, r := range rows {
		X.SetRow(i, s.X.RawRowView(r))
		Y[i] = s.Y[r]
	}
	return &Set{X: X, Y: Y, Classes: s.Classes}, nil
}

// Pair keeps the points labelled pos or neg and relabels them +1 and −1, the binary
// task "pos against neg" (MNIST's 2 against 8 is Pair(2, 8)).
func (s *Set) Pair(pos, neg float64) (*Set, error) {
	if pos == neg {
		return nil, fmt.Errorf("dataset: Pair needs two different labels, got %v twice", pos)
	}
	var rows []int
	for k, y := range s.Y {
		if y == pos || y == neg {
			rows = append(rows, k)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("dataset: no point is labelled %v or %v", pos, neg)
	}
	out, err := s.Subset(rows)
	if err != nil {
		return nil, err
	}
	for k, y := range out.Y {
		out.Y[k] = -1
		if y == pos {
			out.Y[k] = 1
		}
	}
	out.Classes = nil
	return out, nil
}

// OneVsRest returns a copy of s labelled +1 where the label is pos and −1 elsewhere.
func (s *Set) OneVsRest(pos float64) *Set {
	Y := make([]float64, len(s.Y))
	for k, y := range s.Y {
		Y[k] = -1
		if y == pos {
			Y[k] = 1
		}
	}
	return &Set{X: mat.DenseCopyOf(s.X), Y: Y}
}

func (s *Set) check() error {
	if s == nil || s.X == nil || s.X.IsEmpty() {
		return errors.New("dataset: set has no data")
	}
	if n, _ := s.X.Dims(); n != len(s.Y) {
		return fmt.Errorf("dataset: X has %d rows, Y has %d", n, len(s.Y))
	}
	return nil
}

// newRand returns the package's seeded generator; the second PCG word is a fixed
// constant (the golden ratio's bits) so that seed 0 is a seed like any other.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// Split shuffles s with the given seed and returns a training set and a test set
// holding round(testFraction·n) points. With stratify, each label is split in the same
// proportion (round(testFraction·n_c) test points per label c), so both sets keep the
// class balance. Rows keep their original order within each returned set.
func Split(s *Set, testFraction float64, stratify bool, seed uint64) (train, test *Set, err error) {
	if err := s.check(); err != nil {
		return nil, nil, err
	}
	if !(testFraction > 0 && testFraction < 1) {
		return nil, nil, fmt.Errorf("dataset: test fraction must lie in (0, 1), got %v", testFraction)
	}
	r := newRand(seed)
	var groups [][]int
	if stratify {
		byLabel := make(map[float64][]int)
		var labels []float64
		for k, y := range s.Y {
			if _, ok := byLabel[y]; !ok {
				labels = append(labels, y)
			}
			byLabel[y] = append(byLabel[y], k)
		}
		sort.Float64s(labels) // map order is random; the groups' order must not be
		for _, y := range labels {
			groups = append(groups, byLabel[y])
		}
	} else {
		all := make([]int, s.Len())
		for k := range all {
			all[k] = k
		}
		groups = [][]int{all}
	}
	isTest := make([]bool, s.Len())
	for _, g := range groups {
		r.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		nt := int(math.Round(testFraction * float64(len(g))))
		for _, k := range g[:nt] {
			isTest[k] = true
		}
	}
	var trainRows, testRows []int
	for k, t := range isTest {
		if t {
			testRows = append(testRows, k)
		} else {
			trainRows = append(trainRows, k)
		}
	}
	if len(trainRows) == 0 || len(testRows) == 0 {
		return nil, nil, fmt.Errorf("dataset: splitting %d points with test fraction %v leaves %d training and %d test points",
			s.Len(), testFraction, len(trainRows), len(testRows))
	}
	train, _ = s.Subset(trainRows)
	test, _ = s.Subset(testRows)
	return train, test, nil
}

// AddBias returns a copy of X with a last column of ones appended, so that a network
// f(x) = Σⱼ (xᵀuⱼ)₊ αⱼ on the result has a bias in every neuron. Standardize before
// adding the bias column.
func AddBias(X *mat.Dense) *mat.Dense {
	if X == nil || X.IsEmpty() {
		return nil
	}
	n, d := X.Dims()
	out := mat.NewDense(n, d+1, nil)
	for i := 0; i < n; i++ {
		row := out.RawRowView(i)
		copy(row, X.RawRowView(i))
		row[d] = 1
	}
	return out
}

// Scaler standardizes features: column j maps to (x − Mean[j]) / Scale[j].
type Scaler struct {
	Mean  []float64
	Scale []float64 // the population standard deviation; 1 for a constant column
}

// FitScaler returns the Scaler that gives every column of X mean zero and unit
// variance. A constant column is only centred (Scale 1), so it maps to zeros instead of
// NaN.
func FitScaler(X *mat.Dense) (*Scaler, error) {
	if X == nil || X.IsEmpty() {
		return nil, errors.New("dataset: no data to fit a scaler on")
	}
	n, d := X.Dims()
	s := &Scaler{Mean: make([]float64, d), Scale: make([]float64, d)}
	for i := 0; i < n; i++ {
		for j, v := range X.RawRowView(i) {
			s.Mean[j] += v
		}
	}
	for j := range s.Mean {
		s.Mean[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		for j, v := range X.RawRowView(i) {
			r := v - s.Mean[j]
			s.Scale[j] += r * r
		}
	}
	for j, ss := range s.Scale {
		sd := math.Sqrt(ss / float64(n))
		// A standard deviation this small relative to the mean is rounding noise in a
		// constant column; dividing by it would blow the noise up to order one.
		if sd <= 1e-12*math.Max(1, math.Abs(s.Mean[j])) {
			sd = 1
		}
		s.Scale[j] = sd
	}
	return s, nil
}

// Transform returns a standardized copy of X.
func (s *Scaler) Transform(X *mat.Dense) (*mat.Dense, error) {
	if X == nil || X.IsEmpty() {
		return nil, errors.New("dataset: no data to transform")
	}
	n, d := X.Dims()
	if d != len(s.Mean) {
		return nil, fmt.Errorf("dataset: X has %d columns, the scaler was fitted on %d", d, len(s.Mean))
	}
	out := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		row := out.RawRowView(i)
		for j, v := range X.RawRowView(i) {
			row[j] = (v - s.Mean[j]) / s.Scale[j]
		}
	}
	return out, nil
}

// Standardize fits a Scaler on train and applies it to both sets, returning new sets
// (the test set never influences the scaling).
func Standardize(train, test *Set) (*Set, *Set, error) {
	if err := train.check(); err != nil {
		return nil, nil, err
	}
	if err := test.check(); err != nil {
		return nil, nil, err
	}
	sc, err := FitScaler(train.X)
	if err != nil {
		return nil, nil, err
	}
	trX, err := sc.Transform(train.X)
	if err != nil {
		return nil, nil, err
	}
	teX, err := sc.Transform(test.X)
	if err != nil {
		return nil, nil, err
	}
	return &Set{X: trX, Y: append([]float64(nil), train.Y...), Classes: train.Classes},
		&Set{X: teX, Y: append([]float64(nil), test.Y...), Classes: test.Classes}, nil
}
