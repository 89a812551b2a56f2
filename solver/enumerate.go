package solver

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Tolerances of the exact enumeration, on unit vectors.
const (
	// enumZeroRow: a row of X̃ shorter than this times the longest row is the zero
	// vector up to rounding; it is active in every pattern (0 ≥ 0).
	enumZeroRow = 1e-12
	// enumOnPlane: a unit row with |aᵀq| below this passes through the vertex q
	// (rounding of a d ≤ 10 dot product of unit vectors stays near 1e-15).
	enumOnPlane = 1e-10
	// enumBudget bounds the work (vertices × rows) of an enumeration: about ten
	// seconds on one core.
	enumBudget = 4e9
)

// EnumerateArrangement returns every activation pattern of X: one for each open cell
// of the central arrangement of the hyperplanes {u : xₖᵀu = 0}, that is every distinct
// 1[Xu ≥ 0] of a direction u on no hyperplane, each with such a u as its generator.
//
// The rows are first written in an orthonormal basis of the row space (rank r), so only
// r matters. Every region of an arrangement of great spheres on S^{r−1} has a vertex,
// the intersection of r−1 of them; around a vertex q the regions are the cells of the
// arrangement, in the tangent space q⊥, of the hyperplanes through q, which is the
// same problem one dimension down. The recursion visits every vertex, so its cost
// grows like n^r: it is meant for low-rank data (r ≤ 3 with thousands of points, r = 4
// with a few hundred); larger problems return an error.
func EnumerateArrangement(X *mat.Dense) (*Arrangement, error) {
	if err := checkData(X); err != nil {
		return nil, err
	}
	n, d := X.Dims()
	r, xt, vr, err := reduce(X)
	if err != nil {
		return nil, err
	}
	var points [][]float64 // interior points in ℝʳ
	if r == 0 {
		points = [][]float64{nil}
	} else {
		var rows [][]float64
		longest := 0.0
		for k := 0; k < n; k++ {
			longest = math.Max(longest, mat.Norm(xt.RowView(k), 2))
		}
		for k := 0; k < n; k++ {
			row := mat.Row(nil, k, xt)
			nr := norm2(row)
			if nr <= enumZeroRow*longest {
				continue
			}
			scal(1/nr, row)
			rows = append(rows, row)
		}
		if work := binomial(len(rows), r-1) * float64(len(rows)); work > enumBudget {
			return nil, fmt.Errorf("solver: exact enumeration of %d points of rank %d needs about %.1g operations; sample patterns instead", n, r, work)
		}
		points = cellPoints(rows, r)
	}
	a := &Arrangement{n: n, words: (n + 63) / 64, Exact: true}
	seen := make(map[string]struct{})
	var gens []float64
	buf := make([]uint64, a.words)
	h := make([]float64, d)
	xh := make([]float64, n)
	for _, p := range points {
		if r == 0 {
			clear(h)
			h[0] = 1
		} else {
			mat.NewVecDense(d, h).MulVec(vr, mat.NewVecDense(r, p))
		}
		mat.NewVecDense(n, xh).MulVec(X, mat.NewVecDense(d, h))
		clear(buf)
		for k, v := range xh {
			if v >= 0 {
				buf[k>>6] |= 1 << (uint(k) & 63)
			}
		}
		key := bitsKey(buf)
		if _, dup := seen[key]; dup {
			continue
		}
		seen[key] = struct{}{}
		a.bits = append(a.bits, buf...)
		gens = append(gens, h...)
	}
	a.Generators = mat.NewDense(a.Len(), d, gens)
	return a, nil
}

