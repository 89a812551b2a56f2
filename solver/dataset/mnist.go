package dataset

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// Downsample shrinks square images of from×from pixels (one image per row of X, row-major)
// to to×to pixels by area averaging: output pixel (i, j) is the mean of the input image
// over the square it covers, [i·s, (i+1)·s) × [j·s, (j+1)·s) with s = from/to, input
// pixels that straddle a border counting with the fraction of their area inside. This
// is the integral of the piecewise-constant image (what image libraries call area or
// box resampling), so it keeps the mean intensity and the range [0, 1], and for
// 28 → 10 it uses the whole field: MNIST centres each digit by its centre of mass, so
// strokes can reach outside the central 20×20 box that a crop would keep.
func Downsample(X *mat.Dense, from, to int) (*mat.Dense, error) {
	if X == nil || X.IsEmpty() {
		return nil, errors.New("dataset: no images to downsample")
	}
	if from <= 0 || to <= 0 || to > from {
		return nil, fmt.Errorf("dataset: cannot downsample %d×%d images to %d×%d", from, from, to, to)
	}
	n, d := X.Dims()
	if d != from*from {
		return nil, fmt.Errorf("dataset: X has %d columns, %d×%d images have %d", d, from, from, from*from)
	}
	w := areaWeights(from, to)
	norm := 1 / float64(from*from)
	out := mat.NewDense(n, to*to, nil)
	tmp := make([]float64, to*from) // the image after shrinking its rows
	for k := 0; k < n; k++ {
		img := X.RawRowView(k)
		for i := range tmp {
			tmp[i] = 0
		}
		for i := 0; i < to; i++ {
			dst := tmp[i*from : (i+1)*from]
			for p, wp := range w[i] {
				if wp == 0 {
					continue
				}
				for c, v := range img[p*from : (p+1)*from] {
					dst[c] += wp * v
				}
			}
		}
		row := out.RawRowView(k)
		for i := 0; i < to; i++ {
			src := tmp[i*from : (i+1)*from]
			for j := 0; j < to; j++ {
				s := 0.0
				for q, wq := range w[j] {
					s += wq * src[q]
				}
				row[i*to+j] = s * norm
			}
		}
	}
	return out, nil
}

// areaWeights returns the to×from matrix of 1-D area weights in integer units: on a
// line of length from·to, output pixel i covers [i·from, (i+1)·from) and input pixel p
// covers [p·to, (p+1)·to); w[i][p] is the length of their overlap. Every row sums to
// from exactly, so the weights of an output pixel sum to from² exactly, and because
// floating-point rounding is monotone an image in [0, 1] stays in [0, 1] after the
// division by from².
func areaWeights(from, to int) [][]float64 {
	w := make([][]float64, to)
	for i := range w {
		w[i] = make([]float64, from)
		lo, hi := i*from, (i+1)*from
		for p := lo / to; p < from && p*to < hi; p++ {
			if overlap := min(hi, (p+1)*to) - max(lo, p*to); overlap > 0 {
				w[i][p] = float64(overlap)
			}
		}
	}
	return w
}
