"""Batched Numba kernels for sweeps: many PGD runs of the canonical toy at once.

Layout is structure of arrays with trajectories innermost: the state of ``N`` runs of an ``n``-group
canonical toy is two ``(n, N)`` arrays ``x`` and ``y`` (``theta_i = (x_i, y_i)``), so every inner
loop runs over contiguous trajectories and LLVM vectorises it.  ``prange`` distributes blocks of
``block`` trajectories over threads; a block is copied into small local arrays that stay in L1 and
is advanced step by step, the inner loop running over the block.

Rounding, and agreement with ``simulate``.  The update is the PGD step of
:func:`toyregimes.kernels.pgd_run` for ``M_i = diag(0, alpha_i)``, written for speed: each group costs
one division, ``1 / r_i^2``, instead of two, and few multiplications (``k_i = 1 + c f_i``, ``nu_i =
(x_i k_i, y_i (k_i - c alpha_i))`` with ``c = 2 elr / r_i^2``, ``f_i = alpha_i y_i^2 / r_i^2``).  Under
the total constraint ``1 / |nu|`` is computed in the loop of the last group, where the rest of the
step hides the latency of the divider.  This rounds differently from ``simulate`` (a few ulps per step), so a
trajectory agrees with ``simulate``'s to rounding where the dynamics is not chaotic (tested to 1e-10)
and only statistically where it is, one ulp growing to order one there as between any two
implementations.  Under the total constraint the state is moreover kept unnormalised until the tail
and the kept states begin (:func:`_deferred_step`: the loss is scale invariant, so only
``|theta~|^2`` has to be carried along, and a sqrt and a division per step are saved), with exact
power-of-two rescaling to keep it bounded (applied in a separate pass, only in blocks where some
state needs it).  Tail statistics are reduced in-kernel with sequential
sums.  The numpy twin performs the same IEEE operations in the same order, so kernel and twin agree
bit for bit.

Subnormal numbers.  In converging runs y_i decays geometrically to 0, and on the way its square and
products pass through the subnormal range, where x86 arithmetic is ~100x slower (one such lane
stalls its whole vector).  A group with ``|y_i| < SNAP |x_i|`` (``SNAP = 1e-60``) is therefore set
to its minimum ``y_i = 0`` when the state is stored at the end of every ``SNAP_EVERY``-th step (steps
``t`` with ``t % 8 == 7``; a per-step snap cost a fifth of the step).  This is ~60 orders of magnitude
below anything observable: at that point ``y_i^2`` is below one ulp of ``x_i^2``, so ``x``, the
radii, the normalisation and the other groups are bit for bit what they would have been, and the
loss differs by less than 1e-120.  Between two snaps ``y_i`` may shrink by 7 steps' contraction
below the threshold; ``y_i^2`` stays normal unless a step contracts it by more than 1e-13, ~70 orders
of margin (the threshold was 1e-100 with a snap at every step).  Likewise tangent-vector components
below ``SNAP`` (the vector has unit norm) are set to 0 where a snapping step reads the vector.
``simulate`` has no snap; its converging runs reach y_i = 0 through the subnormal range instead.

The tangent vector only needs to be accurate (its direction converges to the Oseledets direction
whatever the rounding), so it uses the closed-form Hessian-vector product and multiplications by
reciprocals.

Period detection runs on the last ``n_states`` states of a block at once (:func:`_block_periods`,
vectorised over trajectories, same answers as :func:`detect_period_rows`, which is the definition).

Results of a trajectory depend only on its own inputs, never on its block, chunk or thread: vector
lanes and scalar remainder iterations perform the same IEEE operations (no fast-math, no contraction
to fused multiply-adds), and every data-dependent choice is made per trajectory.

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

# y_i below SNAP |x_i|, and tangent components below SNAP, are set to 0 (see the module docstring).
SNAP = 1e-60
# ... at the end of every SNAP_EVERY-th step only (steps t with t % SNAP_EVERY == SNAP_EVERY - 1).
SNAP_EVERY = 8

# An unnormalised state (see _deferred_step) with |theta~|^2 > BIG is multiplied by RESCALE (exact).
BIG = 2.0**256
RESCALE = 2.0**-128


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


@njit(cache=True)
def _below_sqrt_threshold(thr):
    """``T`` such that ``math.sqrt(d2) < thr`` iff ``d2 < T`` for every double ``d2 >= 0``.

    Correctly rounded sqrt is monotone, so the accepted ``d2`` form an interval ``[0, T)``; starting
    from ``thr * thr`` a few ``nextafter`` steps find its end.  Lets period detection compare squared
    distances (no sqrt) with exactly the answers of the sqrt comparison.
    """
    if thr != thr:
        return np.nan
    if thr <= 0.0:
        return 0.0
    if thr == np.inf:
        return np.inf
    c = thr * thr
    while c > 0.0 and math.sqrt(c) >= thr:
        c = np.nextafter(c, 0.0)
    while True:
        up = np.nextafter(c, np.inf)
        if math.sqrt(up) < thr:
            c = up
        else:
            return up


@njit(cache=True, error_model="numpy")
def _block_periods(buf, step_max, step_sum, valid, tol, rtol, max_period, out):
    """:func:`detect_period_rows` for every trajectory of a block at once (same answers).

    ``buf`` (rows, n, 2, B) holds the kept states, ``step_max``/``step_sum`` the max and sum of the
    chords between consecutive rows, ``valid`` (B) which trajectories stayed finite.  Candidate
    periods are tested for all undecided trajectories together, vectorised over the block; the test
    of a period stops as soon as no trajectory still passes it, so a chaotic block costs about one
    distance per candidate.  A trajectory's answer depends only on its own rows.
    """
    rows, n, _, bsz = buf.shape
    open_ = np.zeros(bsz, dtype=np.bool_)
    lim = np.empty(bsz)
    ok = np.zeros(bsz, dtype=np.bool_)
    d2 = np.empty(bsz)
    n_open = 0
    for j in range(bsz):
        out[j] = 0
        if rows < 2 or not valid[j]:
            continue
        if step_max[j] < tol:
            out[j] = 1
            continue
        lim[j] = _below_sqrt_threshold(rtol * (step_sum[j] / (rows - 1)))
        open_[j] = True
        n_open += 1
    for per in range(2, min(max_period, rows // 2) + 1):
        if n_open == 0:
            break
        for j in range(bsz):
            ok[j] = open_[j]
        for t in range(rows - per):
            a = buf[t + per]
            b = buf[t]
            for j in range(bsz):
                d2[j] = 0.0
            for i in range(n):
                for c in range(2):
                    ac = a[i, c]
                    bc = b[i, c]
                    for j in range(bsz):
                        diff = ac[j] - bc[j]
                        d2[j] += diff * diff
            alive = 0
            for j in range(bsz):
                k = ok[j] and d2[j] < lim[j]
                ok[j] = k
                alive += k
            if alive == 0:
                break
            if 16 * alive <= bsz:  # few left: finish them one by one, with early exit
                for j in range(bsz):
                    if ok[j]:
                        for u in range(t + 1, rows - per):
                            dd = 0.0
                            for i in range(n):
                                for c in range(2):
                                    diff = buf[u + per, i, c, j] - buf[u, i, c, j]
                                    dd += diff * diff
                            if not (dd < lim[j]):
                                ok[j] = False
                                break
                break
        for j in range(bsz):
            if ok[j]:
                out[j] = per
                open_[j] = False
                n_open -= 1


@njit(cache=True, error_model="numpy")
def _step_groups(x, y, nx, ny, e2, alpha, loss, ssum, total, norm):
    """Unnormalised PGD step of every group: ``nu_i = theta_i - elr grad_i F``; loss and |nu|^2 summed.

    Per group, with ``u = y^2 / r^2`` and ``c = 2 elr / r^2`` (one division): ``f = alpha u``, ``k = 1 + c f``
    and ``nu = (x k, y (k - c alpha))``, which is ``theta - elr (2 / r^2)(M theta - f theta)``.  With
    ``total``, ``norm = 1 / |nu|`` is set too.  Snaps (``snap``) are left to the caller.
    """
    n, bsz = x.shape
    for j in range(bsz):
        loss[j] = 0.0
        ssum[j] = 0.0
    for i in range(n):
        a = alpha[i]
        last = total and i == n - 1
        xi = x[i]
        yi = y[i]
        nxi = nx[i]
        nyi = ny[i]
        for j in range(bsz):
            xx = xi[j]
            yy = yi[j]
            r2 = xx * xx + yy * yy
            inv = 1.0 / r2
            f = a * ((yy * yy) * inv)
            c = e2[j] * inv
            k = 1.0 + c * f
            px = xx * k
            py = yy * (k - c * a)
            nxi[j] = px
            nyi[j] = py
            loss[j] += f
            q = ssum[j] + px * px
            sj = q + py * py
            ssum[j] = sj
            if last:  # 1 / |nu| here, where other work hides the divider's latency
                norm[j] = 1.0 / math.sqrt(sj)


@njit(cache=True, error_model="numpy")
def _step_groups_tangent(x, y, nx, ny, vx, vy, vs, e2, alpha, loss, ssum, snap, total, norm):
    """:func:`_step_groups` and ``w = v - elr H v`` (H the Euclidean Hessian at theta), in place in ``vx, vy``.

    ``H v = (2/r^2)[(M - f) v - theta (2/r^2)(G.v) - G (2/r^2)(theta.v)]`` with ``G = M theta - f theta``
    (the closed form of ``kernels.rayleigh_hessian``), so ``elr H v = c h`` with ``h`` the bracket.
    """
    n, bsz = x.shape
    for j in range(bsz):
        loss[j] = 0.0
        ssum[j] = 0.0
    for i in range(n):
        a = alpha[i]
        last = total and i == n - 1
        xi = x[i]
        yi = y[i]
        nxi = nx[i]
        nyi = ny[i]
        vxi = vx[i]
        vyi = vy[i]
        for j in range(bsz):
            xx = xi[j]
            yy = yi[j]
            r2 = xx * xx + yy * yy
            inv = 1.0 / r2
            f = a * ((yy * yy) * inv)
            c = e2[j] * inv
            k = 1.0 + c * f
            px = xx * k
            py = yy * (k - c * a)
            nxi[j] = px
            nyi[j] = py
            loss[j] += f
            q = ssum[j] + px * px
            sj = q + py * py
            ssum[j] = sj
            if last:  # 1 / |nu| here, where other work hides the divider's latency
                norm[j] = 1.0 / math.sqrt(sj)
            wx = vxi[j] * vs[j]  # the renormalisation of the previous step, and its snap
            wy = vyi[j] * vs[j]
            if snap:
                wx = 0.0 if abs(wx) < SNAP else wx
                wy = 0.0 if abs(wy) < SNAP else wy
            sc = 2.0 * inv
            gx = 0.0 - f * xx
            gy = (a - f) * yy
            tv = sc * (xx * wx + yy * wy)
            gv = sc * (gx * wx + gy * wy)
            hx = (0.0 - f * wx) - xx * gv - gx * tv
            hy = (a - f) * wy - yy * gv - gy * tv
            vxi[j] = wx - c * hx  # elr H v = c h
            vyi[j] = wy - c * hy


@njit(cache=True, error_model="numpy")
def _deferred_step(x, y, vx, vy, vs, es, alpha, loss, ssum, tangent, snap):
    """PGD step of an unnormalised state ``theta~ = |theta~| theta`` (total constraint), in place.

    ``F`` is invariant under scaling each group and its gradient scales as ``1 / |theta|``, so
    ``theta~' = theta~ - elr S grad F(theta~)`` with ``S = |theta~|^2`` is ``|theta~| (theta - elr grad F)``:
    the step of :func:`_step_groups` with ``c = 2 elr S / r~_i^2``, and the normalisation is left to
    ``theta = theta~ / |theta~|`` when a normalised state is needed.  The caller first multiplies
    the state by an exact power of two where needed to keep ``S`` bounded (``es = 2 elr S`` after it).  With
    ``tangent``, ``w = v - elr H v`` as in :func:`_step_groups_tangent` (``H`` scales as ``1 / S``).
    Returns loss and ``S' = |theta~'|^2`` in ``loss``, ``ssum``; snaps (``snap``) as the normalised steps do.
    """
    n, bsz = x.shape
    for j in range(bsz):
        loss[j] = 0.0
        ssum[j] = 0.0
    for i in range(n):
        a = alpha[i]
        xi = x[i]
        yi = y[i]
        vxi = vx[i]
        vyi = vy[i]
        if tangent:
            for j in range(bsz):
                xx = xi[j]
                yy = yi[j]
                r2 = xx * xx + yy * yy
                inv = 1.0 / r2
                f = a * ((yy * yy) * inv)
                c = es[j] * inv
                k = 1.0 + c * f
                px = xx * k
                py = yy * (k - c * a)
                if snap:
                    py = 0.0 if abs(py) < SNAP * abs(px) else py
                xi[j] = px
                yi[j] = py
                loss[j] += f
                q = ssum[j] + px * px
                ssum[j] = q + py * py
                wx = vxi[j] * vs[j]
                wy = vyi[j] * vs[j]
                if snap:
                    wx = 0.0 if abs(wx) < SNAP else wx
                    wy = 0.0 if abs(wy) < SNAP else wy
                sc = 2.0 * inv
                gx = 0.0 - f * xx
                gy = (a - f) * yy
                tv = sc * (xx * wx + yy * wy)
                gv = sc * (gx * wx + gy * wy)
                hx = (0.0 - f * wx) - xx * gv - gx * tv
                hy = (a - f) * wy - yy * gv - gy * tv
                vxi[j] = wx - c * hx
                vyi[j] = wy - c * hy
        else:
            for j in range(bsz):
                xx = xi[j]
                yy = yi[j]
                r2 = xx * xx + yy * yy
                inv = 1.0 / r2
                f = a * ((yy * yy) * inv)
                c = es[j] * inv
                k = 1.0 + c * f
                px = xx * k
                py = yy * (k - c * a)
                if snap:
                    py = 0.0 if abs(py) < SNAP * abs(px) else py
                xi[j] = px
                yi[j] = py
                loss[j] += f
                q = ssum[j] + px * px
                ssum[j] = q + py * py


@njit(cache=True, error_model="numpy")
def _run_block(
    x, y, vx, vy, elr, alpha, steps, tail, individual, lyapunov, n_states, radii,
    out_stats, out_sq, out_r2min, out_r2max, out_lyap, out_buf, out_step,
):
    """Advance one block of trajectories (arrays ``(n, B)``, modified in place) and reduce its tail.

    ``out_stats`` rows: 0 sum of (F - K), 1 sum of (F - K)^2 with K the first tail loss, 2 K,
    3 sum of cos angle, 4 sum of chord |theta_{t+1} - theta_t|, 5 finiteness check (non-finite iff a
    loss or norm was).
    ``out_sq``/``out_r2min``/``out_r2max`` (n, B): sum, min and max of r_i^2 over the tail.
    ``out_lyap`` (B): summed log growth of the tangent vector over the tail.
    ``out_buf`` (n_states, n, 2, B): the states theta_t for the last ``n_states`` steps.
    ``out_step`` (2, B): max and sequential sum of the chords between consecutive kept states (the
    first loop of :func:`detect_period_rows`, same operations).
    """
    n, bsz = x.shape
    t0 = steps - tail
    s0 = steps - n_states
    e2 = np.empty(bsz)  # 2 elr, hoisted
    for j in range(bsz):
        e2[j] = 2.0 * elr[j]
    nx = np.empty((n, bsz))  # unnormalised next point
    ny = np.empty((n, bsz))
    scale = np.empty((n, bsz))  # R_i / |nu_i| (individual) or 1 / |nu| (total, row 0)
    ssum = np.zeros(bsz)
    loss = np.zeros(bsz)
    d2 = np.zeros(bsz)  # squared chord |theta_{t+1} - theta_t|^2
    ch = np.zeros(bsz)  # chord
    dot = np.zeros(bsz)
    prod = np.ones(bsz)
    vs = np.ones(bsz)  # 1 / |v|: v is stored unnormalised
    inv_r2 = np.empty((n, bsz))
    if individual:
        for i in range(n):
            for j in range(bsz):
                inv_r2[i, j] = 1.0 / (radii[i, j] * radii[i, j])
    chk = out_stats[5]
    c0 = min(t0, s0)  # chords are needed from here on
    # total constraint: before c0 the state is kept unnormalised (see _deferred_step)
    n_deferred = 0 if individual else c0
    big = np.ones(bsz)  # |theta~|^2
    mul = np.ones(bsz)
    es = np.empty(bsz)
    for t in range(steps):
        in_tail = t >= t0
        snap = t % SNAP_EVERY == SNAP_EVERY - 1
        deferred = t < n_deferred
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
        if deferred:
            s0row = scale[0]
            n_big = 0
            for j in range(bsz):
                sj = big[j]
                mj = RESCALE if sj > BIG else 1.0
                n_big += sj > BIG
                sj = sj * (mj * mj)
                mul[j] = mj
                es[j] = e2[j] * sj
            if n_big:  # rare: multiply the state by the exact power of two
                for i in range(n):
                    xi = x[i]
                    yi = y[i]
                    for j in range(bsz):
                        xi[j] = xi[j] * mul[j]
                        yi[j] = yi[j] * mul[j]
            _deferred_step(x, y, vx, vy, vs, es, alpha, loss, ssum, lyapunov, snap)
            for j in range(bsz):
                chk[j] += ssum[j]
                chk[j] += loss[j]
                big[j] = ssum[j]
                s0row[j] = 1.0
        else:
            # -- unnormalised step of every group (and w = v - elr H v)
            if lyapunov:
                _step_groups_tangent(x, y, nx, ny, vx, vy, vs, e2, alpha, loss, ssum, snap, not individual, scale[0])
            else:
                _step_groups(x, y, nx, ny, e2, alpha, loss, ssum, not individual, scale[0])
            # -- normalisation factors
            if individual:
                for i in range(n):
                    nxi = nx[i]
                    nyi = ny[i]
                    ri = radii[i]
                    si = scale[i]
                    for j in range(bsz):
                        q = 0.0 + nxi[j] * nxi[j]
                        q = q + nyi[j] * nyi[j]
                        chk[j] += q
                        si[j] = ri[j] / math.sqrt(q)
            else:
                for j in range(bsz):  # scale[0] = 1 / |nu| is set by the step
                    chk[j] += ssum[j]
            for j in range(bsz):
                chk[j] += loss[j]
            # -- theta_{t+1} = nu * scale, snapped; chord |theta_{t+1} - theta_t|^2 in the tail
            for j in range(bsz):
                d2[j] = 0.0
            for i in range(n):
                xi = x[i]
                yi = y[i]
                nxi = nx[i]
                nyi = ny[i]
                si = scale[i] if individual else scale[0]
                if in_tail:  # chord, and sum / min / max of r_i^2 at theta_t
                    mn = out_r2min[i]
                    mx = out_r2max[i]
                    sq = out_sq[i]
                    for j in range(bsz):
                        s = si[j]
                        px = nxi[j] * s
                        py = nyi[j] * s
                        if snap:
                            py = 0.0 if abs(py) < SNAP * abs(px) else py
                        ox = xi[j]
                        oy = yi[j]
                        r2 = ox * ox + oy * oy
                        sq[j] += r2
                        mn[j] = min(mn[j], r2)
                        mx[j] = max(mx[j], r2)
                        dx = px - ox
                        q = d2[j] + dx * dx
                        dy = py - oy
                        d2[j] = q + dy * dy
                        xi[j] = px
                        yi[j] = py
                elif t >= c0:
                    for j in range(bsz):
                        s = si[j]
                        px = nxi[j] * s
                        py = nyi[j] * s
                        if snap:
                            py = 0.0 if abs(py) < SNAP * abs(px) else py
                        dx = px - xi[j]
                        q = d2[j] + dx * dx
                        dy = py - yi[j]
                        d2[j] = q + dy * dy
                        xi[j] = px
                        yi[j] = py
                else:
                    for j in range(bsz):
                        s = si[j]
                        px = nxi[j] * s
                        py = nyi[j] * s
                        xi[j] = px
                        if snap:
                            py = 0.0 if abs(py) < SNAP * abs(px) else py
                        yi[j] = py
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
                if individual:
                    si = scale[i]
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
            if deferred:  # |theta~'|^2 = S', not 1
                for j in range(bsz):
                    dot[j] = dot[j] / big[j]
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
            # v / |v| is applied (and snapped) where the next step reads v: components contracting
            # relative to the leading direction would otherwise crawl through the subnormal range
            for j in range(bsz):
                vn = math.sqrt(ssum[j])
                vs[j] = 1.0 / vn
                if in_tail:
                    prod[j] *= vn
            if in_tail and ((t - t0) % LOG_EVERY == LOG_EVERY - 1 or t == steps - 1):
                for j in range(bsz):
                    out_lyap[j] += math.log(prod[j])
                    prod[j] = 1.0
        if deferred and t == n_deferred - 1:
            for j in range(bsz):
                dot[j] = 1.0 / math.sqrt(big[j])
            for i in range(n):
                xi = x[i]
                yi = y[i]
                for j in range(bsz):
                    xi[j] = xi[j] * dot[j]
                    yi[j] = yi[j] * dot[j]
        # -- chords |theta_{t+1} - theta_t|, tail statistics of the step just taken
        if in_tail:
            kk = out_stats[2]
            if t == t0:
                for j in range(bsz):
                    kk[j] = loss[j]
            s1 = out_stats[0]
            s2 = out_stats[1]
            cs = out_stats[3]
            ang = out_stats[4]
            for j in range(bsz):
                dl = loss[j] - kk[j]
                s1[j] += dl
                s2[j] += dl * dl
                # cos(2 asin(d/2)) = 1 - d^2/2: the cosine of the angle ``simulate`` records
                cs[j] += 1.0 - 0.5 * d2[j]
                # the chord |theta_{t+1} - theta_t| (a scalar asin per step would cost more than the
                # step itself without SVML); angle = 2 asin(chord / 2) = chord (1 + chord^2/24 + ...)
                d = math.sqrt(d2[j])
                ch[j] = d
                ang[j] += d
        elif t >= c0:
            for j in range(bsz):
                ch[j] = math.sqrt(d2[j])
        # -- the same chords between consecutive kept states, for period detection
        if t >= s0 and t < steps - 1:
            smax = out_step[0]
            ssm = out_step[1]
            for j in range(bsz):
                d = ch[j]
                smax[j] = max(smax[j], d)
                ssm[j] += d


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
        stp = np.zeros((2, bsz))
        _run_block(x, y, vx, vy, el, alpha, steps, tail, individual, lyapunov, n_states, rad, st, sq, mn, mx, ly, buf,
                   stp)
        valid = np.empty(bsz, dtype=np.bool_)
        for j in range(bsz):
            valid[j] = math.isfinite(st[5, j])
        per = np.empty(bsz, dtype=np.int64)
        _block_periods(buf, stp[0], stp[1], valid, period_tol, period_rtol, max_period, per)
        for j in range(bsz):
            g = lo + j
            fail = not valid[j]
            status[g] = STATUS_NONFINITE if fail else STATUS_OK
            period[g] = per[j]
            for i in range(n):
                fx[i, g] = np.nan if fail else x[i, j]
                fy[i, g] = np.nan if fail else y[i, j]
            if record_states:
                for r in range(n_states):
                    for i in range(n):
                        states[g, r, 2 * i] = buf[r, i, 0, j]
                        states[g, r, 2 * i + 1] = buf[r, i, 1, j]
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
    return (
        mean_loss, std_loss, mean_cos, mean_ang, mean_sq, min_r2, max_r2, lyap, period, status, fx, fy,
        states,
    )
