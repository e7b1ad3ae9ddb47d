"""Batched Numba kernels for sweeps: many PGD runs of the canonical toy at once.

Layout is structure of arrays with trajectories innermost: the state of ``N`` runs of an ``n``-group
canonical toy is two ``(n, N)`` arrays ``x`` and ``y`` (``theta_i = (x_i, y_i)``), so every inner
loop runs over contiguous trajectories and LLVM vectorises it.  ``prange`` distributes blocks of
``block`` trajectories over threads; a block is copied into small local arrays that stay in L1 and
is advanced step by step, the inner loop running over the block.

Bit-compatibility with the single-run kernel.  The trajectory update reproduces the floating-point
operations of :func:`toyregimes.kernels.rayleigh_loss_grad` and of the PGD loop for
``M_i = diag(0, alpha_i)`` one for one (same operands, same order, no fused multiply-add), so a
trajectory here is bit for bit the trajectory of ``simulate`` with the same initial point, also in
chaotic runs where one ulp would otherwise grow to order one.  Statistics are reduced in-kernel over
the last ``tail`` steps with sequential sums, so they agree with ``analysis.summary`` of the same
run to rounding (numpy sums pairwise).  The tangent vector only needs to be accurate, not
bit-compatible (its direction converges to the Oseledets direction whatever the rounding), so it
uses the closed-form Hessian-vector product and multiplications by reciprocals.

Results of a trajectory depend only on its own inputs, never on its block, chunk or thread: vector
lanes and scalar remainder iterations perform the same IEEE operations.

The slow numpy twin is ``tests/reference_batched.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

STATUS_OK = 0
STATUS_NONFINITE = 1

# Log of the tangent growth is taken once every LOG_EVERY tail steps from the running product of
# the per-step factors (a log per step and trajectory would dominate the cost of the tangent map
# without SVML).  16 factors in [1e-19, 1e19] cannot over- or underflow.
LOG_EVERY = 16


@njit(cache=True)
def group_radii(x0, y0):
    """Group norms ``R_i`` of the initial points, computed as the single-run kernel does."""
    n, m = x0.shape
    out = np.empty((n, m))
    pair = np.empty(2)
    for i in range(n):
        for j in range(m):
            pair[0] = x0[i, j]
            pair[1] = y0[i, j]
            out[i, j] = math.sqrt(np.sum(pair**2))
    return out


@njit(cache=True, error_model="numpy")
def detect_period_rows(states, tol, rtol, max_period):
    """:func:`toyregimes.analysis.detect_period` for one trajectory, rows = consecutive states.

    Same rule: period 1 iff ``max_t |x_{t+1} - x_t| < tol``; else the smallest ``p >= 2`` (with at
    least ``2p`` rows) with ``max_t |x_{t+p} - x_t| < rtol * mean_t |x_{t+1} - x_t|``; else 0.
    The maxima are abandoned at the first distance that fails the test (the answer is the same and
    chaotic tails cost ~1 distance per candidate period).  All rows must be finite.
    """
    rows, dim = states.shape
    if rows < 2:
        return 0
    res1 = 0.0
    total = 0.0
    for t in range(rows - 1):
        d2 = 0.0
        for p in range(dim):
            diff = states[t + 1, p] - states[t, p]
            d2 += diff * diff
        d = math.sqrt(d2)
        res1 = max(res1, d)
        total += d
    if res1 < tol:
        return 1
    thr = rtol * (total / (rows - 1))
    for per in range(2, min(max_period, rows // 2) + 1):
        ok = True
        for t in range(rows - per):
            d2 = 0.0
            for p in range(dim):
                diff = states[t + per, p] - states[t, p]
                d2 += diff * diff
            if not (math.sqrt(d2) < thr):
                ok = False
                break
        if ok:
            return per
    return 0


@njit(cache=True, error_model="numpy")
def _run_block(
    x, y, vx, vy, elr, alpha, steps, tail, individual, lyapunov, n_states, radii,
    out_stats, out_sq, out_r2min, out_r2max, out_lyap, out_buf,
):
    """Advance one block of trajectories (arrays ``(n, B)``, modified in place) and reduce its tail.

    ``out_stats`` rows: 0 sum of (F - K), 1 sum of (F - K)^2 with K the first tail loss, 2 K,
    3 sum of cos angle, 4 sum of chord |theta_{t+1} - theta_t|, 5 finiteness check (non-finite iff a loss or norm was).
    ``out_sq``/``out_r2min``/``out_r2max`` (n, B): sum, min and max of r_i^2 over the tail.
    ``out_lyap`` (B): summed log growth of the tangent vector over the tail.
    ``out_buf`` (n_states, n, 2, B): the states theta_t for the last ``n_states`` steps.
    """
    n, bsz = x.shape
    t0 = steps - tail
    s0 = steps - n_states
    ssum = np.zeros(bsz)  # |y|^2 of the unnormalised step (total) / per-group scratch
    loss = np.zeros(bsz)
    scale = np.empty((n, bsz))  # radius / |y_i| (individual) or 1/|y| (total, row 0)
    ox = np.empty((n, bsz))
    oy = np.empty((n, bsz))
    dot = np.zeros(bsz)
    prod = np.ones(bsz)
    inv_r2 = np.empty((n, bsz))
    if individual:
        for i in range(n):
            for j in range(bsz):
                inv_r2[i, j] = 1.0 / (radii[i, j] * radii[i, j])
    chk = out_stats[5]
    for t in range(steps):
        in_tail = t >= t0
        if t >= s0:
            row = out_buf[t - s0]
            for i in range(n):
                bx = row[i, 0]
                by = row[i, 1]
                xi = x[i]
                yi = y[i]
                for j in range(bsz):
                    bx[j] = xi[j]
                    by[j] = yi[j]
        if in_tail:
            for i in range(n):
                xi = x[i]
                yi = y[i]
                oxi = ox[i]
                oyi = oy[i]
                for j in range(bsz):
                    oxi[j] = xi[j]
                    oyi[j] = yi[j]
        for j in range(bsz):
            ssum[j] = 0.0
            loss[j] = 0.0
        # -- gradient step, group by group, in the single-run kernel's operation order
        for i in range(n):
            a = alpha[i]
            xi = x[i]
            yi = y[i]
            vxi = vx[i]
            vyi = vy[i]
            for j in range(bsz):
                xx = xi[j]
                yy = yi[j]
                e = elr[j]
                r2 = xx * xx + yy * yy
                ay = a * yy
                f = (yy * ay) / r2
                sc = 2.0 / r2
                g0 = sc * (0.0 - f * xx)
                g1 = sc * (ay - f * yy)
                nx = xx - e * g0
                ny = yy - e * g1
                xi[j] = nx
                yi[j] = ny
                loss[j] += f
                if lyapunov:
                    # v <- v - e H v with H v = (2/r2)[M v - f v - theta (g.v) - g (theta.v)]
                    wx = vxi[j]
                    wy = vyi[j]
                    tv = xx * wx + yy * wy
                    gv = g0 * wx + g1 * wy
                    hx = sc * (0.0 - f * wx - xx * gv - g0 * tv)
                    hy = sc * (a * wy - f * wy - yy * gv - g1 * tv)
                    vxi[j] = wx - e * hx
                    vyi[j] = wy - e * hy
            if individual:
                ri = radii[i]
                si = scale[i]
                for j in range(bsz):
                    nx = xi[j]
                    ny = yi[j]
                    q = 0.0 + nx * nx
                    q = q + ny * ny
                    chk[j] += q
                    s = ri[j] / math.sqrt(q)
                    si[j] = s
                    xi[j] = nx * s
                    yi[j] = ny * s
            else:
                for j in range(bsz):
                    nx = xi[j]
                    ny = yi[j]
                    q = ssum[j] + nx * nx
                    ssum[j] = q + ny * ny
            if in_tail:
                mn = out_r2min[i]
                mx = out_r2max[i]
                sq = out_sq[i]
                oxi = ox[i]
                oyi = oy[i]
                for j in range(bsz):
                    r2 = oxi[j] * oxi[j] + oyi[j] * oyi[j]
                    sq[j] += r2
                    mn[j] = min(mn[j], r2)
                    mx[j] = max(mx[j], r2)
        if not individual:
            s0row = scale[0]
            for j in range(bsz):
                chk[j] += ssum[j]
                s0row[j] = 1.0 / math.sqrt(ssum[j])
            for i in range(n):
                xi = x[i]
                yi = y[i]
                for j in range(bsz):
                    s = s0row[j]
                    xi[j] = xi[j] * s
                    yi[j] = yi[j] * s
        for j in range(bsz):
            chk[j] += loss[j]
        # -- tangent vector: project on the tangent space at the new point, scale, renormalise
        if lyapunov:
            for j in range(bsz):
                dot[j] = 0.0
                ssum[j] = 0.0
            for i in range(n):
                xi = x[i]
                yi = y[i]
                vxi = vx[i]
                vyi = vy[i]
                si = scale[i] if individual else scale[0]
                if individual:
                    ir = inv_r2[i]
                    for j in range(bsz):
                        d = (vxi[j] * xi[j] + vyi[j] * yi[j]) * ir[j]
                        s = si[j]
                        wx = (vxi[j] - d * xi[j]) * s
                        wy = (vyi[j] - d * yi[j]) * s
                        vxi[j] = wx
                        vyi[j] = wy
                        ssum[j] += wx * wx + wy * wy
                else:
                    for j in range(bsz):
                        dot[j] += vxi[j] * xi[j] + vyi[j] * yi[j]
            if not individual:
                s0row = scale[0]
                for i in range(n):
                    xi = x[i]
                    yi = y[i]
                    vxi = vx[i]
                    vyi = vy[i]
                    for j in range(bsz):
                        d = dot[j]
                        s = s0row[j]
                        wx = (vxi[j] - d * xi[j]) * s
                        wy = (vyi[j] - d * yi[j]) * s
                        vxi[j] = wx
                        vyi[j] = wy
                        ssum[j] += wx * wx + wy * wy
            for j in range(bsz):
                vn = math.sqrt(ssum[j])
                dot[j] = 1.0 / vn
                if in_tail:
                    prod[j] *= vn
            for i in range(n):
                vxi = vx[i]
                vyi = vy[i]
                for j in range(bsz):
                    vxi[j] *= dot[j]
                    vyi[j] *= dot[j]
            if in_tail and ((t - t0) % LOG_EVERY == LOG_EVERY - 1 or t == steps - 1):
                for j in range(bsz):
                    out_lyap[j] += math.log(prod[j])
                    prod[j] = 1.0
        # -- tail statistics of the step just taken
        if in_tail:
            first = t == t0
            kk = out_stats[2]
            s1 = out_stats[0]
            s2 = out_stats[1]
            for j in range(bsz):
                if first:
                    kk[j] = loss[j]
                dl = loss[j] - kk[j]
                s1[j] += dl
                s2[j] += dl * dl
            for j in range(bsz):
                ssum[j] = 0.0
            for i in range(n):
                xi = x[i]
                yi = y[i]
                oxi = ox[i]
                oyi = oy[i]
                for j in range(bsz):
                    dx = xi[j] - oxi[j]
                    q = ssum[j] + dx * dx
                    dy = yi[j] - oyi[j]
                    ssum[j] = q + dy * dy
            cs = out_stats[3]
            for j in range(bsz):
                # cos(2 asin(d/2)) = 1 - d^2/2: the cosine of the angle ``simulate`` records
                cs[j] += 1.0 - 0.5 * ssum[j]
            ang = out_stats[4]
            for j in range(bsz):
                # the chord |theta_{t+1} - theta_t| (a scalar asin per step would cost more than the
                # step itself without SVML); angle = 2 asin(chord / 2) = chord (1 + chord^2/24 + ...)
                ang[j] += math.sqrt(ssum[j])


@njit(cache=True, parallel=True, error_model="numpy")
def canonical_sweep(
    x0, y0, v0x, v0y, elr, alpha, steps, tail, individual, lyapunov, n_states, max_period,
    period_tol, period_rtol, block, record_states,
):
    """Run ``N`` trajectories of the canonical toy and reduce tail statistics in-kernel.

    Parameters
    ----------
    x0, y0 : (n, N) float arrays
        Initial points (unit total norm); column ``j`` is trajectory ``j``.
    v0x, v0y : (n, N) float arrays
        Initial tangent vectors (tangent to the constraint set, unit norm); ignored unless
        ``lyapunov``.
    elr : (N,) float array
        Effective learning rate of each trajectory.
    alpha : (n,) float array
    steps, tail : int
        Number of steps, and length of the tail window (``1 <= tail <= steps``).
    individual : bool
        Individual constraint (each group kept at its initial radius) instead of total.
    lyapunov : bool
        Propagate a tangent vector with the exact Jacobian-vector product of the PGD step.
    n_states : int
        Number of final states kept for period detection (``<= steps``).
    max_period, period_tol, period_rtol : period detection criteria (see ``detect_period_rows``).
    block : int
        Trajectories per parallel block.
    record_states : bool
        Return the kept states (else a zero-length array is returned).

    Returns
    -------
    tuple ``(mean_loss, std_loss, mean_cos_angle, mean_step, mean_sq_norm (n, N), min_r2 (n, N),
    max_r2 (n, N), lyapunov, period, status, final_x (n, N), final_y (n, N), states)``, with
    ``states`` of shape ``(N, n_states, 2n)`` (flat state vectors) if ``record_states``.
    Statistics are over steps ``steps - tail .. steps - 1`` (loss, squared norms at ``theta_t``,
    angle between ``theta_t`` and ``theta_{t+1}``); the exponent is the summed log growth of the
    renormalised tangent vector over the same steps divided by ``tail`` (NaN without ``lyapunov``).
    A trajectory that met a non-finite value has ``status`` 1, NaN statistics and period 0.
    """
    n, m = x0.shape
    nblocks = (m + block - 1) // block
    mean_loss = np.empty(m)
    std_loss = np.empty(m)
    mean_cos = np.empty(m)
    mean_ang = np.empty(m)
    mean_sq = np.empty((n, m))
    min_r2 = np.empty((n, m))
    max_r2 = np.empty((n, m))
    lyap = np.empty(m)
    period = np.zeros(m, dtype=np.int64)
    status = np.zeros(m, dtype=np.int64)
    fx = np.empty((n, m))
    fy = np.empty((n, m))
    states = np.empty((m if record_states else 0, n_states, 2 * n))
    radii = group_radii(x0, y0)
    for b in prange(nblocks):
        lo = b * block
        hi = min(m, lo + block)
        bsz = hi - lo
        x = np.ascontiguousarray(x0[:, lo:hi])
        y = np.ascontiguousarray(y0[:, lo:hi])
        vx = np.ascontiguousarray(v0x[:, lo:hi])
        vy = np.ascontiguousarray(v0y[:, lo:hi])
        rad = np.ascontiguousarray(radii[:, lo:hi])
        el = np.ascontiguousarray(elr[lo:hi])
        st = np.zeros((6, bsz))
        sq = np.zeros((n, bsz))
        mn = np.full((n, bsz), np.inf)
        mx = np.full((n, bsz), -np.inf)
        ly = np.zeros(bsz)
        buf = np.empty((n_states, n, 2, bsz))
        _run_block(x, y, vx, vy, el, alpha, steps, tail, individual, lyapunov, n_states, rad, st, sq, mn, mx, ly, buf)
        rows = np.empty((n_states, 2 * n))
        for j in range(bsz):
            g = lo + j
            fail = not math.isfinite(st[5, j])
            status[g] = STATUS_NONFINITE if fail else STATUS_OK
            for i in range(n):
                fx[i, g] = np.nan if fail else x[i, j]
                fy[i, g] = np.nan if fail else y[i, j]
            for r in range(n_states):
                for i in range(n):
                    rows[r, 2 * i] = buf[r, i, 0, j]
                    rows[r, 2 * i + 1] = buf[r, i, 1, j]
            if record_states:
                states[g] = rows
            if fail:
                mean_loss[g] = np.nan
                std_loss[g] = np.nan
                mean_cos[g] = np.nan
                mean_ang[g] = np.nan
                lyap[g] = np.nan
                for i in range(n):
                    mean_sq[i, g] = np.nan
                    min_r2[i, g] = np.nan
                    max_r2[i, g] = np.nan
                continue
            s1 = st[0, j] / tail
            mean_loss[g] = st[2, j] + s1
            std_loss[g] = math.sqrt(max(0.0, st[1, j] / tail - s1 * s1))
            mean_cos[g] = st[3, j] / tail
            mean_ang[g] = st[4, j] / tail
            lyap[g] = ly[j] / tail if lyapunov else np.nan
            for i in range(n):
                mean_sq[i, g] = sq[i, j] / tail
                min_r2[i, g] = mn[i, j]
                max_r2[i, g] = mx[i, j]
            period[g] = detect_period_rows(rows, period_tol, period_rtol, max_period)
    return (
        mean_loss, std_loss, mean_cos, mean_ang, mean_sq, min_r2, max_r2, lyap, period, status, fx, fy,
        states,
    )
