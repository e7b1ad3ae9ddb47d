"""Running a range of the points of a plan through a kernel (:func:`run_chunk`; module level, so Dask workers
import it): the canonical batched kernel for canonical-like toys, the Rayleigh-family batched kernel for every
other Rayleigh toy, and the user-toy kernel (the toy's single-run kernel per trajectory, in parallel) for user toys
(and, with the Rayleigh kernels bound, for minibatch sweeps of stochastic toys).
"""

from __future__ import annotations

import dataclasses

import numba
import numpy as np

from toyregimes.kernels import batched, rayleigh_batched, spectrum, user_batched
from toyregimes.lyapunov import spectrum_kernel
from toyregimes.sweep.plan import BLOCK


def run_chunk(arrays: dict, lo: int, hi: int, threads: int | None = None) -> dict:
    """Run points ``lo`` to ``hi - 1`` of a plan (``SweepPlan.arrays``) and return their raw results.

    Module-level so that Dask workers import it.  Returns a dict of numpy arrays whose leading
    dimension is the ``hi - lo`` points (names and shapes: ``SweepPlan.chunk_spec``).  Every
    trajectory is computed independently, so the result for a point does not depend on ``lo``, ``hi``,
    the thread count or the process.  ``threads`` sets Numba's thread count for this call only (the
    Dask path uses 1: the cluster provides the parallelism).

    Example: ``run_chunk(make_plan(canonical([1]), elr=[0.1]).arrays, 0, 8)["mean_loss"].shape == (8,)``.
    """
    if threads is None:
        return _with_spectrum(arrays, lo, hi, _run_chunk(arrays, lo, hi))
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        return _with_spectrum(arrays, lo, hi, _run_chunk(arrays, lo, hi))
    finally:
        numba.set_num_threads(old)


