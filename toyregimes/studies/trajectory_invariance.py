"""Weight-decay experiments (Li et al. 2025) as plain functions returning ``xarray.Dataset`` objects.

* :func:`equal_gamma_vs_equal_eta` -- families from a common init: equal eta agree early, equal
  gamma = eta lambda agree (exactly, by synchronisation under common SI noise) late; crossover time
  against 1/gamma.
* :func:`reparametrisation` -- (eta, lambda, w0) vs (c eta, lambda/c, sqrt(c) w0) (SGD, heavy ball) and
  (c eta, lambda/c, c w0) (AdamW, eps = 0); broken by non-SI noise and by eps > 0.
* :func:`equilibrium_overlay` -- measured norm, angular update and sphere ELR against the closed forms
  (SGD, heavy ball, AdamW on rotated and axis-aligned toys).
* :func:`lr_wd_heatmap` -- an (eta, lambda) grid of tail losses for a short and a long horizon.
* :func:`wd_regimes` -- full-batch weight-decay runs of the canonical toy placed on the fixed-ELR
  regime diagram.

Plots are in :mod:`toyregimes.plot.training`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from toyregimes import theory, toys
from toyregimes.io import register_schema
from toyregimes.train import grad_sq_at_unit_norm, train, train_grid

__all__ = ["equal_gamma_vs_equal_eta", "reparametrisation", "equilibrium_overlay", "lr_wd_heatmap", "wd_regimes"]

KIND = "train_experiment"
register_schema(KIND, (), {}, ("experiment",))


def _flat(run, key="final_state"):
    return np.concatenate([row[~np.isnan(row)] for row in run[key].values])


def _running_mean(x, window):
    kernel = np.ones(window) / window
    return np.convolve(x, kernel, mode="same")


def equal_gamma_vs_equal_eta(toy=None, lr=0.1, wd=0.01, factors=(0.25, 0.5, 2.0, 4.0), steps=12_000,
                             noise="tangent", noise_scale=0.5, seed=0, window=50):
    """Loss curves of equal-eta ``(eta, c lambda)`` and equal-gamma ``(c eta, lambda / c)`` families.

    All runs start from the same ``w0`` (unit norm) with the same noise.  ``gap`` is the running mean
    (``window`` steps) of ``|F_member - F_reference|``; ``crossover_step[c]`` is the first step after
    which the equal-gamma gap stays below the equal-eta gap, reported also as ``crossover_step * gamma``
    (reference ``gamma = lr wd``).

    Example: ``ds = equal_gamma_vs_equal_eta(steps=5000)``; ``ds.crossover_gamma_t``.
    """
    toy = toys.canonical([1.0, 2.0, 3.0]) if toy is None else toy
    kw = {"noise": noise, "noise_scale": noise_scale, "seed": seed}
    ref = train(toy, lr, wd, steps, **kw)
    factors = np.asarray(factors, dtype=float)
    loss = np.empty((2, factors.size, steps))
    for j, c in enumerate(factors):
        loss[0, j] = train(toy, lr, c * wd, steps, **kw).loss.values
        loss[1, j] = train(toy, c * lr, wd / c, steps, **kw).loss.values
    gap = np.stack([[_running_mean(np.abs(row - ref.loss.values), window) for row in fam] for fam in loss])
    cross = np.empty(factors.size)
    for j in range(factors.size):
        worse = np.nonzero(gap[1, j] >= gap[0, j])[0]
        cross[j] = 0 if worse.size == 0 else min(worse[-1] + 1, steps)
    gamma = lr * wd
    return xr.Dataset(
        {
            "loss": (("family", "factor", "step"), loss),
            "reference_loss": ("step", ref.loss.values),
            "gap": (("family", "factor", "step"), gap),
            "crossover_step": ("factor", cross),
            "crossover_gamma_t": ("factor", cross * gamma),
        },
        coords={"family": ["equal_eta", "equal_gamma"], "factor": factors, "step": np.arange(steps)},
        attrs={"toyregimes_kind": KIND, "experiment": "equal_gamma_vs_equal_eta", "lr": lr, "wd": wd,
               "gamma": gamma, "steps": steps, "noise": str(noise), "noise_scale": noise_scale, "seed": seed,
               "window": window, "toy": toy.spec_json},
    )


def reparametrisation(toy=None, factors=(0.1, 0.37, 3.0, 10.0), lr=0.04, wd=0.05, steps=3000, noise_scale=0.6,
                      seed=5):
    """Largest loss and direction gaps between ``(eta, lambda, w0)`` and its reparametrisation.

    Cases: SGD and heavy ball (``w0 -> sqrt(c) w0``), AdamW with eps = 0 (``w0 -> c w0``), all with
    tangent noise -- exact; and the negative controls SGD with isotropic (non-SI) noise and AdamW
    with ``eps = 1e-3``.

    Example: ``reparametrisation(steps=500).direction_gap.max("factor")``.
    """
    toy = toys.rayleigh([[0.0, 1.0, 2.5], [0.0, 2.0]], rotate=True, seed=3) if toy is None else toy
    cases = [("sgd", "tangent", 0.5, 0.0), ("sgdm", "tangent", 0.5, 0.0), ("adamw", "tangent", 1.0, 0.0),
             ("sgd", "isotropic", 0.5, 0.0), ("adamw", "tangent", 1.0, 1e-3)]
    names = ["sgd", "sgdm", "adamw eps=0", "sgd isotropic (non-SI)", "adamw eps=1e-3"]
    factors = np.asarray(factors, dtype=float)
    lgap = np.empty((len(cases), factors.size))
    dgap = np.empty_like(lgap)
    for i, (opt, noise, power, eps) in enumerate(cases):
        kw = {"optimizer": opt, "noise": noise, "noise_scale": noise_scale, "seed": seed, "eps": eps}
        a = train(toy, lr, wd, steps, **kw)
        ua = _flat(a) / np.linalg.norm(_flat(a))
        for j, c in enumerate(factors):
            b = train(toy, c * lr, wd / c, steps, init_norm=c**power, **kw)
            ub = _flat(b) / np.linalg.norm(_flat(b))
            lgap[i, j] = np.max(np.abs(a.loss.values - b.loss.values))
            dgap[i, j] = np.linalg.norm(ua - ub)
    return xr.Dataset(
        {"loss_gap": (("case", "factor"), lgap), "direction_gap": (("case", "factor"), dgap)},
        coords={"case": names, "factor": factors},
        attrs={"toyregimes_kind": KIND, "experiment": "reparametrisation", "lr": lr, "wd": wd, "steps": steps,
               "noise_scale": noise_scale, "seed": seed, "toy": toy.spec_json},
    )


def equilibrium_overlay(gammas=None, sgd_lr=0.1, adam_lr=0.01, momentum=0.9, adam_dim=64, horizon=30.0, seed=0):
    """Tail-measured equilibria against :mod:`toyregimes.theory`, as functions of ``gamma = eta lambda``.

    Cases (tangent noise of unit scale, runs of ``horizon / gamma`` steps, tail = last half):

    * ``sgd``, ``sgdm``: one rotated group in R^4 with a small spectrum (noise-dominated, so the
      directions are near uniform and ``L`` from :func:`grad_sq_at_unit_norm` applies);
      theory ``|w|^4 = eta L / (lambda (2 - gamma))``, RMS angle ``sqrt(2 gamma)`` (heavy ball:
      ``sqrt(2 gamma / (1 + beta))``), sphere ELR ``eta / |w|^2``;
    * ``adamw_rotated``, ``adamw_axis``: one group in R^adam_dim, rotated or axis-aligned;
      theory ``|w|^2 = eta C / (lambda (2 - gamma))``, RMS angle ``sqrt(2 gamma (1 - b1) / (1 + b1))``,
      sphere ELR ``eta / |w|``.

    ``*_ratio`` variables are measured / theory.

    Example: ``equilibrium_overlay(gammas=[1e-3, 1e-2]).sq_norm_ratio``.
    """
    gammas = np.geomspace(3e-4, 3e-2, 5) if gammas is None else np.asarray(gammas, dtype=float)
    small = toys.rayleigh([[0.0, 0.02, 0.05, 0.1]], rotate=True, seed=0)
    spec = [list(np.linspace(0.0, 0.1, adam_dim))]
    rotated = toys.rayleigh(spec, rotate=True, seed=0)
    axis = toys.rayleigh(spec)
    big_l = float(grad_sq_at_unit_norm(small, noise="tangent")[0])
    cases = ["sgd", "sgdm", "adamw_rotated", "adamw_axis"]
    shape = (len(cases), gammas.size)
    meas = {k: np.empty(shape) for k in ("sq_norm", "rms_angle", "sphere_elr")}
    theo = {k: np.empty(shape) for k in ("sq_norm", "rms_angle", "sphere_elr")}
    for j, g in enumerate(gammas):
        steps = int(horizon / g)
        rec = max(1, steps // 20_000)
        for i, case in enumerate(cases):
            if case in ("sgd", "sgdm"):
                lr, toy = sgd_lr, small
            else:
                lr, toy = adam_lr, (rotated if case == "adamw_rotated" else axis)
            wd = g / lr
            opt = case.split("_")[0]
            run = train(toy, lr, wd, steps, optimizer=opt, momentum=momentum, noise="tangent", seed=seed,
                        record_every=rec)
            tail = run.isel(step=slice(run.sizes["step"] // 2, None))
            meas["sq_norm"][i, j] = float((tail.norm**2).mean())
            meas["rms_angle"][i, j] = float(np.sqrt((tail.angle**2).mean()))
            meas["sphere_elr"][i, j] = float(tail.sphere_elr.mean())
            if opt == "adamw":
                sq = theory.adamw_equilibrium_sq_norm(lr, wd, adam_dim)
                theo["sq_norm"][i, j] = sq
                theo["rms_angle"][i, j] = theory.adamw_equilibrium_angle(lr, wd, 0.9)
                theo["sphere_elr"][i, j] = lr / np.sqrt(sq)
            else:
                sq = theory.sgd_equilibrium_sq_norm(lr, wd, big_l)
                # theory gives the heavy-ball angle only, no norm (measured ~ SGD's / sqrt(1 - beta))
                theo["sq_norm"][i, j] = sq if opt == "sgd" else np.nan
                theo["rms_angle"][i, j] = (np.sqrt(2 * g) if opt == "sgd"
                                           else theory.momentum_equilibrium_angle(lr, wd, momentum))
                theo["sphere_elr"][i, j] = theory.sgd_equilibrium_elr(lr, wd, big_l) if opt == "sgd" else np.nan
    data = {}
    for k in meas:
        data[k] = (("case", "gamma"), meas[k])
        data[f"theory_{k}"] = (("case", "gamma"), theo[k])
        data[f"{k}_ratio"] = (("case", "gamma"), meas[k] / theo[k])
    return xr.Dataset(
        data,
        coords={"case": cases, "gamma": gammas},
        attrs={"toyregimes_kind": KIND, "experiment": "equilibrium_overlay", "sgd_lr": sgd_lr, "adam_lr": adam_lr,
               "momentum": momentum, "adam_dim": adam_dim, "horizon": horizon, "seed": seed, "L": big_l},
    )


def _alignment(field, log_lr, log_wd):
    """Mean |slope| of ``field`` along iso-gamma lines and along iso-eta lines (in log coordinates)."""
    d_lr = np.gradient(field, log_lr, axis=0)
    d_wd = np.gradient(field, log_wd, axis=1)
    along_iso_gamma = np.abs(d_lr - d_wd) / np.sqrt(2)  # direction (1, -1)/sqrt(2): eta up, lambda down
    along_iso_eta = np.abs(d_wd)  # eta fixed, lambda varies
    return float(np.nanmean(along_iso_gamma)), float(np.nanmean(along_iso_eta))


def lr_wd_heatmap(toy=None, n=24, lr_range=(0.03, 1.0), wd_range=(1e-3, 3e-2), short=30, long=40_000,
                  noise="tangent", noise_scale=0.5, seed=0):
    """Tail-mean loss over an (eta, lambda) log grid after a short and a long horizon (:func:`train_grid`).

    Tail = last quarter of the run.  ``slope_iso_gamma``/``slope_iso_eta`` (per horizon) are the mean
    absolute slopes of the loss along ``eta lambda = const`` and along ``eta = const``: contours follow
    iso-gamma lines where the first is the smaller (long runs, t >> 1/gamma) and iso-eta lines where
    the second is (short runs, t << 1/gamma).

    Example: ``lr_wd_heatmap(n=8, long=2000).mean_loss.sel(horizon="long")``.
    """
    toy = toys.canonical([1.0, 2.0, 3.0]) if toy is None else toy
    lrs = np.geomspace(*lr_range, n)
    wds = np.geomspace(*wd_range, n)
    horizons = {"short": int(short), "long": int(long)}
    losses, sg, se = [], [], []
    for steps in horizons.values():
        ds = train_grid(toy, lrs, wds, steps, tail=max(1, steps // 4), noise=noise, noise_scale=noise_scale,
                        seed=seed)
        field = ds.mean_loss.values
        losses.append(field)
        a, b = _alignment(np.log(field), np.log(lrs), np.log(wds))
        sg.append(a)
        se.append(b)
    return xr.Dataset(
        {
            "mean_loss": (("horizon", "lr", "wd"), np.stack(losses)),
            "steps": ("horizon", np.array(list(horizons.values()), dtype=np.int64)),
            "slope_iso_gamma": ("horizon", np.array(sg)),
            "slope_iso_eta": ("horizon", np.array(se)),
        },
        coords={"horizon": list(horizons), "lr": lrs, "wd": wds},
        attrs={"toyregimes_kind": KIND, "experiment": "lr_wd_heatmap", "noise": str(noise),
               "noise_scale": noise_scale, "seed": seed, "toy": toy.spec_json},
    )


def wd_regimes(alpha=(1.0, 2.0, 3.0), lr=0.5, gammas=None, seeds=3, horizon=60.0, trace_gamma=0.03,
               sphere_k=None, sphere_steps=20_000):
    """Full-batch SGD with weight decay on the canonical toy, placed on the fixed-ELR regime diagram.

    The direction of ``(1 - gamma) w - eta g`` is the PGD step at ELR ``eta / ((1 - gamma) |w|^2)``, so
    the run is compared with the sphere at ``k_eff = A eta / ((1 - gamma) |w|^2)`` (``A = sum alpha``);
    The sphere ELR ``eta / |w|^2`` gives ``k_spec = (1 - gamma) k_eff``.  Per group the norm balance
    ``gamma (2 - gamma) r_i^4 = eta^2 |g_i|^2`` on the single-group 2-cycle (cos 2 phi = 1 / c) gives
    ``c_i = 1 / (1 - gamma)`` and loss ``gamma A / 2`` (our prediction, stored as ``predicted_*``): the
    runs settle just above the convergence threshold k = 1.

    Runs start at unit norm (``k0 = lr A``; ``lr A > 1`` avoids a long convergent phase).  A group
    that converged to machine precision has zero gradient for ever (its off-minimum component
    underflowed to 0): weight decay then shrinks it without bound while it cannot leave its exact
    minimum -- a floating-point artefact that any noise removes; such runs are flagged in ``frozen``.

    Returns a Dataset with dims ``(gamma, seed)``: tail-mean ``loss``, ``k_eff``, ``k_spec``,
    ``frozen``; ``predicted_loss``/``predicted_k_eff`` (gamma); the sphere reference ``sphere_loss`` over
    ``sphere_k`` (PGD tail means, :func:`toyregimes.simulate`), with ``sphere_theory`` = (A/2)(1 - 1/k)_+;
    and the trace of one run at ``trace_gamma`` (``trace_k_eff``, ``trace_loss`` over ``trace_step``).

    Example: ``wd_regimes(gammas=[0.01, 0.1], seeds=1).k_eff``.
    """
    from toyregimes.simulate import simulate

    toy = toys.canonical(alpha)
    big_a = float(np.sum(toy.alpha))
    gammas = np.geomspace(3e-3, 0.3, 7) if gammas is None else np.asarray(gammas, dtype=float)
    shape = (gammas.size, seeds)
    loss = np.empty(shape)
    k_eff = np.empty(shape)
    frozen = np.zeros(shape, dtype=np.int64)
    for i, g in enumerate(gammas):
        steps = int(horizon / g) + 2000
        tail = slice(steps - max(steps // 4, 1), steps)
        for s in range(seeds):
            run = train(toy, lr, g / lr, steps, seed=s).isel(step=tail)
            loss[i, s] = float(run.loss.mean())
            k_eff[i, s] = big_a * float((run.sphere_elr / (1 - g)).mean())
            share = run.sq_norm.values[-1] / run.norm.values[-1] ** 2
            frozen[i, s] = int(np.any(share < 1e-12))
    sphere_k = np.linspace(0.5, 3.0, 26) if sphere_k is None else np.asarray(sphere_k, dtype=float)
    sphere_loss = np.array([
        float(simulate(toy, elr=k / big_a, steps=sphere_steps, seed=0).loss[sphere_steps // 2:].mean())
        for k in sphere_k
    ])
    trace_steps = int(horizon / trace_gamma) + 2000
    trace = train(toy, lr, trace_gamma / lr, trace_steps, seed=0)
    return xr.Dataset(
        {
            "loss": (("gamma", "seed"), loss),
            "k_eff": (("gamma", "seed"), k_eff),
            "k_spec": (("gamma", "seed"), k_eff * (1 - gammas)[:, None]),
            "frozen": (("gamma", "seed"), frozen),
            "predicted_loss": ("gamma", gammas * big_a / 2),
            "predicted_k_eff": ("gamma", 1 / (1 - gammas)),
            "sphere_loss": ("sphere_k", sphere_loss),
            "sphere_theory": ("sphere_k", 0.5 * big_a * np.clip(1 - 1 / sphere_k, 0, None)),
            "trace_k_eff": ("trace_step", big_a * trace.sphere_elr.values / (1 - trace_gamma)),
            "trace_loss": ("trace_step", trace.loss.values),
        },
        coords={"gamma": gammas, "seed": np.arange(seeds), "sphere_k": sphere_k,
                "trace_step": np.arange(trace_steps)},
        attrs={"toyregimes_kind": KIND, "experiment": "wd_regimes", "alpha": list(map(float, alpha)), "lr": lr,
               "horizon": horizon, "trace_gamma": trace_gamma, "sphere_steps": sphere_steps},
    )
