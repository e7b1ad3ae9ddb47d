"""Negative controls: deliberately wrong variants of real claims.

Each reuses the *same* derivation code as the real claim with one formula changed, so a checker
that passes them would be broken.  They are not in the default registry; the tests assert that
every one of them is reported ``failed``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import Claim
from .canonical import equilibrium_checks, resonance_checks, stationarity_checks
from .elr_split import every_split_checks, threshold_exists_checks
from .neutral_modes import neutral_mode_checks
from .weight_decay import sgd_equilibrium_checks

FAMILY = "negative control"

NEGATIVE_CONTROLS = [
    Claim("wrong_threshold_2_over_A", FAMILY,
          "WRONG: the convergence threshold is 2/sum(alpha) (true: 1/sum(alpha)).",
          lambda: threshold_exists_checks(lambda a: 2 / a).result()),
    Claim("wrong_equilibrium_loss_sign", FAMILY,
          "WRONG: F_eq = A/2 + 1/(2 eta) (true: A/2 - 1/(2 eta)).",
          lambda: equilibrium_checks(lambda a, e: a / 2 + 1 / (2 * e)).result()),
    Claim("wrong_sgd_cos_2gamma", FAMILY,
          "WRONG: cos theta* = 1 - 2 eta lambda at the SGD equilibrium (true: 1 - eta lambda).",
          lambda: sgd_equilibrium_checks(lambda e, lam: 1 - 2 * e * lam).result()),
    Claim("wrong_library_threshold_every_split", FAMILY,
          "WRONG: the library threshold is 2/sum(alpha) in the every-split claim (true: 1/sum(alpha)).",
          lambda: every_split_checks(lambda a: 2 / np.sum(a)).result()),
    Claim("wrong_stationarity_no_square", FAMILY,
          "WRONG: the per-step log growth of r_i^2 is log(1 + c_i sin^2 2 phi_i) (true: c_i^2).",
          lambda: stationarity_checks(lambda c_, p_: sp.log(1 + c_ * sp.sin(2 * p_) ** 2)).result()),
    Claim("wrong_resonance_cos_2theta", FAMILY,
          "WRONG: rho(k) = p/q at k = sqrt(2 / (1 +- cos(2 pi p/q))) (true: cos(pi p/q)).",
          lambda: resonance_checks(lambda t: sp.cos(2 * t), _wrong_resonance_k).result()),
    Claim("wrong_neutral_real_part", FAMILY,
          "WRONG: the neutral pair has real part 1 - 4(k^2 - 1)/k^4 (true: 1 - 8(k^2 - 1)/k^4).",
          lambda: neutral_mode_checks(lambda k_: 1 - 4 * (k_**2 - 1) / k_**4).result()),
    Claim("wrong_neutral_no_projection_coupling", FAMILY,
          "WRONG: the projection onto the sphere does not couple the groups (r_i'^2 = r~_i^2 / k^2 "
          "with S frozen at its orbit value).",
          lambda: neutral_mode_checks(lambda k_: 1 - 8 * (k_**2 - 1) / k_**4, renormalise=False).result()),
]


def _wrong_resonance_k(p, q):
    if 2 * p == q:
        return (1.0,)  # cos(2 pi p/q) = -1: the wrong formula puts 1:2 at k = 1
    c = abs(np.cos(2 * np.pi * p / q))
    return float(np.sqrt(2 / (1 + c))), float(np.sqrt(2 / max(1 - c, 1e-12)))
