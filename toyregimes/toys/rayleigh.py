"""Rayleigh groups ``f_i = theta_i^T M_i theta_i / |theta_i|^2`` in any dimension, optionally rotated."""

from __future__ import annotations

import numpy as np

from toyregimes._validate import as_float_array, as_seed
from toyregimes.toys.base import Toy, _rayleigh_toy


def _random_rotation(rng, d: int) -> np.ndarray:
    # Haar-distributed orthogonal matrix: QR of a Gaussian with the signs of R's diagonal fixed.
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def rayleigh(spectra, rotate: bool = False, seed=None) -> Toy:
    """Rayleigh groups ``f_i = theta_i^T M_i theta_i / |theta_i|^2`` with ``spec(M_i) = spectra[i]``.

    Parameters
    ----------
    spectra : list of lists of float
        Eigenvalues of each group's matrix; group ``i`` lives in ``R^{len(spectra[i])}`` (>= 2).
    rotate : bool
        Conjugate each ``diag(spectra[i])`` by a random (Haar) rotation, so the toy is not
        axis-aligned.
    seed : int or None
        Seed of the rotations (required when ``rotate`` is true, for reproducibility).

    Examples
    --------
    >>> toy = rayleigh([[0, 1, 3], [0, 2]], rotate=True, seed=0)
    >>> toy.dims, toy.alpha_eff
    ((3, 2), array([3., 2.]))
    """
    if isinstance(spectra, str) or not hasattr(spectra, "__len__") or len(spectra) == 0:
        raise ValueError("spectra must be a non-empty list of per-group eigenvalue lists")
    groups = []
    for i, s in enumerate(spectra):
        arr = as_float_array(s, f"spectra[{i}]")
        if arr.ndim != 1 or arr.size < 2:
            raise ValueError(f"spectra[{i}] must list at least 2 eigenvalues, got {s!r}")
        if np.ptp(arr) == 0:
            raise ValueError(f"spectra[{i}] must not be constant (the group would be flat)")
        groups.append(arr)
    if rotate and seed is None:
        raise ValueError("seed must be given when rotate=True (rotations must be reproducible)")
    rng = np.random.default_rng(as_seed(seed)) if rotate else None
    mats = []
    for arr in groups:
        m = np.diag(arr)
        if rotate:
            q = _random_rotation(rng, arr.size)
            m = q @ m @ q.T
            m = 0.5 * (m + m.T)
        mats.append(m)
    spec = {
        "kind": "rayleigh",
        "spectra": [g.tolist() for g in groups],
        "rotate": bool(rotate),
        "seed": None if seed is None else int(seed),
    }
    return _rayleigh_toy("rayleigh", spec, mats)
