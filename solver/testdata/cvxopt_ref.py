#!/usr/bin/python3
"""Reference optima for the solver tests, from cvxopt's interior-point methods.

States the programs of MATH.md independently of the Go code, in cvxopt's cone form:

  relu   (§3)  minimize ℓ(Σᵢ DᵢX(vᵢ − wᵢ), y) + β Σᵢ (‖vᵢ‖ + ‖wᵢ‖)
               subject to (2Dᵢ − I)X vᵢ ≥ 0, (2Dᵢ − I)X wᵢ ≥ 0
  gated  (§3)  minimize ℓ(Σᵢ DᵢX uᵢ, y) + β Σᵢ ‖uᵢ‖
  scp    (§5)  minimize ℓ(Σₕ (X hₕ)₊ αₕ, y) + β ‖α‖₁

The norms become second-order cones ‖uⱼ‖ ≤ tⱼ (and |αₕ| ≤ tₕ), the squared loss a
quadratic objective (coneqp), the hinge loss slacks ξ ≥ 0, ξₖ ≥ 1 − yₖŷₖ (conelp),
and the logistic loss a smooth objective for cvxopt's nonlinear solver cp.

Usage:
  cvxopt_ref.py solve [--reltol R] [--abstol A] [--maxiters K] < instance.json   > result.json
  cvxopt_ref.py generate DIR     regenerate the golden instances in DIR
  cvxopt_ref.py generate-small-beta DIR
                                 regenerate the small-β golden instances (β = 1e-4,
                                 1e-3) in DIR (testdata/golden/small_beta)
  cvxopt_ref.py generate-wide DIR
                                 write the instances with n < dP (n = 40, d = 6,
                                 P = 16, β = 1e-3) in DIR (testdata/golden/small_beta)
  cvxopt_ref.py reference FILE…  solve the instances in the files again and rewrite
                                 their references (after a change of tolerances)

An instance is JSON: {"program": "relu"|"gated"|"scp", "loss": "squared"|"hinge"|
"logistic", "beta": β, "X": rows, "y": targets, "patterns": ["0110…", …] (relu,
gated), "directions": rows (scp)}. "solve" prints {"objective", "status", "seconds",
"cpu_seconds", "iterations", "iteration_seconds", "gap", …}; "gap" is cvxopt's absolute duality
gap (an absolute bound holds for the program's objective too, where the squared
loss's relative one does not: cvxopt's objective lacks ½‖y‖²); the objective is evaluated from the returned
point with the formula above, not taken from the solver's report, and
iteration_seconds are the times between cvxopt's progress lines (the benchmark
extrapolates a full solve from a few timed iterations on its largest instances).
"""

import json
import sys
import time

import numpy as np
from cvxopt import matrix, solvers, spmatrix, sparse

# The references' tolerances, tried in turn until cvxopt reports "optimal". cvxopt
# stops when its gap is below abstol or its relative gap below reltol; at reltol =
# 1e-9 the squared-loss optima (coneqp) were up to 8e-8 above the optimum (a feasible
# point of the Go interior-point method lay below them), at 1e-11 they agree with the
# Go method's certified bounds. The tiny abstol keeps the relative test in charge
# when the optimum is small (≈ 3e-3 at β = 1e-4). conelp and cp do not always reach
# 1e-11 (a domain error or status "unknown"); the next settings then apply, where the
# hinge and logistic optima agreed with those at 1e-11 to 4e-10; the last are the
# settings of the first golden set.
ATTEMPTS = [dict(abstol=1e-13, reltol=1e-11), dict(abstol=1e-13, reltol=1e-9), dict(abstol=1e-9, reltol=1e-9)]
TIGHT = dict(feastol=1e-9, maxiters=200, refinement=2)


def softplus(z):
    return np.logaddexp(0.0, z)


def loss_value(loss, yhat, y):
    if loss == "squared":
        return 0.5 * float(np.sum((yhat - y) ** 2))
    if loss == "hinge":
        return float(np.sum(np.maximum(0.0, 1.0 - y * yhat)))
    if loss == "logistic":
        return float(np.sum(softplus(-y * yhat)))
    raise ValueError(loss)


