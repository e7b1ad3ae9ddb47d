"""The divergent regime: where the loss sits at the random-direction level.

The deterministic canonical toy has no sharp divergent regime: its time-averaged loss is
about ``(A/2)(1 - 1/k)`` (exact on the 2-cycle, claim ``coupled_equilibrium``; approximate in chaos),
which reaches the random level ``A/2`` only as ``k -> infinity`` (Kodryan et al. 2022 remark on it too).
Stochastic gradients change that: SI-consistent gradient noise
erases the small bias of each large step towards lower loss, and the loss reaches the random level
(within the documented tolerance, with decorrelated steps) at a finite ``k`` that falls as the noise
grows.  :func:`noisy_sweep` measures this with :func:`toyregimes.sweep` (``noise_scale=``, any toy of the
Rayleigh family or user toy), :func:`minibatch_sweep` with the true minibatch noise of a stochastic toy
(``batch=``), both with the same regime criteria as everywhere else (:func:`toyregimes.analysis.classify_stats`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from toyregimes import analysis
from toyregimes._progress import bar_disabled
from toyregimes._validate import as_float_array, as_int, as_positive
from toyregimes._version import __version__
from toyregimes.io import register_schema
from toyregimes.simulate import _check_toy
from toyregimes.sweep import sweep

__all__ = ["noisy_sweep", "minibatch_sweep", "divergence_onset"]

register_schema(
    "noisy_sweep",
    ("k", "noise_scale", "seed"),
    {"mean_loss": ("k", "noise_scale", "seed"), "mean_cos_angle": ("k", "noise_scale", "seed")},
    ("steps", "tail", "random_level"),
)
register_schema(
    "minibatch_sweep",
    ("k", "batch", "seed"),
    {"mean_loss": ("k", "batch", "seed"), "mean_cos_angle": ("k", "batch", "seed")},
    ("steps", "tail", "random_level"),
)


def noisy_sweep(toy, k, noise_scales, seeds=4, steps: int = 10_000, tail: int = 5_000, progress=None) -> xr.Dataset:
    """Tail loss and cos-angle of PGD with stochastic gradients over ``k`` and the noise scale.

    Parameters
    ----------
    toy : Toy
    k : 1-d array of float > 0
        Dimensionless ELR ``elr * sum(alpha_eff)``.
    noise_scales : 1-d array of float >= 0
        ``noise_scale`` of :func:`toyregimes.simulate` (0: deterministic).
    seeds : int
        Seeds ``0 .. seeds-1`` per point.

    Returns
    -------
    xarray.Dataset with dims ``(k, noise_scale, seed)``: ``mean_loss``, ``mean_cos_angle``,
    ``loss_fraction`` (``(F - F_min)/(F_rand - F_min)``) and ``regime``; the divergence criterion
    uses ``analysis.DEFAULTS`` (random level within 2%, mean cos-angle below 0.05).

    Examples
    --------
    >>> ds = noisy_sweep(canonical([1, 2, 3]), np.geomspace(0.3, 100, 30), [0, 1, 3])  # doctest: +SKIP
    """
    toy = _check_toy(toy)
    sigmas = np.atleast_1d(as_float_array(noise_scales, "noise_scales")).astype(float)
    if np.any(sigmas < 0):
        raise ValueError("noise_scales must be >= 0")
    # one batched sweep per noise scale; the exact kernel (simulate's trajectories bit for bit, the same
    # noise as simulate(seed=s, noise_scale=sigma)) also at sigma = 0, so every column is comparable
    return _noise_map(toy, k, "noise_scale", sigmas, lambda sigma: {"noise_scale": float(sigma)}, seeds, steps,
                      tail, progress)


def minibatch_sweep(toy, k, batches, seeds=4, steps: int = 10_000, tail: int = 5_000, progress=None) -> xr.Dataset:
    """As :func:`noisy_sweep`, with the true minibatch noise of a stochastic toy instead of SI Gaussian noise.

    Parameters
    ----------
    toy : Toy
        A stochastic toy (:func:`toyregimes.toys.stochastic`).
    k : 1-d array of float > 0
        Dimensionless ELR ``elr * sum(alpha_eff)``.
    batches : 1-d array of int
        Minibatch sizes, ``1 .. n_samples`` (``n_samples``: the full batch, deterministic).
    seeds : int
        Seeds ``0 .. seeds-1`` per point; the seed also draws the minibatches (as ``simulate(..., batch=)``).

    Returns
    -------
    xarray.Dataset with dims ``(k, batch, seed)`` and the variables of :func:`noisy_sweep`.
    """
    toy = _check_toy(toy)
    if toy.samples is None:
        raise ValueError(f"minibatch_sweep needs a stochastic toy (toys.stochastic(...)), got a {toy.kind} toy")
    sizes = np.atleast_1d(np.asarray(batches))
    if sizes.ndim != 1 or sizes.size == 0:
        raise ValueError(f"batches must be a non-empty 1-d list of sizes, got {batches!r}")
    sizes = np.array([as_int(b, "batches", minimum=1) for b in sizes], dtype=np.int64)
    return _noise_map(toy, k, "batch", sizes, lambda b: {"batch": int(b)}, seeds, steps, tail, progress)


def _noise_map(toy, k, axis, values, sweep_kwargs, seeds, steps, tail, progress) -> xr.Dataset:
    """Sweeps over ``k`` for every value of a noise ``axis``: dims ``(k, axis, seed)``."""
    ks = np.atleast_1d(as_positive(k, "k")).astype(float)
    n_seeds = as_int(seeds, "seeds", minimum=1)
    steps = as_int(steps, "steps", minimum=1)
    tail = as_int(tail, "tail", minimum=1)
    if tail > steps:
        raise ValueError(f"tail must be <= steps ({steps}), got {tail}")
    shape = (ks.size, values.size, n_seeds)
    mean_loss = np.empty(shape)
    mean_cos = np.empty(shape)
    labels = np.empty(shape, dtype=object)
    min_loss = toy.min_loss if np.isfinite(toy.min_loss) else 0.0
    desc = "noisy sweep" if axis == "noise_scale" else "minibatch sweep"
    for j, value in enumerate(tqdm(values, desc=desc, disable=bar_disabled(progress))):
        res = sweep(toy, k=ks, seeds=n_seeds, steps=steps, tail=tail, lyapunov=False, kernel="exact",
                    progress=False, **sweep_kwargs(value))
        mean_loss[:, j] = res.mean_loss.values
        mean_cos[:, j] = res.mean_cos_angle.values
        labels[:, j] = res.regime.values
    dims = ("k", axis, "seed")
    return xr.Dataset(
        {
            "mean_loss": (dims, mean_loss),
            "mean_cos_angle": (dims, mean_cos),
            "loss_fraction": (dims, (mean_loss - min_loss) / (toy.random_level - min_loss)),
            "regime": (dims, labels.astype(str)),
        },
        coords={"k": ks, axis: values, "seed": np.arange(n_seeds, dtype=np.int64)},
        attrs={
            "toyregimes_kind": "noisy_sweep" if axis == "noise_scale" else "minibatch_sweep",
            "toyregimes_version": __version__,
            "toy": toy.spec_json,
            "steps": steps,
            "tail": tail,
            "random_level": toy.random_level,
            "min_loss": min_loss,
            "divergence_tol": analysis.DEFAULTS["divergence_tol"],
            "divergence_cos": analysis.DEFAULTS["divergence_cos"],
        },
    )


def divergence_onset(ds: xr.Dataset) -> xr.DataArray:
    """Smallest ``k`` at which every seed is labelled ``divergence``, per noise scale or batch size (NaN if none)."""
    axis = "noise_scale" if "noise_scale" in ds.dims else "batch"
    all_div = (ds["regime"] == "divergence").all("seed")
    onset = [
        float(ds["k"].values[np.argmax(col)]) if col.any() else np.nan
        for col in all_div.transpose(axis, "k").values
    ]
    return xr.DataArray(onset, coords={axis: ds[axis].values}, dims=axis)
