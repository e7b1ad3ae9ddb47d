"""Batched sweep kernel for user toys: many single runs in parallel with tail statistics reduced in-kernel.

A user toy (``toys.custom``, ``toys.from_expression``) has no structure to vectorise across trajectories,
so :func:`_user_sweep_impl` runs the toy's own single-run kernel (:func:`toyregimes.kernels.pgd.pgd_run`
with the user's functions bound, hence bit-identical trajectories to ``simulate``) for every trajectory
in a ``prange`` loop and reduces each run's per-step records to the sweep's statistics inside the kernel,
with the definitions of the other sweep kernels (sequential sums over the tail window; ``mean_cos_angle =
1 - m / 2`` with ``m`` the mean squared chord ``|theta_{t+1} - theta_t|^2``, which ``pgd_run`` records for
the sweep in place of the angle; block standard error of the
exponent in two passes; period and residuals by :mod:`toyregimes.kernels.periods`).

The functions here are templates: they call the module globals ``_pgd_run`` and ``_sharpness``, which a
specialisation binds to the toy's kernels (:func:`specialise` for a toy built in this process, or the
generated, disk-cached module of an expression toy, see :mod:`toyregimes.toys.codegen`).  The numpy
reference is the per-record reduction ``tests/reference_user_chunk.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from toyregimes.kernels import pgd
from toyregimes.kernels.noise import fill_normals, minibatch_indices
from toyregimes.kernels.periods import block_residuals, detect_period_rows
from toyregimes.kernels.pgd import _rebind

# The tail is cut into LYAP_BLOCKS blocks whose exponents give the standard error of the exponent.
LYAP_BLOCKS = 8
# Columns of a run's statistics: mean_loss, std_loss, mean_cos, rms_step, lyapunov, lyapunov_se, the mean losses
# of the two halves of the tail, residual_head, residual_end, period, and sharpness_c (half the largest group
# sphere sharpness at the last kept state times elr: the c of toys without alpha_eff).
N_STATS = 12


def _pgd_run(*args):  # bound by a specialisation
    raise NotImplementedError


def _sharpness(*args):  # bound by a specialisation
    raise NotImplementedError


def _reduce_run_impl(loss, sq, chord2, growth, tail_states, head_states, status, elr, steps, tail, lyapunov,
                     period_tol, period_rtol, max_period, offsets, mats, individual, stats, sq_out, r2lo, r2hi):
    """Tail statistics of one run from its per-step records (record_every = 1); ``stats`` as ``N_STATS``.

    ``chord2`` holds the squared chords ``|theta_{t+1} - theta_t|^2`` (``pgd_run``'s ``chord_records``).
    """
    for q in range(N_STATS):
        stats[q] = np.nan
    stats[10] = 0.0
    if status != 0:
        return
    t0 = steps - tail
    n = sq.shape[1]
    k0 = loss[t0]
    s1 = 0.0
    s2 = 0.0
    d2 = 0.0
    s1h = 0.0
    n_h1 = tail // 2
    for i in range(n):
        sq_out[i] = 0.0
        r2lo[i] = np.inf
        r2hi[i] = -np.inf
    for t in range(t0, steps):
        dl = loss[t] - k0
        s1 += dl
        s2 += dl * dl
        d2 += chord2[t]
        if t == t0 + n_h1 - 1:
            s1h = s1
        for i in range(n):
            x = sq[t, i]
            sq_out[i] += x
            r2lo[i] = x if x < r2lo[i] else r2lo[i]
            r2hi[i] = x if x > r2hi[i] else r2hi[i]
    for i in range(n):
        sq_out[i] /= tail
    m1 = s1 / tail
    stats[0] = k0 + m1
    stats[1] = math.sqrt(max(0.0, s2 / tail - m1 * m1))
    stats[2] = 1.0 - 0.5 * (d2 / tail)
    stats[3] = math.sqrt(d2 / tail)
    stats[6] = k0 + s1h / n_h1 if n_h1 > 0 else np.nan
    stats[7] = k0 + (s1 - s1h) / (tail - n_h1)
    if lyapunov:
        total = 0.0
        for t in range(t0, steps):
            total += growth[t]
        stats[4] = total / tail
        nb = min(LYAP_BLOCKS, tail)
        if nb >= 2:
            means = np.empty(nb)
            mean = 0.0
            for q in range(nb):
                lo = t0 + (q * tail) // nb
                hi = t0 + ((q + 1) * tail) // nb
                acc = 0.0
                for t in range(lo, hi):
                    acc += growth[t]
                means[q] = acc / (hi - lo)
                mean += means[q]
            mean /= nb
            dev = 0.0
            for q in range(nb):
                dev += (means[q] - mean) * (means[q] - mean)
            stats[5] = math.sqrt(dev / (nb - 1) / nb)
    per = detect_period_rows(tail_states, period_tol, period_rtol, max_period)
    stats[10] = per
    rows, dim = tail_states.shape
    pv = np.full(1, per, dtype=np.int64)
    ok = np.ones(1, dtype=np.bool_)
    res = np.empty(1)
    block_residuals(tail_states.reshape((rows, dim, 1)), pv, ok, res)
    stats[9] = res[0]
    block_residuals(head_states.reshape((rows, dim, 1)), pv, ok, res)
    stats[8] = res[0]
    # c of a toy without alpha_eff: half the largest group sphere sharpness at the last kept state (theta at
    # step steps - 1), times elr.  The labels use it only to accept a fixed point as a converged minimum, where
    # every kept state is the same; an eigen-solve per kept state cost more than the run itself.
    hbuf = np.empty((dim, dim))
    groups = np.empty(offsets.size - 1)
    _sharpness(tail_states[rows - 1].copy(), offsets, mats, individual, hbuf, groups)
    top = -np.inf
    for i in range(groups.size):
        top = max(top, groups[i])
    stats[11] = 0.5 * elr * top


def _user_sweep_impl(theta0, tang0, elr, offsets, mats, steps, tail, individual, lyapunov, n_states, max_period,
                     period_tol, period_rtol, record_states, noise_scale, keys, samples, batch, batch_keys):
    """Run ``N`` trajectories of a user toy (columns of ``theta0``/``tang0``, ``(D, N)``) in parallel.

    With ``noise_scale > 0`` trajectory ``j`` gets the SI gradient noise of ``simulate(..., noise_scale=)``
    with noise key ``keys[j]`` (uint64); with ``batch > 0`` the minibatch gradients of a stochastic toy
    (per-sample matrices ``samples``) of ``simulate(..., batch=)`` with minibatch key ``batch_keys[j]``.

    Returns ``(stats (N, N_STATS), mean_sq_norm (N, n), min_r2 (N, n), max_r2 (N, n), status (N,), final
    (N, D), states (N, n_states, D) or empty)``; see :func:`_reduce_run_impl` for the columns of ``stats``.
    """
    dim, m = theta0.shape
    n = offsets.size - 1
    stats = np.empty((m, N_STATS))
    sq = np.empty((m, n))
    r2lo = np.empty((m, n))
    r2hi = np.empty((m, n))
    status = np.zeros(m, dtype=np.int64)
    final = np.empty((m, dim))
    states = np.empty((m if record_states else 0, n_states, dim))
    head_start = min(steps - tail, steps - n_states)
    one = steps // steps  # record every step (a variable, not a literal: simulate's argument types)
    no_sharpness = steps < 0
    chords = steps >= 0  # squared chords in the angle records (a variable, as ``one``)
    for c in prange(m):
        # an empty index array is a full-batch run (one compiled branch instead of one per combination)
        idx = minibatch_indices(batch_keys[c], steps if batch > 0 else 0, samples.shape[0], batch)
        # 0 rows of noise: none.  One call with simulate's argument types, so that the toy's single-run kernel
        # is compiled once for simulate and every sweep (not once per kind of call)
        xi = noise_scale * fill_normals(keys[c], steps if noise_scale > 0 else 0, dim)
        rec = _pgd_run(np.ascontiguousarray(theta0[:, c]), np.ascontiguousarray(tang0[:, c]), elr[c], steps, one,
                       individual, lyapunov, n_states, offsets, mats, xi, no_sharpness, head_start, samples, idx,
                       chords)
        loss, sqr, _geff, chord2, _sh, _tsh, growth, tail_states, theta, st, _fail, head_states = rec
        status[c] = st
        final[c] = theta
        if record_states:
            states[c] = tail_states
        _reduce_run(loss, sqr, chord2, growth, tail_states, head_states, st, elr[c], steps, tail, lyapunov,
                    period_tol, period_rtol, max_period, offsets, mats, individual, stats[c], sq[c], r2lo[c], r2hi[c])
    return stats, sq, r2lo, r2hi, status, final, states


def specialise(pgd_run, sharpness):
    """The user sweep kernel with a toy's ``pgd_run`` and ``sharpness`` bound (compiled in this process only)."""
    namespace = dict(globals())
    namespace["_pgd_run"] = pgd_run
    namespace["_sharpness"] = sharpness
    namespace["_reduce_run"] = njit(_rebind(_reduce_run_impl, namespace))
    return njit(parallel=True)(_rebind(_user_sweep_impl, namespace))


_reduce_run = _reduce_run_impl  # rebound by specialise


def _rayleigh_specialisation():
    namespace = dict(globals())
    namespace["_pgd_run"] = pgd.pgd_run
    namespace["_sharpness"] = pgd._sharpness
    namespace["_reduce_run"] = njit(cache=True)(_rebind(_reduce_run_impl, namespace))
    return njit(parallel=True, cache=True)(_rebind(_user_sweep_impl, namespace))


# The per-trajectory sweep of the Rayleigh family's own kernels, for minibatch runs of stochastic toys (whose
# per-step matrices differ between trajectories, so the shared-matrix Rayleigh kernel does not apply).  It is
# the only specialisation cached on disk: the cache is named after the template, and user toys' specialisations
# are compiled in memory only, so no other entry can take its place.
rayleigh_minibatch_sweep = _rayleigh_specialisation()
