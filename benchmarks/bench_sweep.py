"""Throughput of the batched sweep kernel against a numpy implementation vectorised over trajectories.

Run: ``python benchmarks/bench_sweep.py``.  Canonical toy alpha = (1, 2, 3), 16384 trajectories x
1000 steps, tail 500, both measured in this process after a warm-up (compilation) call.  Reports
group-steps per second (trajectories x steps x groups / seconds), the ratios, and the wall time of
the 400-point x 8-seed headline phase diagram end to end (``toyregimes.sweep``).

Two ELR ranges are timed: the headline one (k = 0.01 .. 10) and k = 1 .. 10 only.  Converging runs
(k < 1) drive the angles towards exactly 0; the kernel and its numpy twin floor them at 1e-60
relative every 8 steps (see ``toyregimes.kernels.batched``) instead of crossing the subnormal range,
where x86 arithmetic is ~100x slower, so both ranges should now run at the same speed.

Two numpy baselines, timed on the same 16384 trajectories in the same process (so the ratios are
meaningful even when other processes load the machine), both vectorised over trajectories and
without period detection: the twin ``tests/reference_batched.py`` (the kernel's algorithm, operation
for operation) and :func:`plain_numpy_sweep`, a textbook PGD with the same tail statistics.  The kernel uses
``toyregimes.sweep.BLOCK`` trajectories per block.

``python benchmarks/bench_sweep.py --phases`` instead prints the cost of a trajectory-step before the tail
and in the tail (one thread, process CPU time, so it is robust to other jobs on the machine).

``python benchmarks/bench_sweep.py --against REV`` instead times this kernel against the one of git revision
``REV`` (its batched kernel, loaded as a separate module) on the same inputs in the same
process, alternating the two, and prints the ratio of their rates (the budget for a change that adds
evidence to the labels is a 10% loss).

``python benchmarks/bench_sweep.py --end-to-end`` instead times the README's main command (its
``toyregimes sweep`` and ``toyregimes plot``, the install step left out) in fresh processes with an
empty Numba cache, as a newcomer runs it the first time (target: under a minute), then once more
with the cache filled.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile
import time

import numba
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import toyregimes as tr  # noqa: E402
from tests import reference_batched  # noqa: E402
from toyregimes.kernels import batched  # noqa: E402
from toyregimes.sweep import BLOCK, sweep  # noqa: E402

ALPHA = np.array([1.0, 2.0, 3.0])
N_TRAJ, STEPS, TAIL = 16384, 1000, 500


def inputs(k_lo, k_hi, n_traj=N_TRAJ):
    rng = np.random.default_rng(0)
    th = rng.standard_normal((6, n_traj))
    th /= np.linalg.norm(th, axis=0)
    v = rng.standard_normal((6, n_traj))
    v -= (v * th).sum(0) * th
    v /= np.linalg.norm(v, axis=0)
    c = np.ascontiguousarray
    elr = np.geomspace(k_lo, k_hi, n_traj) / ALPHA.sum()
    return c(th[0::2]), c(th[1::2]), c(v[0::2]), c(v[1::2]), elr


def plain_numpy_sweep(x0, y0, elr, alpha, steps, tail):
    """Textbook PGD of the canonical toy in numpy, vectorised over trajectories: the plain baseline.

    Per step: the gradient ``(2 / r_i^2)(M theta_i - f_i theta_i)`` of every group, the step, the
    normalisation to the unit sphere; over the tail, the sums of the loss, its square, the squared
    chord and ``r_i^2`` (with minimum and maximum), as the kernel reduces them.  Converging components
    are floored at 1e-60 of ``|x_i|`` every 8 steps as in the kernel, so neither runs into subnormal numbers.
    Returns the mean loss (to check it against the kernel).
    """
    x, y = x0.copy(), y0.copy()
    a = np.asarray(alpha, dtype=float)[:, None]
    e = np.asarray(elr, dtype=float)[None, :]
    s1 = np.zeros(x.shape[1])
    s2 = np.zeros_like(s1)
    sd2 = np.zeros_like(s1)
    sq = np.zeros_like(x)
    r2min = np.full_like(x, np.inf)
    r2max = np.full_like(x, -np.inf)
    for t in range(steps):
        r2 = x * x + y * y
        f = a * (y * y) / r2
        nx = x - e * (2.0 / r2) * (-f * x)
        ny = y - e * (2.0 / r2) * ((a - f) * y)
        norm = np.sqrt((nx * nx + ny * ny).sum(axis=0))
        nx /= norm
        ny /= norm
        if t % 8 == 7:
            lim = 1e-60 * np.abs(nx)
            ny = np.where(np.abs(ny) < lim, np.copysign(lim, ny), ny)
        if t >= steps - tail:
            loss = f.sum(axis=0)
            s1 += loss
            s2 += loss * loss
            sd2 += ((nx - x) ** 2 + (ny - y) ** 2).sum(axis=0)
            sq += r2
            np.minimum(r2min, r2, out=r2min)
            np.maximum(r2max, r2, out=r2max)
        x, y = nx, ny
    return s1 / tail


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def phases(n_traj=4096, steps=2000):
    """ns of process CPU time per trajectory-step, one thread: before the tail, in the tail, benchmark mix."""
    numba.set_num_threads(1)
    data = inputs(0.01, 10.0, n_traj)

    def cost(steps, tail, lyap, n_states):
        def run():
            return batched.canonical_sweep(*data, ALPHA, steps, tail, False, lyap, n_states, 64, 1e-3, 0.05, BLOCK,
                                           False)
        run()
        best = np.inf
        for _ in range(5):
            t = time.process_time()
            run()
            best = min(best, time.process_time() - t)
        return best / (n_traj * steps) * 1e9

    print(f"ns CPU per trajectory-step, 1 thread, {n_traj} trajectories, n = {ALPHA.size}")
    for lyap in (False, True):
        pre = cost(steps, 1, lyap, 1)
        tail = cost(steps, steps, lyap, 1)
        mix = cost(STEPS, TAIL, lyap, 128)
        print(f"  lyapunov={lyap!s:5}: before the tail {pre:.2f}, tail {tail:.2f}, benchmark mix {mix:.2f} "
              f"(-> {ALPHA.size / mix:.3g} group-steps/ns per core)")


def readme_main_commands():
    """The ``toyregimes`` commands of the README's main-job line (after the install), as argument lists."""
    readme = pathlib.Path(__file__).resolve().parents[1] / "README.md"
    line = next(ln for ln in readme.read_text().splitlines() if ln.startswith("python -m pip install -e . && "))
    parts = [shlex.split(cmd) for cmd in line.split("&&")[1:]]
    if not parts or any(p[0] != "toyregimes" for p in parts):
        raise SystemExit(f"unexpected main command in README.md: {line}")
    return [p[1:] for p in parts]


