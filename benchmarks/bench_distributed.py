"""Overhead of the Dask path against the in-process engine on the same grid.

Run: ``python benchmarks/bench_distributed.py`` (about 3 minutes on 2 cores; needs the ``distributed``
extra).  Canonical toy alpha = (1, 2, 3), k log-spaced over 0.1 .. 100 (the headline range), Lyapunov
exponents on, tail = steps / 4.  In process the sweep uses all Numba threads (2 on the reference
machine); on Dask a LocalCluster with as many worker processes as Numba threads, one thread each
(each task runs the kernel on one Numba thread: the cluster provides the parallelism).  Both results
are checked equal bit for bit.

Reported: the in-process wall time; per chunk size the Dask wall time of ``sweep(..., scheduler=client)``
on a running, warmed-up cluster and its overhead relative to in process; and separately the fixed
cost of ``--local-cluster`` (starting the cluster, workers importing toyregimes and loading the cached
kernel), which a long sweep amortises and an existing cluster does not pay.
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
    parser.add_argument("--steps", type=int, default=100_000, help="steps per run (default 100000)")
    parser.add_argument("--chunk-sizes", type=int, nargs="+", default=[4096, 1024], help="Dask chunk sizes")
    parser.add_argument("--workers", type=int, default=numba.get_num_threads(), help="worker processes")
    args = parser.parse_args(argv)

    from dask.distributed import Client, LocalCluster

    toy = tr.toys.canonical([1.0, 2.0, 3.0])
    kw = dict(k=np.geomspace(0.1, 100, args.num), seeds=args.seeds, steps=args.steps, tail=args.steps // 4,
              progress=False)
    n_traj = args.num * args.seeds
    sweep(toy, k=[1.0], seeds=1, steps=10, tail=5, progress=False)  # compile or load the kernel
    print(f"numba {numba.__version__} ({numba.get_num_threads()} threads, layer {numba.threading_layer()}), "
          f"{n_traj} trajectories x {args.steps} steps, alpha (1, 2, 3), k 0.1 .. 100, lyapunov on")

    t = time.perf_counter()
    ref = sweep(toy, **kw)
    t_local = time.perf_counter() - t
    print(f"in process ({numba.get_num_threads()} Numba threads, chunk 4096): {t_local:8.2f} s")

    t = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        t_start = time.perf_counter() - t
        t = time.perf_counter()
        # one tiny chunk per worker: imports toyregimes and loads the cached kernel there
        sweep(toy, k=[1.0], seeds=args.workers, steps=10, tail=5, chunk_size=1, scheduler=client, progress=False)
        t_warm = time.perf_counter() - t
        print(f"LocalCluster({args.workers} workers x 1 thread) start {t_start:.2f} s, worker warm-up {t_warm:.2f} s")
        for chunk in args.chunk_sizes:
            t = time.perf_counter()
            got = sweep(toy, scheduler=client, chunk_size=chunk, **kw)
            t_dask = time.perf_counter() - t
            xr.testing.assert_identical(got, ref)
            n_chunks = -(-n_traj // chunk)
            print(f"dask, chunk {chunk:5d} ({n_chunks:3d} tasks): {t_dask:8.2f} s  overhead "
                  f"{100 * (t_dask / t_local - 1):+6.1f} %  (with start + warm-up "
                  f"{100 * ((t_dask + t_start + t_warm) / t_local - 1):+6.1f} %)  identical: yes")
    # timings mean little on a machine shared with other work: say how busy it was
    print("load average over the last 1/5/15 min: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
