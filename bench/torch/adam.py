"""Full-batch Adam in PyTorch on the weight-decay objective of gocvx's baselines.

Reads one JSON job from stdin and writes one JSON result to stdout. The network, the
objective and the update are those of solver.Adam (solver/adam.go, solver/baseline.go):

    f(x) = sum_j relu(x . u_j) alpha_j
    J    = loss(f(X), y) + (beta/2) (||U||^2 + ||alpha||^2)
    Adam steps on J/n, in float64, from the initial weights the job gives.

Job fields: X (n rows), y, U0 (m rows), alpha0, loss ("squared", "hinge", "logistic"),
beta, lr, beta1, beta2, eps, steps, time_limit (seconds, 0 = none), target (stop once
J <= target; omit for none), threads.

Result: objective[t] = J(theta_t) for t = 0..T (the last one evaluated after the final
step), elapsed[t] = seconds from the start of training until J(theta_t) was known,
steps = T, and the final U and alpha.
"""

import json
import sys
import time

import torch


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(int(job.get("threads", 1)))
    dt = torch.float64
    X = torch.tensor(job["X"], dtype=dt)
    y = torch.tensor(job["y"], dtype=dt)
    U = torch.tensor(job["U0"], dtype=dt, requires_grad=True)
    alpha = torch.tensor(job["alpha0"], dtype=dt, requires_grad=True)
    n = X.shape[0]
    beta = float(job["beta"])
    kind = job["loss"]
    target = job.get("target")
    time_limit = float(job.get("time_limit", 0))

    def objective():
        f = torch.relu(X @ U.T) @ alpha
        if kind == "squared":
            loss = 0.5 * ((f - y) ** 2).sum()
        elif kind == "hinge":
            loss = torch.clamp(1 - y * f, min=0).sum()
        elif kind == "logistic":
            loss = torch.nn.functional.softplus(-y * f).sum()
        else:
            raise ValueError("unknown loss " + kind)
        return loss + beta / 2 * ((U ** 2).sum() + (alpha ** 2).sum())

    opt = torch.optim.Adam(
        [U, alpha],
        lr=float(job["lr"]),
        betas=(float(job.get("beta1", 0.9)), float(job.get("beta2", 0.999))),
        eps=float(job.get("eps", 1e-8)),
    )
    objectives, elapsed = [], []
    start = time.perf_counter()
    steps = 0
    for _ in range(int(job["steps"])):
        opt.zero_grad()
        J = objective()
        objectives.append(J.item())
        elapsed.append(time.perf_counter() - start)
        if target is not None and objectives[-1] <= target:
            break
        if time_limit > 0 and elapsed[-1] >= time_limit:
            break
        (J / n).backward()
        opt.step()
        steps += 1
    else:
        with torch.no_grad():
            objectives.append(objective().item())
        elapsed.append(time.perf_counter() - start)
    json.dump(
        {
            "objective": objectives,
            "elapsed": elapsed,
            "steps": steps,
            "U": U.detach().tolist(),
            "alpha": alpha.detach().tolist(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
