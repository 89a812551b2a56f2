package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gocvx/gocvx/solver"
	"github.com/gocvx/gocvx/solver/dataset"
)

// problem is one program of the profile: a data set with its bias column, a loss, β
// and the sampled activation patterns that every method solves it with.
type problem struct {
	id        string // data/loss/β label, e.g. "iris-1v2/hinge/β=1e-3"
	data      string
	loss      solver.Loss
	betaLabel string // as given: "1e-3", or "0.02n"
	prob      *solver.Problem
	arr       *solver.Arrangement
}

// weights is the number of weights of the convex program, 2·P·d.
func (p *problem) weights() int {
	_, d := p.prob.X.Dims()
	return 2 * p.arr.Len() * d
}

// loadData returns the named data set with labels ±1, scaled and with a bias column:
//
//	breast         Wisconsin breast cancer (569 × 30), standardized
//	digits-AvB     8×8 digits A (+1) against B (−1), pixels divided by 16
//	iris-AvB       iris classes A (+1) against B (−1) (0 setosa, 1 versicolor,
//	               2 virginica), standardized
//	mnist10-AvB    MNIST digits A against B of the 10 000-image sample at 10×10
//	mnist28-AvB    the same at 28×28
//	spirals        two spirals, 200 points, noise 0.02, seed 1 (as bench/torch)
func loadData(name string) (*dataset.Set, error) {
	kind, pair, hasPair := strings.Cut(name, "-")
	var a, b int
	if hasPair {
		as, bs, ok := strings.Cut(pair, "v")
		var err1, err2 error
		a, err1 = strconv.Atoi(as)
		b, err2 = strconv.Atoi(bs)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("data set %q: the pair must read AvB, e.g. %s-2v8", name, kind)
		}
	}
	needPair := kind == "digits" || kind == "iris" || kind == "mnist10" || kind == "mnist28"
	if needPair != hasPair {
		return nil, fmt.Errorf("unknown data set %q (breast, digits-AvB, iris-AvB, mnist10-AvB, mnist28-AvB, spirals)", name)
	}
	var ds *dataset.Set
	var err error
	switch kind {
	case "breast":
		ds, err = dataset.BreastCancer()
		if err == nil {
			ds, err = standardized(ds)
		}
	case "digits":
		if ds, err = dataset.Digits(); err == nil {
			if ds, err = ds.Pair(float64(a), float64(b)); err == nil {
				ds.X.Scale(1.0/16, ds.X)
			}
		}
	case "iris":
		if ds, err = dataset.Iris(); err == nil {
			if ds, err = ds.Pair(float64(a), float64(b)); err == nil {
				ds, err = standardized(ds)
			}
		}
	case "mnist10":
		ds, err = dataset.MNISTPair(a, b, 10)
	case "mnist28":
		ds, err = dataset.MNISTPair(a, b, 28)
	case "spirals":
		ds, err = dataset.Spirals(200, 0.02, 1)
	default:
		err = fmt.Errorf("unknown data set %q", name)
	}
	if err != nil {
		return nil, err
	}
	return &dataset.Set{X: dataset.AddBias(ds.X), Y: ds.Y}, nil
}

func standardized(ds *dataset.Set) (*dataset.Set, error) {
	sc, err := dataset.FitScaler(ds.X)
	if err != nil {
		return nil, err
	}
	X, err := sc.Transform(ds.X)
	if err != nil {
		return nil, err
	}
	return &dataset.Set{X: X, Y: ds.Y}, nil
}

// parseBeta reads a β of the grid: a number, or "0.02n" (a multiple of the number of
// points n, the default of bench/solver).
func parseBeta(s string, n int) (float64, error) {
	if f, ok := strings.CutSuffix(s, "n"); ok {
		c, err := strconv.ParseFloat(f, 64)
		if err != nil || !(c > 0) {
			return 0, fmt.Errorf("β %q: want a positive number or a positive multiple of n such as 0.02n", s)
		}
		return c * float64(n), nil
	}
	b, err := strconv.ParseFloat(s, 64)
	if err != nil || !(b > 0) {
		return 0, fmt.Errorf("β %q: want a positive number or a positive multiple of n such as 0.02n", s)
	}
	return b, nil
}

func parseLoss(s string) (solver.Loss, error) {
	for _, l := range []solver.Loss{solver.Squared, solver.Hinge, solver.Logistic} {
		if l.String() == s {
			return l, nil
		}
	}
	return 0, fmt.Errorf("unknown loss %q (squared, hinge, logistic)", s)
}

// problems returns the grid data × losses × β, each with the arrangement sampled
// from `patterns` Gaussian directions with the given seed (duplicates dropped, so P
// may be smaller). The arrangement depends on the data only, so every loss and β of
// one data set shares it.
func problems(data, losses, betas []string, patterns int, seed uint64) ([]*problem, error) {
	var out []*problem
	for _, name := range data {
		ds, err := loadData(name)
		if err != nil {
			return nil, err
		}
		arr, err := solver.SampleArrangement(ds.X, patterns, seed)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		n := ds.Len()
		for _, ls := range losses {
			loss, err := parseLoss(ls)
			if err != nil {
				return nil, err
			}
			for _, bs := range betas {
				beta, err := parseBeta(bs, n)
				if err != nil {
					return nil, err
				}
				out = append(out, &problem{
					id:   fmt.Sprintf("%s/%s/β=%s", name, loss, bs),
					data: name, loss: loss, betaLabel: bs,
					prob: &solver.Problem{X: ds.X, Y: ds.Y, Loss: loss, Beta: beta},
					arr:  arr,
				})
			}
		}
	}
	return out, nil
}
