package solver

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestSquaredRhoScalesWithBeta: the squared loss's default ρ is the scale-aware one
// at β ≥ β_max/κ, scaled with β below it (ρ/β the same at β and β/10) and with √β
// below β_max/κ², with balancing capped at that ρ; a given Rho is left alone.
func TestSquaredRhoScalesWithBeta(t *testing.T) {
	in := readJSON[instance](t, filepath.Join("testdata", "golden", "small_beta", "relu_squared_n40_d4_P12_b1e-03.json"))
	p, arr := in.problem(t)
	pr, err := newProgram(p, arr)
	if err != nil {
		t.Fatal(err)
	}
	rhoAt := func(beta float64, m *ADMM) (rho, ceil, def, bmax float64) {
		q := *pr
		q.beta = beta
		a, _, err := m.setup(p, &q, false, 1)
		if err != nil {
			t.Fatal(err)
		}
		a.scaleSquaredRho(m)
		return a.rho, a.rhoCeil, a.rhoDefault, a.zeroScale * beta
	}
	_, _, def, bmax := rhoAt(1e-3, &ADMM{})
	ratio := func(b1, b2, want float64) {
		t.Helper()
		r1, c1, _, _ := rhoAt(b1, &ADMM{})
		r2, _, _, _ := rhoAt(b2, &ADMM{})
		if !(r1 < def) || c1 != r1 {
			t.Fatalf("β = %g: ρ = %g with ceiling %g, want below the default %g and equal", b1, r1, c1, def)
		}
		if r := r1 / r2; math.Abs(r-want) > 1e-9*want {
			t.Errorf("ρ(%g)/ρ(%g) = %g, want %g", b1, b2, r, want)
		}
	}
	k := sqRhoBetaScale
	ratio(bmax/k/10, bmax/k/100, 10)      // linear
	ratio(bmax/k/k/100, bmax/k/k/1e4, 10) // √β
	if rho, ceil, _, _ := rhoAt(10*bmax, &ADMM{}); rho != def || ceil != 0 {
		t.Errorf("β = 10 β_max: ρ = %g with ceiling %g, want the default %g and none", rho, ceil, def)
	}
	if rho, ceil, _, _ := rhoAt(1e-3, &ADMM{Rho: 0.7}); rho != 0.7 || ceil != 0 {
		t.Errorf("Rho = 0.7: ρ = %g with ceiling %g, want 0.7 and none", rho, ceil)
	}
}

// TestSquaredSmallBetaCertified: on the squared goldens at β ∈ {1e-4, 1e-3}
// (cvxopt optima), default ADMM with ρ scaled to β certifies 1e-6, the objective
// agrees with the reference within the tolerance, every bound computed is a lower
// bound, and balancing never raises ρ above its start.
func TestSquaredSmallBetaCertified(t *testing.T) {
	for _, f := range smallBetaFiles(t, "relu") {
		if !strings.Contains(f, "squared") {
			continue
		}
		in := readJSON[instance](t, f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, arr := in.problem(t)
			ref := in.Reference.Objective
			bc := &boundChecker{p: p, ref: ref}
			first, highest := 0.0, 0.0
			s := &Settings{Arrangement: arr, Tolerance: 1e-6, MaxIterations: 20000, Recorder: RecorderFunc(func(it Iteration) {
				if first == 0 {
					first = it.Rho
				}
				highest = math.Max(highest, it.Rho)
			})}
			res, err := Solve(context.Background(), p, s, &ADMM{onCertificate: bc.check})
			if err != nil {
				t.Fatal(err)
			}
			bc.report(t)
			if res.Status != Optimal || !(res.Gap <= 1e-6) {
				t.Fatalf("status %v, gap %.3g after %d iterations", res.Status, res.Gap, res.Iterations)
			}
			if d := (res.Objective - ref) / math.Abs(ref); d > 1e-6 || d < -1e-6 {
				t.Errorf("objective %.10g, reference %.10g (relative %.2g)", res.Objective, ref, d)
			}
			if highest > first {
				t.Errorf("ρ rose from %g to %g", first, highest)
			}
			t.Logf("%d iterations, ρ %g → %g", res.Iterations, first, res.Rho)
		})
	}
}
