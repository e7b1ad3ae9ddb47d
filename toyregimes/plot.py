"""Figures of runs (and, through the sweep module, of regime maps).

Plotting never runs kernels itself: it draws Datasets produced by ``simulate``/``sweep``.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

__all__ = ["plot_run", "save_figure"]


def _canonical_alpha(ds: xr.Dataset):
    spec = json.loads(ds.attrs["toy"])
    return np.asarray(spec["alpha"], dtype=float) if spec.get("kind") == "canonical" else None


def plot_run(run: xr.Dataset, fig=None):
    """Loss, squared group norms and individual ELRs against step, with their theory levels.

    Drawn: the random-direction level and (canonical toy, total constraint, k > 1) the equilibrium
    loss ``A/2 - 1/(2 elr)``; the equilibrium split ``r_i^2 = alpha_i / A``; each group's convergence
    threshold ``1/alpha_i`` on the individual-ELR panel (log scale).  Returns the figure.

    Example: ``plot_run(simulate(canonical([1, 2, 3]), 0.25, 5000)).savefig("run.png")``.
    """
    import matplotlib.pyplot as plt

    from toyregimes import theory

    if fig is None:
        fig = plt.figure(figsize=(7.0, 7.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    step = run.step.values
    elr = float(run.attrs["elr"])
    alpha = np.asarray(run.attrs["alpha_eff"], dtype=float).reshape(-1)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    canonical = _canonical_alpha(run)

    ax = axes[0]
    ax.plot(step, run.loss.values, lw=0.6, color="k", label="F")
    ax.axhline(float(run.attrs["random_level"]), color="0.5", ls=":", label="random direction")
    if canonical is not None and run.attrs["constraint"] == "total":
        ax.axhline(float(theory.equilibrium_loss(canonical, elr)), color="C3", ls="--", label="theory")
    elif canonical is not None:
        r2 = run.sq_norm.values[0]
        ax.axhline(theory.individual_limit_loss(canonical, elr, r2), color="C3", ls="--", label="theory")
    ax.set_ylabel("loss F")
    ax.legend(loc="upper right", fontsize="small")
    k = elr * np.nansum(alpha)
    ax.set_title(
        f"{run.attrs['toy_kind']} toy, elr = {elr:.4g} (k = elr·Σα = {k:.3g}), "
        f"{run.attrs['constraint']} constraint, seed {run.attrs['seed']}",
        fontsize="medium",
    )

    ax = axes[1]
    for i in range(run.sizes["group"]):
        c = colors[i % len(colors)]
        ax.plot(step, run.sq_norm.values[:, i], lw=0.8, color=c, label=f"$r_{i + 1}^2$")
        if canonical is not None and run.attrs["constraint"] == "total":
            ax.axhline(alpha[i] / alpha.sum(), color=c, ls="--", lw=0.8)
    ax.set_ylabel("squared group norm")
    ax.legend(loc="upper right", fontsize="small", ncol=min(4, run.sizes["group"]))

    ax = axes[2]
    for i in range(run.sizes["group"]):
        c = colors[i % len(colors)]
        ax.plot(step, run.individual_elr.values[:, i], lw=0.8, color=c, label=f"$\\eta_{i + 1}$")
        if np.isfinite(alpha[i]):
            ax.axhline(1.0 / alpha[i], color=c, ls="--", lw=0.8)
    ax.set_yscale("log")
    ax.set_ylabel("individual ELR  (dashed: 1/α_i)")
    ax.set_xlabel("step")
    ax.legend(loc="upper right", fontsize="small", ncol=min(4, run.sizes["group"]))
    return fig


def save_figure(fig, path) -> None:
    """Save at print resolution and release the figure."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=150)
    plt.close(fig)
