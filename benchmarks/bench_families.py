"""Sweep throughput of every toy family, as ratios against the canonical kernel in the same process.

Run: ``python benchmarks/bench_families.py [--threads N] [--traj N] [--steps N]``.

Measures group-steps per second (trajectories x steps x groups / seconds) of ``toyregimes.sweep``'s
chunk runner (:func:`toyregimes.sweep.chunks.run_chunk`, so the dispatch a sweep takes is the one timed)
for the canonical toy alpha = (1, 2, 3) with its own kernel (``kernel="fast"``, the baseline of every ratio) and
with the default exact kernel, rotated Rayleigh toys with n = 3 groups and an expression toy
(n = 2 groups in R^2), all at k = elr * sum(alpha_eff) = 1.5, without and with the tangent map.  At k = 1.5
every one of these toys settles on a cycle of period 2 or 4 (measured with ``tr.sweep``, 8 seeds, 3000 steps),
so the time includes confirming the period on the kept states; ``--k 1.95`` puts them in the chaotic band
(most runs chaotic, the rest undetermined), where the canonical kernel, with less period work left, is
relatively faster.  Every case is warmed up
(compiled) first, then the cases are timed in turn, three rounds, best of each (with one thread the
clock is the process CPU time): alternating makes the ratios robust to other processes loading the
machine.  Defaults: one thread, 1024 trajectories x 3000 steps, tail 1000.  Targets (issue 14):
rotated Rayleigh d = 2 >= 30% of the canonical rate, d = 8 >= 10%, the tangent map at most 3x slower
than plain for the Rayleigh kernel, the expression toy >= 3%.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numba
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import toyregimes as tr  # noqa: E402
from toyregimes.sweep.chunks import run_chunk  # noqa: E402
from toyregimes.sweep.plan import make_plan  # noqa: E402

K = 1.5


def _rayleigh(d):
    return tr.toys.rayleigh([list(np.linspace(0.0, a, d)) for a in (1.0, 2.0, 3.0)], rotate=True, seed=1)


def cases():
    """``name -> (toy, sum of alpha_eff, kernel)``; the expression toy is the canonical toy (1, 2) as a formula."""
    expr = tr.toys.from_expression("a*y**2/(x**2+y**2) + b*v**2/(u**2+v**2)", [["x", "y"], ["u", "v"]],
                                   {"a": 1.0, "b": 2.0}, check_points=2)
    return {
        "canonical (1, 2, 3)": (tr.toys.canonical([1, 2, 3]), 6.0, "fast"),
        "canonical, exact kernel": (tr.toys.canonical([1, 2, 3]), 6.0, "exact"),
        "rayleigh rotated d=2": (_rayleigh(2), 6.0, "exact"),
        "rayleigh rotated d=8": (_rayleigh(8), 6.0, "exact"),
        "expression n=2, R^2": (expr, 3.0, "exact"),
    }


def timer(toy, a_sum, kernel, n_traj, steps, tail, lyapunov, k=K):
    elr = k / a_sum * (1 + 1e-9 * np.arange(n_traj // 8))
    plan = make_plan(toy, elr=elr, seeds=8, steps=steps, tail=tail, lyapunov=lyapunov, chunk_size=n_traj,
                     kernel=kernel)

    # one thread: process CPU time, robust to other processes on the machine; else wall time
    clock = time.process_time if numba.get_num_threads() == 1 else time.perf_counter

    def run():
        t = clock()
        run_chunk(plan.arrays, 0, plan.n_points)
        return plan.n_points * steps * toy.n_groups / (clock() - t)

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--traj", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--k", type=float, default=K, help="elr * sum(alpha_eff) of every toy (default %(default)s)")
    args = parser.parse_args()
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    tail = min(1000, args.steps)
    runs = {}
    for name, (toy, a_sum, kernel) in cases().items():
        for lyap in (False, True):
            warm = timer(toy, a_sum, kernel, 128, 100, 50, lyap)
            warm()  # compile
            runs[(name, lyap)] = timer(toy, a_sum, kernel, args.traj, args.steps, tail, lyap, args.k)
    best = {key: 0.0 for key in runs}
    for _ in range(3):
        for key, fn in runs.items():
            best[key] = max(best[key], fn())
    print(f"{args.traj} trajectories x {args.steps} steps, {numba.get_num_threads()} thread(s), k = {args.k}")
    print(f"{'toy':<24} {'plain Mgs/s':>12} {'ratio':>7} {'tangent Mgs/s':>14} {'ratio':>7} {'plain/tangent':>14}")
    base = {lyap: best[("canonical (1, 2, 3)", lyap)] for lyap in (False, True)}
    for name in cases():
        p, t = best[(name, False)], best[(name, True)]
        print(f"{name:<24} {p / 1e6:12.1f} {p / base[False]:7.3f} {t / 1e6:14.1f} {t / base[True]:7.3f} {p / t:14.2f}")


if __name__ == "__main__":
    main()