def end_to_end():
    """Wall time of the README's main command in fresh processes, with a cold and then a warm Numba cache."""
    commands = readme_main_commands()
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(work, "numba-cache"))
        for label in ("cold Numba cache", "warm Numba cache"):
            run_dir = tempfile.mkdtemp(dir=work)  # a fresh directory: nothing to resume from
            t = time.perf_counter()
            for args in commands:
                subprocess.run([sys.executable, "-c", "import sys; from toyregimes.cli import main; "
                                "sys.exit(main(sys.argv[1:]))", *args], cwd=run_dir, env=env, check=True,
                               stdout=subprocess.DEVNULL)
            print(f"README main command ({' && '.join('toyregimes ' + ' '.join(a) for a in commands)}), "
                  f"{label}: {time.perf_counter() - t:.1f} s")


def _batched_path(rev):
    """Where the batched kernel lives at ``rev`` (it moved into ``toyregimes/kernels/`` with the package layout)."""
    root = pathlib.Path(__file__).resolve().parents[1]
    for path in ("toyregimes/kernels/batched.py", "toyregimes/batched.py"):
        if subprocess.run(["git", "cat-file", "-e", f"{rev}:{path}"], cwd=root, capture_output=True).returncode == 0:
            return path
    raise SystemExit(f"no batched kernel at revision {rev}")


def against(rev, repeat=5):
    """Rates of this kernel and of the kernel of git revision ``rev``, same inputs, same process."""
    root = pathlib.Path(__file__).resolve().parents[1]
    src = subprocess.run(["git", "show", f"{rev}:{_batched_path(rev)}"], cwd=root, capture_output=True, text=True,
                         check=True).stdout
    folder = pathlib.Path(tempfile.mkdtemp(prefix="toyregimes-baseline-"))
    path = folder / "baseline_batched.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("baseline_batched", path)
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    work = N_TRAJ * STEPS * ALPHA.size
    print(f"numba {numba.__version__}, threads {numba.get_num_threads()}; this checkout vs {rev}")
    print(f"canonical toy alpha={ALPHA.tolist()}, {N_TRAJ} trajectories x {STEPS} steps, tail {TAIL}")
    data = inputs(0.01, 10.0)
    for lyap in (False, True):
        fns = {name: (lambda mod=mod, lyap=lyap: mod.canonical_sweep(*data, ALPHA, STEPS, TAIL, False, lyap, 128, 64,
                                                                      1e-3, 0.05, BLOCK, False))
               for name, mod in (("this", batched), (rev, old))}
        for fn in fns.values():
            fn()  # compile / warm up
        best = {name: np.inf for name in fns}
        for _ in range(repeat):  # alternate, so that load changes hit both
            for name, fn in fns.items():
                t = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - t)
        rate = {name: work / t for name, t in best.items()}
        print(f"  lyapunov={lyap!s:5}: this {rate['this']:.3g}, {rev} {rate[rev]:.3g} group-steps/s "
              f"-> ratio {rate['this'] / rate[rev]:.3f}")


