"""Slow numpy twin of :func:`toyregimes.kernels.batched.canonical_sweep`, vectorised over trajectories.

Used by the tests (kernel == twin) and by ``benchmarks/bench_sweep.py`` as the numpy baseline.  The
trajectory update performs the same IEEE operations in the same order as the kernel, so states and
sequential tail sums agree bit for bit (including the snap of ``y_i < SNAP |x_i|`` to 0 every
``SNAP_EVERY`` steps, see :mod:`toyregimes.kernels.batched`); the tangent map is written as an explicit 2x2 Hessian per
group (different algebra from the kernel's closed-form product), and periods come from
:func:`toyregimes.analysis.detect_period` itself, so those parts are an independent check.
"""

from __future__ import annotations

import numpy as np

from toyregimes import analysis
from toyregimes.kernels.batched import BIG, RESCALE, SNAP, SNAP_EVERY


def _floor(value, lim):
    """The kernel's floor: magnitudes below ``lim`` raised to ``lim``, sign kept (NaN passes)."""
    return np.where(np.abs(value) < lim, np.copysign(lim, value), value)


def canonical_sweep(x0, y0, v0x, v0y, elr, alpha, steps, tail, individual=False, lyapunov=True,
                    n_states=128, max_period=64, period_tol=1e-3, period_rtol=0.05, periods=True):
    """Same inputs and statistics as the kernel; returns a dict of arrays.

    ``periods=False`` skips period detection (the benchmark times the stepping only).
    """
    x, y = x0.copy(), y0.copy()
    vx, vy = v0x.copy(), v0y.copy()
    n, m = x.shape
    alpha = np.asarray(alpha, dtype=float)[:, None]
    radii = np.sqrt(x * x + y * y)
    t0 = steps - tail
    s1 = np.zeros(m)
    s2 = np.zeros(m)
    kk = np.zeros(m)
    sd2 = np.zeros(m)
    sq = np.zeros((n, m))
    r2min = np.full((n, m), np.inf)
    r2max = np.full((n, m), -np.inf)
    chk = np.zeros(m)
    big = np.ones(m)
    logs = np.zeros(m)
    tail_logs = np.zeros((tail, m))
    states = np.empty((n_states, 2 * n, m))
    head = np.empty((n_states, 2 * n, m))
    h0 = min(t0, steps - n_states)
    s1h = np.zeros(m)
    with np.errstate(all="ignore"):
        for t in range(steps):
            if t >= steps - n_states:
                states[t - (steps - n_states), 0::2] = x
                states[t - (steps - n_states), 1::2] = y
            if h0 <= t < h0 + n_states:
                head[t - h0, 0::2] = x
                head[t - h0, 1::2] = y
            # total constraint, before the tail and the kept states: unnormalised state (see the kernel)
            deferred = not individual and t < min(t0, steps - n_states)
            if deferred:
                mm = np.where(big > BIG, RESCALE, 1.0)
                x, y = x * mm, y * mm
                es = (2.0 * elr) * (big * (mm * mm))
            else:
                es = 2.0 * elr
            ox, oy = x.copy(), y.copy()
            r2 = x * x + y * y
            inv = 1.0 / r2
            f = alpha * ((y * y) * inv)
            c = es * inv
            k = 1.0 + c * f
            nx = x * k
            ny = y * (k - c * alpha)
            snap = t % SNAP_EVERY == SNAP_EVERY - 1  # snaps at the end of every SNAP_EVERY-th step only
            loss = np.zeros(m)
            for i in range(n):
                loss = loss + f[i]
            if lyapunov:
                # explicit Euclidean Hessian of alpha y^2 / r^2 per group, then (I - elr H) v
                sc = 2.0 * inv
                g0 = sc * (0.0 - f * x)
                g1 = sc * ((alpha - f) * y)
                h00 = sc * ((0.0 - f) - 2 * x * g0)
                h01 = sc * (0.0 - (x * g1 + g0 * y))
                h11 = sc * ((alpha - f) - 2 * y * g1)
                e = 0.5 * es  # elr |theta~|^2: H at theta is |theta~|^2 times H at theta~
                wx = vx - e * (h00 * vx + h01 * vy)
                wy = vy - e * (h01 * vx + h11 * vy)
            if deferred:
                if snap:
                    ny = _floor(ny, SNAP * np.abs(nx))
                ssum = np.zeros(m)
                for i in range(n):
                    ssum = (ssum + nx[i] * nx[i]) + ny[i] * ny[i]
                chk = chk + ssum
                big = ssum
                s = np.ones((n, m))
                x, y = nx, ny
            elif individual:
                q = (0.0 + nx * nx) + ny * ny
                chk = chk + q.sum(axis=0)
                s = radii / np.sqrt(q)
            else:
                ssum = np.zeros(m)
                for i in range(n):
                    ssum = (ssum + nx[i] * nx[i]) + ny[i] * ny[i]
                chk = chk + ssum
                s = np.broadcast_to(1.0 / np.sqrt(ssum), (n, m))
            if not deferred:
                x, y = nx * s, ny * s
                if snap:
                    y = _floor(y, SNAP * np.abs(x))
            chk = chk + loss
            if lyapunov:
                if individual:
                    d = (wx * x + wy * y) / (radii * radii)
                else:
                    d = (wx * x + wy * y).sum(axis=0)
                    if deferred:
                        d = d / big
                wx = (wx - d * x) * s
                wy = (wy - d * y) * s
                vn = np.sqrt((wx * wx + wy * wy).sum(axis=0))
                vx, vy = wx / vn, wy / vn
                if (t + 1) % SNAP_EVERY == SNAP_EVERY - 1:  # the kernel snaps v where step t + 1 reads it
                    vx = _floor(vx, SNAP)
                    vy = _floor(vy, SNAP)
                if t >= t0:
                    logs = logs + np.log(vn)
                    tail_logs[t - t0] = np.log(vn)
            if deferred and t == min(t0, steps - n_states) - 1:
                inv_norm = 1.0 / np.sqrt(big)
                x, y = x * inv_norm, y * inv_norm
            if t >= t0:
                if t == t0:
                    kk = loss.copy()
                dl = loss - kk
                s1 = s1 + dl
                s2 = s2 + dl * dl
                r2o = ox * ox + oy * oy
                sq = sq + r2o
                r2min = np.minimum(r2min, r2o)
                r2max = np.maximum(r2max, r2o)
                d2 = np.zeros(m)
                for i in range(n):
                    d2 = (d2 + (x[i] - ox[i]) ** 2) + (y[i] - oy[i]) ** 2
                sd2 = sd2 + d2
                if t == t0 + tail // 2 - 1:
                    s1h = s1.copy()
    ok = np.isfinite(chk)
    mean1 = s1 / tail
    out = {
        "mean_loss": kk + mean1,
        "std_loss": np.sqrt(np.maximum(0.0, s2 / tail - mean1 * mean1)),
        "mean_cos_angle": 1.0 - 0.5 * (sd2 / tail),
        "rms_step": np.sqrt(sd2 / tail),
        "mean_sq_norm": sq / tail,
        "min_r2": r2min,
        "max_r2": r2max,
        "lyapunov": logs / tail if lyapunov else np.full(m, np.nan),
        "status": (~ok).astype(np.int64),
        "final_x": np.where(ok, x, np.nan),
        "final_y": np.where(ok, y, np.nan),
        "states": np.moveaxis(states, 2, 0),
        "lyapunov_se": np.array([analysis.block_exponents(tail_logs[:, j])[1] for j in range(m)])
        if lyapunov and tail >= 2 else np.full(m, np.nan),
        "loss_first_half": kk + s1h / (tail // 2) if tail // 2 else np.full(m, np.nan),
        "loss_second_half": kk + (s1 - s1h) / (tail - tail // 2),
    }
    for key in ("mean_loss", "std_loss", "mean_cos_angle", "rms_step", "lyapunov", "lyapunov_se", "loss_first_half",
                "loss_second_half"):
        out[key] = np.where(ok, out[key], np.nan)
    if periods:
        out["period"] = np.array([
            analysis.detect_period(out["states"][j], period_tol, period_rtol, max_period) if ok[j] else 0
            for j in range(m)
        ])
        head_states = np.moveaxis(head, 2, 0)
        out["residual_head"] = np.array([analysis.relative_residual(head_states[j], p) if ok[j] else np.nan
                                         for j, p in enumerate(out["period"])])
        out["residual_end"] = np.array([analysis.relative_residual(out["states"][j], p) if ok[j] else np.nan
                                        for j, p in enumerate(out["period"])])
    return out
