"""Throughput of the single-run kernel, against a plain numpy loop in the same process.

Run: ``python benchmarks/bench_simulate.py``.  Reports group-steps per second for
``simulate`` on the canonical toy (n = 3, 10^6 steps, record_every = 100) after compilation, the
same for a straightforward numpy implementation of the PGD step (the baseline), their ratio, and
the wall time of ``toyregimes run`` with a warm Numba cache.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

import toyregimes as tr


def numpy_pgd(alpha, theta0, elr, steps):
    """The PGD loop written plainly in numpy (one step at a time), recording the loss every step."""
    th = theta0.reshape(-1, 2).copy()
    losses = np.empty(steps)
    for t in range(steps):
        x, y = th[:, 0], th[:, 1]
        r2 = x * x + y * y
        losses[t] = np.sum(alpha * y * y / r2)
        grad = np.stack([-2 * alpha * x * y * y / r2**2, 2 * alpha * y * x * x / r2**2], axis=1)
        nxt = th - elr * grad
        th = nxt / np.linalg.norm(nxt)
    return losses


def best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    alpha = np.array([1.0, 2.0, 3.0])
    toy = tr.toys.canonical(alpha)
    steps = 1_000_000
    tr.simulate(toy, elr=0.25, steps=10, record_every=100)  # compile / load cache
    t_numba = best_of(lambda: tr.simulate(toy, elr=0.25, steps=steps, record_every=100))
    base_steps = 20_000
    t_numpy = best_of(lambda: numpy_pgd(alpha, toy.random_point(0), 0.25, base_steps)) * steps / base_steps
    rate = 3 * steps / t_numba
    print(f"simulate (numba), n=3, 1e6 steps, record_every=100: {t_numba:.3f} s  -> {rate / 1e6:.1f} M group-steps/s")
    print(f"numpy baseline (same process, extrapolated from {base_steps} steps): "
          f"{3 * steps / t_numpy / 1e6:.2f} M group-steps/s")
    print(f"speed-up over numpy: {t_numpy / t_numba:.0f}x   (target: >= 20 M group-steps/s)")

    cmd = [sys.executable, "-m", "toyregimes.cli", "run", "--alpha", "1", "2", "3", "--elr", "0.25",
           "--steps", "1000", "--summary"]
    subprocess.run(cmd, check=True, capture_output=True)  # warm the cache
    t_cli = best_of(lambda: subprocess.run(cmd, check=True, capture_output=True))
    t_python = best_of(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
    print(f"`toyregimes run --steps 1000 --summary` wall time (warm cache): {t_cli:.2f} s "
          f"(bare interpreter start {t_python:.2f} s; target < 2 s)")


if __name__ == "__main__":
    main()
