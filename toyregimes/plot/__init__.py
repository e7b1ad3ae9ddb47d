"""Figures of runs (and, through the sweep module, of regime maps).

Plotting never runs kernels itself: it draws Datasets produced by ``simulate``/``sweep``.

Lives here: figures of runs and regime maps (this module), of weight-decay training
(:mod:`~toyregimes.plot.training`) and the gallery (:mod:`~toyregimes.plot.gallery`, the computation
behind each README figure).  Layer: may import every layer below ``explore``.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

__all__ = [
    "REGIME_COLORS",
    "toy_label",
    "plot_run",
    "plot_phase_diagram",
    "plot_regime_map",
    "plot_orbit_diagram",
    "plot_individual_elrs",
    "plot_constraints",
    "plot_divergence",
    "plot_result",
    "save_figure",
]

REGIME_COLORS = {
    "convergence": "#4C72B0",
    "periodic": "#55A868",
    "quasi_periodic": "#8C8C8C",
    "aperiodic": "#CCB974",
    "chaotic": "#DD8452",
    "divergence": "#C44E52",
    "diverged_numerically": "#000000",
    "transient": "#B8D4EA",
    "undetermined": "#E5E5E5",
}


def toy_label(spec_json: str) -> str:
    """Short human label of a toy spec, e.g. ``canonical toy, α = (1, 2, 3)``."""
    spec = json.loads(spec_json)
    if isinstance(spec, list):
        return f"{len(spec)} toys"
    if spec.get("kind") == "canonical":
        return "canonical toy, α = (" + ", ".join(f"{a:g}" for a in spec["alpha"]) + ")"
    if spec.get("kind") == "rayleigh":
        dims = [len(s) for s in spec["spectra"]]
        return f"Rayleigh toy, group dims {dims}" + (" (rotated)" if spec.get("rotate") else "")
    return f"{spec.get('kind', 'custom')} toy"


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
        f"{toy_label(run.attrs['toy'])}, elr = {elr:.4g} (k = elr·Σα = {k:.3g}), "
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


def plot_result(ds: xr.Dataset, y: str | None = None):
    """Draw any result the package saves, choosing the figure by ``attrs["toyregimes_kind"]``.

    ``y`` is the vertical axis of a sweep grid (default: its first parameter) and is refused for every
    other kind rather than ignored.  Kinds: run (:func:`plot_run`), sweep (:func:`plot_phase_diagram`),
    sweep_grid (:func:`plot_regime_map`), orbit (:func:`plot_orbit_diagram`), noisy_sweep
    (:func:`plot_divergence`), train, train_grid and train_experiment (:mod:`toyregimes.plot.training`).

    Example: ``save_figure(plot_result(tr.load("sweep.nc")), "phase.png")``.
    """
    from toyregimes.io import check_schema
    from toyregimes.plot import training

    kind = check_schema(ds)
    if kind == "sweep_grid":
        params = json.loads(ds.attrs["grid_params"])
        if y is not None and y not in params:
            raise ValueError(f"y must be one of the grid's parameters {params}, got {y!r}")
        return plot_regime_map(ds, y or params[0])
    if y is not None:
        raise ValueError(f"y (the vertical axis) applies only to a sweep grid; this is a {kind} result")
    plotters = {
        "run": plot_run,
        "sweep": plot_phase_diagram,
        "orbit": plot_orbit_diagram,
        "noisy_sweep": plot_divergence,
        "train": training.plot_train_run,
        "train_grid": training.plot_train_grid,
        "train_experiment": training.plot_experiment,
    }
    if kind not in plotters:
        raise ValueError(f"no figure for results of kind {kind!r}; draw it with matplotlib from the Dataset")
    return plotters[kind](ds)


# ----------------------------------------------------------------------------- regime maps
def _k(ds: xr.Dataset) -> np.ndarray:
    if "k" in ds.coords:
        return ds["k"].values
    return ds["elr"].values * float(np.nansum(ds.attrs["alpha_eff"]))


def _majority(labels: np.ndarray) -> np.ndarray:
    """Most frequent label along the last axis (ties: the first in REGIME_COLORS order)."""
    order = list(REGIME_COLORS)
    counts = np.stack([(labels == name).sum(axis=-1) for name in order], axis=-1)
    return np.array(order, dtype=object)[np.argmax(counts, axis=-1)]


def _shade_regimes(ax, k: np.ndarray, labels: np.ndarray) -> None:
    """Background bands coloured by the majority regime of each k (edges at geometric midpoints)."""
    edges = np.sqrt(k[1:] * k[:-1])
    lo = np.concatenate([[k[0]], edges])
    hi = np.concatenate([edges, [k[-1]]])
    for a, b, name in zip(lo, hi, labels, strict=True):
        ax.axvspan(a, b, color=REGIME_COLORS[name], alpha=0.18, lw=0)


def _regime_legend(fig, labels) -> None:
    from matplotlib.patches import Patch

    present = [n for n in REGIME_COLORS if n in set(labels)]
    handles = [Patch(color=REGIME_COLORS[n], alpha=0.5, label=n.replace("_", " ")) for n in present]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize="small", frameon=False)


def _equilibrium_theory_applies(ds: xr.Dataset) -> bool:
    """True if the closed forms of the coupled 2-cycle hold for the sweep's toy.

    They hold for every toy whose groups are 2-dimensional Rayleigh groups (canonical, or rotated,
    with any offset): each is the canonical group ``alpha_i sin^2 phi`` with ``alpha_i = alpha_eff_i``
    plus a constant, so ``(F - F_min) / (F_rand - F_min) = 1 - 1/k`` and ``cos angle = 1/k`` on the
    equilibrium.  Not for groups of other dimensions (their random level is the mean eigenvalue, not
    the midpoint) nor for custom toys (no ``alpha_eff``).
    """
    dims = np.atleast_1d(np.asarray(ds.attrs.get("dims", []), dtype=float))
    alpha = np.atleast_1d(np.asarray(ds.attrs.get("alpha_eff", [np.nan]), dtype=float))
    return bool(dims.size and np.all(dims == 2) and np.all(np.isfinite(alpha)) and np.all(alpha > 0))


def plot_phase_diagram(ds: xr.Dataset, fig=None):
    """1-D phase diagram of a sweep over ``k = elr * sum(alpha)`` (log axis).

    Panels: time-averaged loss as the fraction of the way from the minimum to the random level,
    ``(F - F_min) / (F_rand - F_min)``, with the theory curve ``max(0, 1 - 1/k)`` in the same
    normalisation; std of F (same scale); largest Lyapunov exponent; mean cos-angle with
    ``min(1, 1/k)``.  Theory is drawn only where it holds (total constraint, every group a 2-D
    Rayleigh group, see :func:`_equilibrium_theory_applies`); otherwise the panel says that there is no
    closed form.  One dot per (k, seed); the background is shaded by the majority regime label at each
    k.  Returns the figure.

    Example: ``plot_phase_diagram(sweep(canonical([1, 2, 3]), k=np.geomspace(.1, 100, 400)))``.
    """
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(7.5, 8.5), layout="constrained")
    axes = fig.subplots(4, 1, sharex=True)
    k = _k(ds)
    min_loss = float(ds.attrs.get("min_loss", 0.0))
    half = float(ds.attrs["random_level"]) - min_loss
    labels = _majority(ds["regime"].values)
    kk = np.repeat(k[:, None], ds.sizes["seed"], axis=1)
    theory_k = np.geomspace(k.min(), k.max(), 800)
    dot = {"s": 3, "color": "k", "alpha": 0.5, "lw": 0, "rasterized": True}
    total = ds.attrs["constraint"] == "total"
    theory_ok = total and _equilibrium_theory_applies(ds)

    panels = [
        ((ds["mean_loss"].values - min_loss) / half, "F̄  (0 = minimum, 1 = random)",
         np.clip(1 - 1 / theory_k, 0, None)),
        (ds["std_loss"].values / half, "std F  (same scale)", None),
        (ds["lyapunov"].values, "largest Lyapunov exp.", None),
        (ds["mean_cos_angle"].values, "mean cos ∠(θ_t, θ_t+1)", np.minimum(1, 1 / theory_k)),
    ]
    for ax, (values, label, theory) in zip(axes, panels, strict=True):
        _shade_regimes(ax, k, labels)
        ax.scatter(kk.ravel(), values.ravel(), **dot)
        if theory is not None and theory_ok:
            ax.plot(theory_k, theory, color="C3", lw=1.2, label="theory (equilibrium)")
            ax.legend(loc="best", fontsize="small")
        elif theory is not None:
            why = "individual constraint" if not total else "groups not 2-D Rayleigh"
            ax.text(0.01, 0.95, f"no closed-form equilibrium drawn ({why})", transform=ax.transAxes,
                    fontsize="x-small", va="top", color="0.3")
        ax.axvline(1.0, color="0.3", ls=":", lw=1)
        ax.set_ylabel(label)
    axes[2].axhline(0, color="0.3", lw=0.8)
    axes[-1].set_xscale("log")
    axes[-1].set_xlabel("k = elr · Σα   (threshold k = 1)")
    axes[0].set_title(
        f"{toy_label(ds.attrs['toy'])}, {ds.attrs['constraint']} constraint — "
        f"{ds.sizes['elr']} ELRs × {ds.sizes['seed']} seeds, {ds.attrs['steps']} steps (tail {ds.attrs['tail']})",
        fontsize="small",
    )
    _regime_legend(fig, labels)
    return fig


def plot_regime_map(ds: xr.Dataset, y: str, colors=("score", "lyapunov"), fig=None):
    """2-D regime maps of a :func:`toyregimes.sweep.sweep_grid` over ``k`` and the toy parameter ``y``.

    One panel per entry of ``colors``, each the seed average of a sweep variable on a diverging
    colormap centred at 0: the signed score (blue converges, red does not; its magnitude is the
    stability margin below the boundary and the fraction of the random level above it) and the
    largest Lyapunov exponent (red chaotic, white periodic or converged).  The theory boundary
    ``k = 1`` is drawn on each.  Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    colors = [colors] if isinstance(colors, str) else list(colors)
    for name in colors:
        if name not in ds:
            raise ValueError(f"colors must name variables of the sweep (e.g. 'score', 'lyapunov'), got {name!r}")
    if y not in ds.dims:
        raise ValueError(f"y must be a grid dimension of the sweep, one of {list(ds.dims)}, got {y!r}")
    if fig is None:
        fig = plt.figure(figsize=(5.2 * len(colors), 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(colors), sharey=True))
    k = ds["k"].values
    yv = ds[y].values
    for ax, name in zip(axes, colors, strict=True):
        values = ds[name].mean("seed").transpose("k", y).values
        if name == "score":
            norm, label = TwoSlopeNorm(0.0, -1.0, 1.0), "signed score"
        else:
            # a robust symmetric range: strongly contracting points (e.g. log|1 - 2c| -> -inf) must not
            # wash out the chaotic ones; values beyond it saturate (colorbar arrows)
            vmax = float(np.nanpercentile(np.abs(values[np.isfinite(values)]), 99)) or 1.0
            norm, label = TwoSlopeNorm(0.0, -vmax, vmax), name.replace("_", " ")
        mesh = ax.pcolormesh(k, yv, values.T, cmap="RdBu_r", norm=norm, shading="nearest", rasterized=True)
        fig.colorbar(mesh, ax=ax, label=label, extend="neither" if name == "score" else "both")
        ax.axvline(1.0, color="k", ls="--", lw=1.2, label="theory boundary k = 1")
        ax.set_xscale("log")
        ax.set_xlabel("k = elr · Σα")
        ax.legend(loc="upper left", fontsize="x-small")
    axes[0].set_ylabel(y.replace("_", " "))
    return fig


