"""Stochastic toys: per-sample SI functions whose mean is a Rayleigh toy (true minibatch noise)."""

from __future__ import annotations

import numpy as np

from toyregimes._budget import DEFAULT_MAX_MEMORY, check_budget
from toyregimes._validate import as_float_array, as_int, as_seed
from toyregimes.toys.base import Toy
from toyregimes.toys.rayleigh import rayleigh


def stochastic(base, n_samples: int = 32, spread: float = 0.5, seed: int = 0, *,
               max_memory=DEFAULT_MAX_MEMORY) -> Toy:
    """A stochastic toy: ``n_samples`` per-sample SI functions whose mean is the Rayleigh toy ``base``.

    Sample ``s`` has group matrices ``M_i^(s) = M_i + spread * (E_i^(s) - mean_s E_i^(s))`` with
    ``E_i^(s)`` symmetric Gaussian (``(G + G^T)/2``, ``G`` standard normal).  The Rayleigh quotient is
    linear in ``M``, so the full-batch loss is ``base`` (to rounding); every per-sample function is
    scale-invariant in each group, so minibatch gradient noise is orthogonal to ``theta_i`` and
    proportional to ``1/|theta_i|`` by construction.  ``samples`` has shape ``(n_samples, n, dmax, dmax)``;
    the kernels of the full-batch loss are those of ``base``.

    Parameters
    ----------
    base : Toy (canonical or rayleigh) or list of spectra (passed to :func:`rayleigh`)
    n_samples : int >= 2
    spread : float >= 0
        Size of the per-sample perturbation (0 gives identical samples: no noise).
    seed : int >= 0
        Seed of the perturbations.
    max_memory : float or None
        Size guard on the samples array (bytes; None: no limit), checked before it is allocated.

    Examples
    --------
    >>> from toyregimes.toys import canonical
    >>> toy = stochastic(canonical([1, 2, 3]), n_samples=64, spread=0.5, seed=0)
    >>> toy.samples.shape
    (64, 3, 2, 2)
    """
    if not isinstance(base, Toy):
        base = rayleigh(base)
    if base.kind not in ("canonical", "rayleigh"):
        raise ValueError(f"base must be a canonical or rayleigh toy, got kind {base.kind!r}")
    n_samples = as_int(n_samples, "n_samples", minimum=2)
    spread_arr = as_float_array(spread, "spread")
    if spread_arr.ndim != 0 or spread_arr < 0:
        raise ValueError(f"spread must be a single number >= 0, got {spread!r}")
    spread = float(spread_arr)
    seed = as_seed(seed)
    rng = np.random.default_rng(seed)
    n, dmax = base.n_groups, max(base.dims)
    # refuse clearly, before numpy fails to allocate (or the machine swaps): n_samples matrices per group
    check_budget(f"stochastic toy of {n_samples} samples", 2 * 8.0 * n_samples * n * dmax * dmax, 0.0, max_memory)
    samples = np.zeros((n_samples, n, dmax, dmax))
    for i, d in enumerate(base.dims):
        g = rng.standard_normal((n_samples, d, d))
        e = 0.5 * (g + np.transpose(g, (0, 2, 1)))
        e -= e.mean(axis=0)  # centred over samples: the full-batch matrices are exactly M_i + O(ulp)
        samples[:, i, :d, :d] = base.mats[i, :d, :d] + spread * e
    spec = {"kind": "stochastic", "base": base.spec, "n_samples": n_samples, "spread": spread, "seed": seed}
    return Toy(
        kind="stochastic",
        spec=spec,
        dims=base.dims,
        mats=base.mats,
        random_level=base.random_level,
        min_loss=base.min_loss,
        alpha_eff=base.alpha_eff,
        kernels=base.kernels,
        samples=samples,
    )
