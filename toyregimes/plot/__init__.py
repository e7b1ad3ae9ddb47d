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

from toyregimes.plot.style import (
    REGIME_COLORS,
    THEORY_COLOR,
    THRESHOLD_LINE,
    figure_size,
    fitted_legend,
    group_color,
    log_limits,
    panels,
    paper_width,
    unlabelled,
)

__all__ = [
    "REGIME_COLORS",
    "figure_size",
    "paper_width",
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

THRESHOLD_LABEL = "k = 1 (convergence threshold)"
RUNS_LABEL = "one run (k, seed)"


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
    loss ``A/2 - 1/(2 elr)``; the equilibrium split ``r_i^2 = alpha_i / A`` (dashed, the group's colour);
    each group's convergence threshold ``1/alpha_i`` on the individual-ELR panel (log scale).  Group
    ``i`` has the same colour in every panel.  Returns the figure.

    Example: ``plot_run(simulate(canonical([1, 2, 3]), 0.25, 5000)).savefig("run.png")``.
    """
    from toyregimes import theory

    if fig is None:
        fig, axes = panels((7.0, 7.5), 3, 1, sharex=True)
    else:
        axes = fig.subplots(3, 1, sharex=True)
    step = run.step.values
    elr = float(run.attrs["elr"])
    alpha = np.asarray(run.attrs["alpha_eff"], dtype=float).reshape(-1)
    canonical = _canonical_alpha(run)
    n = run.sizes["group"]
    total = run.attrs["constraint"] == "total"

    ax = axes[0]
    ax.plot(step, run.loss.values, lw=0.6, color="k", label="loss F")
    ax.axhline(float(run.attrs["random_level"]), color="0.5", ls=":", label="random-direction level")
    if canonical is not None and total:
        ax.axhline(float(theory.equilibrium_loss(canonical, elr)), color=THEORY_COLOR, ls="--",
                   label="theory: equilibrium loss")
    elif canonical is not None:
        r2 = run.sq_norm.values[0]
        ax.axhline(theory.individual_limit_loss(canonical, elr, r2), color=THEORY_COLOR, ls="--",
                   label="theory: limit of the fixed norms")
    ax.set_ylabel("loss F")
    ax.legend(loc="upper right")
    k = elr * np.nansum(alpha)
    ax.set_title(
        f"{toy_label(run.attrs['toy'])}, {run.attrs['constraint']} constraint, seed {run.attrs['seed']}\n"
        f"elr = {elr:.4g}  (k = elr·Σα = {k:.3g})",
    )

    ax = axes[1]
    for i in range(n):
        c = group_color(i)
        ax.plot(step, run.sq_norm.values[:, i], lw=0.8, color=c, label=f"$r_{i + 1}^2$")
        if canonical is not None and total:
            ax.axhline(alpha[i] / alpha.sum(), color=c, ls="--", lw=0.8, label=f"$\\alpha_{i + 1}/A$ (theory)")
    ax.set_ylabel("squared group norm $r_i^2$")
    ax.legend(loc="upper right", ncol=min(4, n))

    ax = axes[2]
    ys = [run.individual_elr.values]
    for i in range(n):
        c = group_color(i)
        ax.plot(step, run.individual_elr.values[:, i], lw=0.8, color=c, label=f"$\\eta_{i + 1}$")
        if np.isfinite(alpha[i]):
            ax.axhline(1.0 / alpha[i], color=c, ls="--", lw=0.8, label=f"$1/\\alpha_{i + 1}$ (threshold)")
            ys.append([1.0 / alpha[i]])
    ax.set_yscale("log")
    limits = log_limits(*ys)
    if limits is not None:
        ax.set_ylim(*limits)
    ax.set_ylabel("individual ELR $\\eta_i = $ elr$/r_i^2$")
    ax.set_xlabel("step")
    ax.legend(loc="upper right", ncol=min(4, n))
    return fig


def save_figure(fig, path, dpi: float | None = None) -> None:
    """Save ``fig`` to ``path`` and release it; the format follows the suffix (``.png``, ``.pdf``, ``.svg``, ...).

    Raster output is written at 150 dpi, or 300 dpi inside :func:`paper_width` (print); ``.pdf`` and
    ``.svg`` are vector files (point clouds drawn rasterised inside them keep the files small).
    """
    import matplotlib.pyplot as plt

    from toyregimes.plot.style import current_width, finish

    if dpi is None:
        dpi = 300 if current_width() is not None else 150
    finish(fig)  # wraps texts wider than their room, so nothing is cropped from the file
    fig.savefig(path, dpi=dpi)
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
        "minibatch_sweep": plot_divergence,
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


def _regime_name(label: str) -> str:
    return label.replace("_", " ")


def _shade_regimes(ax, k: np.ndarray, labels: np.ndarray) -> None:
    """Background bands coloured by the majority regime of each k (edges at geometric midpoints).

    Each band carries its regime's name as label, so the regime legend names it (one entry per regime).
    """
    edges = np.sqrt(k[1:] * k[:-1])
    lo = np.concatenate([[k[0]], edges])
    hi = np.concatenate([edges, [k[-1]]])
    for a, b, name in zip(lo, hi, labels, strict=True):
        ax.axvspan(a, b, color=REGIME_COLORS[name], alpha=0.18, lw=0, label=_regime_name(name))


def _regime_handles(labels) -> list:
    from matplotlib.patches import Patch

    present = [n for n in REGIME_COLORS if n in set(labels)]
    return [Patch(color=REGIME_COLORS[n], alpha=0.4, label=_regime_name(n)) for n in present]


def _figure_legend(fig, labels=(), ncol=None) -> None:
    """One legend below the panels: regime bands first, then every labelled series (once each)."""
    regimes = _regime_handles(labels)
    entries = {h.get_label(): h for h in regimes}
    for ax in fig.axes:
        if getattr(ax, "_colorbar", None) is None:
            for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
                entries.setdefault(label, h)
    ncol = ncol or min(4, len(entries))  # fewer if the figure is too narrow (fitted_legend)
    fitted_legend(fig, list(entries.values()), list(entries), ncol, loc="outside lower center", frameon=False,
                  markerscale=2.5)


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
    k; one legend below the panels names all of them.  Returns the figure.

    Example: ``plot_phase_diagram(sweep(canonical([1, 2, 3]), k=np.geomspace(.1, 100, 400)))``.
    """
    if fig is None:
        fig, axes = panels((7.5, 8.5), 4, 1, sharex=True)
    else:
        axes = fig.subplots(4, 1, sharex=True)
    k = _k(ds)
    min_loss = float(ds.attrs.get("min_loss", 0.0))
    half = float(ds.attrs["random_level"]) - min_loss
    labels = _majority(ds["regime"].values)
    kk = np.repeat(k[:, None], ds.sizes["seed"], axis=1)
    theory_k = np.geomspace(k.min(), k.max(), 800)
    dot = {"s": 3, "color": "k", "alpha": 0.5, "lw": 0, "rasterized": True, "label": RUNS_LABEL}
    total = ds.attrs["constraint"] == "total"
    theory_ok = total and _equilibrium_theory_applies(ds)

    rows = [
        ((ds["mean_loss"].values - min_loss) / half, "mean loss F̄\n(0 = minimum, 1 = random)",
         np.clip(1 - 1 / theory_k, 0, None), "theory: 1 − 1/k"),
        (ds["std_loss"].values / half, "std of F\n(same scale)", None, None),
        (ds["lyapunov"].values, "largest\nLyapunov exp.", None, None),
        (ds["mean_cos_angle"].values, "mean cos angle\n∠(θ_t, θ_t+1)", np.minimum(1, 1 / theory_k),
         "theory: min(1, 1/k)"),
    ]
    for ax, (values, label, theory, theory_label) in zip(axes, rows, strict=True):
        _shade_regimes(ax, k, labels)
        ax.scatter(kk.ravel(), values.ravel(), **dot)
        if theory is not None and theory_ok:
            ax.plot(theory_k, theory, color=THEORY_COLOR, lw=1.2, label=theory_label)
        elif theory is not None:
            why = "individual constraint" if not total else "groups not 2-D Rayleigh"
            ax.text(0.01, 0.95, f"no closed-form equilibrium drawn ({why})", transform=ax.transAxes,
                    fontsize="x-small", va="top", color="0.3")
        ax.axvline(1.0, **THRESHOLD_LINE, label=THRESHOLD_LABEL)
        ax.set_ylabel(label)
    unlabelled(axes[2].axhline(0, color="0.3", lw=0.8), "zero of the exponent axis (chaos above it)")
    axes[-1].set_xscale("log")
    axes[-1].set_xlabel("k = elr · Σα")
    axes[0].set_title(
        f"{toy_label(ds.attrs['toy'])}, {ds.attrs['constraint']} constraint\n"
        f"{ds.sizes['elr']} ELRs × {ds.sizes['seed']} seeds, {ds.attrs['steps']} steps (tail {ds.attrs['tail']})",
        fontsize="small",
    )
    _figure_legend(fig, labels)
    return fig


def _integer_valued(values: np.ndarray) -> bool:
    v = np.asarray(values)
    return v.dtype.kind in "iu" or (v.dtype.kind == "f" and bool(np.all(np.isfinite(v) & (v == np.round(v)))))


def plot_regime_map(ds: xr.Dataset, y: str, colors=("score", "lyapunov"), fig=None):
    """2-D regime maps of a :func:`toyregimes.sweep.sweep_grid` over ``k`` and the toy parameter ``y``.

    One panel per entry of ``colors``, each the seed average of a sweep variable on a diverging
    colormap centred at 0: the signed score (blue converges, red does not; its magnitude is the
    stability margin below the boundary and the fraction of the random level above it) and the
    largest Lyapunov exponent (red chaotic, white periodic or converged).  Red saturates at the 99th
    percentile of the positive cells; blue at the 1st percentile of the negative ones when that lies
    further from 0 (then the colourbar label says the signs are scaled separately), so strongly
    contracting cells -- a single group's exponent reaches -2 -- cannot wash out the chaotic ones, nor
    can round-off around 0 look contracting.  The theory boundary
    ``k = 1`` is drawn on each and named in a legend below the panels; an integer-valued ``y`` (e.g.
    the number of groups) gets integer ticks.  Returns the figure.
    """
    from matplotlib.colors import TwoSlopeNorm

    from toyregimes.plot.style import integer_ticks

    colors = [colors] if isinstance(colors, str) else list(colors)
    for name in colors:
        if name not in ds:
            raise ValueError(f"colors must name variables of the sweep (e.g. 'score', 'lyapunov'), got {name!r}")
    if y not in ds.dims:
        raise ValueError(f"y must be a grid dimension of the sweep, one of {list(ds.dims)}, got {y!r}")
    if fig is None:
        fig, axes = panels((4.6 * len(colors), 4.2), 1, len(colors), sharey=True)
    else:
        axes = fig.subplots(1, len(colors), sharey=True)
    axes = np.atleast_1d(axes)
    k = ds["k"].values
    yv = ds[y].values
    for ax, name in zip(axes, colors, strict=True):
        values = ds[name].mean("seed").transpose("k", y).values
        extend = "neither"
        if name == "score":
            norm, label = TwoSlopeNorm(0.0, -1.0, 1.0), "signed score (< 0 converges)"
        else:
            finite = values[np.isfinite(values)]
            pos, neg = finite[finite > 0], finite[finite < 0]
            vmax = max(float(np.percentile(pos, 99)) if pos.size else 1.0, 1e-6)
            # never narrower than the red side: exponents of neutral cycles scatter by round-off around 0,
            # and a blue scale fitted to that noise would paint it as strongly contracting
            vmin = min(float(np.percentile(neg, 1)) if neg.size else -vmax, -vmax)
            norm = TwoSlopeNorm(0.0, vmin, vmax)
            nice = "largest Lyapunov exp." if name == "lyapunov" else name.replace("_", " ")
            label = f"{nice}\n(signs scaled separately)" if vmin < -1.01 * vmax else nice
            extend = "both"
        mesh = ax.pcolormesh(k, yv, values.T, cmap="RdBu_r", norm=norm, shading="nearest", rasterized=True)
        bar = fig.colorbar(mesh, ax=ax, label=label, extend=extend)
        if name != "score":
            # the bar drawn in the norm's own coordinates: each sign gets half the bar, as in the panel
            bar.ax.set_yscale("function", functions=(norm, norm.inverse))
            ticks = [norm.vmin, norm.vmin / 2, 0.0, norm.vmax / 2, norm.vmax]
            bar.set_ticks(ticks, labels=[f"{t:.2g}" for t in ticks])
        ax.axvline(1.0, color="k", ls="--", lw=1.2, label="theory boundary k = 1")
        ax.set_xscale("log")
        ax.set_xlabel("k = elr · Σα")
    axes[0].set_ylabel({"groups": "number of groups n", "heterogeneity": "heterogeneity h"}.get(y, y.replace("_", " ")))
    if _integer_valued(yv):
        integer_ticks(axes[0].yaxis)
    _figure_legend(fig)
    return fig


def plot_orbit_diagram(orbit: xr.Dataset, fig=None):
    """Orbit diagram: tail loss values (top) and group angles ``phi_i`` (bottom) against ``k``."""
    if fig is None:
        fig, axes = panels((7.5, 6.0), 2, 1, sharex=True)
    else:
        axes = fig.subplots(2, 1, sharex=True)
    k = orbit["elr"].values * float(np.nansum(orbit.attrs["alpha_eff"]))
    samples = orbit.sizes["sample"]
    kk = np.repeat(k[:, None], samples, axis=1)
    half = float(orbit.attrs["random_level"])
    axes[0].plot(k, np.clip(half * (1 - 1 / k), 0, None), color=THEORY_COLOR, lw=1,
                 label="theory: A/2 − 1/(2 elr)")
    axes[0].scatter(kk.ravel(), orbit["loss"].values.ravel(), s=0.3, color="k", lw=0, rasterized=True, zorder=3,
                    label=f"loss, last {samples} steps")
    axes[0].set_ylabel("loss F (tail values)")
    for i in range(orbit.sizes["group"]):
        axes[1].scatter(kk.ravel(), orbit["angle"].values[:, :, i].ravel(), s=0.3, lw=0, color=group_color(i),
                        rasterized=True, label=f"angle φ_{i + 1}")
    axes[1].set_ylabel("group angle φ_i (mod π)")
    axes[1].set_xlabel("k = elr · Σα")
    for ax in axes:
        ax.axvline(1.0, **THRESHOLD_LINE, label=THRESHOLD_LABEL)
    how = "continued from the previous k" if int(orbit.attrs["continuation"]) else "fresh start at each k"
    axes[0].set_title(f"orbit diagram, {toy_label(orbit.attrs['toy'])} ({how})", fontsize="small")
    _figure_legend(fig)
    return fig


def plot_individual_elrs(runs, fig=None):
    """Individual ELRs ``eta_i(t)`` of several runs against their thresholds ``1/alpha_i`` (dashed, same colour)."""
    runs = list(runs)
    if fig is None:
        fig, axes = panels((7.5, 2.2 * len(runs) + 0.6), len(runs), 1, sharex=True)
    else:
        axes = fig.subplots(len(runs), 1, sharex=True)
    axes = np.atleast_1d(axes)
    for ax, run in zip(axes, runs, strict=True):
        alpha = np.asarray(run.attrs["alpha_eff"], dtype=float).reshape(-1)
        k = float(run.attrs["elr"]) * alpha.sum()
        ys = [run.individual_elr.values]
        for i in range(run.sizes["group"]):
            ax.plot(run.step, run.individual_elr[:, i], lw=0.7, color=group_color(i), label=f"η_{i + 1}")
            ax.axhline(1 / alpha[i], color=group_color(i), ls="--", lw=0.9,
                       label=f"1/α_{i + 1} = {1 / alpha[i]:.3g} (threshold)")
            ys.append([1 / alpha[i]])
        ax.set_yscale("log")
        limits = log_limits(*ys)
        if limits is not None:
            ax.set_ylim(*limits)
        ax.set_ylabel("η_i = elr / r_i²")
        ax.set_title(f"k = {k:.3g}", fontsize="small", loc="left")
    axes[-1].set_xlabel("step")
    _figure_legend(fig, ncol=run.sizes["group"])
    return fig


def plot_constraints(total: xr.Dataset, individual: xr.Dataset, fig=None):
    """Total vs individual constraint side by side: mean loss and Lyapunov exponent against ``k``.

    Under the individual constraint the groups decouple: the loss follows the exact
    ``sum_i alpha_i (1 - 1/c_i)_+ / 2`` of each run's fixed norms, and there is no chaos.
    """
    if fig is None:
        fig, axes = panels((9.0, 5.8), 2, 2, sharex=True, sharey="row")
    else:
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
            ax.scatter(kk.ravel(), ds[var].values.ravel() / scale, s=3, color="k", alpha=0.5, lw=0, rasterized=True,
                       label=RUNS_LABEL)
            ax.axvline(1.0, **THRESHOLD_LINE, label=THRESHOLD_LABEL)
        unlabelled(axes[1, col].axhline(0, color="0.3", lw=0.8), "zero of the exponent axis (chaos above it)")
        theory_k = np.geomspace(k.min(), k.max(), 400)
        alpha = _canonical_alpha(ds)
        if col == 1 and alpha is not None:
            # exact limit of each seed's decoupled groups, with that seed's fixed norms
            from toyregimes import theory

            for s in range(ds.sizes["seed"]):
                r2 = ds["mean_sq_norm"].values[0, s]
                limit = [theory.individual_limit_loss(alpha, kv / alpha.sum(), r2) for kv in theory_k]
                axes[0, 1].plot(theory_k, np.asarray(limit) / half, color=THEORY_COLOR, lw=0.8, ls="--",
                                label="theory (individual): Σα_i(1 − 1/c_i)₊/2, each seed's norms")
        if col == 0:
            axes[0, 0].plot(theory_k, np.clip(1 - 1 / theory_k, 0, None), color=THEORY_COLOR, lw=1.2,
                            label="theory (total): 1 − 1/k")
        axes[0, col].set_title(f"{ds.attrs['constraint']} constraint")
        axes[1, col].set_xscale("log")
        axes[1, col].set_xlabel("k = elr · Σα")
    for row, label in enumerate(("mean F / random level", "largest Lyapunov exp.")):
        for col in range(2):
            # the right panel repeats the label only when it no longer shares the row (restacked layout)
            if col == 0 or axes[row, 0] not in axes[row, col].get_shared_y_axes().get_siblings(axes[row, col]):
                axes[row, col].set_ylabel(label)
    _figure_legend(fig, labels, ncol=3)
    return fig


def plot_divergence(ds: xr.Dataset, fig=None):
    """Distance from the random level, ``1 - F/F_rand``, and mean cos-angle against ``k`` (log-log).

    For a :func:`toyregimes.studies.divergence.noisy_sweep` or ``minibatch_sweep``: one curve per noise scale
    or batch size (seed mean, band of the same colour = seed range).  The deterministic toy
    follows the theory ``1/k`` (a straight line of slope -1): it reaches the random level only as
    ``k -> inf``.  Stochastic gradients bend the curves down to the divergence criterion (dashed: loss
    within ``divergence_tol`` of the random level, cos-angle below ``divergence_cos``) at a finite ``k``,
    marked (dotted, the curve's colour) where every seed is labelled divergent.
    """
    from toyregimes.studies.divergence import divergence_onset

    if fig is None:
        fig, axes = panels((9.0, 4.2), 1, 2, sharex=True)
    else:
        axes = fig.subplots(1, 2, sharex=True)
    k = ds["k"].values
    onset = divergence_onset(ds)
    gap = 1.0 - ds["loss_fraction"]
    axis = onset.dims[0]  # noise_scale (noisy_sweep) or batch (minibatch_sweep)
    n_samples = json.loads(ds.attrs["toy"]).get("n_samples")
    for j, value in enumerate(ds[axis].values):
        color = group_color(j)
        if axis == "noise_scale":
            label = "deterministic" if value == 0 else f"noise scale {value:g}"
        else:
            label = "full batch (deterministic)" if value == n_samples else f"batch {value:d}"
        for ax, var in zip(axes, (gap, ds["mean_cos_angle"]), strict=True):
            v = np.clip(var.isel({axis: j}).values, 1e-5, None)
            ax.plot(k, v.mean(axis=1), color=color, lw=1.4, label=label)
            if v.shape[1] > 1:
                unlabelled(ax.fill_between(k, v.min(axis=1), v.max(axis=1), color=color, alpha=0.2, lw=0),
                           "seed range of the line of the same colour (stated in the title)")
            if np.isfinite(onset.values[j]):
                ax.axvline(onset.values[j], color=color, ls=":", lw=1, label=f"{label}: every seed divergent")
    axes[0].plot(k, 1 / k, color="k", ls="--", lw=1, label="theory 1/k (deterministic)")
    axes[0].axhline(ds.attrs["divergence_tol"], color=THEORY_COLOR, ls="--", lw=1, label="divergence criterion")
    axes[1].axhline(ds.attrs["divergence_cos"], color=THEORY_COLOR, ls="--", lw=1, label="divergence criterion")
    axes[0].set_ylabel("1 − F / random level")
    axes[1].set_ylabel("mean cos ∠(θ_t, θ_t+1)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("k = elr · Σα")
        ax.axvline(1.0, **THRESHOLD_LINE, label=THRESHOLD_LABEL)
    fig.suptitle(f"{toy_label(ds.attrs['toy'])}: seed mean (bands: seed range; values below 1e-5 drawn at 1e-5)",
                 fontsize="small")
    _figure_legend(fig, ncol=3)
    return fig
