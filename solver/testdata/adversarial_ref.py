#!/usr/bin/python3
"""Reference optima of the robust convex program (MATH.md §7) from cvxopt's
interior-point methods, for the tests of solver.Adversarial.

The program, stated here independently of the Go code: with patterns d_i ∈ {0,1}ⁿ,
sᵢₖ = 2dᵢₖ − 1, the perturbed coordinates S (all columns, or all but the last when
"bias" is true) and aₖ = Σᵢ dᵢₖ (vᵢ − wᵢ),

  minimize   Σₖ Lₖ(xₖᵀaₖ, ε‖aₖ,S‖₁) + β Σᵢ (‖vᵢ‖₂ + ‖wᵢ‖₂)
  subject to sᵢₖ xₖᵀvᵢ ≥ ε‖vᵢ,S‖₁,  sᵢₖ xₖᵀwᵢ ≥ ε‖wᵢ,S‖₁   for all i, k

where Lₖ(z, t) is the worst case of the loss over the l∞ ball:
  hinge     (1 − yₖz + t)₊
  squared   ½(|z − yₖ| + t)²
  logistic  log(1 + exp(−yₖz + t))

In cvxopt's cone form the l1 norms become extra variables e ≥ |u| (one per
perturbed coordinate of every block) and f ≥ |aₖ| (one per perturbed coordinate of
every point), the 2-norms second-order cones ‖uⱼ‖ ≤ tⱼ, and

  hinge     ξₖ ≥ 0, ξₖ ≥ 1 − yₖxₖᵀaₖ + εΣ_c fₖc           (conelp, minimize Σξ + βΣt)
  squared   rₖ ≥ ±(xₖᵀaₖ − yₖ) + εΣ_c fₖc                 (coneqp, minimize ½Σr² + βΣt)
  logistic  minimize Σ softplus(−yₖxₖᵀaₖ + εΣ_c fₖc) + βΣt  (cp)

Usage:
  adversarial_ref.py solve < instance.json   > result.json
  adversarial_ref.py generate DIR            regenerate the golden instances in DIR

An instance is JSON: {"program": "robust", "loss", "beta", "epsilon", "bias", "X",
"y", "patterns": ["0110…", …], "generators"}. "solve" prints {"objective", "status",
"seconds", "iterations", "cone_violation"}; the objective is evaluated from the
returned (v, w) with the closed form above, not taken from the solver's report.
"""

import json
import sys
import time

import numpy as np
from cvxopt import matrix, solvers, spmatrix

TIGHT = dict(abstol=1e-9, reltol=1e-9, feastol=1e-9, maxiters=200, refinement=2, show_progress=False)


def softplus(z):
    return np.logaddexp(0.0, z)


def worst_loss(loss, z, t, y):
    if loss == "hinge":
        return np.maximum(0.0, 1.0 - y * z + t)
    if loss == "squared":
        return 0.5 * (np.abs(z - y) + t) ** 2
    if loss == "logistic":
        return softplus(-y * z + t)
    raise ValueError(loss)


def robust_objective(inst, u):
    """The robust objective and the robust-cone violation of u (2P×d rows)."""
    X = np.array(inst["X"], dtype=float)
    y = np.array(inst["y"], dtype=float)
    n, d = X.shape
    dS = d - 1 if inst.get("bias") else d
    eps, beta = float(inst["epsilon"]), float(inst["beta"])
    D = np.array([[c == "1" for c in p] for p in inst["patterns"]], dtype=float)
    P = D.shape[0]
    V, W = u[:P], u[P:]
    A = D.T @ (V - W)  # n×d, row k is aₖ
    z = np.sum(X * A, axis=1)
    t = eps * np.sum(np.abs(A[:, :dS]), axis=1)
    obj = float(np.sum(worst_loss(inst["loss"], z, t, y))) + beta * float(np.sum(np.linalg.norm(u, axis=1)))
    S = 2 * D - 1
    viol = 0.0
    for j in range(2 * P):
        i = j % P
        margin = S[i] * (X @ u[j]) - eps * np.sum(np.abs(u[j, :dS]))
        viol = max(viol, float(-np.min(margin)))
    return obj, viol


