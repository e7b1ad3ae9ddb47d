"""Lyapunov exponents from log growths of a tangent vector, with a standard error from blocks."""

from __future__ import annotations

import numpy as np

# Blocks of the tail whose exponents give the standard error of the exponent (as the sweep kernel).
LYAP_BLOCKS = 8


def block_exponents(log_growth, n_blocks: int = LYAP_BLOCKS) -> tuple[float, float]:
    """Exponent and its standard error from per-step log growths of a tangent vector.

    The ``T`` values are cut into ``b = min(n_blocks, T)`` blocks ``[q T // b, (q + 1) T // b)``
    (as the sweep kernel does); the exponent is ``sum / T`` and the standard error that of the mean
    of the ``b`` block exponents, ``std(block means, ddof=1) / sqrt(b)`` (NaN with fewer than two
    blocks).  Blocks much longer than the correlation time make the block means nearly independent.

    Examples
    --------
    >>> mean, se = block_exponents(np.full(80, 0.1))
    >>> round(mean, 12), round(se, 12)
    (0.1, 0.0)
    """
    g = np.asarray(log_growth, dtype=float).ravel()
    total = g.size
    if total == 0:
        return float("nan"), float("nan")
    b = min(int(n_blocks), total)
    edges = [(q * total) // b for q in range(b + 1)]
    means = np.array([g[edges[q]:edges[q + 1]].mean() for q in range(b)])
    se = float(np.std(means, ddof=1) / np.sqrt(b)) if b >= 2 else float("nan")
    return float(g.sum() / total), se
