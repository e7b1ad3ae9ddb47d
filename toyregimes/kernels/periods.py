"""Period detection on kept states, for one trajectory and for a block of trajectories at once.

:func:`detect_period_rows` is the definition (the rule of :func:`toyregimes.analysis.detect_period`);
:func:`block_periods` gives the same answers for every lane of a block ``(rows, D, lanes)``, vectorised
over lanes, and :func:`block_residuals` the relative residual at a lane's period.  Shared by the
batched kernels of the canonical toy and of the Rayleigh family.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


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
def below_sqrt_threshold(thr):
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
def block_periods(buf, step_max, step_sum, valid, tol, rtol, max_period, out, worst):
    """:func:`detect_period_rows` for every trajectory of a block at once (same answers).

    ``buf`` (rows, D, B) holds the kept states (row ``t``, component ``p``, lane ``j``),
    ``step_max``/``step_sum`` the max and sum of the chords between consecutive rows, ``valid`` (B)
    which trajectories stayed finite.  Candidate periods are tested for all undecided trajectories
    together, vectorised over the block; the test of a period stops as soon as no
    trajectory still passes it, so a chaotic block costs about one distance per candidate.
    A trajectory's answer depends only on its own rows.

    ``worst`` (B) receives, for a trajectory whose period ``p >= 2`` was found, ``max_t |x_{t+p} -
    x_t|``, which its test has computed in full (NaN for the others): with the sum of chords it gives the
    relative residual of :func:`block_residuals` bit for bit, without a second pass over the window.
    """
    rows, dim, bsz = buf.shape
    open_ = np.zeros(bsz, dtype=np.bool_)
    lim = np.empty(bsz)
    ok = np.zeros(bsz, dtype=np.bool_)
    d2 = np.empty(bsz)
    top = np.zeros(bsz)  # the largest squared distance of a passing trajectory, at the period under test
    n_open = 0
    for j in range(bsz):
        out[j] = 0
        worst[j] = np.nan
        if rows < 2 or not valid[j]:
            continue
        if step_max[j] < tol:
            out[j] = 1
            continue
        lim[j] = below_sqrt_threshold(rtol * (step_sum[j] / (rows - 1)))
        open_[j] = True
        n_open += 1
    for per in range(2, min(max_period, rows // 2) + 1):
        if n_open == 0:
            break
        for j in range(bsz):
            ok[j] = open_[j]
            top[j] = 0.0
        for t in range(rows - per):
            a = buf[t + per]
            b = buf[t]
            for j in range(bsz):
                d2[j] = 0.0
            for p in range(dim):
                ap = a[p]
                bp = b[p]
                for j in range(bsz):
                    diff = ap[j] - bp[j]
                    d2[j] += diff * diff
            alive = 0
            for j in range(bsz):
                k = ok[j] and d2[j] < lim[j]
                ok[j] = k
                top[j] = max(top[j], d2[j]) if k else top[j]
                alive += k
            if alive == 0:
                break
            if 16 * alive <= bsz:  # few left: finish them one by one, with early exit
                for j in range(bsz):
                    if ok[j]:
                        for u in range(t + 1, rows - per):
                            dd = 0.0
                            for p in range(dim):
                                diff = buf[u + per, p, j] - buf[u, p, j]
                                dd += diff * diff
                            if not (dd < lim[j]):
                                ok[j] = False
                                break
                            top[j] = max(top[j], dd)
                break
        for j in range(bsz):
            if ok[j]:
                out[j] = per
                worst[j] = math.sqrt(top[j])  # sqrt is monotone: the max of the distances
                open_[j] = False
                n_open -= 1


@njit(cache=True, error_model="numpy")
def residuals_at_periods(per, worst, step_sum, rows, valid, out):
    """:func:`block_residuals` of a window from :func:`block_periods`' ``worst`` and its sum of chords.

    ``step_sum[j]`` must be the sum of ``|x_{t+1} - x_t|`` over the window's rows in row order, each
    squared chord summed over components in order from ``0 +`` the first term (as the kernels keep it);
    then ``out`` equals :func:`block_residuals` of the window bit for bit.
    """
    for j in range(per.size):
        out[j] = np.nan
        if 2 <= per[j] < rows and valid[j]:
            out[j] = worst[j] / (step_sum[j] / (rows - 1))


@njit(cache=True, error_model="numpy")
def block_residuals(buf, per, valid, out):
    """Relative period residual of every lane of a window at that lane's period ``per[j]``.

    ``max_t |x_{t+p} - x_t| / mean_t |x_{t+1} - x_t|`` over the rows of ``buf`` (rows, D, B): the
    quantity that :func:`detect_period_rows` compares with ``rtol``.  NaN where ``p < 2``, where the
    window has fewer than ``p + 1`` rows, or for invalid (non-finite) lanes.

    Vectorised over lanes (a pass per row for the chords, a pass per row for each period present in
    the block): reading one lane at a time strides through the whole window, which cost two fifths of a
    d = 8 Rayleigh sweep with 128 kept states (45 against 75 million group-steps/s in a kernel
    harness).  Each lane's sums run in the order of the one-lane definition (rows, then components), so
    the answers are the same.
    """
    rows, dim, bsz = buf.shape
    present = np.zeros(max(rows, 1), dtype=np.bool_)  # the periods to evaluate
    for j in range(bsz):
        out[j] = np.nan
        if 2 <= per[j] < rows and valid[j]:
            present[per[j]] = True
    if not present.any():
        return
    total = np.zeros(bsz)
    worst = np.zeros(bsz)
    d2 = np.empty(bsz)
    for lag in range(1, rows):
        if lag > 1 and not present[lag]:
            continue
        for t in range(rows - lag):
            a = buf[t + lag]
            b = buf[t]
            for j in range(bsz):
                d2[j] = 0.0
            for q in range(dim):
                aq = a[q]
                bq = b[q]
                for j in range(bsz):
                    diff = aq[j] - bq[j]
                    d2[j] += diff * diff
            if lag == 1:
                for j in range(bsz):
                    total[j] += math.sqrt(d2[j])
            else:
                for j in range(bsz):
                    if per[j] == lag:
                        worst[j] = max(worst[j], math.sqrt(d2[j]))
    for j in range(bsz):
        if 2 <= per[j] < rows and valid[j]:
            out[j] = worst[j] / (total[j] / (rows - 1))
