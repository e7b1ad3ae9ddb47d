"""Speed of the Lyapunov spectrum and of the route-to-chaos study.

Run: ``python benchmarks/bench_spectrum.py``.  Times, in this process after compilation:

* ``tr.lyapunov_spectrum`` of the canonical toy with n = 3 groups (all 5 exponents), 10^5 steps
  (target: under 2 s), against a plain numpy QR implementation of the same tangent map on the same
  run (the ratio is machine independent);
* the full route-to-chaos gallery figure's measurements (target: under 3 minutes).
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import toyregimes as tr  # noqa: E402
from toyregimes.plot.gallery import route_to_chaos_data  # noqa: E402

ALPHA = np.array([1.0, 2.0, 3.0])


def numpy_spectrum(toy, elr, steps, seed=0):
    """QR method in numpy: Euclidean Hessian from the toy, projection, Householder QR (the baseline)."""
    theta = toy.random_point(seed)
    dim = theta.size
    w = np.random.default_rng([seed, 3]).standard_normal((dim, dim - 1))
    w -= np.outer(theta, theta @ w)
    w, _ = np.linalg.qr(w)
    logs = np.zeros(dim - 1)
    for _ in range(steps):
        y = theta - elr * toy.gradient(theta)
        ny = np.linalg.norm(y)
        nxt = y / ny
        v = w - elr * toy.hessian(theta) @ w
        v -= np.outer(nxt, nxt @ v)
        w, r = np.linalg.qr(v / ny)
        logs += np.log(np.abs(np.diag(r)))
        theta = nxt
    return np.sort(logs / steps)[::-1]


def main():
    toy = tr.toys.canonical(ALPHA)
    elr = 0.5
    tr.lyapunov_spectrum(toy, elr, 100)  # compile
    steps = 100_000
    t = time.perf_counter()
    fast = tr.lyapunov_spectrum(toy, elr, steps, transient=0)
    t_fast = time.perf_counter() - t
    n_np = 5_000
    t = time.perf_counter()
    numpy_spectrum(toy, elr, n_np)
    t_np = (time.perf_counter() - t) * steps / n_np
    print(f"lyapunov_spectrum, n = 3 (5 exponents), {steps} steps: {t_fast:.2f} s (target < 2 s); "
          f"numpy QR baseline extrapolated from {n_np} steps: {t_np:.1f} s -> {t_np / t_fast:.0f}x")
    print(f"  exponents at k = 3: {np.round(fast, 3)}")
    t = time.perf_counter()
    route_to_chaos_data(quick=False)
    print(f"route-to-chaos study (gallery figure's measurements): {time.perf_counter() - t:.1f} s (target < 180 s)")


if __name__ == "__main__":
    main()
