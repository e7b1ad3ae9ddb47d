"""Closed forms of the theory (Kodryan et al. 2022; Li et al. 2025) as plain numpy functions, each
re-derived in ``derivations/``.

Everything here is exact theory for the canonical toy ``F = sum_i alpha_i sin^2(phi_i)`` on the
unit sphere (Kodryan et al. 2022) or for weight-decay training (Li et al. 2025).  Nothing here runs a
simulation: tests and ``derivations/`` check these formulas against independent computations.

Notation: ``A = sum(alpha)``, ``k = elr * A`` (dimensionless ELR), ``c_i = elr * alpha_i / r_i^2``.
"""

from __future__ import annotations

import numpy as np

from toyregimes._validate import as_alpha, as_positive

__all__ = [
    "threshold",
    "dimensionless_elr",
    "individual_elr",
    "harmonic_total_elr",
    "canonical_step",
    "minimum_multiplier",
    "two_cycle_angle",
    "two_cycle_loss",
    "two_cycle_multiplier",
    "equilibrium_loss",
    "equilibrium_sq_norms",
    "equilibrium_cos_angle",
    "equilibrium_grad_norm",
    "equilibrium_step_norm_growth",
    "equilibrium_eigenvalues",
    "individual_limit_loss",
    "random_level",
    "single_group_lyapunov",
    "sgd_equilibrium_sq_norm",
    "sgd_equilibrium_cos_angle",
    "sgd_equilibrium_elr",
    "sgd_relaxation_factor",
    "momentum_equilibrium_angle",
    "adamw_equilibrium_sq_norm",
    "adamw_equilibrium_angle",
    "exponential_lr",
]


# ----------------------------------------------------------------------------- sphere basics
def threshold(alpha) -> float:
    """Convergence threshold of the total ELR, ``1 / sum(alpha)``.

    Below it a norm split with every individual ELR under its own threshold ``1/alpha_i`` exists
    (``r_i^2 = alpha_i / A``); above it every split leaves some group unstable.

    Examples
    --------
    >>> threshold([1, 2, 3])
    0.16666666666666666
    """
    return 1.0 / float(np.sum(as_alpha(alpha)))


def dimensionless_elr(alpha, elr):
    """``k = elr * sum(alpha)``; convergence iff ``k < 1``.  Example: ``dimensionless_elr([1, 2, 3], 0.25) == 1.5``."""
    return np.asarray(as_positive(elr, "elr")) * float(np.sum(as_alpha(alpha)))


def individual_elr(elr, sq_norms):
    """Individual ELR ``eta_i = eta / r_i^2`` of each group.

    Examples
    --------
    >>> individual_elr(0.1, [0.5, 0.5])
    array([0.2, 0.2])
    """
    return as_positive(elr, "elr") / as_positive(sq_norms, "sq_norms")


def harmonic_total_elr(individual_elrs) -> float:
    """Total ELR from individual ones: ``1/eta = sum_i 1/eta_i`` (valid when ``sum r_i^2 = 1``)."""
    return 1.0 / float(np.sum(1.0 / as_positive(individual_elrs, "individual_elrs")))


def random_level(alpha) -> float:
    """Mean loss at a uniformly random direction, ``A/2``.  Example: ``random_level([1, 2, 3]) == 3.0``."""
    return 0.5 * float(np.sum(as_alpha(alpha)))


# ----------------------------------------------------------------------------- exact step map
def canonical_step(phi, sq_norms, alpha, elr):
    """Exact one-step PGD map of the canonical toy on the unit total sphere.

    ``phi_i' = phi_i - arctan(c_i sin 2 phi_i)``, ``r~_i^2 = r_i^2 (1 + c_i^2 sin^2 2 phi_i)``,
    ``r_i'^2 = r~_i^2 / S`` with ``S = sum_j r~_j^2 = 1 + elr^2 |grad F|^2``.

    Returns ``(phi_next, sq_norms_next, S)``.  ``cos`` of the angle between the iterates is
    ``1/sqrt(S)``.
    """
    alpha = as_alpha(alpha)
    phi = np.asarray(phi, dtype=float)
    r2 = np.asarray(sq_norms, dtype=float)
    c = elr * alpha / r2
    s2 = np.sin(2.0 * phi)
    phi_next = phi - np.arctan(c * s2)
    grown = r2 * (1.0 + (c * s2) ** 2)
    total = grown.sum()
    return phi_next, grown / total, total


def minimum_multiplier(c):
    """Linear multiplier of the single-group angle map at the minimum, ``1 - 2c`` (stable iff c < 1)."""
    return 1.0 - 2.0 * np.asarray(c, dtype=float)


def single_group_lyapunov(c):
    """Lyapunov exponent of a single group converging to its minimum, ``log|1 - 2c|`` (c < 1)."""
    return np.log(np.abs(minimum_multiplier(c)))


def two_cycle_angle(c):
    """Angle ``phi*`` of the single-group 2-cycle ``+-phi*``: ``cos 2 phi* = 1/c`` (requires c > 1)."""
    c = np.asarray(c, dtype=float)
    if np.any(c <= 1.0):
        raise ValueError("c must be > 1 for the 2-cycle to exist")
    return 0.5 * np.arccos(1.0 / c)