def plot_orbit_diagram(orbit: xr.Dataset, fig=None):
    """Orbit diagram: tail loss values (top) and group angles ``phi_i`` (bottom) against ``k``."""
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(7.5, 6.0), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    k = orbit["elr"].values * float(np.nansum(orbit.attrs["alpha_eff"]))
    samples = orbit.sizes["sample"]
    kk = np.repeat(k[:, None], samples, axis=1)
    half = float(orbit.attrs["random_level"])
    axes[0].plot(k, np.clip(half * (1 - 1 / k), 0, None), color="C3", lw=1, label="A/2 − 1/(2 elr)")
    axes[0].scatter(kk.ravel(), orbit["loss"].values.ravel(), s=0.3, color="k", lw=0, rasterized=True, zorder=3)
    axes[0].set_ylabel("loss F (tail values)")
    axes[0].legend(loc="upper left", fontsize="small")
    for i in range(orbit.sizes["group"]):
        axes[1].scatter(kk.ravel(), orbit["angle"].values[:, :, i].ravel(), s=0.3, lw=0, color=f"C{i}",
                        rasterized=True, label=f"φ_{i + 1}")
    axes[1].set_ylabel("group angle φ_i (mod π)")
    axes[1].set_xlabel("k = elr · Σα")
    axes[1].legend(loc="upper left", fontsize="small", markerscale=12)
    for ax in axes:
        ax.axvline(1.0, color="0.3", ls=":", lw=1)
    how = "continued from the previous k" if int(orbit.attrs["continuation"]) else "fresh start at each k"
    axes[0].set_title(f"orbit diagram, {toy_label(orbit.attrs['toy'])} ({how})", fontsize="small")
    return fig