def features(inst):
    """Returns the linear map from the program's weights to predictions as a dense
    n×m matrix A, the group size g of the norm (m = groups·g), and for relu the cone
    constraint rows C (ŷ = A x, penalty β Σ ‖x_group‖, constraint C x ≥ 0)."""
    X = np.array(inst["X"], dtype=float)
    n, d = X.shape
    prog = inst["program"]
    if prog == "scp":
        H = np.array(inst["directions"], dtype=float)
        H = H / np.linalg.norm(H, axis=1, keepdims=True)
        return np.maximum(X @ H.T, 0.0), 1, None
    D = np.array([[c == "1" for c in p] for p in inst["patterns"]], dtype=float)  # P×n
    P = D.shape[0]
    blocks = [D[i][:, None] * X for i in range(P)]  # DᵢX, n×d
    if prog == "gated":
        return np.hstack(blocks), d, None
    A = np.hstack(blocks + [-b for b in blocks])  # (v₁..vₚ, w₁..wₚ)
    rows, cols, vals = [], [], []
    r = 0
    for j in range(2 * P):
        i = j % P
        G = (2 * D[i] - 1)[:, None] * X  # (2Dᵢ − I)X
        for k in range(n):
            for c in range(d):
                if G[k, c] != 0.0:
                    rows.append(r + k)
                    cols.append(j * d + c)
                    vals.append(G[k, c])
        r += n
    C = (rows, cols, vals, r)
    return A, d, C


class _Clock:
    """Stands in for stdout during a solve and timestamps cvxopt's progress lines
    (one per interior-point iteration, "k: pcost dcost gap pres dres")."""

    def __init__(self):
        self.stamps, self.cpu, self.buf = [], [], ""

    def write(self, s):
        self.buf += s
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            head = line.strip().split(":")[0]
            if head.isdigit():
                self.stamps.append(time.perf_counter())
                self.cpu.append(time.process_time())

    def flush(self):
        pass


def solve(inst, reltol=None, maxiters=None, abstol=None):
    """Solves inst with cvxopt: at reltol or abstol when given (the other is then
    1e-12, resp. 1e-15), else with the first of ATTEMPTS that cvxopt reports optimal
    (the last one's result otherwise); the result's "reltol" and "abstol" say which.
    cvxopt's relative gap is relative to its own objective, which for the squared
    loss lacks the constant ½‖y‖² (so its reltol can stop far from a relative gap of
    reltol in the program's objective); abstol bounds the gap itself."""
    if reltol is not None or abstol is not None:
        tol = dict(reltol=reltol or 1e-15, abstol=abstol or 1e-12, feastol=1e-8)
        return solve_at(inst, tol, maxiters)
    res = None
    for opts in ATTEMPTS:
        stdout = sys.stdout
        try:
            res = solve_at(inst, opts, maxiters)
        except ValueError:  # cvxopt's scaling update failed in a stalled solve
            sys.stdout = stdout  # solve_at leaves its progress clock installed
            if opts is ATTEMPTS[-1]:
                raise
            continue
        if res["status"] == "optimal":
            break
    return res