def two_cycle_loss(alpha, c):
    """Loss ``alpha (1 - 1/c) / 2`` of a single group on its 2-cycle (0 for c <= 1, the minimum)."""
    c = np.asarray(c, dtype=float)
    return np.asarray(alpha, dtype=float) * np.clip(1.0 - 1.0 / c, 0.0, None) / 2.0


def two_cycle_multiplier(c):
    """Multiplier of the single-group 2-cycle under two steps, ``(1 - 2/c^2)^2``."""
    c = np.asarray(c, dtype=float)
    return (1.0 - 2.0 / c**2) ** 2


# ----------------------------------------------------------------------------- coupled equilibrium
def equilibrium_loss(alpha, elr):
    """Time-averaged loss of the coupled system: ``A/2 - 1/(2 elr)`` for k > 1, else 0.

    Exact on the period-2 equilibrium orbit; chaotic runs track it to ~1.5% of A (measured, not exact).
    Examples
    --------
    >>> float(equilibrium_loss([1, 2, 3], 0.25))
    1.0
    """
    a = float(np.sum(as_alpha(alpha)))
    elr = np.asarray(as_positive(elr, "elr"))
    return np.clip(a / 2.0 - 1.0 / (2.0 * elr), 0.0, None)


def equilibrium_sq_norms(alpha):
    """Group norm split on the equilibrium orbit, ``r_i^2 = alpha_i / A`` (independent of elr)."""
    alpha = as_alpha(alpha)
    return alpha / alpha.sum()


def equilibrium_cos_angle(alpha, elr):
    """``cos`` of the angle between consecutive iterates on the equilibrium orbit: ``1/k`` (1 for k <= 1)."""
    k = dimensionless_elr(alpha, elr)
    return np.minimum(1.0, 1.0 / k)


def equilibrium_grad_norm(alpha, elr):
    """Gradient norm on the equilibrium orbit, ``sqrt(A^2 - 1/elr^2)`` (0 for k <= 1)."""
    a = float(np.sum(as_alpha(alpha)))
    elr = np.asarray(as_positive(elr, "elr"))
    return np.sqrt(np.clip(a**2 - 1.0 / elr**2, 0.0, None))


def equilibrium_step_norm_growth(alpha, elr):
    """Norm growth ``S = 1 + elr^2 |grad F|^2 = k^2`` of a step on the equilibrium orbit (1 for k <= 1)."""
    k = dimensionless_elr(alpha, elr)
    return np.maximum(1.0, k**2)


def equilibrium_eigenvalues(k, n_groups):
    """Eigenvalues of the two-step map linearised at the coupled equilibrium (k > 1).

    One eigenvalue ``(1 - 2/k^2)^2`` and ``2n - 2`` eigenvalues on the unit circle with real part
    ``1 - 8(k^2 - 1)/k^4`` (``n - 1`` conjugate pairs; ``1 - re^2 = 16(k^2 - 1)(k^2 - 2)^2/k^8 >= 0``,
    so they are exactly on the circle: the orbit is only neutrally stable).  Returns
    ``(lam_real, lam_pair)``, ``lam_pair`` with non-negative imaginary part, or None for ``n = 1``
    (a single group has only the real eigenvalue: its 2-cycle is stable).

    Examples
    --------
    >>> real, pair = equilibrium_eigenvalues(1.5, 3)
    >>> round(real, 6), round(abs(pair), 12)  # the pair lies on the unit circle
    (0.012346, 1.0)
    """
    k = float(k)
    if not k > 1.0:
        raise ValueError(f"k must be > 1 (the equilibrium exists above the threshold), got {k}")
    n_groups = int(n_groups)
    if n_groups < 1:
        raise ValueError("n_groups must be >= 1")
    real = (1.0 - 2.0 / k**2) ** 2
    if n_groups == 1:
        return real, None
    re = 1.0 - 8.0 * (k**2 - 1.0) / k**4
    im = np.sqrt(max(0.0, 1.0 - re**2))
    return real, complex(re, im)


def rotation_number(k):
    """Rotation number ``rho = omega / (2 pi)`` of the neutral eigenvalues ``e^{+-i omega}`` of the 2-cycle.

    ``cos omega = 1 - 8 (k^2 - 1) / k^4`` (derivation claim ``equilibrium_eigenvalues``), with
    ``omega`` in ``[0, pi]``: ``rho`` rises from 0 at ``k = 1`` to exactly ``1/2`` at ``k = sqrt(2)``
    (a double eigenvalue -1, the 1:2 resonance) and falls back towards 0 as ``k -> inf``.  Works
    elementwise; ``k`` must be >= 1 (the equilibrium exists above the threshold).

    Examples
    --------
    >>> round(rotation_number(2.0), 12)
    0.333333333333
    """
    k = np.asarray(k, dtype=float)
    if not np.all(k >= 1.0):
        raise ValueError(f"k must be >= 1 (the equilibrium exists above the threshold), got {k}")
    cos_omega = np.clip(1.0 - 8.0 * (k**2 - 1.0) / k**4, -1.0, 1.0)
    out = np.arccos(cos_omega) / (2.0 * np.pi)
    return float(out) if out.ndim == 0 else out