def solve(inst):
    X = np.array(inst["X"], dtype=float)
    y = np.array(inst["y"], dtype=float)
    n, d = X.shape
    dS = d - 1 if inst.get("bias") else d
    eps, beta, loss = float(inst["epsilon"]), float(inst["beta"]), inst["loss"]
    D = np.array([[c == "1" for c in p] for p in inst["patterns"]], dtype=float)
    P = D.shape[0]
    J = 2 * P
    # Variable layout.
    nu = J * d
    o_t = nu
    o_e = o_t + J
    o_f = o_e + J * dS
    o_x = o_f + n * dS  # loss variables: ξ (hinge) or r (squared)
    nx = o_x + (n if loss in ("hinge", "squared") else 0)

    def ucol(j, c):
        return j * d + c

    # a_k = Σᵢ dᵢₖ (u_i − u_{P+i}) as a linear map: coefficient lists per (k, c).
    def acoef(k, c):
        out = []
        for i in range(P):
            if D[i, k]:
                out.append((ucol(i, c), 1.0))
                out.append((ucol(P + i, c), -1.0))
        return out

    Gr, Gc, Gv, h = [], [], [], []
    row = [0]

    def add(coefs, rhs):
        for col, val in coefs:
            Gr.append(row[0])
            Gc.append(col)
            Gv.append(val)
        h.append(rhs)
        row[0] += 1

    # |u_jc| ≤ e_jc.
    for j in range(J):
        for c in range(dS):
            add([(ucol(j, c), 1.0), (o_e + j * dS + c, -1.0)], 0.0)
            add([(ucol(j, c), -1.0), (o_e + j * dS + c, -1.0)], 0.0)
    # Robust cones: −sᵢₖ xₖᵀuⱼ + ε Σ_c e_jc ≤ 0.
    for j in range(J):
        i = j % P
        s = 2 * D[i] - 1
        for k in range(n):
            coefs = [(ucol(j, c), -s[k] * X[k, c]) for c in range(d) if X[k, c] != 0.0]
            coefs += [(o_e + j * dS + c, eps) for c in range(dS)]
            add(coefs, 0.0)
    # |a_kc| ≤ f_kc.
    for k in range(n):
        for c in range(dS):
            ac = acoef(k, c)
            add(ac + [(o_f + k * dS + c, -1.0)], 0.0)
            add([(col, -v) for col, v in ac] + [(o_f + k * dS + c, -1.0)], 0.0)

    def zcoef(k, scale):
        """scale · xₖᵀaₖ as coefficients."""
        out = []
        for c in range(d):
            if X[k, c] != 0.0:
                out += [(col, scale * X[k, c] * v) for col, v in acoef(k, c)]
        return out

    fsum = lambda k, scale: [(o_f + k * dS + c, scale * eps) for c in range(dS)]
    if loss == "hinge":
        for k in range(n):  # −ξₖ ≤ 0
            add([(o_x + k, -1.0)], 0.0)
        for k in range(n):  # 1 − yₖzₖ + εΣf − ξₖ ≤ 0
            add(zcoef(k, -y[k]) + fsum(k, 1.0) + [(o_x + k, -1.0)], -1.0)
    elif loss == "squared":
        for k in range(n):  # ±(zₖ − yₖ) + εΣf − rₖ ≤ 0
            add(zcoef(k, 1.0) + fsum(k, 1.0) + [(o_x + k, -1.0)], y[k])
            add(zcoef(k, -1.0) + fsum(k, 1.0) + [(o_x + k, -1.0)], -y[k])
    ml = row[0]
    # Second-order cones ‖uⱼ‖ ≤ tⱼ.
    for j in range(J):
        add([(o_t + j, -1.0)], 0.0)
        for c in range(d):
            add([(ucol(j, c), -1.0)], 0.0)
    G = spmatrix(Gv, Gr, Gc, (row[0], nx))
    hm = matrix(h, (row[0], 1))
    dims = {"l": ml, "q": [d + 1] * J, "s": []}
    q = np.zeros(nx)
    q[o_t:o_t + J] = beta
    start = time.perf_counter()
    if loss == "hinge":
        q[o_x:o_x + n] = 1.0
        sol = solvers.conelp(matrix(q), G, hm, dims, options=TIGHT)
    elif loss == "squared":
        Pm = spmatrix(1.0, range(o_x, o_x + n), range(o_x, o_x + n), (nx, nx))
        sol = solvers.coneqp(Pm, matrix(q), G, hm, dims, options=TIGHT)
    elif loss == "logistic":
        # sₖ = −yₖzₖ + εΣ_c fₖc = (L x)ₖ.
        L = np.zeros((n, nx))
        for k in range(n):
            for col, v in zcoef(k, -y[k]) + fsum(k, 1.0):
                L[k, col] += v

        def F(x=None, z=None):
            if x is None:
                return 0, matrix(0.0, (nx, 1))
            xv = np.array(x).ravel()
            s = L @ xv
            f = float(np.sum(softplus(s))) + float(q @ xv)
            sig = 1.0 / (1.0 + np.exp(-s))
            Df = matrix(L.T @ sig + q, (1, nx))
            if z is None:
                return f, Df
            Hm = L.T @ ((sig * (1 - sig))[:, None] * L) * z[0]
            return f, Df, matrix(Hm)

        sol = solvers.cp(F, G, hm, dims, options=TIGHT)
    else:
        raise ValueError(loss)
    seconds = time.perf_counter() - start
    xv = np.array(sol["x"]).ravel()
    u = xv[:nu].reshape(J, d)
    obj, viol = robust_objective(inst, u)
    return {"objective": obj, "status": sol["status"], "seconds": seconds,
            "iterations": int(sol.get("iterations", 0)), "cone_violation": viol}