// cellPoints returns one interior point of every open cell of the central arrangement
// {u : aₖᵀu = 0} in ℝʳ, where the rows aₖ are unit vectors spanning ℝʳ.
func cellPoints(rows [][]float64, r int) [][]float64 {
	if r == 1 {
		return [][]float64{{1}, {-1}}
	}
	m := len(rows)
	var out [][]float64
	cells := make(map[string]struct{})
	vertices := make(map[string]struct{})
	dots := make([]float64, m)
	sub := make([]int, r-1)
	for i := range sub {
		sub[i] = i
	}
	basis := make([][]float64, 0, r)
	for {
		// The vertex of the subset: the unit vector orthogonal to its rows.
		basis = basis[:0]
		independent := true
		for _, k := range sub {
			v := orthogonalize(rows[k], basis)
			if v == nil {
				independent = false
				break
			}
			basis = append(basis, v)
		}
		if independent {
			p := completion(basis, r)[0]
			for _, sgn := range [2]float64{1, -1} {
				q := make([]float64, r)
				for i := range q {
					q[i] = sgn * p[i]
				}
				key := make([]byte, m)
				margin := 1.0
				var through []int
				for k := range rows {
					dots[k] = dot(rows[k], q)
					switch {
					case math.Abs(dots[k]) <= enumOnPlane:
						key[k] = '0'
						through = append(through, k)
					case dots[k] > 0:
						key[k] = '+'
						margin = math.Min(margin, dots[k])
					default:
						key[k] = '-'
						margin = math.Min(margin, -dots[k])
					}
				}
				if _, dup := vertices[string(key)]; dup {
					continue
				}
				vertices[string(key)] = struct{}{}
				// Cells around q: the arrangement of the rows through q in q⊥.
				tangent := completion([][]float64{q}, r) // r−1 unit vectors
				subRows := make([][]float64, len(through))
				for j, k := range through {
					b := make([]float64, r-1)
					for i, t := range tangent {
						b[i] = dot(rows[k], t)
					}
					scal(1/norm2(b), b)
					subRows[j] = b
				}
				eps := margin / 2 // |aₖᵀ(T t)| ≤ 1 cannot flip a sign of size ≥ margin
				for _, t := range cellPoints(subRows, r-1) {
					scal(1/norm2(t), t)
					h := append([]float64(nil), q...)
					for i, tv := range tangent {
						axpy(eps*t[i], tv, h)
					}
					scal(1/norm2(h), h)
					ck := make([]byte, m)
					for k := range rows {
						if dot(rows[k], h) >= 0 {
							ck[k] = '+'
						} else {
							ck[k] = '-'
						}
					}
					if _, dup := cells[string(ck)]; dup {
						continue
					}
					cells[string(ck)] = struct{}{}
					out = append(out, h)
				}
			}
		}
		// Next (r−1)-subset in lexicographic order.
		i := r - 2
		for i >= 0 && sub[i] == m-(r-1)+i {
			i--
		}
		if i < 0 {
			break
		}
		sub[i]++
		for j := i + 1; j < r-1; j++ {
			sub[j] = sub[j-1] + 1
		}
	}
	return out
}

// orthogonalize returns the unit component of v orthogonal to the orthonormal basis,
// or nil if v lies in its span (up to enumOnPlane). Gram–Schmidt is applied twice.
func orthogonalize(v []float64, basis [][]float64) []float64 {
	w := append([]float64(nil), v...)
	for range 2 {
		for _, b := range basis {
			axpy(-dot(w, b), b, w)
		}
	}
	nw := norm2(w)
	if nw <= enumOnPlane*math.Max(1, norm2(v)) {
		return nil
	}
	scal(1/nw, w)
	return w
}

// completion returns r − len(basis) orthonormal vectors completing the orthonormal
// basis to a basis of ℝʳ.
func completion(basis [][]float64, r int) [][]float64 {
	all := append([][]float64(nil), basis...)
	var out [][]float64
	for len(all) < r {
		// The coordinate vector with the largest residual is the most stable choice.
		var best []float64
		bestNorm := -1.0
		for i := 0; i < r; i++ {
			e := make([]float64, r)
			e[i] = 1
			for range 2 {
				for _, b := range all {
					axpy(-dot(e, b), b, e)
				}
			}
			if ne := norm2(e); ne > bestNorm {
				best, bestNorm = e, ne
			}
		}
		scal(1/bestNorm, best)
		all = append(all, best)
		out = append(out, best)
	}
	return out
}

// binomial returns C(n, k) as a float64.
func binomial(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	c := 1.0
	for i := 0; i < k; i++ {
		c = c * float64(n-i) / float64(i+1)
	}
	return c
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func norm2(a []float64) float64 { return math.Sqrt(dot(a, a)) }

func scal(alpha float64, a []float64) {
	for i := range a {
		a[i] *= alpha
	}
}

func axpy(alpha float64, x, y []float64) {
	for i, v := range x {
		y[i] += alpha * v
	}
}
