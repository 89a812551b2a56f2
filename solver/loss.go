package solver

import (
	"fmt"
	"math"
)

// Loss is a convex loss ℓ(ŷ, y) of the predictions ŷ = f(X) against targets y.
type Loss int

const (
	// Squared is ℓ(ŷ, y) = ½‖ŷ − y‖₂², for regression (any real targets).
	Squared Loss = iota
	// Hinge is ℓ(ŷ, y) = Σₖ (1 − yₖŷₖ)₊, for labels in {−1, +1}.
	Hinge
	// Logistic is ℓ(ŷ, y) = Σₖ log(1 + exp(−yₖŷₖ)), for labels in {−1, +1}.
	Logistic
)

func (l Loss) String() string {
	switch l {
	case Squared:
		return "squared"
	case Hinge:
		return "hinge"
	case Logistic:
		return "logistic"
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// Classification reports whether the loss takes labels in {−1, +1}.
func (l Loss) Classification() bool { return l == Hinge || l == Logistic }

// Value returns ℓ(ŷ, y).
func (l Loss) Value(yhat, y []float64) float64 {
	s := 0.0
	for k, p := range yhat {
		s += l.point(p, y[k])
	}
	return s
}

// point returns ℓ(ŷ, y) for one point.
func (l Loss) point(yhat, y float64) float64 {
	switch l {
	case Squared:
		r := yhat - y
		return 0.5 * r * r
	case Hinge:
		return math.Max(0, 1-y*yhat)
	case Logistic:
		return softplus(-y * yhat)
	}
	panic("solver: unknown loss")
}

// derivative returns ∂ℓ/∂ŷ for one point, taking 0 at the hinge's kink.
func (l Loss) derivative(yhat, y float64) float64 {
	switch l {
	case Squared:
		return yhat - y
	case Hinge:
		if y*yhat < 1 {
			return -y
		}
		return 0
	case Logistic:
		return -y * sigmoid(-y*yhat)
	}
	panic("solver: unknown loss")
}

// softplus returns log(1 + eᶻ) without overflow for large z.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

// The loss enters the solvers through a few elementwise operations on the
// predictions: its value and gradient (FISTA, the baselines), its convex conjugate
// (dual certificates), its proximal map (ADMM's z-step), the projection onto the
// conjugate's domain, and the worst case over a ball (adversarial training); and
// through per-loss constants of the methods.

// quadratic reports whether ℓ is the squared loss, which ADMM keeps in its u-step
// (the others enter through the split z = Fu and their proximal maps).
func (l Loss) quadratic() bool { return l == Squared }

// smooth reports whether ℓ is differentiable (FISTA needs a smoothing of the others).
func (l Loss) smooth() bool { return l != Hinge }

// smoothingStart is FISTA's initial Huber width μ for ℓ: the margin itself for the
// hinge loss, zero (no smoothing) for the smooth losses.
func (l Loss) smoothingStart() float64 {
	if l == Hinge {
		return hingeSmoothStart
	}
	return 0
}

// rhoFloor reports whether ADMM's residual balancing keeps ρ at or above its default
// for ℓ (see balance): the hinge loss, whose defaults were tuned with increases only.
func (l Loss) rhoFloor() bool { return l == Hinge }

// interiorBudget is the estimated work of a whole InteriorPoint solve, in
// floating-point operations (see ipmEstimate), up to which Auto gives it programs
// of ℓ (see Auto for the measurement): beyond it ADMM was faster at both a small and
// a large β (logistic), or InteriorPoint would need minutes (squared, hinge).
func (l Loss) interiorBudget() float64 {
	switch l {
	case Squared:
		return 1e11
	case Hinge:
		return 3e11
	}
	return 3.5e10
}

// admmParameters are ADMM's ρ and σ² relative to the balance point
// base = tr(I ⊗ B)/tr(FᵀF) of the u-step: ρ = rho/base, σ² = sigma·base.
type admmParameters struct{ rho, sigma float64 }

// admmDefaults returns ADMM's per-loss parameters, for the cone form or the slack
// form. They were measured on the golden instances (n = 20…100, d ≤ 6) and
// benchmark-like ones (n = 100…1000, d = 5…30): the best fixed ρ for the squared loss
// lies 1–30 times below the balance point, and 0.3 with residual balancing and
// Anderson acceleration certified 1e-6 in 110–220 iterations on all of them; the hinge
// loss (a polyhedral, LP-like program) wants the prediction split weighted more.
func (l Loss) admmDefaults(slack bool) admmParameters {
	switch {
	case l == Squared && slack:
		return admmParameters{rho: 0.5}
	case l == Squared:
		return admmParameters{rho: 0.3}
	case l == Logistic && slack:
		return admmParameters{rho: 0.125, sigma: 1}
	case l == Logistic:
		return admmParameters{rho: 0.075, sigma: 1}
	case slack:
		return admmParameters{rho: 0.5, sigma: 1}
	}
	return admmParameters{rho: 0.01, sigma: 10}
}

// adversarialRho is Adversarial's ρ₀ for ℓ, measured on the golden instances
// (n = 20…40, ε up to 0.2) with fixed ρ: the squared and logistic losses converge
// fastest near 0.1 and 0.03, the hinge loss (a polyhedral, LP-like program) near
// 0.01, as for ADMM.
func (l Loss) adversarialRho() float64 {
	switch l {
	case Squared:
		return 0.1
	case Logistic:
		return 0.03
	}
	return 0.01
}

// gradient writes ∇ℓ(ŷ) into g and returns ℓ(ŷ). For the hinge loss, which is not
// differentiable, mu > 0 selects the Huber smoothing
//
//	h_μ(t) = 1 − t − μ/2 (t ≤ 1 − μ),  (1 − t)²/(2μ) (1 − μ < t < 1),  0 (t ≥ 1),
//
// of (1 − t)₊ at t = yₖŷₖ, within μ/2 of it; mu = 0 gives a subgradient.
func (l Loss) gradient(yhat, y, g []float64, mu float64) float64 {
	s := 0.0
	for k, p := range yhat {
		switch l {
		case Squared:
			r := p - y[k]
			g[k] = r
			s += 0.5 * r * r
		case Hinge:
			t := y[k] * p
			switch {
			case t >= 1:
				g[k] = 0
			case mu > 0 && t > 1-mu:
				g[k] = -y[k] * (1 - t) / mu
				s += (1 - t) * (1 - t) / (2 * mu)
			default:
				g[k] = -y[k]
				s += 1 - t - mu/2
			}
		case Logistic:
			z := -y[k] * p
			g[k] = -y[k] * sigmoid(z)
			s += softplus(z)
		}
	}
	return s
}

// curvatures writes ℓ”(ŷₖ) into h: 1 for the squared loss, σ(1 − σ) at −yₖŷₖ for
// the logistic loss, 0 for the hinge loss (almost everywhere).
func (l Loss) curvatures(yhat, y, h []float64) {
	for k, p := range yhat {
		switch l {
		case Squared:
			h[k] = 1
		case Logistic:
			s := sigmoid(-y[k] * p)
			h[k] = s * (1 - s)
		default:
			h[k] = 0
		}
	}
}

// sigmoid returns 1/(1 + e⁻ᶻ) without overflow.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// curvature returns an upper bound on ℓ” per entry (the Lipschitz constant of the
// gradient), for the smoothing mu of the hinge loss.
func (l Loss) curvature(mu float64) float64 {
	switch l {
	case Squared:
		return 1
	case Logistic:
		return 0.25
	}
	return 1 / mu
}

// clipDual projects η onto the domain of ℓ*: yₖηₖ ∈ [−1, 0] for the hinge and
// logistic losses (every η for the squared loss).
func (l Loss) clipDual(eta, y []float64) {
	if l == Squared {
		return
	}
	for k, e := range eta {
		t := math.Min(0, math.Max(-1, y[k]*e))
		eta[k] = y[k] * t
	}
}

// negConjugate returns −ℓ*(η), the dual objective of η, or −Inf when η is outside the
// domain of ℓ*:
//
//	squared:  −ℓ*(η) = −½‖η‖² − ηᵀy
//	hinge:    −ℓ*(η) = −Σ yₖηₖ,                          yₖηₖ ∈ [−1, 0]
//	logistic: −ℓ*(η) = −Σ [aₖ log aₖ + (1−aₖ) log(1−aₖ)],  aₖ = −yₖηₖ ∈ [0, 1]
func (l Loss) negConjugate(eta, y []float64) float64 {
	s := 0.0
	for k, e := range eta {
		switch l {
		case Squared:
			s -= 0.5*e*e + e*y[k]
		case Hinge:
			t := y[k] * e
			if t < -1 || t > 0 {
				return math.Inf(-1)
			}
			s -= t
		case Logistic:
			a := -y[k] * e
			if a < 0 || a > 1 {
				return math.Inf(-1)
			}
			s -= xlogx(a) + xlogx(1-a)
		}
	}
	return s
}

func xlogx(a float64) float64 {
	if a <= 0 {
		return 0
	}
	return a * math.Log(a)
}

// prox sets z = argmin ℓ(z) + (ρ/2)‖z − a‖², entry by entry.
func (l Loss) prox(a, y []float64, rho float64, z []float64) {
	for k, ak := range a {
		switch l {
		case Squared:
			z[k] = (y[k] + rho*ak) / (1 + rho)
		case Hinge:
			// In t = yz, b = ya: argmin (1 − t)₊ + (ρ/2)(t − b)².
			b := y[k] * ak
			var t float64
			switch {
			case b >= 1:
				t = b
			case b <= 1-1/rho:
				t = b + 1/rho
			default:
				t = 1
			}
			z[k] = y[k] * t
		case Logistic:
			z[k] = y[k] * logisticProx(y[k]*ak, rho)
		}
	}
}

// logisticProx returns argmin_t log(1 + e⁻ᵗ) + (ρ/2)(t − b)². The minimizer solves
// φ(t) = ρ(t − b) − σ(−t) = 0, where φ increases, and lies in [b, b + 1/ρ] and also
// below max(b, 0) + ln(1 + 1/ρ) (there σ(−t) ≤ e⁻ᵗ ≤ ρ/(1 + ρ) ≤ ρ(t − b), since
// ln(1 + x) ≥ x/(1 + x)); the second bound keeps the bracket a few hundred wide when ρ
// is tiny, where b + 1/ρ is astronomically far (or infinite). Newton's method is
// safeguarded by bisection on the bracket.
func logisticProx(b, rho float64) float64 {
	lo := b
	hi := math.Min(b+1/rho, math.Max(b, 0)+math.Log1p(rho)-math.Log(rho))
	t := b + 0.5/rho
	if !(t > lo && t < hi) {
		t = lo + (hi-lo)/2
	}
	for range 60 {
		s := sigmoid(-t)
		phi := rho*(t-b) - s
		if phi > 0 {
			hi = t
		} else {
			lo = t
		}
		if math.Abs(phi) <= 1e-15*(1+rho*math.Abs(t)) || hi-lo <= 1e-15*(1+math.Abs(t)) {
			break
		}
		next := t - phi/(rho+s*(1-s))
		if !(next > lo && next < hi) {
			next = (lo + hi) / 2
		}
		t = next
	}
	return t
}

// worstLoss returns the worst case of the loss over the l∞ ball of a linear model,
//
//	max_{‖δ_S‖∞ ≤ ε, δ_{S^c} = 0} ℓ((x + δ)ᵀa, y)
//
// given z = xᵀa and t = ε‖a‖₁,S. Because max_δ δᵀa = t and min_δ δᵀa = −t, the
// prediction ranges over [z − t, z + t]; a loss convex in the prediction is largest
// at an end:
//
//	hinge:    (1 − yz + t)₊
//	squared:  ½(|z − y| + t)²
//	logistic: log(1 + exp(−yz + t))
//
// (½ as in the package's squared loss ½‖ŷ − y‖²).
func (l Loss) worstLoss(z, t, y float64) float64 {
	switch l {
	case Hinge:
		return math.Max(0, 1-y*z+t)
	case Squared:
		r := math.Abs(z-y) + t
		return 0.5 * r * r
	case Logistic:
		return softplus(-y*z + t)
	}
	panic("solver: unknown loss")
}

// robustProx is the proximal map of a worst-case loss in the model's weights (see
// robustProxProblem in robust.go for the derivation).
func (l Loss) robustProx(x, b0 []float64, y, eps float64, dS int, rho float64, b, scratch []float64) (c, r float64) {
	rp := robustProxProblem{x: x, b0: b0, b: b, eps: eps, dS: dS}
	switch l {
	case Hinge, Logistic:
		return rp.margin(y, rho, l == Hinge)
	case Squared:
		return rp.squared(y, rho, scratch)
	}
	panic("solver: unknown loss")
}

// robustDualTerm returns the dual objective's term −φ*(η) bound of one point of the
// adversarial program, for the decomposition of its multiplier into c and r (see
// Adversarial's certificate): −(½r² + cy) for the squared loss, −ℓ*(c) for the others.
func (l Loss) robustDualTerm(c, r, y float64) float64 {
	switch l {
	case Squared:
		return -(0.5*r*r + c*y)
	case Hinge:
		return -y * c
	case Logistic:
		s := -y * c
		return -(xlogx(s) + xlogx(1-s))
	}
	panic("solver: unknown loss")
}

// attack returns the attack objective of one prediction f (see Attack) and its
// derivative in f: ½(f − y)² for the squared loss, the negative margin −yf for the
// classification losses.
func (l Loss) attack(f, y float64) (value, slope float64) {
	if l == Squared {
		return 0.5 * (f - y) * (f - y), f - y
	}
	return -y * f, -y
}

// rayDual maximizes the dual objective on the ray of a candidate η (in the domain of
// ℓ*): it returns the s ∈ [0, sMax] maximizing φ(s) = −ℓ*(sη), and φ(s). φ is
// concave (ℓ* is convex) and φ(0) = −ℓ*(0) = 0. The dual's cone constraints are
// positively homogeneous, so when η's worst constraint is w, every s ≤ sMax = β/w is
// feasible for them; the domain of ℓ* is star-shaped about 0 and bounds s too:
//
//	squared:  dom ℓ* = ℝⁿ;  φ(s) = −½s²‖η‖² − s ηᵀy, maximized at s = −ηᵀy/‖η‖²
//	          (clipped to [0, sMax]).
//	hinge:    yₖsηₖ ∈ [−1, 0] for s ≤ 1/maxₖ|ηₖ|;  φ(s) = s·Σₖ bₖ with bₖ = −yₖηₖ ≥ 0,
//	          linear: the largest feasible s.
//	logistic: aₖ = sbₖ ∈ [0, 1] for s ≤ 1/maxₖ bₖ;  φ(s) = Σₖ H(sbₖ) with the binary
//	          entropy H(a) = −a log a − (1−a) log(1−a), φ′(s) = Σₖ bₖ log((1−sbₖ)/(sbₖ))
//	          decreasing from +∞ at 0: the root of φ′ in (0, sMax), or sMax when φ′ > 0
//	          there, found by safeguarded Newton steps (φ″(s) = −Σₖ bₖ/(s(1−sbₖ))),
//	          each O(n).
//
// sMax may be +Inf (all constraints inactive); the result is finite whenever η ≠ 0.
// With φ ≡ 0 on the ray (η = 0) it returns s = min(1, sMax) and φ = 0.
func (l Loss) rayDual(eta, y []float64, sMax float64) (s, value float64) {
	switch l {
	case Squared:
		ee, ey := 0.0, 0.0
		for k, e := range eta {
			ee += e * e
			ey += e * y[k]
		}
		if ee == 0 {
			return math.Min(1, sMax), 0
		}
		s = math.Min(math.Max(-ey/ee, 0), sMax)
		return s, -0.5*s*s*ee - s*ey
	case Hinge, Logistic:
		sum, top := 0.0, 0.0
		for k, e := range eta {
			b := -y[k] * e
			sum += b
			top = math.Max(top, b)
		}
		if top == 0 {
			return math.Min(1, sMax), 0
		}
		sMax = math.Min(sMax, 1/top)
		if l == Hinge {
			return sMax, sMax * sum
		}
		s = logisticRay(eta, y, sMax)
		value = 0
		for k, e := range eta {
			a := -y[k] * e * s
			value -= xlogx(a) + xlogx(1-a)
		}
		return s, value
	}
	panic("solver: unknown loss")
}

// logisticRayIterations bounds the Newton steps of logisticRay: from the bracket's
// midpoint the safeguarded iteration reaches machine precision in well under 30
// steps; a cut-short search still returns a feasible s (only a lower bound less
// tight).
const logisticRayIterations = 50

// logisticRay returns the maximizer over [0, sMax] of φ(s) = Σₖ H(sbₖ), bₖ = −yₖηₖ ∈
// [0, 1] (see rayDual), sMax ≤ 1/maxₖ bₖ: Newton steps on φ′ kept inside a bracket
// [lo, hi] with φ′(lo) > 0 ≥ φ′(hi), bisecting when a step leaves it.
func logisticRay(eta, y []float64, sMax float64) float64 {
	deriv := func(s float64) (g, h float64) {
		for k, e := range eta {
			b := -y[k] * e
			if b <= 0 {
				continue
			}
			a := s * b
			if a >= 1 {
				return math.Inf(-1), math.Inf(-1)
			}
			g += b * math.Log((1-a)/a)
			h -= b / (s * (1 - a))
		}
		return g, h
	}
	if g, _ := deriv(sMax); g >= 0 {
		return sMax
	}
	lo, hi := 0.0, sMax
	s := 0.5 * sMax
	for it := 0; it < logisticRayIterations && hi-lo > 1e-12*hi; it++ {
		g, h := deriv(s)
		if g > 0 {
			lo = s
		} else {
			hi = s
		}
		if g == 0 {
			break
		}
		next := s - g/h
		if !(next > lo && next < hi) {
			next = 0.5 * (lo + hi)
		}
		s = next
	}
	return s
}
