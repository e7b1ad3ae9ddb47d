"""Batched Numba kernel for sweeps of the whole Rayleigh family: many PGD runs at once.

``f_i = theta_i^T M_i theta_i / |theta_i|^2`` for any number of groups ``n`` and any group dimensions
``d_i`` (rotated or not), under either constraint.  The canonical toy has its own, faster kernel
(:mod:`toyregimes.kernels.batched`); this one covers every other Rayleigh toy with the same in-kernel
tail statistics, tangent map, period detection and evidence, and the same returned tuple.

Layout.  Structure of arrays with trajectories innermost: a block of ``LANES`` (128) trajectories keeps
each state component in a row of ``LANES`` values (``th[r, j]``: component ``r``, lane ``j``), and every
stage of the step is a pass over the lanes, so LLVM vectorises across trajectories while the group
matrices, shared by all trajectories, are read once per entry as scalars (the mat-vec of a group is
``d_i^2`` multiply-adds of a broadcast matrix entry with a row, four columns per pass).  Every pass
indexes row views (``x = th[r]``, then ``x[j]``): indexing the flat block with ``th[r * LANES + j]``
makes Numba guard each index against negative wraparound, which kept LLVM from vectorising most loops
(measured on an Intel Xeon host: row views alone made d = 8 2.7x faster; with the changes below,
``benchmarks/bench_families.py`` went from 0.026 to 0.094 of the canonical kernel's rate at d = 8 and
from 0.23 to 0.39 at d = 2).  Sums start from their first term
(``0 + x_0^2``, the first operation of the sequential sum), which spares a pass that zeroes them, and
add four rows per pass (:func:`_sum_products`).  A group's step makes one division (``1 / r^2``): a
division costs about as much as a d = 8 group's quadratic form, and ``simulate`` makes the same one
(``2 (1 / r^2)`` is ``2 / r^2`` exactly).  The gradient's sums are fused multiply-adds
(:func:`~toyregimes.kernels.fused.fma`, in ``simulate`` too), one instruction per term of the mat-vec,
which still takes ~40% of a d = 8 group-step.  Groups in R^2 take their whole step, with the tangent map
or without, in one pass over the lanes (:func:`_pair_step`).  With these,
``benchmarks/bench_families.py`` on the Intel host: 0.098-0.108 of the canonical rate at d = 8, 0.48-0.53
at d = 2 (ten runs).
``n``, ``d_i`` and the offsets are run-time values: one compiled, disk-cached kernel serves every
Rayleigh toy, whatever its shape, so a new toy of the family costs no compilation.

Agreement with ``simulate``.  The state update performs the IEEE operations of
:func:`toyregimes.kernels.pgd.pgd_run` in the same order (``M theta`` accumulated over columns, the
quadratic form, ``inv = 1 / r^2``, ``f = q inv``, ``grad = (2 inv)(M theta - f theta)``, ``theta - elr grad``, the
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

from toyregimes.kernels.fused import fma
from toyregimes.kernels.noise import normal
from toyregimes.kernels.periods import block_periods, block_residuals, residuals_at_periods
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
# Kinds of row sums (:func:`_sum_products`): products, products by fused multiply-adds, squared chords.
PRODUCTS = 0
FUSED = 1
CHORD = 2


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
def _matvec(mats, i, a, d, src, dst):
    """Rows ``a .. a + d - 1`` of ``dst`` = ``M_i`` times those rows of ``src``, for every lane.

    Each output row is accumulated over the columns in order by fused multiply-adds, as
    ``pgd.rayleigh_loss_grad`` does, four columns per pass over the lanes.
    """
    L = LANES
    for p in range(d):
        y = dst[a + p]
        s = 0
        if d >= 4:  # the first four columns start the sum (fma(m0, x0, 0) as the sequential sum does)
            m0 = mats[i, p, 0]
            m1 = mats[i, p, 1]
            m2 = mats[i, p, 2]
            m3 = mats[i, p, 3]
            x0 = src[a]
            x1 = src[a + 1]
            x2 = src[a + 2]
            x3 = src[a + 3]
            for j in range(L):
                y[j] = fma(m3, x3[j], fma(m2, x2[j], fma(m1, x1[j], fma(m0, x0[j], 0.0))))
            s = 4
        else:
            for j in range(L):
                y[j] = 0.0
        while s + 4 <= d:
            m0 = mats[i, p, s]
            m1 = mats[i, p, s + 1]
            m2 = mats[i, p, s + 2]
            m3 = mats[i, p, s + 3]
            x0 = src[a + s]
            x1 = src[a + s + 1]
            x2 = src[a + s + 2]
            x3 = src[a + s + 3]
            for j in range(L):
                y[j] = fma(m3, x3[j], fma(m2, x2[j], fma(m1, x1[j], fma(m0, x0[j], y[j]))))
            s += 4
        while s < d:
            mps = mats[i, p, s]
            x = src[a + s]
            for j in range(L):
                y[j] = fma(mps, x[j], y[j])
            s += 1


@njit(cache=True, error_model="numpy", forceinline=True)
def _sum_products(u, v, a, b, out, kind):
    """Per lane, ``out = sum_p u_p v_p`` over rows ``p = a .. b - 1`` (``kind`` CHORD: ``sum_p (v_p - u_p)^2``).

    The operations of the sequential sum in row order, starting from ``0 + (first term)`` (FUSED: by
    fused multiply-adds from ``fma(u_a, v_a, 0)``), four rows per pass over the lanes: a pass per row
    reloads and stores ``out`` for every two flops.
    """
    p = a
    while p < b:
        start = p == a
        if p + 4 <= b:
            u0, u1, u2, u3 = u[p], u[p + 1], u[p + 2], u[p + 3]
            v0, v1, v2, v3 = v[p], v[p + 1], v[p + 2], v[p + 3]
            for j in range(LANES):
                acc = 0.0 if start else out[j]
                if kind == CHORD:
                    d0 = v0[j] - u0[j]
                    d1 = v1[j] - u1[j]
                    d2 = v2[j] - u2[j]
                    d3 = v3[j] - u3[j]
                    out[j] = (((acc + d0 * d0) + d1 * d1) + d2 * d2) + d3 * d3
                elif kind == FUSED:
                    out[j] = fma(u3[j], v3[j], fma(u2[j], v2[j], fma(u1[j], v1[j], fma(u0[j], v0[j], acc))))
                else:
                    out[j] = (((acc + u0[j] * v0[j]) + u1[j] * v1[j]) + u2[j] * v2[j]) + u3[j] * v3[j]
            p += 4
        else:
            u0 = u[p]
            v0 = v[p]
            for j in range(LANES):
                acc = 0.0 if start else out[j]
                if kind == CHORD:
                    d0 = v0[j] - u0[j]
                    out[j] = acc + d0 * d0
                elif kind == FUSED:
                    out[j] = fma(u0[j], v0[j], acc)
                else:
                    out[j] = acc + u0[j] * v0[j]
            p += 1


@njit(cache=True, error_model="numpy", forceinline=True)
def _copy_rows(src, dst):
    """``dst[:] = src`` for two block workspaces of the same shape, row view by row view."""
    for r in range(src.shape[0]):
        x = src[r]
        y = dst[r]
        for j in range(LANES):
            y[j] = x[j]


@njit(cache=True, error_model="numpy", forceinline=True)
def _pair_step(th, nx, e, mats, i, a, loss, tangent, v, rr):
    """The unnormalised step of a group in R^2 in one pass over the lanes, ``rr = r^2`` for the tail
    statistics (and with ``tangent`` also ``v <- v - elr H v``).

    The same operations in the same order as the general path (which makes several passes per group and
    keeps ``r^2``, ``f`` and the gradient in rows).
    """
    L = LANES
    m00 = mats[i, 0, 0]
    m01 = mats[i, 0, 1]
    m10 = mats[i, 1, 0]
    m11 = mats[i, 1, 1]
    x0 = th[a]
    x1 = th[a + 1]
    y0 = nx[a]
    y1 = nx[a + 1]
    u0 = v[a]
    u1 = v[a + 1]
    for j in range(L):
        x = x0[j]
        y = x1[j]
        r = fma(y, y, fma(x, x, 0.0))
        mp0 = fma(m01, y, fma(m00, x, 0.0))
        mp1 = fma(m11, y, fma(m10, x, 0.0))
        q = fma(y, mp1, fma(x, mp0, 0.0))
        iv = 1.0 / r
        f = q * iv
        sc = 2.0 * iv
        loss[j] += f
        gx = sc * fma(-f, x, mp0)
        gy = sc * fma(-f, y, mp1)
        y0[j] = x - e[j] * gx
        y1[j] = y - e[j] * gy
        rr[j] = r
        if tangent:  # the closed-form H v of the general path, on this lane's registers
            vx = u0[j]
            vy = u1[j]
            w0 = fma(m01, vy, fma(m00, vx, 0.0))
            w1 = fma(m11, vy, fma(m10, vx, 0.0))
            tv = (0.0 + x * vx) + y * vy
            gv = (0.0 + gx * vx) + gy * vy
            u0[j] = vx - e[j] * (sc * ((w0 - f * vx) - x * gv - gx * tv))
            u1[j] = vy - e[j] * (sc * ((w1 - f * vy) - y * gv - gy * tv))


@njit(cache=True, error_model="numpy", forceinline=True)
def _gradient_step(th, nx, g, w, v, offsets, mats, e, loss, r2, fv, tangent, scratch):
    """Loss, gradient and unnormalised step ``nx = th - elr grad`` of every lane (and ``v <- v - elr H v``).

    Per group ``i`` (groups in R^2 take one pass, see :func:`_pair_step`): ``r2[i] = |theta_i|^2``,
    ``g = M theta``, ``f = (theta . M theta)(1 / r2)`` (``fv[i]``, summed into ``loss``) and the gradient
    ``(2 (1 / r2))(M theta - f theta)``, kept in ``g`` only with ``tangent`` (else it goes
    straight into ``nx``).  With ``tangent``: ``w = M v`` and ``v`` replaced by ``v - elr H v`` (closed
    form, see the module docstring).  ``scratch`` has at least 5 rows.
    """
    L = LANES
    n = offsets.size - 1
    q = scratch[1]
    sc = scratch[2]
    tv = scratch[3]
    gv = scratch[4]
    for j in range(L):
        loss[j] = 0.0
    for i in range(n):
        a = offsets[i]
        d = offsets[i + 1] - a
        rr = r2[i]
        ff = fv[i]
        if d == 2:
            _pair_step(th, nx, e, mats, i, a, loss, tangent, v, rr)
        else:
            # sums start from their first term (0 + x_0^2), which spares a pass that zeroes them
            _sum_products(th, th, a, a + d, rr, FUSED)
            _matvec(mats, i, a, d, th, g)
            _sum_products(th, g, a, a + d, q, FUSED)
            # the division alone in its pass: a pass that writes three rows and reads two needs more
            # run-time alias checks than LLVM makes before it vectorises
            for j in range(L):
                sc[j] = 1.0 / rr[j]
            for j in range(L):
                ff[j] = q[j] * sc[j]
                sc[j] = 2.0 * sc[j]
                loss[j] += ff[j]
            for p in range(a, a + d):
                x = th[p]
                y = g[p]
                z = nx[p]
                if tangent:  # the tangent map needs the gradient: keep it in g
                    for j in range(L):
                        y[j] = sc[j] * fma(-ff[j], x[j], y[j])
                    for j in range(L):
                        z[j] = x[j] - e[j] * y[j]
                else:
                    for j in range(L):
                        z[j] = x[j] - e[j] * (sc[j] * fma(-ff[j], x[j], y[j]))
        if tangent and d != 2:  # (groups in R^2 updated v in their one pass)
            _matvec(mats, i, a, d, v, w)
            for j in range(L):
                tv[j] = 0.0
                gv[j] = 0.0
            for p in range(a, a + d):
                x = th[p]
                y = g[p]
                u = v[p]
                for j in range(L):
                    tv[j] += x[j] * u[j]
                    gv[j] += y[j] * u[j]
            for p in range(a, a + d):
                x = th[p]
                y = g[p]
                u = v[p]
                z = w[p]
                for j in range(L):  # w <- H v, v <- v - elr H v
                    hv = sc[j] * ((z[j] - ff[j] * u[j]) - x[j] * gv[j] - y[j] * tv[j])
                    z[j] = hv
                    u[j] = u[j] - e[j] * hv


@njit(cache=True, error_model="numpy", forceinline=True)
def _add_noise(th, nx, xi, offsets, e, noise_scale, keys, t, scratch):
    """SI gradient noise: ``nx_i -= elr / (|theta_i| sqrt(d_i - 1)) (xi_i - (xi_i . theta_i) theta_i / r_i^2)``.

    ``xi = noise_scale * normal(key, t, p)``, the numbers ``simulate`` draws for the same seed; the
    operations of ``pgd_run``'s noise term in its order, so noisy trajectories are ``simulate``'s bit for bit.
    """
    L = LANES
    n = offsets.size - 1
    dot = scratch[0]
    r2 = scratch[1]
    scl = scratch[2]
    for p in range(offsets[n]):
        z = xi[p]
        for j in range(L):
            z[j] = noise_scale * normal(keys[j], t, p)
    for i in range(n):
        a = offsets[i]
        b = offsets[i + 1]
        for j in range(L):
            dot[j] = 0.0
            r2[j] = 0.0
        for p in range(a, b):
            x = th[p]
            z = xi[p]
            for j in range(L):
                dot[j] += z[j] * x[j]
                r2[j] += x[j] * x[j]
        for j in range(L):
            scl[j] = e[j] / (math.sqrt(r2[j]) * math.sqrt(b - a - 1.0))
            dot[j] = dot[j] / r2[j]  # the same quotient for every component: divide once
        for p in range(a, b):
            x = th[p]
            y = nx[p]
            z = xi[p]
            for j in range(L):
                y[j] -= scl[j] * (z[j] - dot[j] * x[j])


@njit(cache=True, error_model="numpy", forceinline=True)
def _normalise(nx, offsets, individual, radii, ynorm, loss, chk, ny):
    """Normalise ``nx`` in place (``* 1 / |y|``, or ``* R_i / |y_i|`` per group) and record ``|y|`` (or ``|y_i|``).

    ``chk`` accumulates the loss and the squared norms: it is non-finite iff one of them was.  ``ny`` is
    a scratch row.
    """
    L = LANES
    n = offsets.size - 1
    groups = n if individual else 1
    for i in range(groups):
        a = offsets[i] if individual else 0
        b = offsets[i + 1] if individual else offsets[n]
        yn_i = ynorm[i]
        _sum_products(nx, nx, a, b, ny, PRODUCTS)
        rad = radii[i]
        for j in range(L):
            chk[j] += ny[j]
            yn = math.sqrt(ny[j])
            yn_i[j] = yn
            ny[j] = (rad[j] if individual else 1.0) / yn
        for p in range(a, b):
            y = nx[p]
            for j in range(L):
                y[j] *= ny[j]
    for j in range(L):
        chk[j] += loss[j]


@njit(cache=True, error_model="numpy", forceinline=True)
def _floor_state(nx, offsets, lim):
    """Raise components below ``FLOOR |theta_i|`` to that value, sign kept (``pgd._floor_group`` per lane).

    ``lim`` is a scratch row.
    """
    L = LANES
    n = offsets.size - 1
    for i in range(n):
        y = nx[offsets[i]]
        for j in range(L):
            lim[j] = 0.0 + y[j] * y[j]
        for p in range(offsets[i] + 1, offsets[i + 1]):
            y = nx[p]
            for j in range(L):
                lim[j] += y[j] * y[j]
        for j in range(L):
            lim[j] = FLOOR * math.sqrt(lim[j])
        for p in range(offsets[i], offsets[i + 1]):
            y = nx[p]
            for j in range(L):
                x = y[j]
                y[j] = math.copysign(lim[j], x) if abs(x) < lim[j] else x


@njit(cache=True, error_model="numpy", forceinline=True)
def _project_tangent(v, nx, offsets, individual, radii, ynorm, vn, floor, scratch):
    """Project ``v`` on the tangent space at the new point, scale by the step's normalisation, renormalise.

    Total constraint: ``(v - (v . theta') theta') / |y|``; individual: per group ``(v_i - (v_i .
    theta_i') theta_i' / R_i^2) R_i / |y_i|``.  ``vn`` receives the norm before the renormalisation (the
    growth factor of the step); components below ``FLOOR`` are raised to it on flooring steps.
    ``scratch`` has at least 2 rows.
    """
    L = LANES
    n = offsets.size - 1
    dot = scratch[0]
    scl = scratch[1]
    groups = n if individual else 1
    for j in range(L):
        vn[j] = 0.0
    for i in range(groups):
        a = offsets[i] if individual else 0
        b = offsets[i + 1] if individual else offsets[n]
        for j in range(L):
            dot[j] = 0.0
        for p in range(a, b):
            u = v[p]
            y = nx[p]
            for j in range(L):
                dot[j] += u[j] * y[j]
        yn_i = ynorm[i]
        if individual:
            rad = radii[i]
            for j in range(L):
                dot[j] = dot[j] / (rad[j] * rad[j])
                scl[j] = rad[j] / yn_i[j]
        else:
            for j in range(L):
                scl[j] = 1.0 / yn_i[j]
        for p in range(a, b):
            u = v[p]
            y = nx[p]
            for j in range(L):
                x = (u[j] - dot[j] * y[j]) * scl[j]
                u[j] = x
                vn[j] += x * x
    for j in range(L):
        vn[j] = math.sqrt(vn[j])
        dot[j] = 1.0 / vn[j]
    for p in range(offsets[n]):
        u = v[p]
        if floor:
            for j in range(L):
                x = u[j] * dot[j]
                u[j] = math.copysign(FLOOR, x) if abs(x) < FLOOR else x
        else:
            for j in range(L):
                u[j] = u[j] * dot[j]


@njit(cache=True, error_model="numpy")
def _run_block(th, nx, v, e, radii, offsets, mats, steps, tail, individual, lyapunov, n_states, buf, hbuf,
               stats, sq, r2min, r2max, lb, noise_scale, keys):
    """Advance the LANES trajectories of a block and reduce their tail (see :func:`rayleigh_sweep`).

    Every array is a block workspace of rows of LANES values (one row per state component, group or
    statistic).  ``th`` holds the initial states, ``v`` the initial tangent vectors; on return ``th``
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
    g = np.empty((dim, L))
    w = np.empty((dim, L))
    loss = np.empty(L)
    r2 = np.empty((n, L))
    fv = np.empty((n, L))
    ynorm = np.empty((n, L))
    vn = np.empty(L)
    scratch = np.empty((5, L))
    chord = np.empty(L)
    xi = np.empty((dim if noise_scale > 0 else 0, L))
    t0 = steps - tail
    s0 = steps - n_states
    c0 = min(t0, s0)
    nb = min(LYAP_BLOCKS, tail)
    blk = 0
    edge = t0 + tail // nb
    mid = t0 + tail // 2
    k0, s1, s2, d2, chk, smax, ssum, s1h, lsum, prod = (stats[0], stats[1], stats[2], stats[3], stats[4], stats[5],
                                                        stats[6], stats[7], stats[8], stats[9])
    # The states to keep are written by the step straight into their rows of buf (or hbuf) instead of
    # being copied there: ``home`` says where theta_t lives (0: the caller's th, 1: its nx, 2: buf, 3: hbuf).
    first, second = th, nx
    home = 0
    for t in range(steps):
        if t >= s0 and home != 2:
            _copy_rows(th, buf[t - s0])
        if c0 <= t < c0 + n_states and home != 3:
            _copy_rows(th, hbuf[t - c0])
        u = t + 1
        if s0 <= u < steps:
            nx = buf[u - s0]
            nhome = 2
        elif c0 <= u < c0 + n_states and u < steps:
            nx = hbuf[u - c0]
            nhome = 3
        elif home == 0:
            nx = second
            nhome = 1
        else:
            nx = first
            nhome = 0
        floor = t % FLOOR_EVERY == FLOOR_EVERY - 1
        _gradient_step(th, nx, g, w, v, offsets, mats, e, loss, r2, fv, lyapunov, scratch)
        if noise_scale > 0:
            _add_noise(th, nx, xi, offsets, e, noise_scale, keys, t, scratch)
        _normalise(nx, offsets, individual, radii, ynorm, loss, chk, scratch[0])
        if floor:
            _floor_state(nx, offsets, scratch[0])
        if lyapunov:
            _project_tangent(v, nx, offsets, individual, radii, ynorm, vn, floor, scratch)
        full = t >= t0
        if full:
            if t == t0:
                for j in range(L):
                    k0[j] = loss[j]
            for j in range(L):
                dl = loss[j] - k0[j]
                s1[j] += dl
                s2[j] += dl * dl
            for i in range(n):
                rr = r2[i]  # r_i^2 at theta_t, kept by the step
                sqi = sq[i]
                lo = r2min[i]
                hi = r2max[i]
                for j in range(L):
                    x = rr[j]
                    sqi[j] += x
                    lo[j] = x if x < lo[j] else lo[j]
                    hi[j] = x if x > hi[j] else hi[j]
            if lyapunov:
                for j in range(L):
                    prod[j] *= vn[j]
        if full or (t >= s0 and t < steps - 1):
            # squared chord |theta_{t+1} - theta_t|^2, summed in component order
            _sum_products(th, nx, 0, dim, chord, CHORD)
            if full:
                for j in range(L):
                    d2[j] += chord[j]
            if t >= s0 and t < steps - 1:
                for j in range(L):
                    ch = math.sqrt(chord[j])
                    smax[j] = ch if ch > smax[j] else smax[j]
                    ssum[j] += ch
        if t == mid - 1:
            for j in range(L):
                s1h[j] = s1[j]
        if lyapunov and full:
            end_block = t == edge - 1
            if (t - t0) % LOG_EVERY == LOG_EVERY - 1 or end_block:
                lbb = lb[blk]
                for j in range(L):
                    lg = math.log(prod[j])
                    lsum[j] += lg
                    lbb[j] += lg
                    prod[j] = 1.0
            if end_block:
                blk += 1
                edge = t0 + ((blk + 1) * tail) // nb
        th = nx
        home = nhome
    if home == 1:  # the final state is in the caller's nx buffer: copy it to th
        _copy_rows(second, first)


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
        th = np.empty((dim, L))
        nx = np.empty((dim, L))
        v = np.empty((dim, L))
        e = np.empty(L)
        radii = np.empty((n, L))
        stats = np.empty((10, L))
        sq = np.empty((n, L))
        r2min = np.empty((n, L))
        r2max = np.empty((n, L))
        lb = np.empty((LYAP_BLOCKS, L))
        buf = np.empty((n_states, dim, L))
        hbuf = np.empty((n_states, dim, L))
        valid = np.empty(L, dtype=np.bool_)
        per = np.empty(L, dtype=np.int64)
        rh = np.empty(L)
        re = np.empty(L)
        worst = np.empty(L)
        lane_keys = np.zeros(L, dtype=np.uint64)
        for lo in range(b * block, min(m, (b + 1) * block), L):
            cnt = min(L, m - lo, (b + 1) * block - lo)
            # -- load LANES trajectories; missing lanes repeat the last one (their results are dropped)
            for j in range(L):
                gcol = lo + min(j, cnt - 1)
                for r in range(dim):
                    th[r, j] = theta0[r, gcol]
                    v[r, j] = tang0[r, gcol]
                for i in range(n):
                    radii[i, j] = radii0[i, gcol]
                    sq[i, j] = 0.0
                    r2min[i, j] = np.inf
                    r2max[i, j] = -np.inf
                for r in range(10):
                    stats[r, j] = 0.0
                stats[9, j] = 1.0
                for q in range(LYAP_BLOCKS):
                    lb[q, j] = 0.0
                e[j] = elr[gcol]
                if noise_scale > 0:
                    lane_keys[j] = keys[gcol]
            _run_block(th, nx, v, e, radii, offsets, mats, steps, tail, individual, lyapunov, n_states, buf, hbuf,
                       stats, sq, r2min, r2max, lb, noise_scale, lane_keys)
            for j in range(L):
                valid[j] = math.isfinite(stats[4, j])
            block_periods(buf, stats[5], stats[6], valid, period_tol, period_rtol, max_period, per, worst)
            # the end window's residual from the distances the period test computed (bit for bit)
            residuals_at_periods(per, worst, stats[6], n_states, valid, re)
            block_residuals(hbuf, per, valid, rh)
            for j in range(cnt):
                gcol = lo + j
                fail = not valid[j]
                status[gcol] = STATUS_NONFINITE if fail else STATUS_OK
                period[gcol] = per[j]
                res_head[gcol] = rh[j]
                res_end[gcol] = re[j]
                for r in range(dim):
                    final[r, gcol] = np.nan if fail else th[r, j]
                if record_states:
                    for t in range(n_states):
                        for r in range(dim):
                            states[gcol, t, r] = buf[t, r, j]
                se = np.nan
                if lyapunov and nb >= 2 and not fail:
                    se = block_standard_error(lb.reshape(LYAP_BLOCKS * L), j, L, nb, tail)
                write_summary(gcol, fail, stats[0, j], stats[1, j], stats[2, j], stats[3, j], stats[8, j],
                              se, stats[7, j], tail, lyapunov, mean_loss, std_loss, mean_cos, rms_step, lyap,
                              lyap_se, loss_h1, loss_h2)
                if fail:
                    for i in range(n):
                        mean_sq[i, gcol] = np.nan
                        min_r2[i, gcol] = np.nan
                        max_r2[i, gcol] = np.nan
                    continue
                for i in range(n):
                    mean_sq[i, gcol] = sq[i, j] / tail
                    min_r2[i, gcol] = r2min[i, j]
                    max_r2[i, gcol] = r2max[i, j]
    return (
        mean_loss, std_loss, mean_cos, rms_step, mean_sq, min_r2, max_r2, lyap, period, status, final, states,
        lyap_se, loss_h1, loss_h2, res_head, res_end,
    )
