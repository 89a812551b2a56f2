package solver

import "math"

// The loss enters the solvers through four elementwise operations on the predictions:
// its gradient (FISTA), its convex conjugate (dual certificates), its proximal map
// (ADMM's z-step) and the projection onto the conjugate's domain.

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