def resonance_k(p, q):
    """The ``k`` values where :func:`rotation_number` equals ``p / q`` (``0 < p / q <= 1/2``).

    Solving ``cos(2 pi p / q) = 1 - 8 (k^2 - 1) / k^4`` for ``u = 1 / k^2`` gives ``8 u (1 - u) =
    1 - cos(2 pi p/q) = 2 sin^2(pi p/q)``, so ``u = (1 +- cos(pi p/q)) / 2`` and
    ``k = sqrt(2 / (1 +- cos(pi p / q)))``.  Returns the distinct values in increasing order:
    ``(k_low, k_high)``, and ``(sqrt 2,)`` at 1:2 (where the two coincide: a double eigenvalue -1).
    1:3 gives ``2/sqrt(3)`` and 2, 1:4 ``k^2 = 4 -+ 2 sqrt(2)``.

    Examples
    --------
    >>> np.allclose(resonance_k(1, 3), (2 / np.sqrt(3), 2.0))
    True
    """
    for name, v in (("p", p), ("q", q)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise ValueError(f"{name} must be an integer, got {v!r}")
    p, q = int(p), int(q)
    if not (p >= 1 and q >= 2 and 2 * p <= q):
        raise ValueError(f"need integers 1 <= p and 2 p <= q (rotation numbers lie in (0, 1/2]), got p={p}, q={q}")
    if 2 * p == q:
        return (float(np.sqrt(2.0)),)
    c = abs(np.cos(np.pi * p / q))
    return float(np.sqrt(2.0 / (1.0 + c))), float(np.sqrt(2.0 / (1.0 - c)))


def individual_limit_loss(alpha, elr, sq_norms):
    """Limit loss under the individual constraint: ``sum_i alpha_i (1 - 1/c_i)_+ / 2``, ``c_i = elr alpha_i / r_i^2``.

    Groups decouple; those with ``c_i < 1`` converge, the others sit on their 2-cycle.
    """
    alpha = as_alpha(alpha)
    c = as_positive(elr, "elr") * alpha / as_positive(sq_norms, "sq_norms")
    return float(np.sum(two_cycle_loss(alpha, c)))


# ----------------------------------------------------------------------------- weight decay (Li et al. 2025)
def sgd_equilibrium_sq_norm(lr, wd, grad_sq_at_unit_norm):
    """SGD equilibrium squared norm: ``|w*|^4 = eta L / (lambda (2 - eta lambda))``, ``L = E|g|^2`` at unit norm.

    Holds per SI group (the total is the sum of the groups' values, each with its own ``L``).
    """
    lr, wd = float(lr), float(wd)
    return np.sqrt(lr * grad_sq_at_unit_norm / (wd * (2.0 - lr * wd)))


def sgd_equilibrium_cos_angle(lr, wd):
    """SGD equilibrium cosine between consecutive weights, ``1 - eta lambda``."""
    return 1.0 - float(lr) * float(wd)


def sgd_equilibrium_elr(lr, wd, grad_sq_at_unit_norm):
    """Sphere ELR at the SGD equilibrium, ``eta / |w*|^2 ~ sqrt(2 eta lambda / L)``."""
    return float(lr) / sgd_equilibrium_sq_norm(lr, wd, grad_sq_at_unit_norm)


def sgd_relaxation_factor(gamma):
    """Per-step contraction of the SGD norm deviation near equilibrium, ``1 - 4 gamma + 2 gamma^2``."""
    g = np.asarray(gamma, dtype=float)
    return 1.0 - 4.0 * g + 2.0 * g**2


def momentum_equilibrium_angle(lr, wd, momentum):
    """Angular update at the heavy-ball equilibrium, ``sqrt(2 eta lambda / (1 + beta))``."""
    return np.sqrt(2.0 * lr * wd / (1.0 + momentum))


def adamw_equilibrium_sq_norm(lr, wd, group_size):
    """AdamW equilibrium ``|w*|^2 ~ eta C / (lambda (2 - gamma))`` (rotated toys; C = group size)."""
    gamma = lr * wd
    return lr * group_size / (wd * (2.0 - gamma))


def adamw_equilibrium_angle(lr, wd, beta1):
    """AdamW equilibrium angular update ``sqrt(2 eta lambda (1 - beta1) / (1 + beta1))``."""
    return np.sqrt(2.0 * lr * wd * (1.0 - beta1) / (1.0 + beta1))


def exponential_lr(lr, wd, t):
    """Learning rate of the plain-GD twin of weight decay: ``eta_t = eta (1 - gamma)^(-2t - 1)``."""
    gamma = float(lr) * float(wd)
    return float(lr) * (1.0 - gamma) ** (-2.0 * np.asarray(t, dtype=float) - 1.0)
