"""Periods of a sequence of states and the residual of a periodic tail."""

from __future__ import annotations

import numpy as np

from toyregimes.analysis.labels import DEFAULTS


def period_residuals(states, max_period: int = DEFAULTS["max_period"]) -> np.ndarray:
    """``e_p = max_t |x_{t+p} - x_t|`` for ``p`` from 1 to ``max_period`` (NaN where too few rows)."""
    x = np.asarray(states, dtype=float)
    x = x.reshape(x.shape[0], -1)
    x = x[np.all(np.isfinite(x), axis=1)]
    out = np.full(max_period, np.nan)
    for p in range(1, min(max_period, x.shape[0] // 2) + 1):
        out[p - 1] = np.max(np.linalg.norm(x[p:] - x[:-p], axis=1))
    return out


def relative_residual(states, period: int) -> float:
    """``max_t |x_{t+p} - x_t| / mean_t |x_{t+1} - x_t|`` over the rows of ``states`` (NaN if ``p < 2``).

    The quantity that :func:`detect_period` compares with ``rtol``; evaluated on the head and on the
    end of a tail window it shows whether the residual of a periodic tail shrinks or grows.

    Examples
    --------
    >>> relative_residual([[1.0], [-1.0], [1.0], [-1.0]], 2)
    0.0
    """
    x = np.asarray(states, dtype=float)
    x = x.reshape(x.shape[0], -1)
    x = x[np.all(np.isfinite(x), axis=1)]
    p = int(period)
    if p < 2 or x.shape[0] <= p:
        return float("nan")
    step = np.mean(np.linalg.norm(x[1:] - x[:-1], axis=1))
    return float(np.max(np.linalg.norm(x[p:] - x[:-p], axis=1)) / step)


def detect_period(
    states,
    tol: float = DEFAULTS["period_tol"],
    rtol: float = DEFAULTS["period_rtol"],
    max_period: int = DEFAULTS["max_period"],
) -> int:
    """Period of the rows of ``states`` (consecutive states of a run), 0 if there is none.

    Period 1 (a fixed point) needs ``max_t |x_{t+1} - x_t| < tol`` (absolute: states are on the
    unit sphere).  Period ``p >= 2`` needs ``max_t |x_{t+p} - x_t| < rtol * mean_t |x_{t+1} - x_t|``:
    the return distance is small compared with how far one step moves.  The relative test is what
    accepts the coupled 2-cycle of the canonical toy, which is only neutrally stable and is
    approached slowly, with a residual quasi-periodic wobble (about 2% of a step after 2e4 steps).
    At least ``2p`` rows are needed to accept period ``p``.

    Examples
    --------
    >>> detect_period([[1], [-1], [1], [-1]])
    2
    """
    x = np.asarray(states, dtype=float)
    x = x.reshape(x.shape[0], -1)
    x = x[np.all(np.isfinite(x), axis=1)]
    res = period_residuals(x, max_period)
    if not np.isfinite(res[0]):
        return 0
    if res[0] < tol:
        return 1
    step = np.mean(np.linalg.norm(x[1:] - x[:-1], axis=1))
    for p in range(2, max_period + 1):
        if res[p - 1] < rtol * step:  # NaN compares False: too few rows
            return p
    return 0
