"""Throughput of the weight-decay grid kernel, against a numpy baseline vectorised over the grid.

Run: ``python benchmarks/bench_train.py``.  Times ``train_grid`` on a 64 x 64 (lr, wd) grid of 20 000-step
SGD runs of the canonical toy (alpha = 1, 2, 3) with tangent noise (the noise shared by the grid),
after compilation, on all Numba threads; then the same grid in plain numpy (all 4096 runs advanced
together, one step at a time) on fewer steps, extrapolated, in the same process.  Target: < 60 s on
2 cores.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import toyregimes as tr  # noqa: E402
from tests.reference_train import train_grid as numpy_grid  # noqa: E402
from toyregimes.train import draw_noise, initial_weights, train_grid  # noqa: E402


def main():
    toy = tr.toys.canonical([1.0, 2.0, 3.0])
    lrs = np.geomspace(0.01, 1.0, 64)
    wds = np.geomspace(1e-4, 0.5, 64)
    steps = 20_000
    kw = {"noise": "tangent", "noise_scale": 1.0, "seed": 0}
    train_grid(toy, lrs[:2], wds[:2], 10, **kw)  # compile / load the cache
    for opt in ("sgd", "adamw"):
        t0 = time.perf_counter()
        ds = train_grid(toy, lrs, wds, steps, optimizer=opt, **kw)
        dt = time.perf_counter() - t0
        rate = lrs.size * wds.size * steps / dt
        print(f"train_grid {opt}: 64 x 64 x {steps} steps on {numba.get_num_threads()} threads: {dt:.2f} s "
              f"({rate / 1e6:.1f} M run-steps/s; {int((ds.status != 0).sum())} runs diverged numerically)")
        if opt == "sgd":
            t_numba = dt
    base_steps = 200
    w0 = initial_weights(toy, 0, 1.0)
    gauss, _ = draw_noise(toy, base_steps, "tangent", None, 0)
    lr_flat, wd_flat = np.repeat(lrs, 64), np.tile(wds, 64)
    t0 = time.perf_counter()
    base = numpy_grid(w0, toy.mats, toy.dims, lr_flat, wd_flat, base_steps, gauss)
    t_numpy = (time.perf_counter() - t0) * steps / base_steps
    check = train_grid(toy, lrs, wds, base_steps, **kw).final_loss.values.reshape(-1)
    agree = np.nanmax(np.abs(check - base))
    print(f"numpy baseline vectorised over the grid (same process, extrapolated from {base_steps} steps): "
          f"{t_numpy:.1f} s; max |final loss difference| after {base_steps} steps = {agree:.1e}")
    print(f"speed-up over numpy: {t_numpy / t_numba:.1f}x   (target: 64 x 64 x 20000 in < 60 s on 2 cores)")


if __name__ == "__main__":
    main()
