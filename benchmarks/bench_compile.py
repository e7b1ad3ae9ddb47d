"""Compilation cost of a new number of groups, a new toy of a known family, or a new constraint.

Run: ``python benchmarks/bench_compile.py``.  In one fresh process with an empty Numba cache
(``NUMBA_CACHE_DIR`` in a temporary folder): the package's first use (a small sweep of the canonical toy
n = 3 with ``kernel="exact"``, which compiles the Rayleigh-family kernel), then the wall time of small
sweeps (8 k x 2 seeds x 500 steps: the run itself takes milliseconds, so the time is the compilation)
for new cases, each timed once:

* ``kernel="exact"`` (the default sweep, and the explorer's phase background): canonical toys with n = 4, 7,
  10 groups; a rotated Rayleigh toy with groups in R^5; the individual constraint;
* ``kernel="fast"`` (opt-in, canonical toy only): canonical toys with n = 4 and 7 (a kernel specialisation
  per n);
* a new expression toy (``TOYREGIMES_CACHE_DIR`` also empty): building it, its first ``simulate``, then its first
  sweep (the user toy's single-run kernel is compiled once, with one signature for ``simulate`` and every sweep,
  and the sweep kernel around it), then a noisy sweep (nothing more to compile).

Target (issue 14): at most 5 s of compilation for a new n, toy of a known family or constraint after the
package's first use.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile

SCRIPT = r"""
import json, time
import numpy as np
import toyregimes as tr

def timed(toy, **kw):
    t = time.perf_counter()
    tr.sweep(toy, k=np.linspace(0.5, 3, 8), seeds=2, steps=500, tail=200, progress=False, **kw)
    return time.perf_counter() - t

out = {"first use (canonical n=3, exact)": timed(tr.toys.canonical([1, 2, 3]), kernel="exact")}
for n in (4, 7, 10):
    out[f"exact: canonical n={n}"] = timed(tr.toys.canonical(np.arange(1, n + 1)), kernel="exact")
out["exact: rayleigh rotated, groups in R^5"] = timed(tr.toys.rayleigh([[0, 1, 2, 3, 4]] * 2, rotate=True, seed=0))
out["exact: canonical n=4, individual constraint"] = timed(tr.toys.canonical([1, 2, 3, 4]), kernel="exact",
                                                             constraint="individual")
for n in (4, 7):
    out[f"fast: canonical n={n}"] = timed(tr.toys.canonical(np.arange(1, n + 1)), kernel="fast")
t = time.perf_counter()
expr = tr.toys.from_expression("a*y**2/(x**2+y**2) + b*v**2/(u**2+v**2) + c*x*y*u*v/((x**2+y**2)*(u**2+v**2))",
                               [["x", "y"], ["u", "v"]], {"a": 1.0, "b": 0.5, "c": 0.1}, check_points=1)
out["expression toy: build (sympy, codegen)"] = time.perf_counter() - t
t = time.perf_counter()
tr.simulate(expr, elr=0.1, steps=10)
out["expression toy: first simulate"] = time.perf_counter() - t
t = time.perf_counter()
tr.sweep(expr, elr=[0.1, 0.4], seeds=2, steps=100, tail=50, progress=False)
out["expression toy: then first sweep"] = time.perf_counter() - t
t = time.perf_counter()
tr.sweep(expr, elr=[0.1, 0.4], seeds=2, steps=100, tail=50, progress=False, lyapunov=False, noise_scale=0.1)
out["expression toy: then noisy sweep"] = time.perf_counter() - t
print(json.dumps(out))
"""


def main():
    root = pathlib.Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, TOYREGIMES_CACHE_DIR=os.path.join(cache, "toys"),
                   PYTHONPATH=str(root))
        proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    for name, seconds in json.loads(proc.stdout.strip().splitlines()[-1]).items():
        print(f"{name:<48} {seconds:7.1f} s")


if __name__ == "__main__":
    main()