def plot_individual_elrs(runs, fig=None):
    """Individual ELRs ``eta_i(t)`` of several runs against their thresholds ``1/alpha_i``."""
    import matplotlib.pyplot as plt

    runs = list(runs)
    if fig is None:
        fig = plt.figure(figsize=(7.5, 2.4 * len(runs)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(runs), 1, sharex=True))
    for ax, run in zip(axes, runs, strict=True):
        alpha = np.asarray(run.attrs["alpha_eff"], dtype=float).reshape(-1)
        k = float(run.attrs["elr"]) * alpha.sum()
        for i in range(run.sizes["group"]):
            ax.plot(run.step, run.individual_elr[:, i], lw=0.7, color=f"C{i}", label=f"η_{i + 1}")
            ax.axhline(1 / alpha[i], color=f"C{i}", ls="--", lw=0.9)
        ax.set_yscale("log")
        ax.set_ylabel("η_i")
        ax.set_title(f"k = {k:.3g}: dashed lines are the thresholds 1/α_i", fontsize="small", loc="left")
        ax.legend(loc="upper right", fontsize="x-small", ncol=run.sizes["group"])
    axes[-1].set_xlabel("step")
    return fig


def plot_constraints(total: xr.Dataset, individual: xr.Dataset, fig=None):
    """Total vs individual constraint side by side: mean loss and Lyapunov exponent against ``k``.

    Under the individual constraint the groups decouple: the loss follows the exact
    ``sum_i alpha_i (1 - 1/c_i)_+ / 2`` of each run's fixed norms, and there is no chaos.
    """
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(10, 5.5), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True, sharey="row")
    labels = []
    for col, ds in enumerate((total, individual)):
        k = _k(ds)
        half = float(ds.attrs["random_level"])
        lab = _majority(ds["regime"].values)
        labels.extend(lab)
        kk = np.repeat(k[:, None], ds.sizes["seed"], axis=1)
        for row, (var, scale) in enumerate((("mean_loss", half), ("lyapunov", 1.0))):
            ax = axes[row, col]
            _shade_regimes(ax, k, lab)
            ax.scatter(kk.ravel(), ds[var].values.ravel() / scale, s=3, color="k", alpha=0.5, lw=0, rasterized=True)
            ax.axvline(1.0, color="0.3", ls=":", lw=1)
        theory_k = np.geomspace(k.min(), k.max(), 400)
        alpha = _canonical_alpha(ds)
        if col == 1 and alpha is not None:
            # exact limit of each seed's decoupled groups, with that seed's fixed norms
            from toyregimes import theory

            for s in range(ds.sizes["seed"]):
                r2 = ds["mean_sq_norm"].values[0, s]
                limit = [theory.individual_limit_loss(alpha, kv / alpha.sum(), r2) for kv in theory_k]
                axes[0, 1].plot(theory_k, np.asarray(limit) / half, color="C3", lw=0.8,
                                label="Σα_i(1 − 1/c_i)₊/2 per seed" if s == 0 else None)
            axes[0, 1].legend(loc="upper left", fontsize="small")
        if col == 0:
            axes[0, 0].plot(theory_k, np.clip(1 - 1 / theory_k, 0, None), color="C3", lw=1.2, label="1 − 1/k")
            axes[0, 0].legend(loc="upper left", fontsize="small")
        axes[0, col].set_title(f"{ds.attrs['constraint']} constraint", fontsize="medium")
        axes[1, col].set_xscale("log")
        axes[1, col].set_xlabel("k = elr · Σα")
    axes[0, 0].set_ylabel("mean F / random level")
    axes[1, 0].set_ylabel("largest Lyapunov exp.")
    _regime_legend(fig, labels)
    return fig


