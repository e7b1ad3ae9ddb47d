"""Lyapunov spectrum of PGD on the sphere: the QR (Benettin) method on the exact tangent map.

``m`` tangent vectors are advanced with the tangent map of one step (the same map as
:func:`toyregimes.kernels.pgd.pgd_run` uses for the largest exponent: ``v -> P(v - elr H v) / |y|``,
``P`` the projection on the tangent space of the constraint set at the new point; per group, times
``R_i``, under the individual constraint) and re-orthonormalised after every step by modified
Gram-Schmidt, the QR factorisation ``W = Q R``; the exponents are the time averages of
``log R_jj`` (largest first, as Gram-Schmidt orders them).  :func:`qr_step` is the re-orthonormalisation
alone, so that it can be tested on linear maps with known exponents.  Kernel modules import only numpy,
numba and the standard library (and each other).  The numpy twin is in ``tests/test_spectrum.py``.
"""

from __future__ import annotations

import math
import types

import numpy as np
from numba import njit, prange

from toyregimes.kernels import pgd

_loss_grad = pgd.rayleigh_loss_grad
_hessian = pgd.rayleigh_hessian
_project_tangent = pgd._project_tangent
_floor_group = pgd._floor_group
_FLOOR_EVERY = pgd.FLOOR_EVERY


@njit(cache=True)
def qr_step(w, logs, accumulate):
    """Modified Gram-Schmidt on the columns of ``w`` (in place: ``w <- Q``); adds ``log R_jj`` to ``logs``.

    A column that vanishes (``R_jj = 0``) adds ``-inf`` and is left at zero.
    """
    dim, m = w.shape
    for j in range(m):
        for i in range(j):
            dot = 0.0
            for p in range(dim):
                dot += w[p, i] * w[p, j]
            for p in range(dim):
                w[p, j] -= dot * w[p, i]
        nrm = 0.0
        for p in range(dim):
            nrm += w[p, j] * w[p, j]
        nrm = math.sqrt(nrm)
        if accumulate:
            logs[j] += math.log(nrm) if nrm > 0.0 else -math.inf
        if nrm > 0.0:
            for p in range(dim):
                w[p, j] /= nrm


def _spectrum_impl(theta0, vectors0, elr, steps, transient, individual, offsets, mats):
    """Exponents of ``m = vectors0.shape[1]`` tangent directions over steps ``transient .. steps - 1``.

    ``theta0`` must lie on the constraint set; ``vectors0`` (D x m) are projected on its tangent space
    and orthonormalised first.  Returns ``(exponents (m,), status, final theta)``; a non-finite value
    stops the run with status 1 and NaN exponents.
    """
    dim = theta0.size
    n = offsets.size - 1
    m = vectors0.shape[1]
    theta = theta0.copy()
    nxt = np.empty(dim)
    grad = np.empty(dim)
    hbuf = np.empty((dim, dim))
    radii = np.empty(n)
    ynorm = np.empty(n)
    for i in range(n):
        radii[i] = math.sqrt(np.sum(theta[offsets[i]:offsets[i + 1]] ** 2))
    w = vectors0.copy()
    col = np.empty(dim)
    logs = np.zeros(m)
    for j in range(m):
        col[:] = w[:, j]
        _project_tangent(theta, offsets, individual, radii, col)
        w[:, j] = col
    qr_step(w, logs, False)
    for t in range(steps):
        _loss_grad(theta, offsets, mats, grad)
        _hessian(theta, offsets, mats, hbuf)
        for p in range(dim):
            nxt[p] = theta[p] - elr * grad[p]
        ok = True
        if individual:
            for i in range(n):
                ny = 0.0
                for p in range(offsets[i], offsets[i + 1]):
                    ny += nxt[p] * nxt[p]
                ok = ok and math.isfinite(ny) and ny > 0.0
                ynorm[i] = math.sqrt(ny)
                scale = radii[i] / ynorm[i]  # the operations of pgd_run: same trajectory, bit for bit
                for p in range(offsets[i], offsets[i + 1]):
                    nxt[p] *= scale
        else:
            ny = 0.0
            for p in range(dim):
                ny += nxt[p] * nxt[p]
            ok = math.isfinite(ny) and ny > 0.0
            ynorm[0] = math.sqrt(ny)
            scale = 1.0 / ynorm[0]
            for p in range(dim):
                nxt[p] *= scale
        if not ok:
            logs[:] = np.nan
            return logs, 1, theta
        if t % _FLOOR_EVERY == _FLOOR_EVERY - 1:  # as pgd_run: the same trajectory
            for i in range(n):
                _floor_group(nxt, offsets[i], offsets[i + 1])
        for j in range(m):
            for p in range(dim):
                acc = 0.0
                for s in range(dim):
                    acc += hbuf[p, s] * w[s, j]
                col[p] = w[p, j] - elr * acc
            _project_tangent(nxt, offsets, individual, radii, col)
            if individual:
                for i in range(n):
                    for p in range(offsets[i], offsets[i + 1]):
                        col[p] *= radii[i] / ynorm[i]
            else:
                for p in range(dim):
                    col[p] /= ynorm[0]
            w[:, j] = col
        qr_step(w, logs, t >= transient)
        theta, nxt = nxt, theta
    for j in range(m):
        logs[j] /= steps - transient
    return logs, 0, theta


lyapunov_spectrum_run = njit(cache=True)(_spectrum_impl)


@njit(cache=True, parallel=True)
def spectrum_batch(theta0, vectors0, elr, steps, transient, individual, offsets, mats):
    """:func:`lyapunov_spectrum_run` for many points in parallel (Rayleigh family), exponents sorted largest first.

    ``theta0`` (m, D), ``vectors0`` (m, D, q), ``elr`` (m,).  Returns ``(exponents (m, q), status (m,))``;
    each point is computed on its own, so results do not depend on the batch or the threads.
    """
    m = theta0.shape[0]
    q = vectors0.shape[2]
    out = np.empty((m, q))
    status = np.zeros(m, dtype=np.int64)
    for j in prange(m):
        logs, st, _ = lyapunov_spectrum_run(theta0[j].copy(), vectors0[j].copy(), elr[j], steps, transient,
                                            individual, offsets, mats)
        status[j] = st
        srt = np.sort(logs)
        for i in range(q):
            out[j, i] = srt[q - 1 - i]
    return out, status


def specialise(loss_grad, hessian):
    """The spectrum loop with a user toy's functions bound (not disk-cached, as :func:`pgd.specialise`)."""
    namespace = dict(globals())
    namespace["_loss_grad"] = loss_grad
    namespace["_hessian"] = hessian
    fn = types.FunctionType(_spectrum_impl.__code__, namespace, _spectrum_impl.__name__)
    return njit(fn)
