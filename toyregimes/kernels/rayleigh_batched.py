"""Batched Numba kernel for sweeps of the whole Rayleigh family: many PGD runs at once.

``f_i = theta_i^T M_i theta_i / |theta_i|^2`` for any number of groups ``n`` and any group dimensions
``d_i`` (rotated or not), under either constraint.  The canonical toy has its own, faster kernel
(:mod:`toyregimes.kernels.batched`); this one covers every other Rayleigh toy with the same in-kernel
tail statistics, tangent map, period detection and evidence, and the same returned tuple.

Layout.  Structure of arrays with trajectories innermost: a block of ``LANES`` (128) trajectories keeps
each state component in a row of ``LANES`` values (``th[r * LANES + j]``: component ``r``, lane ``j``),
and every stage of the step is a pass over the lanes, so LLVM vectorises across trajectories while the
group matrices, shared by all trajectories, are read once per entry as scalars (the mat-vec of a group is
``d_i^2`` multiply-adds of a broadcast matrix entry with a row).  ``n``, ``d_i`` and the offsets are
run-time values: one compiled, disk-cached kernel serves every Rayleigh toy, whatever its shape, so a new
toy of the family costs no compilation.

Agreement with ``simulate``.  The state update performs the IEEE operations of
:func:`toyregimes.kernels.pgd.pgd_run` in the same order (``M theta`` accumulated over columns, the
quadratic form, ``f = q / r^2``, ``grad = (2 / r^2)(M theta - f theta)``, ``theta - elr grad``, the
normalisation ``* (1 / |y|)`` or ``* (R_i / |y_i|)``, the floor of :func:`~toyregimes.kernels.pgd._floor_group`
after every ``FLOOR_EVERY``-th step), and no fast-math or fused multiply-adds are allowed, so a trajectory
is ``simulate``'s bit for bit, chaotic or not.  Tail statistics are sequential sums (as the canonical
kernel: shifted loss sums, squared chords for the angle), so they agree with ``simulate``'s records to
rounding.  The tangent vector uses the closed-form Hessian-vector product ``H v = (2 / r^2)[(M v - f v) -
theta (g . v) - g (theta . v)]`` with ``g`` the gradient (it only needs to be accurate: its direction
converges to the Oseledets direction whatever the rounding), and components below ``FLOOR`` are raised
to it where a flooring step reads the vector.

Results of a trajectory depend only on its own inputs, never on its block, chunk or thread.  The slow
numpy twin is ``tests/reference_rayleigh_batched.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from toyregimes.kernels.noise import normal
from toyregimes.kernels.periods import block_periods, block_residuals
from toyregimes.kernels.pgd import FLOOR, FLOOR_EVERY
from toyregimes.kernels.tail_stats import block_standard_error, write_summary

STATUS_OK = 0
STATUS_NONFINITE = 1

# Trajectories advanced together by one pass of a stage (rows of the block workspace).
LANES = 128
# The tail is cut into LYAP_BLOCKS blocks whose exponents give the standard error of the exponent.
LYAP_BLOCKS = 8
# Log of the tangent growth once every LOG_EVERY tail steps, from the running product of the factors.
LOG_EVERY = 16


@njit(cache=True)
def group_radii(theta0, offsets):
    """Group norms ``R_i`` (n, N) of the initial points (columns), computed as ``pgd_run`` does."""
    n = offsets.size - 1
    m = theta0.shape[1]
    out = np.empty((n, m))
    for i in range(n):
        a = offsets[i]
        seg = np.empty(offsets[i + 1] - a)
        for j in range(m):
            for p in range(seg.size):
                seg[p] = theta0[a + p, j]
            out[i, j] = math.sqrt(np.sum(seg**2))
    return out


@njit(cache=True, error_model="numpy", forceinline=True)
def _matvec(mats, i, a, d, src, dst, acc):
    """Rows ``a .. a + d - 1`` of ``dst`` = ``M_i`` times those rows of ``src``, for every lane.

    Each output row is accumulated over the columns in order, as ``pgd.rayleigh_loss_grad`` does, in
    the scratch row ``acc`` (LANES values).  (Forming four output rows per pass over an input row was
    tried: LLVM then no longer vectorised the loop, and the kernel ran 3x slower at d = 8.)
    """
    L = LANES
    for p in range(d):
        for j in range(L):
            acc[j] = 0.0
        for s in range(d):
            mps = mats[i, p, s]
            o = (a + s) * L
            for j in range(L):
                acc[j] += mps * src[o + j]
        o = (a + p) * L
        for j in range(L):
            dst[o + j] = acc[j]


@njit(cache=True, error_model="numpy", forceinline=True)
def _pair_step(th, nx, e, mats, i, a, loss):
    """The unnormalised step of a group in R^2 in one pass over the lanes, without the tangent map.

    The same operations in the same order as the general path (which makes several passes per group and
    keeps ``r^2``, ``f`` and the gradient for the tangent map and the tail statistics).  It writes only
    ``nx`` and ``loss``: with more arrays written, LLVM needs more run-time alias checks than it allows
    and leaves the loop scalar (measured: 2x slower).
    """
    L = LANES
    m00 = mats[i, 0, 0]
    m01 = mats[i, 0, 1]
    m10 = mats[i, 1, 0]
    m11 = mats[i, 1, 1]
    o0 = a * L
    o1 = o0 + L
    for j in range(L):
        x = th[o0 + j]
        y = th[o1 + j]
        r = 0.0 + x * x
        r = r + y * y
        mp0 = 0.0 + m00 * x
        mp0 = mp0 + m01 * y
        mp1 = 0.0 + m10 * x
        mp1 = mp1 + m11 * y
        q = 0.0 + x * mp0
        q = q + y * mp1
        f = q / r
        sc = 2.0 / r
        loss[j] += f
        nx[o0 + j] = x - e[j] * (sc * (mp0 - f * x))
        nx[o1 + j] = y - e[j] * (sc * (mp1 - f * y))


@njit(cache=True, error_model="numpy", forceinline=True)
def _gradient_step(th, nx, g, w, v, offsets, mats, e, loss, r2, fv, tangent, scratch):
    """Loss, gradient and unnormalised step ``nx = th - elr grad`` of every lane (and ``v <- v - elr H v``).

    Per group ``i`` (except groups in R^2 without the tangent map, see :func:`_pair_step`): ``r2`` (row
    ``i``) ``= |theta_i|^2``, ``g = M theta`` then ``(2 / r2)(M theta - f
    theta)`` with ``f = theta . M theta / r2`` (row ``i`` of ``fv``), summed into ``loss``.  With
    ``tangent``: ``w = M v`` and ``v`` replaced by ``v - elr H v`` (closed form, see the module docstring).
    ``scratch`` holds at least ``5 LANES`` values.
    """
    L = LANES
    n = offsets.size - 1
    acc = scratch[:L]
    q = scratch[L:2 * L]
    sc = scratch[2 * L:3 * L]
    tv = scratch[3 * L:4 * L]
    gv = scratch[4 * L:5 * L]
    for j in range(L):
        loss[j] = 0.0
    for i in range(n):
        a = offsets[i]
        d = offsets[i + 1] - a
        ri = i * L
        if d == 2 and not tangent:
            _pair_step(th, nx, e, mats, i, a, loss)
        else:
            for j in range(L):
                r2[ri + j] = 0.0
            for p in range(d):
                o = (a + p) * L
                for j in range(L):
                    r2[ri + j] += th[o + j] * th[o + j]
            _matvec(mats, i, a, d, th, g, acc)
            for j in range(L):
                q[j] = 0.0
            for p in range(d):
                o = (a + p) * L
                for j in range(L):
                    q[j] += th[o + j] * g[o + j]
            for j in range(L):
                f = q[j] / r2[ri + j]
                fv[ri + j] = f
                sc[j] = 2.0 / r2[ri + j]
                loss[j] += f
            # (one array written per loop: see _pair_step on run-time alias checks)
            for p in range(d):
                o = (a + p) * L
                for j in range(L):
                    g[o + j] = sc[j] * (g[o + j] - fv[ri + j] * th[o + j])
                for j in range(L):
                    nx[o + j] = th[o + j] - e[j] * g[o + j]
        if tangent:
            _matvec(mats, i, a, d, v, w, acc)
            for j in range(L):
                tv[j] = 0.0
                gv[j] = 0.0
            for p in range(d):
                o = (a + p) * L
                for j in range(L):
                    tv[j] += th[o + j] * v[o + j]
                for j in range(L):
                    gv[j] += g[o + j] * v[o + j]
            for p in range(d):
                o = (a + p) * L
                for j in range(L):  # w <- H v
                    w[o + j] = sc[j] * ((w[o + j] - fv[ri + j] * v[o + j]) - th[o + j] * gv[j] - g[o + j] * tv[j])
                for j in range(L):
                    v[o + j] = v[o + j] - e[j] * w[o + j]


@njit(cache=True, error_model="numpy", forceinline=True)
def _add_noise(th, nx, xi, offsets, e, noise_scale, keys, t, scratch):
    """SI gradient noise: ``nx_i -= elr / (|theta_i| sqrt(d_i - 1)) (xi_i - (xi_i . theta_i) theta_i / r_i^2)``.

    ``xi = noise_scale * normal(key, t, p)``, the numbers ``simulate`` draws for the same seed; the
    operations of ``pgd_run``'s noise term in its order, so noisy trajectories are ``simulate``'s bit for bit.
    """
    L = LANES
    n = offsets.size - 1
    dot = scratch[:L]
    r2 = scratch[L:2 * L]
    scl = scratch[2 * L:3 * L]
    for p in range(offsets[n]):
        for j in range(L):
            xi[p * L + j] = noise_scale * normal(keys[j], t, p)
    for i in range(n):
        a = offsets[i]
        b = offsets[i + 1]
        for j in range(L):
            dot[j] = 0.0
            r2[j] = 0.0
        for p in range(a, b):
            for j in range(L):
                dot[j] += xi[p * L + j] * th[p * L + j]
            for j in range(L):
                r2[j] += th[p * L + j] * th[p * L + j]
        for j in range(L):
            scl[j] = e[j] / (math.sqrt(r2[j]) * math.sqrt(b - a - 1.0))
        for p in range(a, b):
            for j in range(L):
                nx[p * L + j] -= scl[j] * (xi[p * L + j] - dot[j] / r2[j] * th[p * L + j])


@njit(cache=True, error_model="numpy", forceinline=True)
def _normalise(nx, offsets, individual, radii, ynorm, loss, chk, ny):
    """Normalise ``nx`` in place (``* 1 / |y|``, or ``* R_i / |y_i|`` per group) and record ``|y|`` (or ``|y_i|``).

    ``chk`` accumulates the loss and the squared norms: it is non-finite iff one of them was.  ``ny`` is
    scratch (LANES values).
    """
    L = LANES
    n = offsets.size - 1
    groups = n if individual else 1
    for i in range(groups):
        a = offsets[i] if individual else 0
        b = offsets[i + 1] if individual else offsets[n]
        for j in range(L):
            ny[j] = 0.0
        for p in range(a, b):
            o = p * L
            for j in range(L):
                ny[j] += nx[o + j] * nx[o + j]
        for j in range(L):
            chk[j] += ny[j]
            yn = math.sqrt(ny[j])
            ynorm[i * L + j] = yn
            ny[j] = (radii[i * L + j] if individual else 1.0) / yn
        for p in range(a, b):
            o = p * L
            for j in range(L):
                nx[o + j] *= ny[j]
    for j in range(L):
        chk[j] += loss[j]


@njit(cache=True, error_model="numpy", forceinline=True)
def _floor_state(nx, offsets, lim):
    """Raise components below ``FLOOR |theta_i|`` to that value, sign kept (``pgd._floor_group`` per lane).

    ``lim`` is scratch (LANES values).
    """
    L = LANES
    n = offsets.size - 1
    for i in range(n):
        for j in range(L):
            lim[j] = 0.0
        for p in range(offsets[i], offsets[i + 1]):
            o = p * L
            for j in range(L):
                lim[j] += nx[o + j] * nx[o + j]
        for j in range(L):
            lim[j] = FLOOR * math.sqrt(lim[j])
        for p in range(offsets[i], offsets[i + 1]):
            o = p * L
            for j in range(L):
                x = nx[o + j]
                nx[o + j] = math.copysign(lim[j], x) if abs(x) < lim[j] else x


@njit(cache=True, error_model="numpy", forceinline=True)
def _project_tangent(v, nx, offsets, individual, radii, ynorm, vn, floor, scratch):
    """Project ``v`` on the tangent space at the new point, scale by the step's normalisation, renormalise.

    Total constraint: ``(v - (v . theta') theta') / |y|``; individual: per group ``(v_i - (v_i .
    theta_i') theta_i' / R_i^2) R_i / |y_i|``.  ``vn`` receives the norm before the renormalisation (the
    growth factor of the step); components below ``FLOOR`` are raised to it on flooring steps.
    ``scratch`` holds at least ``2 LANES`` values.
    """
    L = LANES
    n = offsets.size - 1
    dot = scratch[:L]
    scl = scratch[L:2 * L]
    groups = n if individual else 1
    for j in range(L):
        vn[j] = 0.0
    for i in range(groups):
        a = offsets[i] if individual else 0
        b = offsets[i + 1] if individual else offsets[n]
        for j in range(L):
            dot[j] = 0.0
        for p in range(a, b):
            o = p * L
            for j in range(L):
                dot[j] += v[o + j] * nx[o + j]
        for j in range(L):
            if individual:
                dot[j] = dot[j] / (radii[i * L + j] * radii[i * L + j])
                scl[j] = radii[i * L + j] / ynorm[i * L + j]
            else:
                scl[j] = 1.0 / ynorm[j]
        for p in range(a, b):
            o = p * L
            for j in range(L):
                v[o + j] = (v[o + j] - dot[j] * nx[o + j]) * scl[j]
            for j in range(L):
                vn[j] += v[o + j] * v[o + j]
    for j in range(L):
        vn[j] = math.sqrt(vn[j])
        dot[j] = 1.0 / vn[j]
    for p in range(offsets[n]):
        o = p * L
        for j in range(L):
            x = v[o + j] * dot[j]
            if floor:
                x = math.copysign(FLOOR, x) if abs(x) < FLOOR else x
            v[o + j] = x


@njit(cache=True, error_model="numpy")
def _run_block(th, nx, v, e, radii, offsets, mats, steps, tail, individual, lyapunov, n_states, buf, hbuf,
               stats, sq, r2min, r2max, lb, noise_scale, keys):
    """Advance the LANES trajectories of a block and reduce their tail (see :func:`rayleigh_sweep`).

    ``th`` holds the initial states (rows of LANES), ``v`` the initial tangent vectors; on return ``th``
    holds the final states.  ``stats`` rows: 0 K (first tail loss), 1 sum of ``F - K``, 2 sum of
    ``(F - K)^2``, 3 sum of squared chords, 4 finiteness check, 5 max and 6 sum of the chords between
    kept states, 7 sum of ``F - K`` over the first half of the tail, 8 summed log growth, 9 running
    product of growth factors.  ``sq``, ``r2min``, ``r2max`` (n rows): sum, min and max of ``r_i^2`` over
    the tail; ``lb`` (LYAP_BLOCKS rows) the summed log growth of each block of the tail.  With
    ``noise_scale > 0`` SI gradient noise from the lanes' ``keys`` is added to every step (:func:`_add_noise`).
    """
    L = LANES
    n = offsets.size - 1
    dim = offsets[n]
    g = np.empty(dim * L)
    w = np.empty(dim * L)
    loss = np.empty(L)
    r2 = np.empty(n * L)
    fv = np.empty(n * L)
    ynorm = np.empty(n * L)
    vn = np.empty(L)
    scratch = np.empty(5 * L)
    xi = np.empty(dim * L if noise_scale > 0 else 0)
    t0 = steps - tail
    s0 = steps - n_states
    c0 = min(t0, s0)
    nb = min(LYAP_BLOCKS, tail)
    blk = 0
    edge = t0 + tail // nb
    mid = t0 + tail // 2
    K, S1, S2, D2, CHK, SMAX, SSUM, S1H, LYAP, PROD = 0, L, 2 * L, 3 * L, 4 * L, 5 * L, 6 * L, 7 * L, 8 * L, 9 * L
    for t in range(steps):
        if t >= s0:
            for r in range(dim):
                for j in range(L):
                    buf[t - s0, r, j] = th[r * L + j]
        if c0 <= t < c0 + n_states:
            for r in range(dim):
                for j in range(L):
                    hbuf[t - c0, r, j] = th[r * L + j]
        floor = t % FLOOR_EVERY == FLOOR_EVERY - 1
        _gradient_step(th, nx, g, w, v, offsets, mats, e, loss, r2, fv, lyapunov, scratch)
        if noise_scale > 0:
            _add_noise(th, nx, xi, offsets, e, noise_scale, keys, t, scratch)
        _normalise(nx, offsets, individual, radii, ynorm, loss, stats[CHK:CHK + L], scratch)
        if floor:
            _floor_state(nx, offsets, scratch)
        if lyapunov:
            _project_tangent(v, nx, offsets, individual, radii, ynorm, vn, floor, scratch)
        full = t >= t0
        if full:
            if t == t0:
                for j in range(L):
                    stats[K + j] = loss[j]
            for j in range(L):
                dl = loss[j] - stats[K + j]
                stats[S1 + j] += dl
                stats[S2 + j] += dl * dl
            for i in range(n):
                # r_i^2 at theta_t, summed as the step does (which does not keep it for groups in R^2)
                for j in range(L):
                    r2[i * L + j] = 0.0
                for p in range(offsets[i], offsets[i + 1]):
                    for j in range(L):
                        r2[i * L + j] += th[p * L + j] * th[p * L + j]
                for j in range(L):
                    x = r2[i * L + j]
                    sq[i * L + j] += x
                    r2min[i * L + j] = x if x < r2min[i * L + j] else r2min[i * L + j]
                    r2max[i * L + j] = x if x > r2max[i * L + j] else r2max[i * L + j]
            if lyapunov:
                for j in range(L):
                    stats[PROD + j] *= vn[j]
        if full or (t >= s0 and t < steps - 1):
            # squared chord |theta_{t+1} - theta_t|^2, summed in component order
            for j in range(L):
                fv[j] = 0.0
            for r in range(dim):
                o = r * L
                for j in range(L):
                    dx = nx[o + j] - th[o + j]
                    fv[j] += dx * dx
            if full:
                for j in range(L):
                    stats[D2 + j] += fv[j]
            if t >= s0 and t < steps - 1:
                for j in range(L):
                    ch = math.sqrt(fv[j])
                    stats[SMAX + j] = ch if ch > stats[SMAX + j] else stats[SMAX + j]
                    stats[SSUM + j] += ch
        if t == mid - 1:
            for j in range(L):
                stats[S1H + j] = stats[S1 + j]
        if lyapunov and full:
            end_block = t == edge - 1
            if (t - t0) % LOG_EVERY == LOG_EVERY - 1 or end_block:
                for j in range(L):
                    lg = math.log(stats[PROD + j])
                    stats[LYAP + j] += lg
                    lb[blk * L + j] += lg
                    stats[PROD + j] = 1.0
            if end_block:
                blk += 1
                edge = t0 + ((blk + 1) * tail) // nb
        th, nx = nx, th
    if steps % 2 == 1:  # the final state is in the caller's nx buffer: copy it to th
        for r in range(dim * L):
            nx[r] = th[r]


def rayleigh_sweep(theta0, tang0, elr, offsets, mats, steps, tail, individual, lyapunov, n_states, max_period,
                   period_tol, period_rtol, block, record_states, noise_scale=0.0, keys=None):
    """Run ``N`` trajectories of a Rayleigh-family toy; see :func:`_rayleigh_sweep` (``keys`` default: zeros)."""
    if keys is None:
        keys = np.zeros(theta0.shape[1], dtype=np.uint64)
    return _rayleigh_sweep(theta0, tang0, elr, offsets, mats, int(steps), int(tail), bool(individual),
                           bool(lyapunov), int(n_states), int(max_period), float(period_tol), float(period_rtol),
                           int(block), bool(record_states), float(noise_scale), np.asarray(keys, dtype=np.uint64))


@njit(cache=True, parallel=True, error_model="numpy")
def _rayleigh_sweep(theta0, tang0, elr, offsets, mats, steps, tail, individual, lyapunov, n_states, max_period,
                    period_tol, period_rtol, block, record_states, noise_scale, keys):
    """Run ``N`` trajectories of a Rayleigh-family toy and reduce tail statistics in-kernel.

    Parameters
    ----------
    theta0, tang0 : (D, N) float arrays
        Initial points (on the constraint set) and tangent vectors (tangent, unit norm; ignored unless
        ``lyapunov``); column ``j`` is trajectory ``j``.
    elr : (N,) float array
    offsets : (n + 1,) int64 array
        Where each group starts in the flat state.
    mats : (n, dmax, dmax) float array
        Group matrices (symmetric; the ``d_i x d_i`` top-left block of each is used).
    steps, tail, individual, lyapunov, n_states, max_period, period_tol, period_rtol, block, record_states
        As :func:`toyregimes.kernels.batched.canonical_sweep`.
    noise_scale : float >= 0, keys : (N,) uint64 array
        SI gradient noise of ``simulate(..., noise_scale=)``, trajectory ``j`` with noise key ``keys[j]``
        (:func:`toyregimes.kernels.noise.run_key` of its seed); ignored when ``noise_scale`` is 0.

    Returns
    -------
    tuple ``(mean_loss, std_loss, mean_cos_angle, rms_step, mean_sq_norm (n, N), min_r2 (n, N),
    max_r2 (n, N), lyapunov, period, status, final (D, N), states (N, n_states, D) or empty,
    lyapunov_se, loss_first_half, loss_second_half, residual_head, residual_end)``, with the definitions
    of :func:`toyregimes.kernels.batched.canonical_sweep`.
    """
    n = offsets.size - 1
    dim, m = theta0.shape
    L = LANES
    nblocks = (m + block - 1) // block
    mean_loss = np.empty(m)
    std_loss = np.empty(m)
    mean_cos = np.empty(m)
    rms_step = np.empty(m)
    mean_sq = np.empty((n, m))
    min_r2 = np.empty((n, m))
    max_r2 = np.empty((n, m))
    lyap = np.empty(m)
    period = np.zeros(m, dtype=np.int64)
    status = np.zeros(m, dtype=np.int64)
    final = np.empty((dim, m))
    states = np.empty((m if record_states else 0, n_states, dim))
    lyap_se = np.empty(m)
    loss_h1 = np.empty(m)
    loss_h2 = np.empty(m)
    res_head = np.empty(m)
    res_end = np.empty(m)
    radii0 = group_radii(theta0, offsets)
    nb = min(LYAP_BLOCKS, tail)
    for b in prange(nblocks):
        th = np.empty(dim * L)
        nx = np.empty(dim * L)
        v = np.empty(dim * L)
        e = np.empty(L)
        radii = np.empty(n * L)
        stats = np.empty(10 * L)
        sq = np.empty(n * L)
        r2min = np.empty(n * L)
        r2max = np.empty(n * L)
        lb = np.empty(LYAP_BLOCKS * L)
        buf = np.empty((n_states, dim, L))
        hbuf = np.empty((n_states, dim, L))
        valid = np.empty(L, dtype=np.bool_)
        per = np.empty(L, dtype=np.int64)
        rh = np.empty(L)
        re = np.empty(L)
        lane_keys = np.zeros(L, dtype=np.uint64)
        for lo in range(b * block, min(m, (b + 1) * block), L):
            cnt = min(L, m - lo, (b + 1) * block - lo)
            # -- load LANES trajectories; missing lanes repeat the last one (their results are dropped)
            for j in range(L):
                gcol = lo + min(j, cnt - 1)
                for r in range(dim):
                    th[r * L + j] = theta0[r, gcol]
                    v[r * L + j] = tang0[r, gcol]
                for i in range(n):
                    radii[i * L + j] = radii0[i, gcol]
                    sq[i * L + j] = 0.0
                    r2min[i * L + j] = np.inf
                    r2max[i * L + j] = -np.inf
                for r in range(10):
                    stats[r * L + j] = 0.0
                stats[9 * L + j] = 1.0
                for q in range(LYAP_BLOCKS):
                    lb[q * L + j] = 0.0
                e[j] = elr[gcol]
                if noise_scale > 0:
                    lane_keys[j] = keys[gcol]
            _run_block(th, nx, v, e, radii, offsets, mats, steps, tail, individual, lyapunov, n_states, buf, hbuf,
                       stats, sq, r2min, r2max, lb, noise_scale, lane_keys)
            for j in range(L):
                valid[j] = math.isfinite(stats[4 * L + j])
            block_periods(buf, stats[5 * L:6 * L], stats[6 * L:7 * L], valid, period_tol, period_rtol, max_period,
                          per)
            block_residuals(buf, per, valid, re)
            block_residuals(hbuf, per, valid, rh)
            for j in range(cnt):
                gcol = lo + j
                fail = not valid[j]
                status[gcol] = STATUS_NONFINITE if fail else STATUS_OK
                period[gcol] = per[j]
                res_head[gcol] = rh[j]
                res_end[gcol] = re[j]
                for r in range(dim):
                    final[r, gcol] = np.nan if fail else th[r * L + j]
                if record_states:
                    for t in range(n_states):
                        for r in range(dim):
                            states[gcol, t, r] = buf[t, r, j]
                se = np.nan
                if lyapunov and nb >= 2 and not fail:
                    se = block_standard_error(lb, j, L, nb, tail)
                write_summary(gcol, fail, stats[j], stats[L + j], stats[2 * L + j], stats[3 * L + j], stats[8 * L + j],
                              se, stats[7 * L + j], tail, lyapunov, mean_loss, std_loss, mean_cos, rms_step, lyap,
                              lyap_se, loss_h1, loss_h2)
                if fail:
                    for i in range(n):
                        mean_sq[i, gcol] = np.nan
                        min_r2[i, gcol] = np.nan
                        max_r2[i, gcol] = np.nan
                    continue
                for i in range(n):
                    mean_sq[i, gcol] = sq[i * L + j] / tail
                    min_r2[i, gcol] = r2min[i * L + j]
                    max_r2[i, gcol] = r2max[i * L + j]
    return (
        mean_loss, std_loss, mean_cos, rms_step, mean_sq, min_r2, max_r2, lyap, period, status, final, states,
        lyap_se, loss_h1, loss_h2, res_head, res_end,
    )