def plot_divergence(ds: xr.Dataset, fig=None):
    """Distance from the random level, ``1 - F/F_rand``, and mean cos-angle against ``k`` (log-log).

    One curve per noise scale (seed mean, band = seed range).  The deterministic toy follows the
    theory ``1/k`` (a straight line of slope -1): it reaches the random level only as ``k -> inf``.
    Stochastic gradients bend the curves down to the divergence criterion (dashed: loss within
    ``divergence_tol`` of the random level, cos-angle below ``divergence_cos``) at a finite ``k``,
    marked where every seed is labelled divergent.
    """
    import matplotlib.pyplot as plt

    from toyregimes.studies.divergence import divergence_onset

    if fig is None:
        fig = plt.figure(figsize=(10, 4.2), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True)
    k = ds["k"].values
    onset = divergence_onset(ds)
    gap = 1.0 - ds["loss_fraction"]
    for j, sigma in enumerate(ds["noise_scale"].values):
        color = f"C{j}"
        label = "deterministic" if sigma == 0 else f"noise scale {sigma:g}"
        for ax, var in zip(axes, (gap, ds["mean_cos_angle"]), strict=True):
            v = np.clip(var.isel(noise_scale=j).values, 1e-5, None)
            ax.plot(k, v.mean(axis=1), color=color, lw=1.4, label=label)
            ax.fill_between(k, v.min(axis=1), v.max(axis=1), color=color, alpha=0.2, lw=0)
            if np.isfinite(onset.values[j]):
                ax.axvline(onset.values[j], color=color, ls=":", lw=1)
    axes[0].plot(k, 1 / k, color="k", ls="--", lw=1, label="theory 1/k (deterministic)")
    axes[0].axhline(ds.attrs["divergence_tol"], color="C3", ls="--", lw=1, label="divergence criterion")
    axes[1].axhline(ds.attrs["divergence_cos"], color="C3", ls="--", lw=1)
    axes[0].set_ylabel("1 − F / random level")
    axes[1].set_ylabel("mean cos ∠(θ_t, θ_t+1)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("k = elr · Σα")
        ax.axvline(1.0, color="0.3", ls=":", lw=1)
    axes[0].legend(loc="lower left", fontsize="x-small")
    fig.suptitle(
        f"{toy_label(ds.attrs['toy'])}: dotted verticals mark where every seed is labelled divergent",
        fontsize="small",
    )
    return fig
