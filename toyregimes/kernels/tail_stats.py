"""Reductions shared by the batched sweep kernels."""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True, error_model="numpy")
def block_standard_error(block_sums, start, stride, nb, tail):
    """Standard error of the mean of ``nb`` block exponents of a tail of ``tail`` steps.

    Block ``q`` covers steps ``[q tail // nb, (q + 1) tail // nb)`` of the tail and its summed log growth is
    ``block_sums[start + q * stride]``; the exponent of a block is that sum over its length.  Returns
    ``std(block exponents, ddof=1) / sqrt(nb)``, computed in two passes (mean, then squared deviations):
    the one-pass ``sum(b^2) - nb mean^2`` cancels to ~1e-8 where the blocks agree.  Needs ``nb >= 2``.
    """
    bsum = 0.0
    for q in range(nb):
        bsum += block_sums[start + q * stride] / (((q + 1) * tail) // nb - (q * tail) // nb)
    bmean = bsum / nb
    bsq = 0.0
    for q in range(nb):
        dev = block_sums[start + q * stride] / (((q + 1) * tail) // nb - (q * tail) // nb) - bmean
        bsq += dev * dev
    return math.sqrt(bsq / (nb - 1) / nb)
