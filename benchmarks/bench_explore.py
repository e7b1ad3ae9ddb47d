"""Update time of the explorer: one slider move = re-simulate 5000 steps + redraw (+ PNG for Jupyter).

Run: ``python benchmarks/bench_explore.py``.  Reports the median and maximum over 30 moves of the k
slider after a warm-up, for the Jupyter front end and the matplotlib window (Agg), and the part
spent in ``simulate`` alone, measured in the same process.  Target: well under 0.3 s.
"""

from __future__ import annotations

import os
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import toyregimes as tr  # noqa: E402
from toyregimes.explore import explore_window  # noqa: E402


def timed(fn, values):
    out = []
    for v in values:
        t0 = time.perf_counter()
        fn(v)
        out.append(time.perf_counter() - t0)
    return np.array(out)


def main():
    ks = np.geomspace(0.05, 40, 30)
    toy = tr.toys.canonical([1, 2, 3])
    sim = timed(lambda k: tr.simulate(toy, elr=k / 6, steps=5000, lyapunov=True, sharpness=False), ks)
    ex = tr.explore(steps=5000)
    ex.controls["k"].value = 2.0  # warm-up: compile, first phase-diagram background
    jup = timed(lambda k: setattr(ex.controls["k"], "value", float(k)), ks)
    win = explore_window(steps=5000, show=False)
    win.controls["log_k"].set_val(0.3)
    mpl = timed(lambda k: win.controls["log_k"].set_val(float(np.log10(k))), ks)
    for name, t in (("simulate 5000 steps", sim), ("Jupyter explorer update", jup), ("window update (Agg)", mpl)):
        print(f"{name:26s} median {np.median(t):.3f} s   max {t.max():.3f} s")
    print("target: a slider move well under 0.3 s")
    # the host is often shared: the load says how much of its cores this measurement had
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
