package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gocvx/gocvx/solver"
	"github.com/gocvx/gocvx/solver/dataset"
)

var (
	ipmRoutesFlag  = flag.Bool("ipm-routes", false, "compare InteriorPoint's two routes of the Newton system (dense dP×dP and n×n) on real data sets with n < dP")
	ipmRoutesData  = flag.String("ipm-routes-data", "breast", "data sets of -ipm-routes: breast (standardized), digits-AvB (pixels / 16); a bias column is added, P = 64 patterns (seed 1)")
	ipmRoutesBetas = flag.String("ipm-routes-betas", "1e-4,1e-3,1e-2", "β of -ipm-routes")
	ipmRoutesLimit = flag.Duration("ipm-routes-limit", 60*time.Second, "time limit of each solve of -ipm-routes")
)

// ipmRoutes times InteriorPoint on its dense and its n×n route, each forced
// (InteriorPoint.Factorization), to a certified 1e-6 on the profile's data sets with
// fewer points than dP, every loss, on the threads of GOMAXPROCS.
func ipmRoutes() error {
	fmt.Printf("## InteriorPoint's routes of the Newton system on data sets with n < dP\n\n")
	fmt.Printf("Each data set with a bias column, P = 64 sampled patterns (seed 1, as bench/profile), every loss; InteriorPoint with Factorization %q and %q, to a certified relative gap of 1e-6, at most %v each, on %d thread(s). Wall time; the route the solve ended on (the n×n route hands its last steps to the dense one when its solves lose accuracy). %s.\n\n",
		solver.FactorCholesky, solver.FactorWoodbury, *ipmRoutesLimit, runtime.GOMAXPROCS(0), loadAverage())
	fmt.Printf("| data | n | dP | loss | β | dense | Newton steps | n×n | Newton steps | n×n ended on |\n|---|---|---|---|---|---|---|---|---|---|\n")
	var betas []float64
	for _, f := range strings.Split(*ipmRoutesBetas, ",") {
		b, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(b > 0) {
			return fmt.Errorf("bad -ipm-routes-betas %q", f)
		}
		betas = append(betas, b)
	}
	for _, name := range strings.Split(*ipmRoutesData, ",") {
		ds, err := routeData(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		arr, err := solver.SampleArrangement(ds.X, 64, 1)
		if err != nil {
			return err
		}
		n, d := ds.X.Dims()
		for _, loss := range []solver.Loss{solver.Squared, solver.Hinge, solver.Logistic} {
			for _, beta := range betas {
				p := &solver.Problem{X: ds.X, Y: ds.Y, Loss: loss, Beta: beta}
				var res [2]*solver.Result
				for i, route := range []string{solver.FactorCholesky, solver.FactorWoodbury} {
					s := &solver.Settings{Arrangement: arr, Tolerance: 1e-6, TimeLimit: *ipmRoutesLimit}
					if res[i], err = solver.Solve(context.Background(), p, s, &solver.InteriorPoint{Factorization: route}); err != nil {
						return err
					}
				}
				fmt.Printf("| %s | %d | %d | %v | %g | %s | %d | %s | %d | %s |\n", name, n, d*arr.Len(), loss, beta,
					statusTime(res[0]), res[0].Iterations, statusTime(res[1]), res[1].Iterations, res[1].Factorization)
				fmt.Fprintf(os.Stderr, "ipm routes %s %v β=%g: dense %s, n×n %s\n", name, loss, beta, statusTime(res[0]), statusTime(res[1]))
			}
		}
	}
	fmt.Println()
	return nil
}

// routeData loads a data set of -ipm-routes as bench/profile does, with a bias column.
func routeData(name string) (*dataset.Set, error) {
	var ds *dataset.Set
	var err error
	var a, b int
	switch {
	case name == "breast":
		if ds, err = dataset.BreastCancer(); err == nil {
			var sc *dataset.Scaler
			if sc, err = dataset.FitScaler(ds.X); err == nil {
				X, terr := sc.Transform(ds.X)
				ds, err = &dataset.Set{X: X, Y: ds.Y}, terr
			}
		}
	case strings.HasPrefix(name, "digits-"):
		if _, err = fmt.Sscanf(name, "digits-%dv%d", &a, &b); err != nil {
			return nil, fmt.Errorf("data set %q: want digits-AvB", name)
		}
		if ds, err = dataset.Digits(); err == nil {
			if ds, err = ds.Pair(float64(a), float64(b)); err == nil {
				ds.X.Scale(1.0/16, ds.X)
			}
		}
	default:
		return nil, fmt.Errorf("unknown data set %q (breast, digits-AvB)", name)
	}
	if err != nil {
		return nil, err
	}
	return &dataset.Set{X: dataset.AddBias(ds.X), Y: ds.Y}, nil
}
