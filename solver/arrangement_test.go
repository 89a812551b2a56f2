package solver

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// randomData returns n×d standard normal data, with a last column of ones if bias.
func randomData(n, d int, bias bool, seed uint64) *mat.Dense {
	rng := rand.New(rand.NewPCG(seed, 99))
	X := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			X.Set(i, j, rng.NormFloat64())
		}
		if bias {
			X.Set(i, d-1, 1)
		}
	}
	return X
}

// patternStrings returns the patterns of a as strings of 0/1, in a's order.
func patternStrings(a *Arrangement) []string {
	var out []string
	for i := 0; i < a.Len(); i++ {
		b := make([]byte, a.Points())
		for k := range b {
			b[k] = '0'
			if a.Active(i, k) {
				b[k] = '1'
			}
		}
		out = append(out, string(b))
	}
	return out
}

// patternSet returns the patterns of a as sorted strings of 0/1.
func patternSet(a *Arrangement) []string {
	out := patternStrings(a)
	slices.Sort(out)
	return out
}

// checkGenerators verifies that every generator reproduces its pattern.
func checkGenerators(t *testing.T, X *mat.Dense, a *Arrangement) {
	t.Helper()
	n, _ := X.Dims()
	var xh mat.Dense
	xh.Mul(X, a.Generators.T())
	for i := 0; i < a.Len(); i++ {
		for k := 0; k < n; k++ {
			if (xh.At(k, i) >= 0) != a.Active(i, k) {
				t.Fatalf("generator %d does not reproduce its pattern at point %d", i, k)
			}
		}
	}
}

func TestSampleArrangement(t *testing.T) {
	X := randomData(40, 4, true, 1)
	a, err := SampleArrangement(X, 300, 7)
	if err != nil {
		t.Fatal(err)
	}
	if a.Drawn != 300 || a.Len() == 0 || a.Len() > 300 {
		t.Fatalf("drew %d, kept %d", a.Drawn, a.Len())
	}
	checkGenerators(t, X, a)
	set := patternSet(a)
	for i := 1; i < len(set); i++ {
		if set[i] == set[i-1] {
			t.Fatal("duplicate pattern kept")
		}
	}
	// Same seed, same bits; another seed, another sample.
	b, _ := SampleArrangement(X, 300, 7)
	if !mat.Equal(a.Generators, b.Generators) || !slices.Equal(a.bits, b.bits) {
		t.Fatal("same seed gave different arrangements")
	}
	c, _ := SampleArrangement(X, 300, 8)
	if mat.Equal(a.Generators, c.Generators) {
		t.Fatal("different seeds gave the same directions")
	}
	// The curve follows the same draws.
	curve, err := PatternCurve(X, 300, 7)
	if err != nil {
		t.Fatal(err)
	}
	if curve[0] != 1 || curve[299] != a.Len() {
		t.Fatalf("curve starts at %d and ends at %d, want 1 and %d", curve[0], curve[299], a.Len())
	}
	for j := 1; j < len(curve); j++ {
		if curve[j] < curve[j-1] || curve[j] > curve[j-1]+1 {
			t.Fatalf("curve steps from %d to %d", curve[j-1], curve[j])
		}
	}
	if a.Len() > int(GeneralPositionCount(40, 4)) || float64(a.Len()) > ArrangementBound(40, 4) {
		t.Fatalf("%d patterns exceed the bounds", a.Len())
	}
}

// TestEnumerateBruteForce checks exact enumeration against heavy Gaussian sampling on
// tiny data of ranks 1 to 4, against Cover's count for points in general position,
// and against the bound 2r(e(n−1)/r)^r.
func TestEnumerateBruteForce(t *testing.T) {
	tests := []struct {
		name string
		X    *mat.Dense
		rank int
		// general is true when the rows are in general position, so the count is
		// exactly 2 Σ_{i<r} C(n−1, i) (Cover 1965).
		general bool
		// sampledAll: 200000 samples find every cell (no slivers).
		sampledAll bool
	}{
		{"rank1", mat.NewDense(5, 2, []float64{1, 2, -1, -2, 2, 4, 0.5, 1, -3, -6}), 1, false, true},
		{"rank2 d=2", randomData(9, 2, false, 2), 2, true, true},
		{"rank2 with bias", randomData(8, 2, true, 3), 2, true, true},
		{"rank3", randomData(8, 3, false, 4), 3, true, false},
		{"rank3 tiny", randomData(5, 3, false, 9), 3, true, true},
		{"rank3 with bias", randomData(10, 3, true, 5), 3, true, false},
		{"rank2 in d=5", lowRank(9, 5, 2, 6), 2, true, true},
		{"rank3 in d=6", lowRank(8, 6, 3, 7), 3, true, false},
		{"rank4", randomData(7, 4, false, 8), 4, true, false},
		// Degenerate: repeated, opposite and zero rows (rank 2).
		{"degenerate", mat.NewDense(6, 3, []float64{1, 0, 0, 2, 0, 0, -1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1}), 2, false, true},
		{"degenerate rank3", mat.NewDense(7, 3, []float64{1, 0, 0, 2, 0, 0, -1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0}), 3, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, _ := tt.X.Dims()
			r, err := Rank(tt.X)
			if err != nil || r != tt.rank {
				t.Fatalf("rank %d (%v), want %d", r, err, tt.rank)
			}
			exact, err := EnumerateArrangement(tt.X)
			if err != nil {
				t.Fatal(err)
			}
			if !exact.Exact {
				t.Error("Exact not set")
			}
			checkGenerators(t, tt.X, exact)
			// Brute force: every pattern that heavy sampling finds is enumerated, and
			// sampling finds all when no cell is a sliver (the tiny cases below).
			sampled, err := SampleArrangement(tt.X, 200000, 11)
			if err != nil {
				t.Fatal(err)
			}
			got, want := patternSet(exact), patternSet(sampled)
			for _, p := range want {
				if _, found := slices.BinarySearch(got, p); !found {
					t.Fatalf("sampled pattern %s not enumerated", p)
				}
			}
			if tt.sampledAll && !slices.Equal(got, want) {
				t.Fatalf("enumeration found %d patterns, 200000 samples %d:\n%v\n%v", len(got), len(want), got, want)
			}
			if tt.general {
				if c := GeneralPositionCount(n, r); float64(exact.Len()) != c {
					t.Errorf("%d patterns, Cover's count is %v", exact.Len(), c)
				}
			}
			if b := ArrangementBound(n, r); float64(exact.Len()) > b {
				t.Errorf("%d patterns exceed the bound %v", exact.Len(), b)
			}
		})
	}
}

