// Package solver trains two-layer ReLU networks to global optimality through their
// convex reformulation over hyperplane arrangements (Pilanci and Ergen 2020), with the
// ADMM and sampled-convex-program algorithms of Bai, Gautam and Sojoudi (2023), convex
// adversarial training, and the non-convex baselines they are compared with.
package solver