def solve_at(inst, tolerances, maxiters):
    opts = dict(TIGHT)
    opts.update(tolerances)
    if maxiters is not None:
        opts["maxiters"] = maxiters
    opts["show_progress"] = True
    clock, stdout = _Clock(), sys.stdout
    sys.stdout = clock
    A, g, C = features(inst)
    y = np.array(inst["y"], dtype=float)
    beta = float(inst["beta"])
    loss = inst["loss"]
    n, m = A.shape
    groups = m // g
    # Variables: x (m), t (groups), then ξ (n) for the hinge loss.
    nx = m + groups + (n if loss == "hinge" else 0)
    # Cone rows: linear part first (cone constraints of relu, ξ ≥ 0 and the hinge
    # rows), then one second-order cone (tⱼ, xⱼ) per group.
    Gr, Gc, Gv, h = [], [], [], []
    ml = 0
    if C is not None:
        rows, cols, vals, count = C
        Gr += rows
        Gc += cols
        Gv += [-v for v in vals]
        h += [0.0] * count
        ml += count
    if loss == "hinge":
        for k in range(n):  # −ξₖ ≤ 0
            Gr.append(ml + k)
            Gc.append(m + groups + k)
            Gv.append(-1.0)
            h.append(0.0)
        ml += n
        for k in range(n):  # −ξₖ − yₖ(Ax)ₖ ≤ −1
            Gr.append(ml + k)
            Gc.append(m + groups + k)
            Gv.append(-1.0)
            for c in np.nonzero(A[k])[0]:
                Gr.append(ml + k)
                Gc.append(int(c))
                Gv.append(-y[k] * A[k, c])
            h.append(-1.0)
        ml += n
    r = ml
    for j in range(groups):
        Gr.append(r)
        Gc.append(m + j)
        Gv.append(-1.0)
        for c in range(g):
            Gr.append(r + 1 + c)
            Gc.append(j * g + c)
            Gv.append(-1.0)
        h += [0.0] * (g + 1)
        r += g + 1
    G = spmatrix(Gv, Gr, Gc, (r, nx))
    hm = matrix(h, (r, 1))
    dims = {"l": ml, "q": [g + 1] * groups, "s": []}
    q = np.zeros(nx)
    q[m:m + groups] = beta
    start, cpu_start = time.perf_counter(), time.process_time()
    if loss == "squared":
        Pm = np.zeros((nx, nx))
        Pm[:m, :m] = A.T @ A
        q[:m] = -A.T @ y
        sol = solvers.coneqp(matrix(Pm), matrix(q), G, hm, dims, options=opts)
    elif loss == "hinge":
        q[m + groups:] = 1.0
        sol = solvers.conelp(matrix(q), G, hm, dims, options=opts)
    elif loss == "logistic":
        At = matrix(A)

        def F(x=None, z=None):
            if x is None:
                return 0, matrix(0.0, (nx, 1))
            xv = np.array(x).ravel()
            yhat = A @ xv[:m]
            zz = -y * yhat
            f = float(np.sum(softplus(zz))) + beta * float(np.sum(xv[m:m + groups]))
            s = 1.0 / (1.0 + np.exp(-zz))  # σ(−yŷ)
            grad = np.zeros(nx)
            grad[:m] = A.T @ (-y * s)
            grad[m:m + groups] = beta
            Df = matrix(grad, (1, nx))
            if z is None:
                return f, Df
            w = s * (1 - s)
            Hm = np.zeros((nx, nx))
            Hm[:m, :m] = A.T @ (w[:, None] * A) * z[0]
            return f, Df, matrix(Hm)

        sol = solvers.cp(F, G, hm, dims, options=opts)
    else:
        raise ValueError(loss)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    sys.stdout = stdout
    xv = np.array(sol["x"]).ravel()
    w = xv[:m]
    norms = np.linalg.norm(w.reshape(groups, g), axis=1)
    obj = loss_value(loss, A @ w, y) + beta * float(np.sum(norms))
    viol = 0.0
    if C is not None:
        rows, cols, vals, count = C
        Cm = np.zeros((count, m))
        Cm[rows, cols] = vals
        viol = float(max(0.0, -np.min(Cm @ w)))
    stamps = [t - start for t in clock.stamps]
    cpu = [t - cpu_start for t in clock.cpu]
    return {"objective": obj, "status": sol["status"], "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "first_iteration_seconds": stamps[0] if stamps else None,
            "iteration_seconds": [b - a for a, b in zip(stamps, stamps[1:])],
            "first_iteration_cpu_seconds": cpu[0] if cpu else None,
            "iteration_cpu_seconds": [b - a for a, b in zip(cpu, cpu[1:])],
            "relative_gap": sol.get("relative gap"), "gap": sol.get("gap"),
            "primal_infeasibility": sol.get("primal infeasibility"),
            "iterations": int(sol.get("iterations", 0)), "cone_violation": viol,
            "reltol": opts["reltol"], "abstol": opts["abstol"]}


def pattern_strings(X, H):
    return ["".join("1" if v >= 0 else "0" for v in col) for col in (X @ H.T).T]


def sample_patterns(X, count, rng):
    """Distinct patterns 1[Xh ≥ 0] of Gaussian directions, in order of appearance."""
    seen, pats, dirs = set(), [], []
    while len(pats) < count:
        h = rng.standard_normal(X.shape[1])
        p = pattern_strings(X, h[None, :])[0]
        if p not in seen:
            seen.add(p)
            pats.append(p)
            dirs.append(h.tolist())
    return pats, dirs


def make_instance(program, loss, n, d, P, beta, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d - 1))
    X = np.hstack([X, np.ones((n, 1))])  # bias column
    w1 = rng.standard_normal((d, 5))
    a1 = rng.standard_normal(5)
    f = np.maximum(X @ w1, 0) @ a1
    if loss == "squared":
        y = f + 0.1 * rng.standard_normal(n)
    else:
        y = np.where(f + 0.3 * rng.standard_normal(n) >= np.median(f), 1.0, -1.0)
    inst = {"program": program, "loss": loss, "beta": beta, "seed": seed,
            "X": X.round(6).tolist(), "y": y.round(6).tolist()}
    X = np.array(inst["X"])
    if program == "scp":
        H = rng.standard_normal((P, d))
        inst["directions"] = (H / np.linalg.norm(H, axis=1, keepdims=True)).tolist()
    else:
        pats, dirs = sample_patterns(X, P, rng)
        inst["patterns"] = pats
        inst["generators"] = dirs
    return inst