def main():
    if "--against" in sys.argv[1:]:
        against(sys.argv[sys.argv.index("--against") + 1])
        return
    if "--phases" in sys.argv[1:]:
        phases()
        return
    if "--end-to-end" in sys.argv[1:]:
        end_to_end()
        return
    work = N_TRAJ * STEPS * ALPHA.size
    print(f"numba {numba.__version__}, threads {numba.get_num_threads()}, numpy {np.__version__}")
    print(f"canonical toy alpha={ALPHA.tolist()}, {N_TRAJ} trajectories x {STEPS} steps, tail {TAIL}")
    for k_lo, k_hi in [(0.01, 10.0), (1.0, 10.0)]:
        x0, y0, vx, vy, elr = data = inputs(k_lo, k_hi)
        rates = {}
        for lyap in (False, True):
            def run(lyap=lyap, data=data):
                return batched.canonical_sweep(*data, ALPHA, STEPS, TAIL, False, lyap, 128, 64, 1e-3, 0.05, BLOCK,
                                               False)
            mean_loss = run()[0]  # compile / warm up; the plain run's loss checks the numpy baseline
            if not lyap:
                kernel_loss = mean_loss
            rates[lyap] = work / best_of(run)
        # numpy baselines on the same problem, vectorised over trajectories, without period detection:
        # the twin (the kernel's algorithm, operation for operation) and a textbook PGD
        m = N_TRAJ
        args = (x0.copy(), y0.copy(), vx.copy(), vy.copy(), elr.copy())
        t_np = best_of(lambda args=args: reference_batched.canonical_sweep(
            *args, ALPHA, STEPS, TAIL, False, False, periods=False), repeat=2)
        rate_np = m * STEPS * ALPHA.size / t_np
        plain_loss = []
        t_plain = best_of(lambda out=plain_loss, a=(x0, y0, elr): out.append(plain_numpy_sweep(*a, ALPHA, STEPS, TAIL)),
                          repeat=2)
        rate_plain = m * STEPS * ALPHA.size / t_plain
        k = elr * ALPHA.sum()
        steady = k < 0.9  # converging runs: the two agree to rounding there
        print(f"\nk in [{k_lo}, {k_hi}]")
        print(f"  numba, lyapunov=False : {rates[False]:.3g} group-steps/s")
        print(f"  numba, lyapunov=True  : {rates[True]:.3g} group-steps/s "
              f"({rates[False] / rates[True]:.2f}x slower than without)")
        print(f"  numpy baseline        : {rate_np:.3g} group-steps/s ({m} trajectories, lyapunov=False)")
        print(f"  speed-up numba/numpy  : {rates[False] / rate_np:.1f}x (lyapunov=False)")
        print(f"  plain numpy PGD       : {rate_plain:.3g} group-steps/s ({m} trajectories; numba is "
              f"{rates[False] / rate_plain:.1f}x faster; mean loss agrees to "
              f"{np.max(np.abs(plain_loss[-1] - kernel_loss)[steady], initial=0.0):.1e} for k < 0.9)")

    toy = tr.toys.canonical(ALPHA)
    for kernel in ("exact", "fast"):
        sweep(toy, elr=[0.1], seeds=1, steps=10, tail=5, lyapunov=True, progress=False, kernel=kernel)  # warm up
        t = time.perf_counter()
        res = sweep(toy, elr=np.geomspace(0.01, 10, 400) / 6, seeds=8, steps=20_000, tail=5_000, lyapunov=True,
                    progress=False, kernel=kernel)
        dt = time.perf_counter() - t
        counts = dict(zip(*np.unique(res.regime.values, return_counts=True), strict=True))
        print(f"\nheadline sweep 400 elr x 8 seeds, 20000 steps, tail 5000, lyapunov=True, kernel={kernel!r}: "
              f"{dt:.1f} s")
        print(f"  regimes: {counts}")

if __name__ == "__main__":
    main()