// lowRank returns n×d data of rank r: Gaussian n×r coordinates times a fixed r×d map.
func lowRank(n, d, r int, seed uint64) *mat.Dense {
	var X mat.Dense
	X.Mul(randomData(n, r, false, seed), randomData(r, d, false, seed+100))
	return &X
}

// TestEnumerateLarger checks the count on larger low-rank data against Cover's formula
// (the data are in general position with probability one).
func TestEnumerateLarger(t *testing.T) {
	for _, tt := range []struct{ n, d, r int }{{400, 2, 2}, {60, 5, 3}, {30, 3, 3}} {
		X := lowRank(tt.n, tt.d, tt.r, 20)
		a, err := EnumerateArrangement(X)
		if err != nil {
			t.Fatal(err)
		}
		if want := GeneralPositionCount(tt.n, tt.r); float64(a.Len()) != want {
			t.Errorf("n=%d rank %d: %d patterns, want %v", tt.n, tt.r, a.Len(), want)
		}
		if float64(a.Len()) > ArrangementBound(tt.n, tt.r) {
			t.Errorf("n=%d rank %d: %d patterns exceed the bound", tt.n, tt.r, a.Len())
		}
		checkGenerators(t, X, a)
	}
}

func TestArrangementErrors(t *testing.T) {
	X := randomData(5, 2, false, 1)
	bad := mat.NewDense(2, 2, []float64{1, math.NaN(), 0, 1})
	if _, err := SampleArrangement(nil, 10, 1); err == nil {
		t.Error("nil X accepted")
	}
	if _, err := SampleArrangement(bad, 10, 1); err == nil {
		t.Error("NaN accepted")
	}
	if _, err := SampleArrangement(X, 0, 1); err == nil {
		t.Error("zero samples accepted")
	}
	if _, err := PatternCurve(X, -1, 1); err == nil {
		t.Error("negative samples accepted")
	}
	if _, err := EnumerateArrangement(bad); err == nil {
		t.Error("NaN accepted by enumeration")
	}
	if _, err := NewArrangement([][]bool{{true, false}, {true, false}}, nil); err == nil {
		t.Error("duplicate patterns accepted")
	}
	if _, err := NewArrangement([][]bool{{true, false}, {true}}, nil); err == nil {
		t.Error("ragged patterns accepted")
	}
	if _, err := EnumerateArrangement(randomData(3000, 5, false, 1)); err == nil {
		t.Error("rank-5 enumeration of 3000 points accepted")
	}
}

func TestScenarioBounds(t *testing.T) {
	// ScenarioLevel inverts ScenarioPatterns.
	for _, n := range []int{10, 100, 1000} {
		for _, psi := range []float64{0.01, 0.1, 0.5} {
			p := ScenarioPatterns(n, psi, 0.05)
			got := ScenarioLevel(n, int(math.Ceil(p)), 0.05)
			if got > psi*(1+1e-9) || got < psi*0.95 {
				t.Errorf("n=%d ψ=%v: %v patterns give level %v", n, psi, p, got)
			}
		}
	}
	if v := ScenarioPatterns(100, 0.1, 0.01); v != math.Min(100/(0.1*0.01)-1, 20*(99+math.Log(100))) {
		t.Errorf("ScenarioPatterns = %v", v)
	}
	if !math.IsNaN(ScenarioPatterns(10, 0, 0.1)) {
		t.Error("ψ = 0 accepted")
	}
}
