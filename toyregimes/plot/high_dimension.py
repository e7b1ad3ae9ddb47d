"""Figure of the high-dimension study (:func:`toyregimes.studies.high_dimension.dimension_study`)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from toyregimes.plot.style import log_ticks, panels, unique_legend


def plot_high_dimension(ds: xr.Dataset, fig=None):
    """Loss as a fraction of the random level (top) and mean cos-angle (bottom) against ``k``, per spectrum family.

    Solid lines: deterministic runs, one colour per group dimension ``d``, for the largest number of groups
    in ``ds`` (the other group counts agree to the line width; see the study's data); black dashed: the
    canonical 2-cycle with ``alpha_i = lambda_max - lambda_min`` (the midpoints of the extreme eigenvalues
    as ``k -> inf``), one per ``d``; grey: the random level; markers: with SI gradient noise (largest noise
    scale).  Cosines are clipped at 1e-4 on the log axis (with noise they fall to 0 and below).
    """
    import matplotlib.pyplot as plt

    families = list(ds["family"].values)
    if fig is None:
        fig, axes = panels((3.6 * len(families), 6.4), 2, len(families), sharex=True, squeeze=False)
    else:
        axes = fig.subplots(2, len(families), sharex=True, squeeze=False)
    k = ds["k"].values
    n = ds["groups"].values[-1]
    dims = ds["dim"].values
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, dims.size))
    sigma = ds["noise_scale"].values[-1] if ds["noise_scale"].size else None
    for col, family in enumerate(families):
        top, bottom = axes[0, col], axes[1, col]
        sel = ds.sel(family=family, groups=n)
        for j, d in enumerate(dims):
            row = sel.sel(dim=d)
            top.plot(k, row["loss_fraction"].values, color=colors[j], lw=1.5, label=f"d = {d}")
            bottom.plot(k, row["mean_cos_angle"].clip(1e-4).values, color=colors[j], lw=1.5, label=f"d = {d}")
            if sigma is not None and np.isfinite(row["noisy_loss_fraction"].values).any():
                noisy = row["noisy_loss_fraction"].sel(noise_scale=sigma).values
                top.plot(k, noisy, color=colors[j], ls="none", marker="o", ms=3.5,
                         label=f"d = {d}, SI noise {sigma:g}")
                cosn = row["noisy_cos_angle"].sel(noise_scale=sigma).clip(1e-4).values
                bottom.plot(k, cosn, color=colors[j], ls="none", marker="o", ms=3.5,
                            label=f"d = {d}, SI noise {sigma:g}")
            top.plot(k, row["midpoint_fraction"].values, color="k", ls="--", lw=0.9,
                     label="canonical 2-cycle, α = λmax − λmin")
        top.axhline(1.0, color="0.5", lw=1, label="random level")
        top.set_title(f"spectrum '{family}', n = {n} groups", fontsize="medium")
        top.set_ylabel("(F − F_min) / (F_rand − F_min)")
        if family == "bottom":
            top.set_yscale("log")
        bottom.set_ylabel("mean cos ∠(θ_t, θ_t+1)")
        bottom.set_yscale("log")
        bottom.set_xlabel("k = elr · Σ(λmax − λmin)")
        for ax in (top, bottom):
            ax.set_xscale("log")
        if family == "bottom":
            log_ticks(top.yaxis)
    unique_legend(fig, loc="outside lower center", ncol=4, frameon=False)
    fig.suptitle("Rayleigh toys in R^d (rotated; extreme eigenvalues 0 and 1): the deterministic loss follows the\n"
                 "canonical 2-cycle of the extreme eigenvalues at every d — no sharp divergent regime",
                 fontsize="medium")
    return fig
