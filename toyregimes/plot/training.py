"""Figures of weight-decay training: one run, and the experiments of :mod:`toyregimes.studies.trajectory_invariance`.

Every function takes a Dataset and returns a matplotlib Figure (no kernel is run here, except in
:func:`figures`, which calls the experiment functions to draw the gallery).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_train_run", "plot_train_grid", "plot_equal_gamma", "plot_reparametrisation", "plot_equilibrium",
           "plot_heatmap", "plot_wd_regimes", "plot_experiment", "EXPERIMENT_PLOTTERS", "save", "figures"]


from toyregimes.plot.style import (
    THEORY_COLOR,
    THRESHOLD_LINE,
    fitted_legend,
    group_color,
    log_limits,
    log_ticks,
    panels,
    unique_legend,
)

# One colour per optimiser case in every panel and figure (the case names of the experiments).
CASE_COLORS = {
    "sgd": group_color(0),
    "sgdm": group_color(1),
    "adamw_rotated": group_color(2),
    "adamw_axis": group_color(3),
}


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _case_color(case: str, i: int) -> str:
    return CASE_COLORS.get(str(case), group_color(i))


def _log_y(ax, *arrays, decades=None) -> None:
    """Log y axis limited to the meaningful values (underflow to 0 or to subnormals is not plotted as data).

    With ``decades``, values more than that many decades below the largest are left out, and the panel's
    title (set it first) says so: a run converged to round-off would otherwise squeeze its whole history
    into the top of the axis.  The note goes in the title, not in the panel, where the data may run.
    """
    ax.set_yscale("log")
    limits = log_limits(*arrays, decades=decades)
    if limits is not None:
        ax.set_ylim(*limits)
        if decades is not None and log_limits(*arrays) is not None and log_limits(*arrays)[0] < limits[0]:
            ax.set_title(f"{ax.get_title()}\n(values below 1e-{decades:g} × max not drawn)".lstrip("\n"))


def _positive(values, floor):
    """Values below ``floor`` (zeros, underflows) replaced by NaN: a gap in the line, not a dive to 1e-300."""
    v = np.asarray(values, dtype=float)
    return np.where(v >= floor, v, np.nan)


def save(fig, path) -> Path:
    """Write ``fig`` to ``path`` (parent directories created; format from the suffix) and close it."""
    from toyregimes.plot.style import current_width, finish

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    finish(fig)
    fig.savefig(path, dpi=300 if current_width() is not None else 110)
    _plt().close(fig)
    return path


def plot_train_run(run):
    """Loss, ``|w|``, sphere ELR and angular update of a :func:`toyregimes.train.train` run against the step.

    Log axes show at most 16 decades below each series' largest value (a run that converged to machine
    precision would otherwise stretch the axis down to subnormal numbers, ~1e-315); values below that
    floor are left out of the line.  The angle panel draws the equilibrium RMS angular update of SGD,
    ``sqrt(2 gamma)`` (Li et al. 2025, arXiv:2509.25049; derivation claim ``sgd_equilibrium``).
    """
    fig, ax = panels((9.0, 6.0), 2, 2, sharex=True)
    t = run.step.values
    series = {"loss": run.loss.values, "elr": run.sphere_elr.values, "angle": run.angle.values}
    floors = {}
    for key, v in series.items():
        limits = log_limits(v, decades=16, pad=1.0)
        floors[key] = limits[0] if limits is not None else np.inf
    ax[0, 0].plot(t, _positive(run.loss.values, floors["loss"]), color="k", lw=0.8, label="loss F(w)")
    ax[0, 0].set_ylabel("loss F(w)")
    ax[0, 0].set_title("loss")
    _log_y(ax[0, 0], run.loss.values, decades=16)
    ax[0, 1].plot(t, run.norm.values, color=group_color(0), lw=0.8, label="|w|")
    ax[0, 1].set_ylabel("weight norm |w|")
    ax[0, 1].set_title("norm")
    ax[1, 0].plot(t, _positive(run.sphere_elr.values, floors["elr"]), color=group_color(1), lw=0.8,
                  label="sphere ELR")
    ax[1, 0].set_ylabel("sphere ELR")
    ax[1, 0].set_title("effective learning rate on the sphere")
    _log_y(ax[1, 0], run.sphere_elr.values, decades=16)
    ax[1, 1].plot(t, _positive(run.angle.values, floors["angle"]), lw=0.5, color=group_color(2),
                  label="angle ∠(w_t, w_t+1)")
    ys = [run.angle.values]
    gamma = run.attrs["lr"] * run.attrs["wd"]
    if gamma > 0:
        ax[1, 1].axhline(np.sqrt(2 * gamma), color=THEORY_COLOR, ls="--", label="√(2γ) (SGD equilibrium)")
        ys.append([np.sqrt(2 * gamma)])
    ax[1, 1].set_ylabel("angular update (rad)")
    ax[1, 1].set_title("angular update per step")
    _log_y(ax[1, 1], *ys, decades=16)
    for a in ax.ravel():
        a.legend(loc="best")
    for a in ax[1]:
        a.set_xlabel("step")
    at = run.attrs
    fig.suptitle(f"{at['optimizer']}  lr = {at['lr']:g}  wd = {at['wd']:g}  (γ = {gamma:.3g})  noise = {at['noise']}")
    return fig


def plot_equal_gamma(ds):
    """Loss curves of the equal-eta and equal-gamma families, and their gaps to the reference run.

    The factor ``c`` has one colour in all three panels; in the gap panel solid lines are the equal-eta
    family and dashed lines the equal-gamma family.
    """
    fig, ax = panels((12.0, 4.4), 1, 3)
    t = ds.step.values + 1
    gamma = ds.attrs["gamma"]
    colors = {float(c): group_color(j) for j, c in enumerate(ds.factor.values)}
    floor = 1e-300
    for k, fam in enumerate(ds.family.values):
        a = ax[k]
        a.plot(t, _positive(ds.reference_loss.values, floor), "k", lw=1.5, label="reference (c = 1)")
        for c in ds.factor.values:
            a.plot(t, _positive(ds.loss.sel(family=fam, factor=c).values, floor), lw=0.6, color=colors[float(c)],
                   label=f"c = {c:g}")
        a.axvline(1 / gamma, **THRESHOLD_LINE, label="t = 1/γ")
        a.set_xscale("log")
        a.set_title("equal η: (η, cλ)" if fam == "equal_eta" else "equal γ: (cη, λ/c)")
        _log_y(a, ds.reference_loss.values, ds.loss.sel(family=fam).values, decades=16)
        a.set_xlabel("step")
        a.set_ylabel("loss")
    for c in ds.factor.values:
        col = colors[float(c)]
        a = ax[2]
        a.plot(t, _positive(ds.gap.sel(family="equal_eta", factor=c).values, 1e-18), lw=0.8, color=col,
               label=f"c = {c:g}")
        a.plot(t, _positive(ds.gap.sel(family="equal_gamma", factor=c).values, 1e-18), lw=0.8, ls="--", color=col,
               label=f"c = {c:g}")
    from matplotlib.lines import Line2D

    styles = [Line2D([], [], color="0.3", lw=0.8, label="solid: equal η"),
              Line2D([], [], color="0.3", lw=0.8, ls="--", label="dashed: equal γ")]
    ax[2].axvline(1 / gamma, **THRESHOLD_LINE, label="t = 1/γ")
    ax[2].set_xscale("log")
    cross = ", ".join(f"{x:.2g}" for x in ds.crossover_gamma_t.values)
    ax[2].set_title(f"gap to the reference run\ncrossover γt = {cross}", fontsize="medium")
    _log_y(ax[2], ds.gap.values[ds.gap.values >= 1e-18])  # exact agreement (0) is a gap in the line
    ax[2].set_xlabel("step")
    ax[2].set_ylabel("|loss − reference|  (0: not drawn)")
    # one legend below the panels: inside, any corner hides the loss curves, which fill their panels
    unique_legend(fig, handles=styles, loc="outside lower center", ncol=8, frameon=False)
    return fig


def plot_reparametrisation(ds):
    """Largest direction gap of each reparametrisation case against the factor c (machine precision vs controls)."""
    fig, ax = panels((6.5, 4.0))
    for i, case in enumerate(ds.case.values):
        ax.plot(ds.factor.values, np.maximum(ds.direction_gap.sel(case=case).values, 1e-17), "o-",
                color=group_color(i), label=str(case))
    ax.axhline(1e-12, **THRESHOLD_LINE, label="1e-12: agreement to machine precision")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("factor c:  (cη, λ/c, c^p w₀)")
    ax.set_ylabel("final direction gap (floored at 1e-17)")
    ax.legend(loc="best")
    return fig


def plot_equilibrium(ds):
    """Measured / theory for ``|w|^2``, RMS angular update and sphere ELR against gamma (1 = the closed form).

    One colour per optimiser case in all three panels (:data:`CASE_COLORS`); a case without a closed
    form for a quantity (heavy ball: norm and sphere ELR) is absent from that panel, as its note says.
    The closed forms are those of Li et al. 2025 (arXiv:2509.25049); the SGD ones are derivation claim
    ``sgd_equilibrium`` (``toyregimes verify --claim sgd_equilibrium``).
    """
    fig, ax = panels((12.0, 4.2), 1, 3, sharey=True)
    for a, key, label in zip(ax, ("sq_norm", "rms_angle", "sphere_elr"), ("|w|²", "RMS angular update",
                                                                          "sphere ELR"), strict=True):
        missing = []
        for i, case in enumerate(ds.case.values):
            r = ds[f"{key}_ratio"].sel(case=case).values
            if np.all(np.isnan(r)):
                missing.append(str(case))
                continue
            a.plot(ds.gamma.values, r, "o-", color=_case_color(case, i), label=str(case))
        a.axhline(1, color="k", lw=0.8, label="1 = closed form")
        a.set_xscale("log")
        a.set_xlabel("γ = ηλ")
        a.set_title(f"{label}: measured / theory")
        a.set_ylim(0.5, 2.5)
        log_ticks(a.xaxis)
        if missing:
            a.text(0.98, 0.97, f"no closed form: {', '.join(missing)}", transform=a.transAxes, ha="right", va="top",
                   fontsize="small", color="0.3")
    ax[0].set_ylabel("measured / theory")
    entries = {}
    for a in ax:
        for h, label in zip(*a.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, h)
    order = [str(c) for c in ds.case.values if str(c) in entries] + ["1 = closed form"]
    fitted_legend(fig, [entries[n] for n in order], order, len(order), loc="outside lower center", frameon=False)
    fig.suptitle("Equilibria under tangent noise (axis-aligned AdamW: a documented failure of the formula)")
    return fig


def plot_heatmap(ds):
    """log10 tail loss over the (eta, lambda) grid for both horizons, with iso-gamma lines and loss contours.

    Red dashed lines: iso-γ lines ``ηλ = const`` (γ = 1e-5 ... 1e-1, a factor √10 apart); white solid
    lines: contours of the loss (10 levels of the colour scale), both named in the legend below.
    """
    from matplotlib.lines import Line2D

    fig, ax = panels((11.0, 5.0), 1, ds.sizes["horizon"])
    ax = np.atleast_1d(ax)
    lrs, wds = ds.lr.values, ds.wd.values
    iso_label = "iso-γ lines ηλ = const (γ = 1e-5 … 1e-1)"
    contour_label = "contours of the loss"
    for a, h in zip(ax, ds.horizon.values, strict=True):
        field = np.log10(ds.mean_loss.sel(horizon=h).values.T)
        mesh = a.pcolormesh(lrs, wds, field, shading="nearest", cmap="viridis", rasterized=True)
        cs = a.contour(lrs, wds, field, colors="w", linewidths=0.7, levels=10, linestyles="solid")
        cs.set_label(contour_label)
        for g in np.geomspace(1e-5, 1e-1, 9):
            a.plot(lrs, g / lrs, color="#FF4040", ls="--", lw=1.0, label=iso_label)
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlim(lrs[0], lrs[-1])
        a.set_ylim(wds[0], wds[-1])
        a.set_xlabel("learning rate η")
        a.set_ylabel("weight decay λ")
        steps = int(ds.steps.sel(horizon=h))
        a.set_title(f"{h} run: {steps} steps\n|slope| along iso-γ {float(ds.slope_iso_gamma.sel(horizon=h)):.2g}, "
                    f"iso-η {float(ds.slope_iso_eta.sel(horizon=h)):.2g}")
        fig.colorbar(mesh, ax=a, label="log10 tail-mean loss")
    handles = [Line2D([], [], color="#FF4040", ls="--", lw=1.0, label=iso_label),
               Line2D([], [], color="w", lw=0.7, label=contour_label)]
    leg = fitted_legend(fig, handles, [h.get_label() for h in handles], 2, loc="outside lower center", frameon=True,
                        facecolor="0.55")
    leg.get_frame().set_edgecolor("0.55")  # a grey box so the white contour sample is visible
    return fig


def plot_wd_regimes(ds):
    """Full-batch weight-decay runs on the fixed-ELR regime diagram: loss vs k, and k over time."""
    fig, ax = panels((11.0, 4.4), 1, 2)
    fig.get_layout_engine().set(wspace=0.08)  # room between the colourbar's label and the next panel's
    a = ax[0]
    a.plot(ds.sphere_k.values, ds.sphere_theory.values, "k-", lw=1, label="sphere theory (A/2)(1 − 1/k)₊")
    a.plot(ds.sphere_k.values, ds.sphere_loss.values, "ks", ms=3, label="sphere PGD (tail mean)")
    gam = np.repeat(np.log10(ds.gamma.values)[:, None], ds.sizes["seed"], axis=1)
    k_eff = ds.k_eff.transpose("gamma", "seed").values
    loss = ds.loss.transpose("gamma", "seed").values
    sc = a.scatter(k_eff.ravel(), loss.ravel(), c=gam.ravel(), cmap="plasma", zorder=3, s=18,
                   label="weight-decay runs (colour: γ)")
    a.plot(ds.predicted_k_eff.values, ds.predicted_loss.values, "x", color="0.45", label="2-cycle prediction")
    a.axvline(1, **THRESHOLD_LINE, label="k = 1 (convergence threshold)")
    a.set_xlabel("k = A η / ((1 − γ) |w|²)   (tail mean)")
    a.set_ylabel("tail-mean loss")
    a.legend(loc="lower right")  # the runs and the theory curve climb from the lower left
    fig.colorbar(sc, ax=a, label="log10 γ")
    b = ax[1]
    b.plot(ds.trace_step.values, ds.trace_k_eff.values, lw=0.5, color=group_color(0), label="k(t) of one run")
    b.set_yscale("log")
    b.axhline(1, **THRESHOLD_LINE, label="k = 1 (convergence threshold)")
    b.set_xlabel("step")
    b.set_ylabel("k(t)")
    b.set_title(f"one run, γ = {ds.attrs['trace_gamma']:g}")
    # below the panel: k(t) fills the whole panel
    b.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    return fig


def plot_train_grid(ds):
    """log10 tail-mean loss and mean sphere ELR over the (lr, wd) grid of :func:`toyregimes.train_grid`,
    with iso-gamma lines (gamma = lr wd)."""
    fig, ax = panels((10.0, 4.6), 1, 2)
    lrs, wds = ds.lr.values, ds.wd.values
    fields = (("log10 tail-mean loss", np.log10(np.clip(ds.mean_loss.values, 1e-300, None))),
              ("log10 mean sphere ELR", np.log10(np.clip(ds.mean_sphere_elr.values, 1e-300, None))))
    iso_label = "iso-γ lines ηλ = const (γ = 1e-5 … 1e-1)"
    for a, (label, field) in zip(ax, fields, strict=True):
        mesh = a.pcolormesh(lrs, wds, field.T, shading="nearest", cmap="viridis")
        for g in np.geomspace(1e-5, 1e-1, 5):
            a.plot(lrs, g / lrs, color="#D62728", ls="--", lw=0.8, label=iso_label)
        if lrs.size > 1 and np.all(lrs > 0):
            a.set_xscale("log")
        if wds.size > 1 and np.all(wds > 0):
            a.set_yscale("log")
        a.set_ylim(wds.min(), wds.max()) if wds.size > 1 else None
        for axis in (a.xaxis, a.yaxis):
            if axis.get_scale() == "log":
                log_ticks(axis)
        a.set_xlabel("learning rate η")
        a.set_ylabel("weight decay λ")
        fig.colorbar(mesh, ax=a, label=label)
    unique_legend(fig, axes=[ax[0]], loc="outside lower center", frameon=False)
    fig.suptitle(f"{ds.attrs.get('optimizer', '')}, {ds.attrs.get('steps')} steps")
    return fig


# experiment name (attrs["experiment"] of a train_experiment result) -> the function that draws it
EXPERIMENT_PLOTTERS = {
    "equal_gamma_vs_equal_eta": plot_equal_gamma,
    "reparametrisation": plot_reparametrisation,
    "equilibrium_overlay": plot_equilibrium,
    "lr_wd_heatmap": plot_heatmap,
    "wd_regimes": plot_wd_regimes,
}


def plot_experiment(ds):
    """Draw a result of :mod:`toyregimes.studies.trajectory_invariance` with the plot of its experiment."""
    name = ds.attrs.get("experiment")
    if name not in EXPERIMENT_PLOTTERS:
        raise ValueError(f"no plot for experiment {name!r}; known: {sorted(EXPERIMENT_PLOTTERS)}")
    return EXPERIMENT_PLOTTERS[name](ds)


def figures(outdir) -> list:
    """Draw the weight-decay gallery into ``outdir``; returns the paths written (about 10 s in total)."""
    import matplotlib

    matplotlib.use("Agg")
    from toyregimes.studies import trajectory_invariance as ex

    outdir = Path(outdir)
    paths = [
        save(plot_equal_gamma(ex.equal_gamma_vs_equal_eta()), outdir / "train_equal_gamma.png"),
        save(plot_reparametrisation(ex.reparametrisation()), outdir / "train_reparametrisation.png"),
        save(plot_equilibrium(ex.equilibrium_overlay()), outdir / "train_equilibrium.png"),
        save(plot_heatmap(ex.lr_wd_heatmap()), outdir / "train_lr_wd_heatmap.png"),
        save(plot_wd_regimes(ex.wd_regimes()), outdir / "train_wd_regimes.png"),
    ]
    return paths