def sample_patterns(X, count, rng):
    """Distinct patterns 1[Xh ≥ 0] of Gaussian directions, in order of appearance."""
    seen, pats, dirs = set(), [], []
    tries = 0
    while len(pats) < count and tries < 100 * count:
        tries += 1
        h = rng.standard_normal(X.shape[1])
        p = "".join("1" if v >= 0 else "0" for v in X @ h)
        if p not in seen:
            seen.add(p)
            pats.append(p)
            dirs.append(h.tolist())
    return pats, dirs


def make_instance(loss, n, d, P, beta, eps, seed):
    """n points of d − 1 Gaussian features and a bias column; labels (or targets) from
    a random 5-neuron network plus noise."""
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.standard_normal((n, d - 1)), np.ones((n, 1))])
    f = np.maximum(X @ rng.standard_normal((d, 5)), 0) @ rng.standard_normal(5)
    if loss == "squared":
        y = f + 0.1 * rng.standard_normal(n)
    else:
        y = np.where(f + 0.3 * rng.standard_normal(n) >= np.median(f), 1.0, -1.0)
    inst = {"program": "robust", "loss": loss, "beta": beta, "epsilon": eps, "bias": True, "seed": seed,
            "X": X.round(6).tolist(), "y": y.round(6).tolist()}
    pats, dirs = sample_patterns(np.array(inst["X"]), P, rng)
    inst["patterns"], inst["generators"] = pats, dirs
    return inst


# The golden set: every loss at two sizes and two radii; β and ε chosen so that some
# but not all blocks are active and some robust cones are tight.
GOLDEN = [(20, 3, 6, 0.1, 0.1), (20, 3, 6, 0.1, 0.2), (40, 4, 10, 0.05, 0.05)]


def generate(outdir):
    seed = 100
    for n, d, P, beta, eps in GOLDEN:
        for loss in ("squared", "hinge", "logistic"):
            seed += 1
            inst = make_instance(loss, n, d, P, beta, eps, seed)
            inst["reference"] = solve(inst)
            name = f"{outdir}/robust_{loss}_n{n}_d{d}_P{P}_eps{eps}.json"
            with open(name, "w") as fh:
                json.dump(inst, fh, separators=(",", ":"))
                fh.write("\n")
            r = inst["reference"]
            print(name, r["objective"], r["status"], f"viol {r['cone_violation']:.1e}", f"{r['seconds']:.2f}s",
                  file=sys.stderr)


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "solve":
        inst = json.load(sys.stdin)
        json.dump(solve(inst), sys.stdout)
        sys.stdout.write("\n")
    elif len(sys.argv) == 3 and sys.argv[1] == "generate":
        generate(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
