"""Run a sweep's chunks on a Dask cluster (the ``distributed`` extra; the core never imports this module).

:func:`toyregimes.sweep` with ``scheduler=`` or ``local_cluster=`` calls :func:`run`: the plan's
arrays go to the cluster once (as a task of their own, see :func:`run`), each pending chunk becomes
one task calling :func:`toyregimes.sweep.run_chunk` (the same Numba kernel as in process, with one
Numba thread per task: the cluster provides the parallelism), and results are handed back as they
complete, in whatever order, to be checkpointed and assembled.  Tasks are not pure
(``pure=False``) and are retried on error; a task whose worker dies is rescheduled by Dask on
another worker (up to ``distributed.scheduler.allowed-failures`` times).  A point's result does not
depend on the worker, order or chunking, so the Dataset equals the in-process one bit for bit.

No cluster code of our own: for HPC, start a cluster with dask-jobqueue (``SLURMCluster`` etc.) and
pass its Client, or run ``dask scheduler`` / ``dask worker`` and pass the scheduler's address.
"""

from __future__ import annotations

import contextlib
import uuid

from dask.distributed import Client, LocalCluster, as_completed

from toyregimes.sweep.chunks import run_chunk

__all__ = ["run", "connect", "RETRIES"]

RETRIES = 3  # re-runs of a chunk whose task raised (a worker's death is handled by Dask itself)


@contextlib.contextmanager
def connect(scheduler=None, local_cluster=None):
    """A Client: the given one, one connected to an address, or one on a new LocalCluster of N processes.

    Clients and clusters created here are closed on exit; a given Client is left open.
    Example: ``with connect(local_cluster=2) as client: ...``.
    """
    if local_cluster is not None:
        with LocalCluster(n_workers=int(local_cluster), threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
            yield client
    elif isinstance(scheduler, str):
        try:
            client = Client(scheduler)
        except OSError as exc:  # unreachable address, timeout
            raise ValueError(f"cannot connect to scheduler {scheduler!r} ({exc})") from None
        with client:
            yield client
    else:
        yield scheduler


def _plan_arrays(arrays):
    return arrays


def run(plan, pending, finished, *, scheduler=None, local_cluster=None, retries: int = RETRIES) -> None:
    """Run the chunks ``pending`` of ``plan`` on Dask, calling ``finished(index, arrays)`` as each completes.

    The plan's arrays (small: per-seed initial points and the elr values) go to the cluster once, as
    the result of a task that every chunk task depends on, rather than with ``scatter``: scattered
    data is lost for good if every worker holding it dies (a batch job reaching its walltime), while
    a task's result is recomputed by the scheduler.

    On an exception (including KeyboardInterrupt) the chunks not yet finished are cancelled; those
    already handed to ``finished`` are kept by its checkpoint, if any.
    """
    if not pending:
        return
    with connect(scheduler, local_cluster) as client:
        token = uuid.uuid4().hex[:12]
        arrays = client.submit(_plan_arrays, plan.arrays, key=f"toyregimes-sweep-{token}-plan", pure=False)
        futures = {}
        for index in pending:
            lo, hi = plan.bounds(index)
            fut = client.submit(run_chunk, arrays, lo, hi, threads=1, key=f"toyregimes-sweep-{token}-chunk-{index}",
                                pure=False, retries=retries)
            futures[fut] = index
        try:
            for fut in as_completed(list(futures)):
                out = fut.result()
                finished(futures.pop(fut), out)
        finally:
            if futures:
                client.cancel(list(futures))
            client.cancel([arrays])
