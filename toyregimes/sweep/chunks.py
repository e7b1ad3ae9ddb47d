"""Running a range of the points of a plan through a kernel (:func:`run_chunk`; module level, so Dask workers
import it): the batched kernel for canonical-like toys, the single-run kernel one trajectory at a time otherwise.
"""

from __future__ import annotations

import numba
import numpy as np

from toyregimes import analysis
from toyregimes.kernels import batched, pgd, spectrum
from toyregimes.lyapunov import spectrum_kernel
from toyregimes.sweep.plan import BLOCK, EVIDENCE


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
        kern = spectrum_kernel(toy)
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
    pgd_run = pgd.RAYLEIGH_KERNELS["pgd_run"] if arrays["rayleigh_kernels"] else toy.kernels["pgd_run"]
    states = np.full((hi - lo, n_states, toy.dim), np.nan) if record_states else None
    final = np.full((hi - lo, toy.dim), np.nan) if record_states else None
    chunk = _generic_chunk(toy, e, th, tv, steps, tail, individual, lyapunov, n_states, opts, states, final, 0,
                           pgd_run)
    if record_states:
        chunk["states"] = states
        chunk["final"] = final
    return chunk


def _generic_chunk(toy, e, th, tv, steps, tail, individual, lyapunov, n_states, opts, states, final, lo,
                   pgd_run=None):
    """Fallback for toys without a batched kernel: the single-run kernel, one trajectory at a time.

    Statistics and evidence are reduced from its per-step records with the same definitions as the
    batched kernel (population std, cos of the recorded angle, exponent = tail log growth / tail,
    block standard error, halves, head and end residuals); ``sharpness_c`` is half the largest
    recorded sphere sharpness over the tail times ``elr`` (the stability measure of toys without
    ``alpha_eff``).
    """
    m = e.size
    out = {name: np.full(m, np.nan) for name in ("mean_loss", "std_loss", "mean_cos_angle", "rms_step",
                                                   "lyapunov", *EVIDENCE)}
    out.update({
        "mean_sq_norm": np.full((m, toy.n_groups), np.nan), "min_r2": np.full((m, toy.n_groups), np.nan),
        "max_r2": np.full((m, toy.n_groups), np.nan), "period": np.zeros(m, dtype=np.int64),
        "status": np.zeros(m, dtype=np.int64),
    })
    head_start = min(steps - tail, steps - n_states)
    for c in range(m):
        rec = (pgd_run or toy.kernels["pgd_run"])(
            np.ascontiguousarray(th[:, c]), np.ascontiguousarray(tv[:, c]), float(e[c]), steps, 1, individual,
            lyapunov, n_states, toy.offsets, toy.mats, None, True, head_start,
        )
        loss, sq, _geff, angle, sharp, _tsh, growth, tail_states, theta, status, _fail, head_states = rec
        if states is not None:
            states[lo + c] = tail_states
            final[lo + c] = theta
        if status != batched.STATUS_OK:
            out["status"][c] = batched.STATUS_NONFINITE
            continue
        w = slice(steps - tail, steps)
        out["mean_loss"][c] = loss[w].mean()
        out["std_loss"][c] = loss[w].std()
        out["mean_cos_angle"][c] = np.cos(angle[w]).mean()
        out["rms_step"][c] = np.sqrt(np.mean((2.0 * np.sin(0.5 * angle[w])) ** 2))
        out["mean_sq_norm"][c] = sq[w].mean(axis=0)
        out["min_r2"][c] = sq[w].min(axis=0)
        out["max_r2"][c] = sq[w].max(axis=0)
        h = tail // 2
        out["loss_first_half"][c] = loss[w][:h].mean() if h else np.nan
        out["loss_second_half"][c] = loss[w][h:].mean()
        out["sharpness_c"][c] = 0.5 * float(e[c]) * np.max(sharp[w])
        if lyapunov:
            out["lyapunov"][c] = growth[w].sum() / tail
            out["lyapunov_se"][c] = analysis.block_exponents(growth[w])[1]
        p = analysis.detect_period(tail_states, opts["period_tol"], opts["period_rtol"], int(opts["max_period"]))
        out["period"][c] = p
        out["residual_head"][c] = analysis.relative_residual(head_states, p)
        out["residual_end"][c] = analysis.relative_residual(tail_states, p)
    return out
