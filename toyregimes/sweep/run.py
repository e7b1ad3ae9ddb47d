"""Running a sweep: every chunk of a plan in this process (Numba threads) or on Dask, with checkpoints
(:func:`sweep`)."""

from __future__ import annotations

import contextlib
import signal
import threading

import numba
import xarray as xr

from toyregimes._budget import DEFAULT_MAX_MEMORY, DEFAULT_MAX_SECONDS
from toyregimes._progress import bar_disabled
from toyregimes._validate import as_int
from toyregimes.sweep.assemble import assemble
from toyregimes.sweep.checkpoints import ChunkStore
from toyregimes.sweep.chunks import run_chunk
from toyregimes.sweep.plan import BLOCK, SweepPlan, make_plan
from toyregimes.toys import Toy

__all__ = ["sweep"]


def _progress(total, progress, desc, initial=0):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=bar_disabled(progress), desc=desc, unit="traj")


def _run_local(plan: SweepPlan, pending: list, finished, between=None) -> None:
    """Run the pending chunks in this process, calling ``finished(index, arrays)`` for each, and
    ``between()`` after every kernel call's chunks are handed over (where an interrupt may stop).

    Consecutive pending chunks share one kernel call until it holds at least one block per Numba
    thread, so small chunks (fine-grained checkpoints) still keep every thread busy; the call's
    results are split back into chunks (trajectories are independent: nothing changes).
    """
    target = BLOCK * numba.get_num_threads()
    i = 0
    while i < len(pending):
        lo, hi = plan.bounds(pending[i])
        j = i + 1
        while j < len(pending) and pending[j] == pending[j - 1] + 1 and hi - lo < target:
            hi = plan.bounds(pending[j])[1]
            j += 1
        out = run_chunk(plan.arrays, lo, hi)
        for index in pending[i:j]:
            a, b = plan.bounds(index)
            finished(index, {name: val[a - lo : b - lo] for name, val in out.items()})
        if between is not None:
            between()
        i = j


@contextlib.contextmanager
def _deferred_interrupt():
    """Hold a first Ctrl-C until the chunk being computed is written, then raise ``KeyboardInterrupt``.

    A ``KeyboardInterrupt`` raised by the default handler lands wherever Python happens to be, often
    inside the Numba dispatcher's C code, which then fails with ``SystemError: ... returned a result
    with an exception set`` instead of unwinding cleanly.  Here the handler only records the signal;
    :func:`sweep` checks it after every finished chunk (``check()``).  A second Ctrl-C interrupts at
    once.  Outside the main thread signals cannot be handled: the context then does nothing.
    """
    state = {"hit": False}

    def check():
        if state["hit"]:
            raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield check
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if state["hit"]:
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        state["hit"] = True

    signal.signal(signal.SIGINT, handler)
    try:
        yield check
    finally:
        signal.signal(signal.SIGINT, previous)


def _check_scheduler(scheduler, local_cluster) -> None:
    if local_cluster is not None:
        if scheduler is not None:
            raise ValueError("give at most one of scheduler and local_cluster")
        as_int(local_cluster, "local_cluster", minimum=1)
    if scheduler is None or (isinstance(scheduler, str) and scheduler.strip()):
        return
    if not (hasattr(scheduler, "submit") and hasattr(scheduler, "scatter")):
        raise ValueError(
            f"scheduler must be None, an address such as 'tcp://host:8786' or a dask.distributed.Client, "
            f"got {scheduler!r}"
        )


def _distributed_module():
    try:
        from toyregimes.sweep import distributed
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in ("dask", "distributed"):
            raise ImportError(
                f"running a sweep on Dask needs dask.distributed ({exc}); install it with "
                "pip install 'toyregimes[distributed]'"
            ) from exc
        raise
    return distributed


