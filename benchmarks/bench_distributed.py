"""Overhead of the Dask path against the in-process engine on the same grid.

Run: ``python benchmarks/bench_distributed.py`` (about 5 minutes on 2 cores; needs the ``distributed``
extra).  Canonical toy alpha = (1, 2, 3), k log-spaced over 0.1 .. 100 (the headline range), Lyapunov
exponents on, tail = steps / 4.  In process the sweep uses all Numba threads (2 on the reference
machine); on Dask a LocalCluster with as many worker processes as Numba threads, one thread each
(each task runs the kernel on one Numba thread: the cluster provides the parallelism).  Both results
are checked equal bit for bit (``xr.testing.assert_identical``).

Reported: the in-process wall time; per chunk size the Dask wall time of ``sweep(..., scheduler=client)``
on a running, warmed-up cluster and its overhead relative to in process; "with start" adds the fixed
cost of ``--local-cluster`` (starting the cluster, workers importing toyregimes and loading the cached
kernel), which a long sweep amortises and an existing cluster does not pay.

Result on the 2-core reference machine (nothing else running)::

    numba 0.68.1 (2 threads, layer omp), 96000 trajectories x 50000 steps, alpha (1, 2, 3), k 0.1 .. 100, lyapunov on
    LocalCluster(2 workers x 1 thread) start 0.75 s, worker warm-up 0.36 s
    in process (2 Numba threads, chunk 4096): best   28.39 s  (runs: 29.76, 28.39)
    dask, chunk  4096 ( 24 tasks): best   28.76 s  (runs: 31.58, 28.76)  overhead  +1.3 % (+5.2 % with start)
    dask, chunk  1024 ( 94 tasks): best   29.13 s  (runs: 29.85, 29.13)  overhead  +2.6 % (+6.5 % with start)

Two earlier single runs (100000 steps, one run per engine, not alternated) measured +26 % to +39 %
for the Dask path while other work shared the machine (another test run was seen at ~90 % of a core
during one of them); compare the printed load average with the worker count before trusting a number.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

import numba
import numpy as np
import xarray as xr

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import toyregimes as tr  # noqa: E402
from toyregimes.sweep import sweep  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num", type=int, default=4000, help="k values (default 4000)")
    parser.add_argument("--seeds", type=int, default=24, help="seeds per k (default 24)")
    parser.add_argument("--steps", type=int, default=50_000, help="steps per run (default 50000)")
    parser.add_argument("--chunk-sizes", type=int, nargs="+", default=[4096, 1024], help="Dask chunk sizes")
    parser.add_argument("--workers", type=int, default=numba.get_num_threads(), help="worker processes")
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs of each engine; best is reported")
    args = parser.parse_args(argv)

    from dask.distributed import Client, LocalCluster

    toy = tr.toys.canonical([1.0, 2.0, 3.0])
    kw = dict(k=np.geomspace(0.1, 100, args.num), seeds=args.seeds, steps=args.steps, tail=args.steps // 4,
              progress=False)
    n_traj = args.num * args.seeds
    sweep(toy, k=[1.0], seeds=1, steps=10, tail=5, progress=False)  # compile or load the kernel
    print(f"numba {numba.__version__} ({numba.get_num_threads()} threads, layer {numba.threading_layer()}), "
          f"{n_traj} trajectories x {args.steps} steps, alpha (1, 2, 3), k 0.1 .. 100, lyapunov on")
    ref = None
    local, dask = [], {chunk: [] for chunk in args.chunk_sizes}
    t = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        t_start = time.perf_counter() - t
        t = time.perf_counter()
        # one tiny chunk per worker: imports toyregimes and loads the cached kernel there
        sweep(toy, k=[1.0], seeds=args.workers, steps=10, tail=5, chunk_size=1, scheduler=client, progress=False)
        t_warm = time.perf_counter() - t
        print(f"LocalCluster({args.workers} workers x 1 thread) start {t_start:.2f} s, worker warm-up {t_warm:.2f} s")
        # alternate the engines so that a neighbour's load on a shared machine hits both alike
        for _ in range(args.repeat):
            t = time.perf_counter()
            got = sweep(toy, **kw)
            local.append(time.perf_counter() - t)
            ref = got if ref is None else ref
            xr.testing.assert_identical(got, ref)
            for chunk in args.chunk_sizes:
                t = time.perf_counter()
                got = sweep(toy, scheduler=client, chunk_size=chunk, **kw)
                dask[chunk].append(time.perf_counter() - t)
                xr.testing.assert_identical(got, ref)
    t_local = min(local)
    print(f"in process ({numba.get_num_threads()} Numba threads, chunk 4096): best {t_local:7.2f} s  "
          f"(runs: {', '.join(f'{x:.2f}' for x in local)})")
    for chunk, times in dask.items():
        t_dask = min(times)
        print(f"dask, chunk {chunk:5d} ({-(-n_traj // chunk):3d} tasks): best {t_dask:7.2f} s  (runs: "
              f"{', '.join(f'{x:.2f}' for x in times)})  overhead {100 * (t_dask / t_local - 1):+5.1f} % "
              f"({100 * ((t_dask + t_start + t_warm) / t_local - 1):+.1f} % with start)")
    # timings mean little on a machine shared with other work: say how busy it was
    print("load average over the last 1/5/15 min: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
