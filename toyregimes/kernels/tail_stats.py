"""Reductions shared by the batched sweep kernels."""

from __future__ import annotations

import math

import numpy as np
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


@njit(cache=True, error_model="numpy")
def write_summary(g, fail, k0, s1, s2, d2, lyap_sum, lyap_se, s1h, tail, lyapunov, mean_loss, std_loss, mean_cos,
                  rms_step, lyap, lyap_se_out, loss_h1, loss_h2):
    """Write point ``g``'s tail statistics from the kernel's sums (all NaN if the run ``fail``-ed).

    The sums: ``k0`` the first tail loss, ``s1`` and ``s2`` the sums of ``F - k0`` and its square, ``d2`` of
    the squared chords, ``lyap_sum`` of the log growth, ``s1h`` of ``F - k0`` over the first ``tail // 2``
    steps.  Mean loss ``k0 + s1 / tail``; population std; ``mean_cos = 1 - m / 2`` and ``rms_step =
    sqrt(m)`` with ``m`` the mean squared chord; exponent ``lyap_sum / tail`` (NaN without ``lyapunov``).
    """
    if fail:
        mean_loss[g] = np.nan
        std_loss[g] = np.nan
        mean_cos[g] = np.nan
        rms_step[g] = np.nan
        lyap[g] = np.nan
        lyap_se_out[g] = np.nan
        loss_h1[g] = np.nan
        loss_h2[g] = np.nan
        return
    m1 = s1 / tail
    mean_loss[g] = k0 + m1
    std_loss[g] = math.sqrt(max(0.0, s2 / tail - m1 * m1))
    msd = d2 / tail
    mean_cos[g] = 1.0 - 0.5 * msd
    rms_step[g] = math.sqrt(msd)
    lyap[g] = lyap_sum / tail if lyapunov else np.nan
    lyap_se_out[g] = lyap_se
    n_h1 = tail // 2
    loss_h1[g] = k0 + s1h / n_h1 if n_h1 > 0 else np.nan
    loss_h2[g] = k0 + (s1 - s1h) / (tail - n_h1)