# The golden set: every loss on four sizes of the ReLU program, two of the SCP
# program and one of the gated program. β is chosen so that some but not all blocks
# are active.
GOLDEN = [
    ("relu", (20, 3, 6, 0.1)), ("relu", (40, 4, 12, 0.05)),
    ("relu", (60, 5, 10, 0.2)), ("relu", (100, 6, 16, 0.5)),
    ("scp", (30, 3, 40, 0.1)), ("scp", (80, 5, 120, 0.3)),
    ("gated", (50, 4, 10, 0.2)),
]

# The small-β set (issue 11: the regularization users pose, 1e-4 and 1e-3, where most
# blocks are active and first-order methods slow down): every loss on two sizes of
# the ReLU program and one each of the SCP and gated programs, written to the
# subfolder small_beta/ with β in the name.
SMALL_BETA = [
    ("relu", (20, 3, 6)), ("relu", (40, 4, 12)),
    ("scp", (30, 3, 40)), ("gated", (50, 4, 10)),
]
SMALL_BETAS = (1e-4, 1e-3)

# Programs with fewer points than dP (n = 40 < dP = 96), where InteriorPoint can solve
# its Newton system through an n×n matrix (Woodbury) as well as densely: every loss at
# β = 1e-3, also written to small_beta/.
WIDE = [("relu", (40, 6, 16))]
WIDE_BETAS = (1e-3,)


def generate(outdir):
    seed = 1
    for program, (n, d, P, beta) in GOLDEN:
        for loss in ("squared", "hinge", "logistic"):
            seed += 1
            inst = make_instance(program, loss, n, d, P, beta, seed)
            inst["reference"] = solve(inst)
            write_instance(f"{outdir}/{program}_{loss}_n{n}_d{d}_P{P}.json", inst)


def generate_small_beta(outdir):
    seed = 100
    for program, (n, d, P) in SMALL_BETA:
        for beta in SMALL_BETAS:
            for loss in ("squared", "hinge", "logistic"):
                seed += 1
                inst = make_instance(program, loss, n, d, P, beta, seed)
                inst["reference"] = solve(inst)
                write_instance(f"{outdir}/{program}_{loss}_n{n}_d{d}_P{P}_b{beta:.0e}.json", inst)


def generate_wide(outdir):
    seed = 200
    for program, (n, d, P) in WIDE:
        for beta in WIDE_BETAS:
            for loss in ("squared", "hinge", "logistic"):
                seed += 1
                inst = make_instance(program, loss, n, d, P, beta, seed)
                inst["reference"] = solve(inst)
                write_instance(f"{outdir}/{program}_{loss}_n{n}_d{d}_P{P}_b{beta:.0e}.json", inst)


def write_instance(name, inst):
    with open(name, "w") as fh:
        json.dump(inst, fh, separators=(",", ":"))
        fh.write("\n")
    res = inst["reference"]
    print(name, res["objective"], res["status"], f"gap {res['relative_gap']:.1e}",
          f"at reltol {res.get('reltol', 'unrecorded')}", f"{res['seconds']:.2f}s", file=sys.stderr)


def refresh(files):
    """Solves the instances in files again and rewrites their references (the
    instances themselves are kept) where cvxopt reports "optimal"; a reference it
    cannot improve on stays."""
    for name in files:
        with open(name) as fh:
            inst = json.load(fh)
        res = solve(inst)
        if res["status"] != "optimal":
            print(name, "kept: cvxopt reports", res["status"], file=sys.stderr)
            continue
        inst["reference"] = res
        write_instance(name, inst)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "solve":
        reltol, abstol, maxiters = None, None, None
        args = sys.argv[2:]
        while args:
            if args[0] == "--reltol" and len(args) > 1:
                reltol = float(args[1])
            elif args[0] == "--abstol" and len(args) > 1:
                abstol = float(args[1])
            elif args[0] == "--maxiters" and len(args) > 1:
                maxiters = int(args[1])
            else:
                sys.exit(__doc__)
            args = args[2:]
        inst = json.load(sys.stdin)
        json.dump(solve(inst, reltol, maxiters, abstol), sys.stdout)
        sys.stdout.write("\n")
    elif len(sys.argv) == 3 and sys.argv[1] == "generate":
        generate(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "generate-small-beta":
        generate_small_beta(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "generate-wide":
        generate_wide(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "reference":
        refresh(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