def sweep(
    toy: Toy,
    elr=None,
    seeds=8,
    steps: int = 20_000,
    tail: int = 5_000,
    constraint: str = "total",
    lyapunov: bool = True,
    *,
    k=None,
    chunk_size: int = 4096,
    progress=None,
    record_states: bool = False,
    scheduler=None,
    local_cluster=None,
    checkpoint=None,
    n_exponents: int = 0,
    kernel: str = "exact",
    noise_scale: float = 0.0,
    batch=None,
    max_memory=DEFAULT_MAX_MEMORY,
    max_seconds=DEFAULT_MAX_SECONDS,
    **criteria,
) -> xr.Dataset:
    """Run PGD on the sphere for every (elr, seed) pair and summarise the tail of each run.

    Parameters
    ----------
    toy : Toy
    elr : 1-d array of float > 0
        Effective learning rates (the ``elr`` dimension).  Alternatively give ``k``.
    seeds : int or list of int
        ``n`` -> seeds ``0 .. n-1``; a list -> those seeds.  Point (elr, s) starts where
        ``simulate(toy, elr, seed=s)`` does.
    steps : int >= 1
    tail : int, 1 <= tail <= steps
        Statistics are over the last ``tail`` steps (the first ``steps - tail`` are a transient).
    constraint : {"total", "individual"}
    lyapunov : bool
        Propagate a tangent vector with the exact Jacobian of the PGD step (costs ~2x).
    k : 1-d array of float > 0, optional
        Dimensionless ELR instead of ``elr``: ``elr = k / sum(alpha_eff)``.
    chunk_size : int
        Trajectories per chunk: the unit of a Dask task and of a checkpoint file (progress
        granularity and memory; never changes results).
    progress : bool or None
        tqdm bar over trajectories; None shows it only when stderr is a terminal.
    record_states : bool
        Also store the last ``2 * max_period`` states of every run (``tail_state``) and the final
        state (``final_state``).
    scheduler : None, str or dask.distributed.Client
        None runs in this process (Numba threads).  An address (``"tcp://host:8786"``) or a Client
        runs every chunk as a task on that Dask cluster (the ``distributed`` extra); the results are
        the same bit for bit.  A Client is used as is, an address is connected to and closed after.
    local_cluster : int >= 1, optional
        Start a ``dask.distributed.LocalCluster`` of this many worker processes (one thread each) for
        this sweep and close it after.  Exclusive with ``scheduler``.
    checkpoint : path or :class:`toyregimes.sweep.checkpoints.ChunkStore`, optional
        Directory where every finished chunk is written atomically; chunks already there (from an
        interrupted run with the same inputs) are loaded, checked and not recomputed.  A directory
        started with other inputs, or a corrupt or foreign chunk file, raises ``ValueError``.  The
        directory is left in place (the CLI deletes it once the result file is written).  The sweep
        holds the store's lock while it runs (:meth:`ChunkStore.lock`): a second sweep on the same
        directory raises ``ValueError`` naming the first.  A Ctrl-C is held until the chunk in progress
        is written, then ``KeyboardInterrupt`` propagates with every finished chunk kept.
    max_memory, max_seconds : float or None
        Size guard: refuse (``ValueError``, before computing) a sweep whose estimated memory (bytes) or
        time (seconds) exceeds these; None lifts the limit (:func:`toyregimes.sweep.plan.sweep_cost`).
    n_exponents : int >= 0
        Also compute the leading ``n_exponents`` Lyapunov exponents of every point by the QR method
        (``lyapunov_spectrum``, dims ``(elr, seed, exponent)``, largest first, over the tail window),
        equal to :func:`toyregimes.lyapunov_spectrum` with ``transient = steps - tail`` bit for bit.
    kernel : {"exact", "fast"}
        ``"exact"`` (default): the kernel that performs ``simulate``'s operations in ``simulate``'s order (the
        Rayleigh-family kernel; toys outside that family always use theirs), so every trajectory is
        ``simulate``'s bit for bit, and one compiled kernel serves every number of groups, toy of the family
        and constraint (nothing to compile for a new ``n``).  ``"fast"``: for the canonical toy only, its own
        kernel, 1.5-3x faster once compiled but compiled once per number of groups (about a minute each) and
        rounding differently from ``simulate`` (agreement to 1e-10 on converged runs; in chaotic and mixed
        bands labels agree only statistically, as between any two implementations).
    noise_scale : float >= 0
        SI-consistent gradient noise, as ``simulate(..., noise_scale=)``: every point sees the noise of
        ``simulate`` with its seed, so its trajectory is that run's bit for bit.  Needs ``lyapunov=False``;
        noisy canonical toys run the exact kernel; no period test (the state never repeats exactly).
    batch : int, optional
        Minibatch size for a stochastic toy (:func:`toyregimes.toys.stochastic`), as ``simulate(..., batch=)``:
        every point sees the minibatches of ``simulate`` with its seed, so its trajectory is that run's bit for
        bit.  Needs ``lyapunov=False``; the runs go through the Rayleigh kernels one trajectory per thread.
    **criteria
        Regime criteria overriding :data:`toyregimes.analysis.DEFAULTS`.

    Returns
    -------
    xarray.Dataset
        Dims ``(elr, seed, group)``, coordinate ``k = elr * sum(alpha_eff)`` along ``elr``.
        ``mean_loss``, ``std_loss`` (population), ``mean_cos_angle``, ``rms_step`` (root mean square of
        the chord ``|theta_{t+1} - theta_t|``, ~ the RMS angular update) and ``mean_sq_norm`` (per group)
        over the tail;
        ``min_c``/``max_c``: extremes over the tail and the groups of ``c_i = elr * alpha_eff_i / r_i^2``;
        ``lyapunov`` (NaN unless computed);
        ``period`` (``analysis.detect_period`` of the last ``2 * max_period`` states, 0 = none);
        ``status`` (``"ok"`` / ``"diverged_numerically"``); ``regime`` from
        :func:`toyregimes.analysis.classify_stats`, with the evidence it was decided on:
        ``lyapunov_se`` (standard error of the exponent from 8 blocks of the tail),
        ``residual_head``/``residual_end`` (relative period residual at the detected period, at the
        head and at the end of the tail; NaN unless the period is >= 2), ``loss_first_half`` /
        ``loss_second_half`` (mean loss over the two halves of the tail) and ``max_c`` (stability of a
        minimum; for toys without ``alpha_eff`` half the largest recorded sphere sharpness times
        ``elr``); ``score`` the signed regime score of :func:`toyregimes.analysis.signed_score` (< 0 for
        runs labelled convergence, otherwise the fraction of the way to the random level).
        ``attrs`` hold every input.

    Examples
    --------
    A phase diagram's data; on two local worker processes add ``local_cluster=2``:

    >>> res = sweep(canonical([1, 2, 3]), k=np.geomspace(0.1, 10, 50), seeds=4, steps=5000,
    ...             tail=1000)  # doctest: +SKIP
    """
    plan = make_plan(toy, elr, seeds, steps, tail, constraint, lyapunov, k=k, chunk_size=chunk_size,
                     record_states=record_states, n_exponents=n_exponents, max_memory=max_memory,
                     max_seconds=max_seconds, kernel=kernel, noise_scale=noise_scale, batch=batch,
                     **criteria)
    _check_scheduler(scheduler, local_cluster)
    store = None
    if checkpoint is not None:
        store = checkpoint if isinstance(checkpoint, ChunkStore) else ChunkStore(checkpoint)
    locked_here = store is not None and not store.locked
    if locked_here:
        store.lock()
    try:
        return _sweep(plan, store, progress, scheduler, local_cluster)
    finally:
        if locked_here:
            store.unlock()


def _sweep(plan: SweepPlan, store, progress, scheduler, local_cluster) -> xr.Dataset:
    done = {}
    if store is not None:
        done = store.open(plan.fingerprint_params(), [plan.bounds(i) for i in range(plan.n_chunks)],
                          plan.chunk_spec())
    pending = [i for i in range(plan.n_chunks) if i not in done]
    resumed = sum(plan.bounds(i)[1] - plan.bounds(i)[0] for i in done)

    with _progress(plan.n_points, progress, "sweep", initial=resumed) as bar, _deferred_interrupt() as check:

        def finished(index, arrays):
            if store is not None:
                store.write(index, arrays)
            done[index] = arrays
            lo, hi = plan.bounds(index)
            bar.update(hi - lo)

        def finished_then_check(index, arrays):
            finished(index, arrays)
            check()  # a Ctrl-C received meanwhile stops here, with this chunk safely written

        if scheduler is None and local_cluster is None:
            # a kernel call may cover several small chunks: all of them are written before stopping
            _run_local(plan, pending, finished, between=check)
        elif pending:
            _distributed_module().run(plan, pending, finished_then_check, scheduler=scheduler,
                                      local_cluster=local_cluster)
    return assemble(plan, [done[i] for i in range(plan.n_chunks)])
