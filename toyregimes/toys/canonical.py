"""The canonical toy ``f_i = alpha_i sin^2 phi_i`` (exact theory, Kodryan et al. 2022)."""

from __future__ import annotations

import numpy as np

from toyregimes._validate import as_alpha
from toyregimes.toys.base import Toy, _rayleigh_toy


def canonical(alpha) -> Toy:
    """The canonical toy: ``n`` groups in R^2, ``f_i = alpha_i sin^2 phi_i`` (``M_i = diag(0, alpha_i)``).

    Parameters
    ----------
    alpha : sequence of float > 0
        One coefficient per group.

    Examples
    --------
    >>> toy = canonical([1, 2, 3])
    >>> toy.dims
    (2, 2, 2)
    >>> from toyregimes import theory
    >>> theory.threshold(toy.alpha)  # the threshold ELR, 1 / 6
    0.16666666666666666
    """
    alpha = as_alpha(alpha)
    mats = [np.diag([0.0, a]) for a in alpha]
    toy = _rayleigh_toy("canonical", {"kind": "canonical", "alpha": alpha.tolist()}, mats)
    return toy
