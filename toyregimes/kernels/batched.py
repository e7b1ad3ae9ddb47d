"""Batched Numba kernels for sweeps: many PGD runs of the canonical toy at once.

Layout is structure of arrays with trajectories innermost.  ``prange`` distributes blocks of
``block`` trajectories over threads; a block is advanced ``LANES`` (128) trajectories at a time in
one flat workspace (see "The block workspace" below), one pass over the lanes per step: the loop
over lanes is vectorised by LLVM with the whole step of a trajectory (every group, the
normalisation, the tail statistics, the tangent map) in registers.  The number of groups is a
compile-time constant (``alpha`` is passed as a tuple), so the loops over groups are unrolled and
every workspace row has a constant offset; a kernel is compiled and cached once per ``n``.

Rounding, and agreement with ``simulate``. The update is the PGD step of
:func:`toyregimes.kernels.pgd_run` for ``M_i = diag(0, alpha_i)``, written for speed: each group costs
one division, ``1 / r_i^2``, instead of two, and few multiplications (``k_i = 1 + c f_i``, ``nu_i = (x_i
k_i, y_i (k_i - c alpha_i))`` with ``c = 2 elr / r_i^2``, ``f_i = alpha_i y_i^2 / r_i^2``). This rounds
differently from ``simulate`` (a few ulps per step), so a trajectory agrees with ``simulate``'s to
rounding where the dynamics is not chaotic (tested to 1e-10) and only statistically where it is, one ulp
growing to order one there as between any two implementations. Under the total constraint the state is
moreover kept unnormalised until the tail and the kept states begin (:func:`_deferred_step`: the loss is
scale invariant, so only ``|theta~|^2`` has to be carried along, and a sqrt and a division per step are
saved), with exact power-of-two rescaling to keep it bounded (applied in a separate pass, only in blocks
where some state needs it). Tail statistics are reduced in-kernel with sequential sums; the angle enters
through the squared chord ``|theta_{t+1} - theta_t|^2`` only (mean cos angle and RMS step), so a tail
step takes no square root beyond the normalisation's. The numpy twin performs the same IEEE operations
in the same order, so kernel and twin agree bit for bit.

Subnormal numbers, and why converging components are floored, not snapped.  In converging runs
``y_i`` decays geometrically to 0, and on the way its square and products pass through the subnormal
range, where x86 arithmetic is ~100x slower (one such lane stalls its whole vector).  A component with
``|y_i| < SNAP |x_i|`` (``SNAP = 1e-60``) is therefore raised to ``SNAP |x_i|`` with its sign kept
when the state is stored at the end of every ``SNAP_EVERY``-th step (steps ``t`` with ``t % 8 == 7``;
a per-step test cost a fifth of the step).  It is a floor, not a snap to the minimum ``y_i = 0``:
``y_i = 0`` is a fixed point of the map (the component of the gradient is proportional to ``y_i``),
so a snapped group could never leave a minimum that later becomes unstable, which happens under the
total constraint when the other groups' growth shrinks its radius until ``c_i > 1``; runs were then
called converged with some ``c_i`` up to 1.8.  At the floor ``y_i^2`` is 120 orders of magnitude
below ``x_i^2`` (below one ulp), so while the minimum is stable the radii, the normalisation, the
other groups and the loss are what they would be at the minimum; once it is unstable the group
leaves it at the rate of its multiplier ``|1 - 2 c_i|``, as any perturbed system would.  Between two
floors ``y_i`` may shrink by 7 steps' contraction; ``y_i^2`` stays normal unless those steps contract
it by more than ``1e-94``.  Likewise tangent-vector components below ``SNAP`` (the vector has unit
norm) are raised to ``SNAP`` where a flooring step reads the vector.  ``simulate`` floors on the same steps
(:func:`toyregimes.kernels.pgd._floor_group`, relative to the group norm).

The tangent vector only needs to be accurate (its direction converges to the Oseledets direction
whatever the rounding), so it uses the closed-form Hessian-vector product and multiplications by
reciprocals.

Period detection runs on the last ``n_states`` states of a block at once
(:func:`~toyregimes.kernels.periods.block_periods`, vectorised over trajectories, same answers as
:func:`~toyregimes.kernels.periods.detect_period_rows`, which is the definition).

Results of a trajectory depend only on its own inputs, never on its block, chunk or thread: vector
lanes and scalar remainder iterations perform the same IEEE operations (no fast-math, no contraction
to fused multiply-adds), and every data-dependent choice is made per trajectory.

The slow numpy twin is ``tests/reference_batched.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from toyregimes.kernels.periods import block_periods, block_residuals, residuals_at_periods
from toyregimes.kernels.tail_stats import block_standard_error, write_summary

STATUS_OK = 0
STATUS_NONFINITE = 1

# Log of the tangent growth is taken once every LOG_EVERY tail steps from the running product of
# the per-step factors (a log per step and trajectory would dominate the cost of the tangent map
# without SVML).  16 factors in [1e-19, 1e19] cannot over- or underflow.
LOG_EVERY = 16

# y_i below SNAP |x_i|, and tangent components below SNAP, are raised to that floor (see the module docstring).
SNAP = 1e-60
# ... at the end of every SNAP_EVERY-th step only (steps t with t % SNAP_EVERY == SNAP_EVERY - 1).
SNAP_EVERY = 8

# The tail is cut into LYAP_BLOCKS blocks whose exponents give the standard error of the exponent.
LYAP_BLOCKS = 8

# Trajectories advanced together by one loop (a compile-time constant, see the block workspace below).
LANES = 128

# An unnormalised state (see _deferred_block_step) with |theta~|^2 > BIG is multiplied by RESCALE (exact).
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


# ---------------------------------------------------------------------------------------------------
# The block workspace.  Every per-block quantity lives in one flat float array ``ws`` of rows of LANES
# values (row r, lane j at ``ws[r * LANES + j]``).  ``n`` comes from the length of the ``alpha`` tuple
# and LANES is a global, so every row offset is a compile-time constant: LLVM then sees that rows
# never overlap, fully unrolls the loops over groups and vectorises the loop over lanes with the
# whole step of a trajectory in registers (one pass over the block per step instead of one per
# stage).  Normalised steps update the state in place (through nu); unnormalised steps alternate
# between two halves of the state rows (read one, write the other: there an in-place update costs
# a third of the step), so the deferred step is compiled twice, once per parity.  Rows, n groups:
#   2i, 2i+1             x_i, y_i: the state (half 0)
#   2n + 2i, 2n + 2i+1   half 1 of the state (unnormalised steps only)
#   4n + 2i, 4n + 2i+1   the unnormalised next point nu
#   6n + 2i, 6n + 2i+1   the tangent vector v (stored unnormalised, |v| = 1 / vs)
#   8n + i               per-group scale R_i / |nu_i| (individual constraint)
#   9n + i               R_i (individual constraint)
#   10n + i              1 / R_i^2 (individual constraint)
#   11n + i, 12n + i, 13n + i   sum, min and max of r_i^2 over the tail
#   14n + LANE_*         per-trajectory quantities below
# ---------------------------------------------------------------------------------------------------
LANE_E2 = 0  # 2 elr
LANE_BIG = 1  # |theta~|^2 of the unnormalised state (total constraint, before the tail)
LANE_VS = 2  # 1 / |v|
LANE_PROD = 3  # running product of tangent growth factors (LOG_EVERY steps)
LANE_LYAP = 4  # summed log growth over the tail
LANE_S1 = 5  # sum of (F - K)
LANE_S2 = 6  # sum of (F - K)^2
LANE_K = 7  # K, the first tail loss
LANE_D2 = 8  # sum of squared chords |theta_{t+1} - theta_t|^2
LANE_CHK = 9  # finiteness check (non-finite iff a loss or norm was)
LANE_SMAX = 10  # max chord between consecutive kept states
LANE_SSUM = 11  # sequential sum of the chords between consecutive kept states
LANE_S1H = 12  # sum of (F - K) over the first half of the tail (a copy of LANE_S1 at the midpoint)
LANE_LB = 13  # LYAP_BLOCKS rows: summed log growth over each block of the tail
N_LANE_ROWS = 13 + LYAP_BLOCKS


# first row of each region, in units of n
ROW_NU = 4
ROW_V = 6
ROW_SCALE = 8
ROW_RADIUS = 9
ROW_INV_R2 = 10
ROW_SQ = 11
ROW_MIN_R2 = 12
ROW_MAX_R2 = 13
ROW_LANE = 14


def workspace_rows(n):
    """Number of rows of the block workspace for ``n`` groups."""
    return ROW_LANE * n + N_LANE_ROWS


# inlined by LLVM, not Numba: see the note above _deferred_step
@njit(cache=True, error_model="numpy", forceinline=True)
def _group_step(xx, yy, a, e):
    """Unnormalised PGD step of one group, ``nu = theta - (e / 2) grad F_i`` (``e = 2 elr`` times ``|theta~|^2``).

    With ``inv = 1 / r^2``, ``f = alpha y^2 inv`` (the group's loss) and ``c = e inv``: ``k = 1 + c f`` and
    ``nu = (x k, y (k - c alpha))``.  Returns ``(inv, f, c, nu_x, nu_y)``.
    """
    r2 = xx * xx + yy * yy
    inv = 1.0 / r2
    f = a * ((yy * yy) * inv)
    c = e * inv
    k = 1.0 + c * f
    return inv, f, c, xx * k, yy * (k - c * a)


@njit(cache=True, error_model="numpy", inline="always")
def _tangent_step(ws, j, n, i, a, xx, yy, inv, f, c, vs, snap):
    """``w = v - elr H v`` for group ``i`` of lane ``j``, in place in the v rows.

    ``H v = (2/r^2)[(M - f) v - theta (2/r^2)(G.v) - G (2/r^2)(theta.v)]`` with ``G = M theta - f theta``
    (the closed form of ``kernels.rayleigh_hessian``), so ``elr H v = c h`` with ``h`` the bracket.  ``v``
    is first scaled by ``vs`` (the renormalisation of the previous step) and snapped.
    """
    L = LANES
    ix = (ROW_V * n + 2 * i) * L + j
    iy = ix + L
    wx = ws[ix] * vs
    wy = ws[iy] * vs
    if snap:
        wx = math.copysign(SNAP, wx) if abs(wx) < SNAP else wx
        wy = math.copysign(SNAP, wy) if abs(wy) < SNAP else wy
    sc = 2.0 * inv
    gx = 0.0 - f * xx
    gy = (a - f) * yy
    tv = sc * (xx * wx + yy * wy)
    gv = sc * (gx * wx + gy * wy)
    hx = (0.0 - f * wx) - xx * gv - gx * tv
    hy = (a - f) * wy - yy * gv - gy * tv
    ws[ix] = wx - c * hx
    ws[iy] = wy - c * hy


# inlined by LLVM, not Numba: see the note above _deferred_step
@njit(cache=True, error_model="numpy", forceinline=True)
def _project_tangent(ws, j, n, dst, individual, norm, deferred, big):
    """Project v on the tangent space at the new point (rows from ``dst``), scale it; returns ``|v|^2``.

    Total constraint: ``v - (v . theta') theta'`` times ``norm`` (``1 / |nu|``), with ``v . theta'``
    divided by ``|theta~'|^2`` = ``big`` for an unnormalised state (``deferred``).
    Individual constraint: per group, ``v_i - (v_i . theta_i') theta_i' / R_i^2`` times ``R_i / |nu_i|``.
    """
    L = LANES
    v = ROW_V * n
    vv = 0.0
    if individual:
        for i in range(n):
            ix = (v + 2 * i) * L + j
            iy = ix + L
            x1 = ws[(dst + 2 * i) * L + j]
            y1 = ws[(dst + 2 * i + 1) * L + j]
            d = (ws[ix] * x1 + ws[iy] * y1) * ws[(ROW_INV_R2 * n + i) * L + j]
            s = ws[(ROW_SCALE * n + i) * L + j]
            wx = (ws[ix] - d * x1) * s
            wy = (ws[iy] - d * y1) * s
            ws[ix] = wx
            ws[iy] = wy
            vv += wx * wx + wy * wy
        return vv
    dot = 0.0
    for i in range(n):
        ix = (v + 2 * i) * L + j
        dot += ws[ix] * ws[(dst + 2 * i) * L + j] + ws[ix + L] * ws[(dst + 2 * i + 1) * L + j]
    if deferred:
        dot = dot / big
    for i in range(n):
        ix = (v + 2 * i) * L + j
        iy = ix + L
        wx = (ws[ix] - dot * ws[(dst + 2 * i) * L + j]) * norm
        wy = (ws[iy] - dot * ws[(dst + 2 * i + 1) * L + j]) * norm
        ws[ix] = wx
        ws[iy] = wy
        vv += wx * wx + wy * wy
    return vv


@njit(cache=True, error_model="numpy", inline="always")
def _deferred_lane(ws, j, alpha, src, dst, tangent, snap):
    """The unnormalised step of lane ``j`` (see :func:`_deferred_step`)."""
    n = len(alpha)
    L = LANES
    lane = ROW_LANE * n
    big = (lane + LANE_BIG) * L
    es = ws[(lane + LANE_E2) * L + j] * ws[big + j]
    vs = ws[(lane + LANE_VS) * L + j]
    ssum = 0.0
    for i in range(n):
        a = alpha[i]
        xx = ws[(src + 2 * i) * L + j]
        yy = ws[(src + 2 * i + 1) * L + j]
        inv, f, c, px, py = _group_step(xx, yy, a, es)
        if snap:
            lim = SNAP * abs(px)
            py = math.copysign(lim, py) if abs(py) < lim else py
        ws[(dst + 2 * i) * L + j] = px
        ws[(dst + 2 * i + 1) * L + j] = py
        q = ssum + px * px
        ssum = q + py * py
        if tangent:
            _tangent_step(ws, j, n, i, a, xx, yy, inv, f, c, vs, snap)
    # no finiteness check here: a non-finite value is absorbing (it reaches the state, hence
    # the normalised steps, whose check sees it), and the check would cost a tenth of the step
    ws[big + j] = ssum
    if tangent:
        vv = _project_tangent(ws, j, n, dst, False, 1.0, True, ssum)
        ws[(lane + LANE_VS) * L + j] = 1.0 / math.sqrt(vv)


# The step functions, _group_step and _project_tangent are inlined by LLVM (forceinline), not by Numba
# (inline="always"): Numba then types each once instead of once per call site (ten literal variants
# of the steps), which cuts the cold compilation from 29 to 17 s; after LLVM's inlining the literal
# flags fold as before (bit-identical results, same speed).  _deferred_lane and _tangent_step stay
# Numba-inlined: compiled apart, they leave the tangent-map loop a third slower.
@njit(cache=True, error_model="numpy", forceinline=True)
def _deferred_step(ws, alpha, src, dst, tangent, snap):
    """One step of every lane with the state kept unnormalised (total constraint, before the tail).

    ``F`` is invariant under scaling each group and its gradient scales as ``1 / |theta|``, so
    ``theta~' = theta~ - elr S grad F(theta~)`` with ``S = |theta~|^2`` is ``|theta~| (theta - elr grad F)``:
    the normalised step with ``c = 2 elr S / r~_i^2``; the normalisation is left to ``theta = theta~ /
    |theta~|`` when a normalised state is needed.  The state is read from rows ``src`` and written to
    rows ``dst``.  First it is multiplied by an exact power of two where needed to keep ``S`` bounded
    (a separate pass, only in blocks where some lane needs it).
    """
    n = len(alpha)
    L = LANES
    lane = ROW_LANE * n
    big = (lane + LANE_BIG) * L
    n_big = 0
    for j in range(L):
        n_big += ws[big + j] > BIG
    if n_big:  # rare: multiply the state by the exact power of two, and |theta~|^2 by its square
        for j in range(L):
            mj = RESCALE if ws[big + j] > BIG else 1.0
            ws[big + j] = ws[big + j] * (mj * mj)
            for r in range(2 * n):
                ws[(src + r) * L + j] = ws[(src + r) * L + j] * mj
    # two independent lanes per iteration: the step is one long dependency chain (three divisions
    # deep), and interleaving two of them keeps the core busy (a tenth faster, same results)
    for j in range(L // 2):
        _deferred_lane(ws, j, alpha, src, dst, tangent, snap)
        _deferred_lane(ws, j + L // 2, alpha, src, dst, tangent, snap)


@njit(cache=True, error_model="numpy", forceinline=True)
def _normal_step(ws, alpha, individual, tangent, full, snap, first_tail, keep_chord):
    """One normalised step of every lane, in place in state half 0, with its statistics.

    Per lane: the unnormalised step ``nu`` of every group (and ``w = v - elr H v``), the normalisation
    (``1 / |nu|``, or ``R_i / |nu_i|`` per group), ``theta' = nu * scale`` snapped, the chord
    ``|theta' - theta|``, the tangent projection and renormalisation; with ``full`` (a tail step) the
    sums / min / max of ``r_i^2`` at ``theta``, the loss and angle sums and the tangent growth; with
    ``keep_chord`` the max and sum of the chords between kept states.  Each group costs one division
    (``1 / r_i^2``): with ``u = y^2 / r^2`` and ``c = 2 elr / r^2``, ``f = alpha u``, ``k = 1 + c f`` and
    ``nu = (x k, y (k - c alpha))``, which is ``theta - elr (2 / r^2)(M theta - f theta)``.
    """
    n = len(alpha)
    L = LANES
    lane = ROW_LANE * n
    nu = ROW_NU * n
    src = 0  # theta is read from half 0 (into nu), and theta' written back there
    dst = 0
    for j in range(L):
        e2 = ws[(lane + LANE_E2) * L + j]
        vs = ws[(lane + LANE_VS) * L + j]
        # -- unnormalised step nu of every group (and w = v - elr H v)
        loss = 0.0
        ssum = 0.0
        for i in range(n):
            a = alpha[i]
            xx = ws[(src + 2 * i) * L + j]
            yy = ws[(src + 2 * i + 1) * L + j]
            inv, f, c, px, py = _group_step(xx, yy, a, e2)
            ws[(nu + 2 * i) * L + j] = px
            ws[(nu + 2 * i + 1) * L + j] = py
            loss += f
            q = ssum + px * px
            ssum = q + py * py
            if tangent:
                _tangent_step(ws, j, n, i, a, xx, yy, inv, f, c, vs, snap)
        # -- normalisation factors
        chk = (lane + LANE_CHK) * L + j
        norm = 1.0
        if individual:
            for i in range(n):
                px = ws[(nu + 2 * i) * L + j]
                py = ws[(nu + 2 * i + 1) * L + j]
                q = 0.0 + px * px
                q = q + py * py
                ws[chk] += q
                ws[(ROW_SCALE * n + i) * L + j] = ws[(ROW_RADIUS * n + i) * L + j] / math.sqrt(q)
        else:
            norm = 1.0 / math.sqrt(ssum)
            ws[chk] += ssum
        ws[chk] += loss
        # -- theta' = nu * scale, snapped; the chord; sum / min / max of r_i^2 at theta in the tail
        d2 = 0.0
        for i in range(n):
            s = ws[(ROW_SCALE * n + i) * L + j] if individual else norm
            px = ws[(nu + 2 * i) * L + j] * s
            py = ws[(nu + 2 * i + 1) * L + j] * s
            if snap:
                lim = SNAP * abs(px)
                py = math.copysign(lim, py) if abs(py) < lim else py
            ox = ws[(src + 2 * i) * L + j]
            oy = ws[(src + 2 * i + 1) * L + j]
            if full:
                r2 = ox * ox + oy * oy
                ws[(ROW_SQ * n + i) * L + j] += r2
                lo = ws[(ROW_MIN_R2 * n + i) * L + j]
                ws[(ROW_MIN_R2 * n + i) * L + j] = r2 if r2 < lo else lo
                hi = ws[(ROW_MAX_R2 * n + i) * L + j]
                ws[(ROW_MAX_R2 * n + i) * L + j] = r2 if r2 > hi else hi
            dx = px - ox
            q = d2 + dx * dx
            dy = py - oy
            d2 = q + dy * dy
            ws[(dst + 2 * i) * L + j] = px
            ws[(dst + 2 * i + 1) * L + j] = py
        # -- tangent vector: project on the tangent space at the new point, scale, renormalise
        if tangent:
            vn = math.sqrt(_project_tangent(ws, j, n, dst, individual, norm, False, 1.0))
            ws[(lane + LANE_VS) * L + j] = 1.0 / vn
            if full:
                ws[(lane + LANE_PROD) * L + j] *= vn
        # -- statistics of the step just taken
        if full:
            kk = (lane + LANE_K) * L + j
            if first_tail:
                ws[kk] = loss
            dl = loss - ws[kk]
            ws[(lane + LANE_S1) * L + j] += dl
            ws[(lane + LANE_S2) * L + j] += dl * dl
            # squared chord: cos angle = 1 - d^2/2 and the RMS step follow from its mean (a sqrt per
            # step for the mean chord would cost a tenth of the tail step)
            ws[(lane + LANE_D2) * L + j] += d2
        if keep_chord:
            ch = math.sqrt(d2)
            smax = (lane + LANE_SMAX) * L + j
            hi = ws[smax]
            ws[smax] = ch if ch > hi else hi
            ws[(lane + LANE_SSUM) * L + j] += ch


@njit(cache=True, error_model="numpy")
def _run_block(ws, alpha, steps, tail, individual, lyapunov, n_states, buf, hbuf):
    """Advance the LANES trajectories of a block workspace and reduce their tail.

    ``ws`` holds the initial state in half 0 and every other row initialised (v, radii, ``e2``,
    ``vs = 1``, ``big = 1``, ``prod = 1``, sums 0, minima +inf, maxima -inf); ``buf`` (n_states, 2n,
    LANES) receives the states theta_t of the last ``n_states`` steps and ``hbuf`` (same shape) those of
    the first ``n_states`` steps from ``min(steps - tail, steps - n_states)`` (the head of the tail).
    The tail is cut into ``nb = min(LYAP_BLOCKS, tail)`` blocks ``[t0 + b tail // nb, t0 + (b + 1)
    tail // nb)`` whose summed log growth goes to the LANE_LB rows; at the midpoint ``t0 + tail // 2``
    the loss sum is copied to LANE_S1H.  The final state is left in half 0 (the last step is always a
    normalised one).
    """
    n = len(alpha)
    L = LANES
    t0 = steps - tail
    s0 = steps - n_states
    c0 = min(t0, s0)  # chords are needed from here on
    # total constraint: before c0 the state is kept unnormalised (see _deferred_step)
    n_deferred = 0 if individual else c0
    lane = ROW_LANE * n
    prod = (lane + LANE_PROD) * L
    lyap = (lane + LANE_LYAP) * L
    s1 = (lane + LANE_S1) * L
    s1h = (lane + LANE_S1H) * L
    nb = min(LYAP_BLOCKS, tail)
    blk = 0
    edge = t0 + tail // nb  # end of block blk
    mid = t0 + tail // 2
    half = 0
    for t in range(steps):
        snap = t % SNAP_EVERY == SNAP_EVERY - 1
        if t >= s0:  # (a normalised state: s0 >= n_deferred)
            for r in range(2 * n):
                for j in range(L):
                    buf[t - s0, r, j] = ws[r * L + j]
        if c0 <= t < c0 + n_states:  # the head of the tail (normalised from c0 on)
            for r in range(2 * n):
                for j in range(L):
                    hbuf[t - c0, r, j] = ws[r * L + j]
        if t < n_deferred:
            # the flags that select code are literal at each call: every variant is its own tight loop
            # (snap too without the tangent map: a snap test in the loop costs a twentieth of the step)
            if half == 0:
                if lyapunov:
                    _deferred_step(ws, alpha, 0, 2 * n, True, snap)
                elif snap:
                    _deferred_step(ws, alpha, 0, 2 * n, False, True)
                else:
                    _deferred_step(ws, alpha, 0, 2 * n, False, False)
            elif lyapunov:
                _deferred_step(ws, alpha, 2 * n, 0, True, snap)
            elif snap:
                _deferred_step(ws, alpha, 2 * n, 0, False, True)
            else:
                _deferred_step(ws, alpha, 2 * n, 0, False, False)
            half = 1 - half
            if t == n_deferred - 1:  # normalise, into half 0: theta = theta~ / |theta~|
                cur = 2 * n * half
                for j in range(L):
                    inv_norm = 1.0 / math.sqrt(ws[(lane + LANE_BIG) * L + j])
                    for r in range(2 * n):
                        ws[r * L + j] = ws[(cur + r) * L + j] * inv_norm
                half = 0
            continue
        full = t >= t0
        first = t == t0
        keep = t >= s0 and t < steps - 1
        if individual:
            if lyapunov:
                _normal_step(ws, alpha, True, True, full, snap, first, keep)
            else:
                _normal_step(ws, alpha, True, False, full, snap, first, keep)
        elif lyapunov:
            _normal_step(ws, alpha, False, True, full, snap, first, keep)
        else:
            _normal_step(ws, alpha, False, False, full, snap, first, keep)
        if t == mid - 1:
            for j in range(L):
                ws[s1h + j] = ws[s1 + j]
        # log of the tangent growth once every LOG_EVERY tail steps (no vectorised log without SVML)
        # and at the end of every block of the tail
        if lyapunov and full:
            end_block = t == edge - 1
            if (t - t0) % LOG_EVERY == LOG_EVERY - 1 or end_block:
                lb = (lane + LANE_LB + blk) * L
                for j in range(L):
                    g = math.log(ws[prod + j])
                    ws[lyap + j] += g
                    ws[lb + j] += g
                    ws[prod + j] = 1.0
            if end_block:
                blk += 1
                edge = t0 + ((blk + 1) * tail) // nb


@njit(cache=True, parallel=True, error_model="numpy")
def _canonical_sweep(
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
    tuple ``(mean_loss, std_loss, mean_cos_angle, rms_step, mean_sq_norm (n, N), min_r2 (n, N),
    max_r2 (n, N), lyapunov, period, status, final_x (n, N), final_y (n, N), states, lyapunov_se,
    loss_first_half, loss_second_half, residual_head, residual_end)``, with
    ``states`` of shape ``(N, n_states, 2n)`` (flat state vectors) if ``record_states``.
    Statistics are over steps ``steps - tail .. steps - 1`` (loss, squared norms at ``theta_t``,
    angle between ``theta_t`` and ``theta_{t+1}``: ``mean_cos_angle = 1 - m / 2`` and ``rms_step =
    sqrt(m)`` with ``m`` the mean squared chord ``|theta_{t+1} - theta_t|^2``); the exponent is the
    summed log growth of the renormalised tangent vector over the same steps divided by ``tail`` (NaN
    without ``lyapunov``), ``lyapunov_se`` the standard error of the mean of its ``min(8, tail)``
    block exponents (NaN with fewer than two blocks).  ``loss_first_half`` / ``loss_second_half`` are
    the mean losses over the first ``tail // 2`` and the remaining tail steps.  ``residual_head`` and
    ``residual_end`` are the relative period residuals
    (:func:`~toyregimes.kernels.periods.block_residuals`) at the detected period of the first
    ``n_states`` states from ``min(steps - tail, steps - n_states)`` and of the last ``n_states`` states
    (NaN unless the period is >= 2).
    A trajectory that met a non-finite value has ``status`` 1, NaN statistics and period 0.
    """
    n, m = x0.shape
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
    fx = np.empty((n, m))
    fy = np.empty((n, m))
    states = np.empty((m if record_states else 0, n_states, 2 * n))
    lyap_se = np.empty(m)
    loss_h1 = np.empty(m)
    loss_h2 = np.empty(m)
    res_head = np.empty(m)
    res_end = np.empty(m)
    radii = group_radii(x0, y0)
    lane = ROW_LANE * n
    nb = min(LYAP_BLOCKS, tail)
    for b in prange(nblocks):
        ws = np.empty((ROW_LANE * n + N_LANE_ROWS) * L)
        buf = np.empty((n_states, 2 * n, L))
        hbuf = np.empty((n_states, 2 * n, L))
        valid = np.empty(L, dtype=np.bool_)
        per = np.empty(L, dtype=np.int64)
        rh = np.empty(L)
        re = np.empty(L)
        worst = np.empty(L)
        for lo in range(b * block, min(m, (b + 1) * block), L):
            cnt = min(L, m - lo, (b + 1) * block - lo)
            # -- load LANES trajectories; missing lanes repeat the last one (their results are dropped)
            for j in range(L):
                g = lo + min(j, cnt - 1)
                for i in range(n):
                    ws[(2 * i) * L + j] = x0[i, g]
                    ws[(2 * i + 1) * L + j] = y0[i, g]
                    ws[(ROW_V * n + 2 * i) * L + j] = v0x[i, g]
                    ws[(ROW_V * n + 2 * i + 1) * L + j] = v0y[i, g]
                    ws[(ROW_SCALE * n + i) * L + j] = 1.0
                    ws[(ROW_RADIUS * n + i) * L + j] = radii[i, g]
                    ws[(ROW_INV_R2 * n + i) * L + j] = 1.0 / (radii[i, g] * radii[i, g])
                    ws[(ROW_SQ * n + i) * L + j] = 0.0
                    ws[(ROW_MIN_R2 * n + i) * L + j] = np.inf
                    ws[(ROW_MAX_R2 * n + i) * L + j] = -np.inf
                for r in range(N_LANE_ROWS):
                    ws[(lane + r) * L + j] = 0.0
                ws[(lane + LANE_E2) * L + j] = 2.0 * elr[g]
                ws[(lane + LANE_BIG) * L + j] = 1.0
                ws[(lane + LANE_VS) * L + j] = 1.0
                ws[(lane + LANE_PROD) * L + j] = 1.0
            _run_block(ws, alpha, steps, tail, individual, lyapunov, n_states, buf, hbuf)
            for j in range(L):
                valid[j] = math.isfinite(ws[(lane + LANE_CHK) * L + j])
            ssum = ws[(lane + LANE_SSUM) * L:(lane + LANE_SSUM + 1) * L]
            block_periods(buf, ws[(lane + LANE_SMAX) * L:(lane + LANE_SMAX + 1) * L], ssum, valid, period_tol,
                          period_rtol, max_period, per, worst)
            # the end window's residual from the distances the period test computed (bit for bit)
            residuals_at_periods(per, worst, ssum, n_states, valid, re)
            block_residuals(hbuf, per, valid, rh)
            for j in range(cnt):
                g = lo + j
                fail = not valid[j]
                status[g] = STATUS_NONFINITE if fail else STATUS_OK
                period[g] = per[j]
                res_head[g] = rh[j]
                res_end[g] = re[j]
                for i in range(n):
                    fx[i, g] = np.nan if fail else ws[(2 * i) * L + j]
                    fy[i, g] = np.nan if fail else ws[(2 * i + 1) * L + j]
                if record_states:
                    for r in range(n_states):
                        for c in range(2 * n):
                            states[g, r, c] = buf[r, c, j]
                se = np.nan
                if lyapunov and nb >= 2 and not fail:
                    se = block_standard_error(ws, (lane + LANE_LB) * L + j, L, nb, tail)
                write_summary(g, fail, ws[(lane + LANE_K) * L + j], ws[(lane + LANE_S1) * L + j],
                              ws[(lane + LANE_S2) * L + j], ws[(lane + LANE_D2) * L + j],
                              ws[(lane + LANE_LYAP) * L + j], se, ws[(lane + LANE_S1H) * L + j], tail, lyapunov,
                              mean_loss, std_loss, mean_cos, rms_step, lyap, lyap_se, loss_h1, loss_h2)
                if fail:
                    for i in range(n):
                        mean_sq[i, g] = np.nan
                        min_r2[i, g] = np.nan
                        max_r2[i, g] = np.nan
                    continue
                for i in range(n):
                    mean_sq[i, g] = ws[(ROW_SQ * n + i) * L + j] / tail
                    min_r2[i, g] = ws[(ROW_MIN_R2 * n + i) * L + j]
                    max_r2[i, g] = ws[(ROW_MAX_R2 * n + i) * L + j]
    return (
        mean_loss, std_loss, mean_cos, rms_step, mean_sq, min_r2, max_r2, lyap, period, status, fx, fy,
        states, lyap_se, loss_h1, loss_h2, res_head, res_end,
    )


def canonical_sweep(x0, y0, v0x, v0y, elr, alpha, steps, tail, individual, lyapunov, n_states, max_period,
                    period_tol, period_rtol, block, record_states):
    """Run ``N`` trajectories of the canonical toy and reduce tail statistics in-kernel.

    See :func:`_canonical_sweep` for the parameters and the returned tuple.  ``alpha`` is passed to
    the kernel as a tuple, so that the number of groups is a compile-time constant (one compiled,
    cached specialisation per ``n``).
    """
    alpha = tuple(float(a) for a in np.asarray(alpha, dtype=float).ravel())
    return _canonical_sweep(x0, y0, v0x, v0y, elr, alpha, int(steps), int(tail), bool(individual), bool(lyapunov),
                            int(n_states), int(max_period), float(period_tol), float(period_rtol), int(block),
                            bool(record_states))
