"""The Lyapunov spectrum of one PGD run on the sphere (QR method on the exact tangent map)."""

from __future__ import annotations

import numpy as np

from toyregimes._validate import as_constraint, as_int, as_positive, as_seed
from toyregimes.kernels import pgd, spectrum
from toyregimes.simulate import _check_toy, initial_point

__all__ = ["lyapunov_spectrum", "initial_vectors", "tangent_dimension", "spectrum_kernel"]


def tangent_dimension(toy, individual: bool) -> int:
    """Dimension of the constraint set: ``D - 1`` (total) or ``D - n`` (individual)."""
    return toy.dim - (toy.n_groups if individual else 1)


def initial_vectors(dim: int, seed: int, n_exponents: int) -> np.ndarray:
    """The ``(dim, n_exponents)`` initial tangent vectors of seed ``seed``: the first is ``simulate``'s."""
    vectors = np.empty((dim, n_exponents))
    vectors[:, 0] = np.random.default_rng([seed, 1]).standard_normal(dim)
    if n_exponents > 1:
        vectors[:, 1:] = np.random.default_rng([seed, 3]).standard_normal((dim, n_exponents - 1))
    return vectors


def spectrum_kernel(toy):
    """The compiled spectrum loop of ``toy``: cached on disk for the Rayleigh family, else built once per toy."""
    if toy.kernels is pgd.RAYLEIGH_KERNELS:
        return spectrum.lyapunov_spectrum_run
    if "spectrum" not in toy.kernels:  # compiled once per toy and process (user functions are not cacheable)
        toy.kernels["spectrum"] = spectrum.specialise(toy.kernels["loss_grad"], toy.kernels["hessian"])
    return toy.kernels["spectrum"]


def lyapunov_spectrum(toy, elr, steps, seed=0, constraint="total", n_exponents=None, transient=None,
                      init=None) -> np.ndarray:
    """Lyapunov exponents of PGD on the sphere, largest first, by the QR (Benettin) method.

    ``n_exponents`` tangent vectors (default: all, ``D - 1`` under the total constraint and ``D - n``
    under the individual one) follow the exact tangent map of the step and are re-orthonormalised
    every step; exponent ``j`` is the mean of ``log R_jj`` over steps ``transient .. steps - 1``
    (default ``transient = steps // 2``).  The run starts where ``simulate(toy, elr, seed=seed,
    init=init)`` does, and the first tangent vector is the one ``simulate(..., lyapunov=True)`` uses,
    so the largest exponent is the one :func:`toyregimes.analysis.lyapunov` reports over the same window.

    Checks (``tests/test_spectrum.py``): a linear map with known exponents, the sum of all exponents
    against the mean log-determinant of the tangent map restricted to the tangent space, the single-group
    value ``log|1 - 2c|``, the neutral exponents on the coupled 2-cycle, the largest against the
    single-vector estimate.  Returns a float array sorted in decreasing order (NaN if the run met a
    non-finite value).

    Example: ``lyapunov_spectrum(canonical([1, 2, 3]), elr=0.5, steps=20_000)`` (chaotic: one positive).
    """
    toy = _check_toy(toy)
    elr = as_positive(elr, "elr")
    if np.ndim(elr) != 0:
        raise ValueError("elr must be a single number")
    steps = as_int(steps, "steps", minimum=1)
    seed = as_seed(seed)
    individual = as_constraint(constraint) == "individual"
    tangent_dim = tangent_dimension(toy, individual)
    if tangent_dim < 1:
        raise ValueError("the constraint set has no tangent directions for this toy")
    n_exponents = tangent_dim if n_exponents is None else as_int(n_exponents, "n_exponents", minimum=1)
    if n_exponents > tangent_dim:
        raise ValueError(f"n_exponents must be <= {tangent_dim} (the dimension of the constraint set), "
                         f"got {n_exponents}")
    transient = steps // 2 if transient is None else as_int(transient, "transient", minimum=0)
    if transient >= steps:
        raise ValueError(f"transient must be < steps ({steps}), got {transient}")
    theta0 = initial_point(toy, seed, init)
    vectors = initial_vectors(toy.dim, seed, n_exponents)
    out, status, _ = spectrum_kernel(toy)(theta0, vectors, elr, steps, transient, individual, toy.offsets, toy.mats)
    if status != 0:
        return np.full(n_exponents, np.nan)
    return np.sort(out)[::-1]
