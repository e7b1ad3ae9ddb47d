"""Does a sharp divergent regime appear in high dimension?  Rayleigh toys as the group dimension d grows.

The seed paper remarks that the canonical toy "allegedly lacks" the divergent regime: its tail loss
approaches the random-direction level only as ``k -> infinity``.  For groups in R^d the random level is
the mean eigenvalue ``tr(M_i) / d``, while the 2-cycle of the canonical toy lives between the extreme
eigenvalues.  :func:`dimension_study` measures, for ``d = 2 ... 64`` and several group counts, with the
Rayleigh sweep kernel (deterministic) and :func:`~toyregimes.studies.divergence.noisy_sweep` (SI gradient
noise), the tail loss as a fraction of the random level, ``(F - F_min) / (F_rand - F_min)``, the mean
cosine between consecutive steps (decorrelation), and the share of each group's squared norm in the
eigenspaces of its extreme eigenvalues.  The comparison curve is the canonical toy's 2-cycle loss with
``alpha_i = lambda_max_i - lambda_min_i`` (:func:`midpoint_fraction`): ``F_min + (1 - 1/k) sum_i alpha_i /
2``, which tends to the midpoints of the extreme eigenvalues, not to the random level.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from toyregimes._validate import as_float_array, as_int
from toyregimes.studies.divergence import noisy_sweep
from toyregimes.sweep import sweep
from toyregimes.toys import rayleigh

__all__ = ["SPECTRA", "dimension_study", "extreme_mass", "midpoint_fraction", "spectrum_toy"]

# Eigenvalues of each group's matrix, as a function of d: extremes 0 and 1 in every family.
SPECTRA = {
    "spread": lambda d: np.linspace(0.0, 1.0, d),  # simple extremes; random level = midpoint
    "bottom": lambda d: np.r_[np.zeros(d - 1), 1.0],  # random level 1/d, below the midpoint
    "top": lambda d: np.r_[0.0, np.ones(d - 1)],  # random level 1 - 1/d, above the midpoint
}


def spectrum_toy(family: str, d: int, n: int, seed: int = 0):
    """Rotated Rayleigh toy of ``n`` groups in R^d with the eigenvalues ``SPECTRA[family](d)`` (all groups alike)."""
    if family not in SPECTRA:
        raise ValueError(f"family must be one of {sorted(SPECTRA)}, got {family!r}")
    d = as_int(d, "d", minimum=2)
    n = as_int(n, "n", minimum=1)
    return rayleigh([list(SPECTRA[family](d))] * n, rotate=True, seed=seed)


def midpoint_fraction(toy, k) -> np.ndarray:
    """The canonical 2-cycle loss with ``alpha_i = lambda_max - lambda_min``, as a fraction of the random level.

    ``(1 - 1/k) sum_i alpha_i / 2 / (F_rand - F_min)``: where the tail loss of a Rayleigh toy would sit if
    its dynamics were the canonical toy's between the extreme eigenvectors of each group (exact on the
    2-cycle for d = 2, claim ``coupled_equilibrium``).
    """
    k = np.asarray(k, dtype=float)
    return (1.0 - 1.0 / k) * float(np.sum(toy.alpha_eff)) / 2.0 / (toy.random_level - toy.min_loss)


def extreme_mass(toy, theta) -> float:
    """Mean over groups of the share of ``|theta_i|^2`` in the eigenspaces of the smallest and largest eigenvalue.

    Eigenvalues within ``1e-9 (lambda_max - lambda_min)`` of an extreme count as that extreme (degenerate
    extremes).  1 for d = 2.
    """
    shares = []
    for i, g in enumerate(toy.split(np.asarray(theta, dtype=float))):
        d = g.size
        w, v = np.linalg.eigh(toy.mats[i, :d, :d])
        tol = 1e-9 * (w[-1] - w[0])
        keep = (w <= w[0] + tol) | (w >= w[-1] - tol)
        coef = v.T @ g
        shares.append(float(np.sum(coef[keep] ** 2) / np.sum(coef**2)))
    return float(np.mean(shares))


def dimension_study(dims=(2, 4, 8, 16, 32, 64), groups=(1, 3), families=("spread", "bottom", "top"), k=None,
                    seeds: int = 4, steps: int = 6000, tail: int = 2000, noise_scales=(1.0, 3.0),
                    noise_dims=(2, 8, 64), noise_seeds: int = 2, progress=None) -> xr.Dataset:
    """Tail loss fraction, decorrelation and extreme-eigenspace share of rotated Rayleigh toys over d, n, k.

    Deterministic runs use :func:`toyregimes.sweep` (the Rayleigh kernel, every d); the noisy ones use
    :func:`~toyregimes.studies.divergence.noisy_sweep` for ``noise_dims`` only (``simulate`` per run).

    Returns
    -------
    xarray.Dataset with dims ``(family, groups, dim, k[, noise_scale])``: ``loss_fraction`` and its
    ``loss_fraction_std`` over seeds, ``mean_cos_angle``, ``extreme_mass`` (seed mean, final states),
    ``midpoint_fraction`` (:func:`midpoint_fraction`), ``noisy_loss_fraction`` and ``noisy_cos_angle``
    (NaN where ``dim`` is not in ``noise_dims``).

    Example: ``dimension_study(dims=(2, 8), groups=(1,), k=[2.0, 30.0], steps=2000, tail=500)``.
    """
    dims = [as_int(d, "dims", minimum=2) for d in dims]
    groups = [as_int(n, "groups", minimum=1) for n in groups]
    families = list(families)
    ks = np.geomspace(1.2, 100.0, 12) if k is None else np.atleast_1d(as_float_array(k, "k")).astype(float)
    sigmas = (np.atleast_1d(as_float_array(noise_scales, "noise_scales")).astype(float) if len(noise_scales)
              else np.zeros(0))
    shape = (len(families), len(groups), len(dims), ks.size)
    out = {name: np.full(shape, np.nan) for name in ("loss_fraction", "loss_fraction_std", "mean_cos_angle",
                                                      "extreme_mass", "midpoint_fraction")}
    noisy_loss = np.full((*shape, sigmas.size), np.nan)
    noisy_cos = np.full((*shape, sigmas.size), np.nan)
    for a, family in enumerate(families):
        for b, n in enumerate(groups):
            for c, d in enumerate(dims):
                toy = spectrum_toy(family, d, n)
                res = sweep(toy, k=ks, seeds=seeds, steps=steps, tail=tail, lyapunov=False, record_states=True,
                            progress=progress)
                frac = (res.mean_loss.values - toy.min_loss) / (toy.random_level - toy.min_loss)
                out["loss_fraction"][a, b, c] = frac.mean(axis=1)
                out["loss_fraction_std"][a, b, c] = frac.std(axis=1)
                out["mean_cos_angle"][a, b, c] = res.mean_cos_angle.values.mean(axis=1)
                final = res.final_state.values  # (k, seed, component)
                out["extreme_mass"][a, b, c] = [
                    np.mean([extreme_mass(toy, final[i, s]) for s in range(final.shape[1])]) for i in range(ks.size)
                ]
                out["midpoint_fraction"][a, b, c] = midpoint_fraction(toy, ks)
                if d in noise_dims and sigmas.size:
                    ns = noisy_sweep(toy, ks, sigmas, seeds=noise_seeds, steps=steps, tail=tail, progress=progress)
                    noisy_loss[a, b, c] = ns.loss_fraction.mean("seed").values
                    noisy_cos[a, b, c] = ns.mean_cos_angle.mean("seed").values
    dims_main = ("family", "groups", "dim", "k")
    data = {name: (dims_main, val) for name, val in out.items()}
    data["noisy_loss_fraction"] = ((*dims_main, "noise_scale"), noisy_loss)
    data["noisy_cos_angle"] = ((*dims_main, "noise_scale"), noisy_cos)
    return xr.Dataset(
        data,
        coords={"family": families, "groups": groups, "dim": dims, "k": ks, "noise_scale": sigmas},
        attrs={"steps": steps, "tail": tail, "seeds": seeds, "noise_seeds": noise_seeds,
               "spectra": "spread: linspace(0, 1, d); bottom: (0 x (d-1), 1); top: (0, 1 x (d-1)); rotated"},
    )