def _with_spectrum(arrays, lo, hi, chunk):
    """Add the leading ``n_exponents`` Lyapunov exponents of every point (QR method) to a chunk.

    Over the tail window (transient ``steps - tail``), from the initial vectors of
    :func:`toyregimes.lyapunov.initial_vectors`, so each equals ``tr.lyapunov_spectrum(toy, elr, steps,
    seed, n_exponents=q, transient=steps - tail)`` bit for bit.
    """
    q = arrays["n_exponents"]
    if not q:
        return chunk
    idx = np.arange(lo, hi)
    n_s = arrays["n_seeds"]
    elr = np.ascontiguousarray(arrays["elr"][idx // n_s])
    theta = np.ascontiguousarray(arrays["theta0"][:, idx % n_s].T)
    vectors = np.ascontiguousarray(arrays["spectrum_vectors"][idx % n_s])
    steps, tail, individual = arrays["steps"], arrays["tail"], arrays["individual"]
    toy = arrays["toy"]
    if arrays["fast"] or arrays["rayleigh_kernels"]:
        offsets, mats = _rayleigh_arrays(arrays)
        out, status = spectrum.spectrum_batch(theta, vectors, elr, steps, steps - tail, individual, offsets, mats)
    else:
        kern = spectrum_kernel(dataclasses.replace(toy, kernels=_user_kernels(toy)))
        out = np.empty((idx.size, q))
        status = np.zeros(idx.size, dtype=np.int64)
        for j in range(idx.size):
            logs, status[j], _ = kern(theta[j].copy(), vectors[j].copy(), elr[j], steps, steps - tail, individual,
                                      toy.offsets, toy.mats)
            out[j] = np.sort(logs)[::-1]
    out[status != 0] = np.nan
    chunk["lyapunov_spectrum"] = out
    return chunk


def _rayleigh_arrays(arrays):
    """``(offsets, mats)`` of a Rayleigh-family toy: from the toy, or built for the canonical fast path."""
    if arrays["toy"] is not None:
        return arrays["toy"].offsets, arrays["toy"].mats
    alpha = arrays["alpha"]
    n = alpha.size
    mats = np.zeros((n, 2, 2))
    mats[:, 1, 1] = alpha
    return np.arange(0, 2 * n + 1, 2, dtype=np.int64), mats


def _run_chunk(arrays, lo, hi):
    n_s = arrays["n_seeds"]
    steps, tail, individual, lyapunov = arrays["steps"], arrays["tail"], arrays["individual"], arrays["lyapunov"]
    n_states, max_period, opts = arrays["n_states"], arrays["max_period"], arrays["opts"]
    alpha, record_states = arrays["alpha"], arrays["record_states"]
    idx = np.arange(lo, hi)
    e = np.ascontiguousarray(arrays["elr"][idx // n_s])
    th = arrays["theta0"][:, idx % n_s]
    tv = arrays["tang0"][:, idx % n_s]
    if arrays["fast"]:
        out = batched.canonical_sweep(
            np.ascontiguousarray(th[0::2]), np.ascontiguousarray(th[1::2]),
            np.ascontiguousarray(tv[0::2]), np.ascontiguousarray(tv[1::2]),
            e, alpha, steps, tail, individual, lyapunov, n_states, max_period,
            float(opts["period_tol"]), float(opts["period_rtol"]), BLOCK, bool(record_states),
        )
        ml, sl, mc, ma, msq, r2lo, r2hi, ly, per, stat, fx, fy, st, lse, lh1, lh2, rh, re = out
        chunk = dict(mean_loss=ml, std_loss=sl, mean_cos_angle=mc, rms_step=ma,
                     mean_sq_norm=msq.T, min_r2=r2lo.T, max_r2=r2hi.T, lyapunov=ly,
                     period=per, status=stat, lyapunov_se=lse, loss_first_half=lh1, loss_second_half=lh2,
                     residual_head=rh, residual_end=re, sharpness_c=np.full(hi - lo, np.nan))
        if record_states:
            final = np.empty((hi - lo, 2 * fx.shape[0]))
            final[:, 0::2] = fx.T
            final[:, 1::2] = fy.T
            chunk["states"] = st
            chunk["final"] = final
        return chunk
    toy = arrays["toy"]
    batch = int(arrays.get("batch", 0))
    if arrays["rayleigh_kernels"] and not batch:
        out = rayleigh_batched.rayleigh_sweep(
            np.ascontiguousarray(th), np.ascontiguousarray(tv), e, toy.offsets, toy.mats, steps, tail, individual,
            lyapunov, n_states, max_period, float(opts["period_tol"]), float(opts["period_rtol"]),
            BLOCK, bool(record_states), arrays["noise_scale"], np.ascontiguousarray(arrays["noise_keys"][idx % n_s]),
        )
        ml, sl, mc, ma, msq, r2lo, r2hi, ly, per, stat, fin, st, lse, lh1, lh2, rh, re = out
        chunk = dict(mean_loss=ml, std_loss=sl, mean_cos_angle=mc, rms_step=ma,
                     mean_sq_norm=msq.T, min_r2=r2lo.T, max_r2=r2hi.T, lyapunov=ly,
                     period=per, status=stat, lyapunov_se=lse, loss_first_half=lh1, loss_second_half=lh2,
                     residual_head=rh, residual_end=re, sharpness_c=np.full(hi - lo, np.nan))
        if record_states:
            chunk["states"] = st
            chunk["final"] = np.ascontiguousarray(fin.T)
        return chunk
    # minibatch sweeps of stochastic toys run the Rayleigh kernels trajectory by trajectory
    kern = user_batched.rayleigh_minibatch_sweep if batch else _user_kernels(toy)["user_sweep"]
    samples = toy.samples if batch else np.zeros((0,) + toy.mats.shape)
    stats, msq, r2lo, r2hi, stat, fin, st = kern(
        np.ascontiguousarray(th), np.ascontiguousarray(tv), e, toy.offsets, toy.mats, steps, tail, individual,
        lyapunov, n_states, max_period, float(opts["period_tol"]), float(opts["period_rtol"]), bool(record_states),
        float(arrays["noise_scale"]), np.ascontiguousarray(arrays["noise_keys"][idx % n_s]),
        samples, batch, np.ascontiguousarray(arrays["batch_keys"][idx % n_s]),
    )
    chunk = {name: np.ascontiguousarray(stats[:, col]) for col, name in enumerate(_USER_STATS) if name}
    chunk.update(mean_sq_norm=msq, min_r2=r2lo, max_r2=r2hi, status=stat,
                 period=np.ascontiguousarray(stats[:, 10]).astype(np.int64))
    if record_states:
        chunk["states"] = st
        chunk["final"] = fin
    return chunk


# columns of the user sweep kernel's statistics (see toyregimes.kernels.user_batched), column 10 is the period
_USER_STATS = ("mean_loss", "std_loss", "mean_cos_angle", "rms_step", "lyapunov", "lyapunov_se", "loss_first_half",
               "loss_second_half", "residual_head", "residual_end", None, "sharpness_c")


def _user_kernels(toy) -> dict:
    """A user toy's kernels; an expression toy shipped without them (Dask) loads its cached module."""
    if "user_sweep" in toy.kernels:
        return toy.kernels
    from toyregimes.toys import codegen

    return codegen.load(toy.kernels["module_source"])
