"""Figures of weight-decay training: one run, and the experiments of :mod:`toyregimes.studies.trajectory_invariance`.

Every function takes a Dataset and returns a matplotlib Figure (no kernel is run here, except in
:func:`figures`, which calls the experiment functions to draw the gallery).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_train_run", "plot_train_grid", "plot_equal_gamma", "plot_reparametrisation", "plot_equilibrium",
           "plot_heatmap", "plot_wd_regimes", "plot_experiment", "EXPERIMENT_PLOTTERS", "save", "figures"]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def save(fig, path) -> Path:
    """Write ``fig`` to ``path`` (parent directories created) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return path


def plot_train_run(run):
    """Loss, ``|w|``, sphere ELR and angular update of a :func:`toyregimes.train.train` run against the step."""
    plt = _plt()
    fig, ax = plt.subplots(2, 2, figsize=(10, 6), sharex=True)
    t = run.step.values
    ax[0, 0].semilogy(t, np.maximum(run.loss.values, 1e-300))
    ax[0, 0].set_ylabel("loss F(w)")
    ax[0, 1].plot(t, run.norm.values)
    ax[0, 1].set_ylabel("|w|")
    ax[1, 0].semilogy(t, run.sphere_elr.values)
    ax[1, 0].set_ylabel("sphere ELR")
    ax[1, 1].semilogy(t, np.maximum(run.angle.values, 1e-300), lw=0.5, label="angle(w_t, w_t+1)")
    gamma = run.attrs["lr"] * run.attrs["wd"]
    if gamma > 0:
        ax[1, 1].axhline(np.sqrt(2 * gamma), color="k", ls="--", label="sqrt(2 gamma)")
    ax[1, 1].legend(fontsize=8)
    for a in ax[1]:
        a.set_xlabel("step")
    at = run.attrs
    fig.suptitle(f"{at['optimizer']}  lr={at['lr']:g}  wd={at['wd']:g}  noise={at['noise']}")
    fig.tight_layout()
    return fig


def plot_equal_gamma(ds):
    """Loss curves of the equal-eta and equal-gamma families, and their gaps to the reference run."""
    plt = _plt()
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    t = ds.step.values + 1
    gamma = ds.attrs["gamma"]
    for k, fam in enumerate(ds.family.values):
        a = ax[k]
        a.loglog(t, np.maximum(ds.reference_loss.values, 1e-300), "k", lw=1.5, label="reference")
        for c in ds.factor.values:
            a.loglog(t, np.maximum(ds.loss.sel(family=fam, factor=c).values, 1e-300), lw=0.6, label=f"c={c:g}")
        a.axvline(1 / gamma, color="grey", ls=":", label="1/gamma")
        a.set_title(fam.replace("_", " ") + (" (eta, c lambda)" if fam == "equal_eta" else " (c eta, lambda/c)"))
        a.set_xlabel("step")
        a.legend(fontsize=7)
    ax[0].set_ylabel("loss")
    for c in ds.factor.values:
        line, = ax[2].loglog(t, np.maximum(ds.gap.sel(family="equal_eta", factor=c).values, 1e-18), lw=0.8,
                             label=f"equal eta c={c:g}")
        ax[2].loglog(t, np.maximum(ds.gap.sel(family="equal_gamma", factor=c).values, 1e-18), lw=0.8, ls="--",
                     color=line.get_color(), label=f"equal gamma c={c:g}")
    ax[2].axvline(1 / gamma, color="grey", ls=":")
    cross = ", ".join(f"{x:.2g}" for x in ds.crossover_gamma_t.values)
    ax[2].set_title(f"|loss - reference| (crossover t*gamma = {cross})", fontsize=9)
    ax[2].legend(fontsize=6)
    ax[2].set_xlabel("step")
    fig.tight_layout()
    return fig


