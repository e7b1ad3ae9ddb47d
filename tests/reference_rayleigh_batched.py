"""Slow numpy twin of :func:`toyregimes.kernels.rayleigh_batched.rayleigh_sweep`, vectorised over trajectories.

The state update performs the IEEE operations of the kernel (and of ``pgd_run``) in the same order, so
states and sequential tail sums agree bit for bit; their fused multiply-adds are numpy's ufunc of the
same operation (:func:`toyregimes.kernels.fused.fma_ufunc`, checked against exact rational arithmetic in
``tests/test_fused.py``).  The tangent map is written with the explicit
Hessian matrix of each group (``(2/r^2)[(M - f I) - (theta g^T + g theta^T)]``, the algebra of
``pgd.rayleigh_hessian``) instead of the kernel's closed-form product, the Lyapunov sums take a log per
step instead of per 16 steps, and periods and residuals come from :mod:`toyregimes.analysis` itself, so
those parts are an independent check (agreement to rounding).
"""

from __future__ import annotations

import numpy as np

from toyregimes import analysis
from toyregimes.kernels.fused import fma_ufunc as fma
from toyregimes.kernels.pgd import FLOOR, FLOOR_EVERY


def _floor(value, lim):
    return np.where(np.abs(value) < lim, np.copysign(lim, value), value)


def rayleigh_sweep(theta0, tang0, elr, offsets, mats, steps, tail, individual=False, lyapunov=True,
                   n_states=64, max_period=32, period_tol=1e-3, period_rtol=0.05):
    """Same inputs and statistics as the kernel (no ``block``/``record_states``); returns a dict of arrays."""
    th = theta0.copy()
    v = tang0.copy()
    dim, m = th.shape
    n = offsets.size - 1
    groups = [(int(offsets[i]), int(offsets[i + 1])) for i in range(n)]
    radii = np.array([np.sqrt(np.sum(th[a:b] ** 2, axis=0)) for a, b in groups])
    t0 = steps - tail
    s0 = steps - n_states
    c0 = min(t0, s0)
    losses = np.zeros((tail, m))
    r2s = np.zeros((tail, n, m))
    chords2 = np.zeros((tail, m))
    logs = np.zeros((tail, m))
    states = np.empty((n_states, dim, m))
    head = np.empty((n_states, dim, m))
    chk = np.zeros(m)
    with np.errstate(all="ignore"):
        for t in range(steps):
            if t >= s0:
                states[t - s0] = th
            if c0 <= t < c0 + n_states:
                head[t - c0] = th
            loss = np.zeros(m)
            nx = np.empty_like(th)
            g = np.empty_like(th)
            r2 = np.empty((n, m))
            hvs = np.empty_like(th)
            for i, (a, b) in enumerate(groups):
                d = b - a
                acc = np.zeros(m)
                for p in range(d):
                    acc = fma(th[a + p], th[a + p], acc)
                r2[i] = acc
                mt = np.empty((d, m))
                for p in range(d):
                    s = np.zeros(m)
                    for q in range(d):
                        s = fma(mats[i, p, q], th[a + q], s)
                    mt[p] = s
                quad = np.zeros(m)
                for p in range(d):
                    quad = fma(th[a + p], mt[p], quad)
                inv = 1.0 / r2[i]
                f = quad * inv
                sc = 2.0 * inv
                loss = loss + f
                for p in range(d):
                    g[a + p] = sc * fma(-f, th[a + p], mt[p])
                    nx[a + p] = th[a + p] - elr * g[a + p]
                if lyapunov:  # explicit Hessian of the group, per trajectory
                    for c in range(m):
                        x = th[a:b, c]
                        gg = g[a:b, c]
                        hess = sc[c] * ((mats[i, :d, :d] - f[c] * np.eye(d)) - (np.outer(x, gg) + np.outer(gg, x)))
                        hvs[a:b, c] = v[a:b, c] - elr[c] * (hess @ v[a:b, c])
            # normalisation
            if individual:
                ynorm = np.empty((n, m))
                for i, (a, b) in enumerate(groups):
                    ny = np.zeros(m)
                    for p in range(a, b):
                        ny = ny + nx[p] * nx[p]
                    chk = chk + ny
                    ynorm[i] = np.sqrt(ny)
                    nx[a:b] = nx[a:b] * (radii[i] / ynorm[i])
            else:
                ny = np.zeros(m)
                for p in range(dim):
                    ny = ny + nx[p] * nx[p]
                chk = chk + ny
                ynorm = np.sqrt(ny)
                nx = nx * (1.0 / ynorm)
            chk = chk + loss
            floor = t % FLOOR_EVERY == FLOOR_EVERY - 1
            if floor:
                for a, b in groups:
                    acc = np.zeros(m)
                    for p in range(a, b):
                        acc = acc + nx[p] * nx[p]
                    nx[a:b] = _floor(nx[a:b], FLOOR * np.sqrt(acc))
            if lyapunov:
                if individual:
                    for i, (a, b) in enumerate(groups):
                        dot = np.sum(hvs[a:b] * nx[a:b], axis=0) / radii[i] ** 2
                        hvs[a:b] = (hvs[a:b] - dot * nx[a:b]) * (radii[i] / ynorm[i])
                else:
                    dot = np.sum(hvs * nx, axis=0)
                    hvs = (hvs - dot * nx) / ynorm
                vn = np.sqrt(np.sum(hvs * hvs, axis=0))
                v = hvs / vn
                if floor:
                    v = _floor(v, FLOOR)
                if t >= t0:
                    logs[t - t0] = np.log(vn)
            if t >= t0:
                losses[t - t0] = loss
                r2s[t - t0] = r2
                chords2[t - t0] = np.sum((nx - th) ** 2, axis=0)
            th = nx
    valid = np.isfinite(chk)
    out = {"final": np.where(valid, th, np.nan), "status": (~valid).astype(np.int64)}
    out["mean_loss"] = losses.mean(axis=0)
    out["std_loss"] = losses.std(axis=0)
    out["mean_sq_norm"] = r2s.mean(axis=0)
    out["min_r2"] = r2s.min(axis=0)
    out["max_r2"] = r2s.max(axis=0)
    msd = chords2.mean(axis=0)
    out["mean_cos_angle"] = 1.0 - 0.5 * msd
    out["rms_step"] = np.sqrt(msd)
    h = tail // 2
    out["loss_first_half"] = losses[:h].mean(axis=0) if h else np.full(m, np.nan)
    out["loss_second_half"] = losses[h:].mean(axis=0)
    ly = np.full(m, np.nan)
    se = np.full(m, np.nan)
    per = np.zeros(m, dtype=np.int64)
    rh = np.full(m, np.nan)
    re = np.full(m, np.nan)
    for c in range(m):
        if lyapunov:
            ly[c], se[c] = analysis.block_exponents(logs[:, c])
        if valid[c]:
            rows = np.ascontiguousarray(states[:, :, c])
            per[c] = analysis.detect_period(rows, period_tol, period_rtol, max_period)
            rh[c] = analysis.relative_residual(np.ascontiguousarray(head[:, :, c]), per[c])
            re[c] = analysis.relative_residual(rows, per[c])
    out.update(lyapunov=ly, lyapunov_se=se, period=per, residual_head=rh, residual_end=re, states=states)
    for name in ("mean_loss", "std_loss", "mean_cos_angle", "rms_step", "loss_first_half", "loss_second_half",
                 "lyapunov", "lyapunov_se"):
        out[name] = np.where(valid, out[name], np.nan)
    return out
