package solver

import (
	"errors"
	"math"
)

// The cone K = ℝ₊^ml × Q × … × Q of the interior-point method: ml linear rows, then
// nq second-order cones Q = {(t, x) ∈ ℝ × ℝ^(q−1) : t ≥ ‖x‖} of equal dimension q,
// stored one after another. Its algebra (Vandenberghe, "The CVXOPT linear and
// quadratic cone program solvers", 2010, §§2–4; Nesterov and Todd 1997):
//
//   - the Jordan product x∘y is elementwise on ℝ₊^ml and (xᵀy, x₀y₁ + y₀x₁) on Q, with
//     identity e (ones; (1, 0)); the degree of K is ml + nq;
//   - the Nesterov–Todd scaling of a pair s, z ∈ int K is the symmetric W with
//     W⁻¹s = Wz = λ: on ℝ₊ the diagonal w = √(s/z), on Q the matrix W = β(2vvᵀ − J),
//     J = diag(1, −I), vᵀJv = 1, with β = (ŝ/ẑ)^½ for ŝ = √(sᵀJs), ẑ = √(zᵀJz) and
//     v = (w̄ + e)/√(2(w̄₀ + 1)), w̄ = (s/ŝ + Jz/ẑ)/(2γ), γ² = (1 + sᵀz/(ŝẑ))/2. Then
//     W⁻¹ = (1/β)(2Jv vᵀJ − J).
type cone struct {
	ml, nq, q int

	w    []float64 // ml: the linear rows' scaling √(s/z)
	beta []float64 // nq
	v    []float64 // nq×q
	lam  []float64 // λ = Wz, ml + nq·q
}

func newCone(ml, nq, q int) *cone {
	return &cone{ml: ml, nq: nq, q: q, w: make([]float64, ml), beta: make([]float64, nq),
		v: make([]float64, nq*q), lam: make([]float64, ml+nq*q)}
}

// size returns the length of a vector of the cone's space.
func (c *cone) size() int { return c.ml + c.nq*c.q }

// degree returns the degree of K (sᵀz/degree is the duality measure μ).
func (c *cone) degree() float64 { return float64(c.ml + c.nq) }

// jdet returns √(xᵀJx) for x ∈ Q, computed as √((x₀ − ‖x₁‖)(x₀ + ‖x₁‖)), and false
// when x is not in the interior of Q.
func jdet(x []float64) (float64, bool) {
	r := norm2(x[1:])
	if !(x[0]-r > 0) {
		return 0, false
	}
	return math.Sqrt((x[0] - r) * (x[0] + r)), true
}

// scale computes the Nesterov–Todd scaling of s, z and λ = Wz; an error means that s
// or z has left the interior of K.
func (c *cone) scale(s, z []float64) error {
	for i := 0; i < c.ml; i++ {
		if !(s[i] > 0 && z[i] > 0) || math.IsInf(s[i], 0) || math.IsInf(z[i], 0) {
			return errors.New("a slack or multiplier left the cone")
		}
		c.w[i] = math.Sqrt(s[i] / z[i])
		c.lam[i] = math.Sqrt(s[i] * z[i])
	}
	q := c.q
	for j := 0; j < c.nq; j++ {
		o := c.ml + j*q
		sj, zj := s[o:o+q], z[o:o+q]
		sd, ok1 := jdet(sj)
		zd, ok2 := jdet(zj)
		if !ok1 || !ok2 {
			return errors.New("a slack or multiplier left the second-order cone")
		}
		gamma := math.Sqrt((1 + dot(sj, zj)/(sd*zd)) / 2)
		v := c.v[j*q : (j+1)*q]
		w0 := (sj[0]/sd + zj[0]/zd) / (2 * gamma)
		v[0] = math.Sqrt((w0 + 1) / 2)
		for k := 1; k < q; k++ {
			v[k] = (sj[k]/sd - zj[k]/zd) / (2 * gamma) / (2 * v[0])
		}
		c.beta[j] = math.Sqrt(sd / zd)
		c.mulW(c.lam[o:o+q], zj, j, false)
	}
	return nil
}

// mulW sets dst = W x (inverse: W⁻¹x) on the second-order cone j; dst may be x.
func (c *cone) mulW(dst, x []float64, j int, inverse bool) {
	v := c.v[j*c.q : (j+1)*c.q]
	b := c.beta[j]
	if !inverse {
		// β(2v(vᵀx) − Jx)
		f := 2 * dot(v, x)
		dst[0] = b * (f*v[0] - x[0])
		for k := 1; k < len(v); k++ {
			dst[k] = b * (f*v[k] + x[k])
		}
		return
	}
	// (1/β)(2Jv(vᵀJx) − Jx)
	f := v[0] * x[0]
	for k := 1; k < len(v); k++ {
		f -= v[k] * x[k]
	}
	f *= 2
	dst[0] = (f*v[0] - x[0]) / b
	for k := 1; k < len(v); k++ {
		dst[k] = (-f*v[k] + x[k]) / b
	}
}