def plot_reparametrisation(ds):
    """Largest direction gap of each reparametrisation case against the factor c (machine precision vs controls)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for case in ds.case.values:
        ax.semilogy(ds.factor.values, np.maximum(ds.direction_gap.sel(case=case).values, 1e-17), "o-", label=case)
    ax.axhline(1e-12, color="k", ls=":", label="1e-12")
    ax.set_xscale("log")
    ax.set_xlabel("factor c: (c eta, lambda / c, c^p w0)")
    ax.set_ylabel("final direction gap")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_equilibrium(ds):
    """Measured / theory for ``|w|^2``, RMS angular update and sphere ELR against gamma (1 = the closed form)."""
    plt = _plt()
    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    for a, key, label in zip(ax, ("sq_norm", "rms_angle", "sphere_elr"), ("|w|^2", "RMS angle", "sphere ELR"),
                             strict=True):
        for case in ds.case.values:
            r = ds[f"{key}_ratio"].sel(case=case).values
            if np.all(np.isnan(r)):
                continue
            a.semilogx(ds.gamma.values, r, "o-", label=case)
        a.axhline(1, color="k", lw=0.8)
        a.set_xlabel("gamma = eta lambda")
        a.set_title(f"{label}: measured / theory")
        a.set_ylim(0.5, 2.5)
    ax[0].legend(fontsize=8)
    fig.suptitle("Equilibria under tangent noise (axis-aligned AdamW: documented failure of the formula)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_heatmap(ds):
    """log10 tail loss over the (eta, lambda) grid for both horizons, with iso-gamma lines."""
    plt = _plt()
    fig, ax = plt.subplots(1, ds.sizes["horizon"], figsize=(12, 4.8))
    lrs, wds = ds.lr.values, ds.wd.values
    for a, h in zip(np.atleast_1d(ax), ds.horizon.values, strict=True):
        field = np.log10(ds.mean_loss.sel(horizon=h).values.T)
        mesh = a.pcolormesh(lrs, wds, field, shading="nearest", cmap="viridis")
        a.contour(lrs, wds, field, colors="w", linewidths=0.6, levels=10)
        for g in np.geomspace(1e-5, 1e-1, 9):
            a.plot(lrs, g / lrs, "r--", lw=0.6)
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_ylim(wds[0], wds[-1])
        a.set_xlabel("lr eta")
        a.set_ylabel("wd lambda")
        steps = int(ds.steps.sel(horizon=h))
        a.set_title(f"{h}: {steps} steps  (slope along iso-gamma {float(ds.slope_iso_gamma.sel(horizon=h)):.2g}, "
                    f"along iso-eta {float(ds.slope_iso_eta.sel(horizon=h)):.2g})", fontsize=8)
        fig.colorbar(mesh, ax=a, label="log10 tail-mean loss")
    fig.tight_layout()
    return fig


def plot_wd_regimes(ds):
    """Full-batch weight-decay runs on the fixed-ELR regime diagram: loss vs k, and k over time."""
    plt = _plt()
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.5))
    a = ax[0]
    a.plot(ds.sphere_k.values, ds.sphere_theory.values, "k-", lw=1, label="sphere theory (A/2)(1 - 1/k)")
    a.plot(ds.sphere_k.values, ds.sphere_loss.values, "ks", ms=3, label="sphere PGD (tail mean)")
    sc = None
    for s in ds.seed.values:
        sc = a.scatter(ds.k_eff.sel(seed=s).values, ds.loss.sel(seed=s).values, c=np.log10(ds.gamma.values),
                       cmap="plasma", zorder=3)
    a.plot(ds.predicted_k_eff.values, ds.predicted_loss.values, "x", color="grey", label="2-cycle prediction")
    a.axvline(1, color="grey", ls=":")
    a.set_xlabel("k = A * eta / ((1 - gamma) |w|^2)   (tail mean)")
    a.set_ylabel("tail-mean loss")
    a.legend(fontsize=8)
    if sc is not None:
        fig.colorbar(sc, ax=a, label="log10 gamma")
    b = ax[1]
    b.semilogy(ds.trace_step.values, ds.trace_k_eff.values, lw=0.5)
    b.axhline(1, color="k", ls=":", label="threshold k = 1")
    b.set_xlabel("step")
    b.set_ylabel("k(t)")
    b.set_title(f"one run, gamma = {ds.attrs['trace_gamma']:g}", fontsize=9)
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_train_grid(ds):
    """log10 tail-mean loss and mean sphere ELR over the (lr, wd) grid of :func:`toyregimes.train_grid`,
    with iso-gamma lines (gamma = lr wd)."""
    plt = _plt()
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.5))
    lrs, wds = ds.lr.values, ds.wd.values
    fields = (("log10 tail-mean loss", np.log10(np.clip(ds.mean_loss.values, 1e-300, None))),
              ("log10 mean sphere ELR", np.log10(np.clip(ds.mean_sphere_elr.values, 1e-300, None))))
    for a, (label, field) in zip(ax, fields, strict=True):
        mesh = a.pcolormesh(lrs, wds, field.T, shading="nearest", cmap="viridis")
        for g in np.geomspace(1e-5, 1e-1, 5):
            a.plot(lrs, g / lrs, "r--", lw=0.6)
        if lrs.size > 1 and np.all(lrs > 0):
            a.set_xscale("log")
        if wds.size > 1 and np.all(wds > 0):
            a.set_yscale("log")
        a.set_ylim(wds.min(), wds.max()) if wds.size > 1 else None
        a.set_xlabel("lr eta")
        a.set_ylabel("wd lambda")
        fig.colorbar(mesh, ax=a, label=label)
    fig.suptitle(f"{ds.attrs.get('optimizer', '')}, {ds.attrs.get('steps')} steps (red dashed: iso-gamma)",
                 fontsize=9)
    fig.tight_layout()
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
