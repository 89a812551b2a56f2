package planted

import (
	"math/rand/v2"
	"testing"
)

// TestDraw checks the bias column, that the same seed draws the same program, and
// that classification targets are ±1 split at the median.
func TestDraw(t *testing.T) {
	const n, d = 101, 4
	X, f := Draw(rand.New(rand.NewPCG(7, 1)), n, d)
	X2, f2 := Draw(rand.New(rand.NewPCG(7, 1)), n, d)
	for k := 0; k < n; k++ {
		if X.At(k, d-1) != 1 {
			t.Fatalf("row %d: bias %g", k, X.At(k, d-1))
		}
		if f[k] != f2[k] || X.At(k, 0) != X2.At(k, 0) {
			t.Fatalf("row %d differs between two draws with one seed", k)
		}
	}
	y := Targets(rand.New(rand.NewPCG(8, 1)), f, true)
	positive := 0
	for _, v := range y {
		switch v {
		case 1:
			positive++
		case -1:
		default:
			t.Fatalf("class target %g", v)
		}
	}
	if positive != n-n/2 {
		t.Errorf("%d positive of %d, want %d (split at the median)", positive, n, n-n/2)
	}
}