// scaleVec sets dst = W x (inverse: W⁻¹x) on the whole cone; dst may be x.
func (c *cone) scaleVec(dst, x []float64, inverse bool) {
	for i := 0; i < c.ml; i++ {
		if inverse {
			dst[i] = x[i] / c.w[i]
		} else {
			dst[i] = x[i] * c.w[i]
		}
	}
	for j := 0; j < c.nq; j++ {
		o := c.ml + j*c.q
		c.mulW(dst[o:o+c.q], x[o:o+c.q], j, inverse)
	}
}

// prod sets dst = x∘y (dst may be neither x nor y on the second-order cones).
func (c *cone) prod(dst, x, y []float64) {
	for i := 0; i < c.ml; i++ {
		dst[i] = x[i] * y[i]
	}
	q := c.q
	for j := 0; j < c.nq; j++ {
		o := c.ml + j*q
		xj, yj, dj := x[o:o+q], y[o:o+q], dst[o:o+q]
		dj[0] = dot(xj, yj)
		for k := 1; k < q; k++ {
			dj[k] = xj[0]*yj[k] + yj[0]*xj[k]
		}
	}
}

// div sets dst to the solution u of λ∘u = r (dst may be r). On Q, with
// δ = λ₀² − ‖λ₁‖²: u₀ = (λ₀r₀ − λ₁ᵀr₁)/δ and u₁ = (r₁ − u₀λ₁)/λ₀.
func (c *cone) div(dst, r []float64) {
	lam := c.lam
	for i := 0; i < c.ml; i++ {
		dst[i] = r[i] / lam[i]
	}
	q := c.q
	for j := 0; j < c.nq; j++ {
		o := c.ml + j*q
		l, rj, dj := lam[o:o+q], r[o:o+q], dst[o:o+q]
		det, _ := jdet(l)
		u0 := (l[0]*rj[0] - dot(l[1:], rj[1:])) / (det * det)
		dj[0] = u0
		for k := 1; k < q; k++ {
			dj[k] = (rj[k] - u0*l[k]) / l[0]
		}
	}
}

// addIdentity adds a·e to x.
func (c *cone) addIdentity(x []float64, a float64) {
	for i := 0; i < c.ml; i++ {
		x[i] += a
	}
	for j := 0; j < c.nq; j++ {
		x[c.ml+j*c.q] += a
	}
}

// minEig returns the smallest eigenvalue of x: minᵢ xᵢ on ℝ₊, x₀ − ‖x₁‖ on Q; x lies
// in the interior of K exactly when it is positive.
func (c *cone) minEig(x []float64) float64 {
	m := math.Inf(1)
	for i := 0; i < c.ml; i++ {
		if x[i] < m || x[i] != x[i] {
			m = x[i]
		}
	}
	for j := 0; j < c.nq; j++ {
		o := c.ml + j*c.q
		if e := x[o] - norm2(x[o+1:o+c.q]); e < m || e != e {
			m = e
		}
	}
	return m
}

// maxStep returns the largest α with x + αd ∈ K for x ∈ int K (+Inf when every
// α ≥ 0 qualifies). On Q it is the first positive root of
// ‖x₁ + αd₁‖² = (x₀ + αd₀)², computed without cancellation.
func (c *cone) maxStep(x, d []float64) float64 {
	alpha := math.Inf(1)
	for i := 0; i < c.ml; i++ {
		if d[i] < 0 {
			if a := -x[i] / d[i]; a < alpha {
				alpha = a
			}
		}
	}
	q := c.q
	for j := 0; j < c.nq; j++ {
		o := c.ml + j*q
		xj, dj := x[o:o+q], d[o:o+q]
		xd, _ := jdet(xj)
		cc := xd * xd // xᵀJx > 0
		a := dj[0]*dj[0] - dot(dj[1:], dj[1:])
		b := 2 * (xj[0]*dj[0] - dot(xj[1:], dj[1:]))
		if r := firstPositiveRoot(a, b, cc); r < alpha {
			alpha = r
		}
	}
	return alpha
}

// firstPositiveRoot returns the smallest positive root of aα² + bα + c for c > 0,
// +Inf when there is none.
func firstPositiveRoot(a, b, c float64) float64 {
	if a == 0 {
		if b < 0 {
			return -c / b
		}
		return math.Inf(1)
	}
	disc := b*b - 4*a*c
	if disc < 0 {
		return math.Inf(1) // a > 0 here (a < 0 with c > 0 always has real roots)
	}
	sq := math.Sqrt(disc)
	var r1, r2 float64
	if b >= 0 {
		qq := -(b + sq) / 2
		r1, r2 = qq/a, c/qq
	} else {
		qq := (-b + sq) / 2
		r1, r2 = qq/a, c/qq
	}
	best := math.Inf(1)
	for _, r := range []float64{r1, r2} {
		if r > 0 && r < best {
			best = r
		}
	}
	return best
}
