"""Weight-decay training (Li et al. 2025): kernels vs numpy twin, exact invariances, equilibria, validation."""

from __future__ import annotations

import argparse

import numba
import numpy as np
import pytest

import toyregimes as tr
from tests import reference_train as ref
from toyregimes import theory
from toyregimes.train import (
    draw_noise,
    grad_sq_at_unit_norm,
    initial_weights,
    lr_multipliers,
    train,
    train_grid,
)


@pytest.fixture(scope="module")
def rot_toy():
    return tr.toys.rayleigh([[0.0, 1.0, 2.5], [0.0, 2.0]], rotate=True, seed=3)


@pytest.fixture(scope="module")
def stoch_toy(rot_toy):
    return tr.toys.stochastic(rot_toy, n_samples=12, spread=0.4, seed=1)


def _flat(run, key="final_state"):
    return np.concatenate([row[~np.isnan(row)] for row in run[key].values])


def _unit(x):
    return x / np.linalg.norm(x)


# ----------------------------------------------------------------------------- kernel == numpy twin
@pytest.mark.parametrize("optimizer", ["sgd", "sgdm", "adamw"])
@pytest.mark.parametrize("noise", [None, "tangent", "minibatch", "isotropic"])
def test_kernel_matches_numpy_twin(rot_toy, stoch_toy, optimizer, noise):
    toy = stoch_toy if noise == "minibatch" else rot_toy
    steps, lr, wd, seed = 150, 0.05, 0.02, 4  # stays below the instability threshold: no chaotic growth of ulps
    kw = {"optimizer": optimizer, "noise": noise, "batch": 3 if noise == "minibatch" else None,
          "noise_scale": 0.7, "seed": seed, "init_norm": 1.3, "eps": 1e-8 if optimizer == "adamw" else 0.0,
          "momentum": 0.8, "betas": (0.85, 0.99), "schedule": "wsd"}
    run = train(toy, lr, wd, steps, **kw)
    w0 = initial_weights(toy, seed, 1.3)
    gauss, idx = draw_noise(toy, steps, noise, kw["batch"], seed)
    etas = lr * lr_multipliers("wsd", steps)
    samples = toy.samples if toy.samples is not None else None
    rec, w_final = ref.train(w0, toy.mats, toy.dims, samples, etas, wd, optimizer, 0.8, 0.85, 0.99, kw["eps"],
                             noise, 0.7, gauss, idx)
    tol = {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(run.loss.values, rec["loss"], **tol)
    np.testing.assert_allclose(run.sq_norm.values, rec["sq_norm"], **tol)
    np.testing.assert_allclose(run.grad_norm.values ** 2, rec["grad_sq"], **tol)
    np.testing.assert_allclose(run.noise_trace.values, rec["noise_sq"], **tol)
    # the twin's arccos is inaccurate for tiny angles (~1e-8); compare cosines instead
    np.testing.assert_allclose(np.cos(run.angle.values), np.cos(rec["angle"]), **tol)
    np.testing.assert_allclose(_flat(run), w_final, **tol)
    np.testing.assert_allclose(_flat(run, "initial_state"), w0, rtol=0, atol=0)
    if noise is None:
        assert np.all(run.noise_trace.values == 0)


def test_grid_point_is_single_run_bit_for_bit_and_thread_independent(rot_toy):
    lrs, wds = np.array([0.02, 0.1, 0.3]), np.array([0.0, 0.01, 0.5])
    kw = {"noise": "tangent", "noise_scale": 0.5, "seed": 2, "optimizer": "sgdm"}
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        g1 = train_grid(rot_toy, lrs, wds, 400, tail=100, **kw)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        g2 = train_grid(rot_toy, lrs, wds, 400, tail=100, **kw)
    finally:
        numba.set_num_threads(before)
    for name in g1.data_vars:
        np.testing.assert_array_equal(g1[name].values, g2[name].values)
    run = train(rot_toy, lrs[1], wds[2], 400, **kw)
    assert g1.final_loss.values[1, 2] == rot_toy.value(_flat(run))
    tail = run.isel(step=slice(300, 400))
    np.testing.assert_allclose(g1.mean_loss.values[1, 2], tail.loss.mean(), rtol=1e-12)
    np.testing.assert_allclose(g1.mean_sphere_elr.values[1, 2], tail.sphere_elr.mean(), rtol=1e-12)
    np.testing.assert_allclose(g1.mean_angle.values[1, 2], tail.angle.mean(), rtol=1e-12)


# ----------------------------------------------------------------------------- exact invariances
def _reparam_gap(toy, optimizer, noise, c, power, steps=1500, **extra):
    lr, wd = 0.04, 0.05
    a = train(toy, lr, wd, steps, optimizer=optimizer, noise=noise, noise_scale=0.6, seed=5, **extra)
    b = train(toy, c * lr, wd / c, steps, optimizer=optimizer, noise=noise, noise_scale=0.6, seed=5,
              init_norm=c**power, **extra)
    loss_gap = float(np.max(np.abs(a.loss.values - b.loss.values)))
    dir_gap = float(np.linalg.norm(_unit(_flat(a)) - _unit(_flat(b))))
    norm_gap = float(np.max(np.abs(b.norm.values / a.norm.values - c**power)))
    return max(loss_gap, dir_gap, norm_gap)


@pytest.mark.parametrize(
    "optimizer, power",
    [("sgd", 0.5), ("sgdm", 0.5), ("adamw", 1.0)],  # w0 -> sqrt(c) w0 (SGD, heavy ball), c w0 (AdamW, eps = 0)
)
@pytest.mark.parametrize("noise", [None, "tangent", "minibatch"])
def test_exact_reparametrisation(rot_toy, stoch_toy, optimizer, power, noise):
    toy = stoch_toy if noise == "minibatch" else rot_toy
    batch = 4 if noise == "minibatch" else None
    # Full batch: the identity is exact, but once weight decay has pushed the sphere ELR past the
    # threshold the dynamics are chaotic (theory) and amplify the ulp-level differences of
    # (c eta)(lambda / c) != eta lambda; so the noise-free runs are compared before that (200 steps).
    # Common SI noise synchronises the runs instead, and they stay equal for as long as they run.
    steps = 200 if noise is None else 1500
    for c in (3.0, 0.37):  # not powers of two, so the runs are not trivially bit-identical
        assert _reparam_gap(toy, optimizer, noise, c, power, steps=steps, batch=batch) < 1e-12


def test_reparametrisation_breaks_for_non_si_noise_and_adam_eps(rot_toy):
    assert _reparam_gap(rot_toy, "sgd", "isotropic", 3.0, 0.5) > 1e-6
    assert _reparam_gap(rot_toy, "adamw", "isotropic", 3.0, 1.0) > 1e-6
    assert _reparam_gap(rot_toy, "adamw", "tangent", 3.0, 1.0, eps=1e-3) > 1e-6


def test_weight_decay_is_exponential_learning_rate(rot_toy):
    # w~_t = w_t / (1 - gamma)^t follows plain SGD with eta_t = eta (1 - gamma)^(-2t - 1) (Li et al. 2025)
    # The ELRs grow as (1 - gamma)^(-2t): keep every group below its threshold (group 0 crosses it near
    # t = 800), where the map is contracting; past it both runs amplify their (different) rounding errors.
    lr, wd, steps = 0.02, 0.05, 600
    gamma = lr * wd
    mult = (1 - gamma) ** (-2.0 * np.arange(steps) - 1)
    np.testing.assert_allclose(lr * mult, theory.exponential_lr(lr, wd, np.arange(steps)), rtol=1e-15)
    for noise in (None, "tangent"):
        a = train(rot_toy, lr, wd, steps, noise=noise, noise_scale=0.5, seed=1)
        b = train(rot_toy, lr, 0.0, steps, noise=noise, noise_scale=0.5, seed=1, schedule=mult)
        np.testing.assert_allclose(b.norm / a.norm, (1 - gamma) ** -np.arange(steps), rtol=1e-8)
        err = np.linalg.norm(_unit(_flat(a)) - _unit(_flat(b)))
        assert err < 1e-8
        assert np.max(np.abs(a.loss.values - b.loss.values)) < 1e-8


# ----------------------------------------------------------------------------- equilibria
def test_sgd_equilibrium_norm_angle_elr():
    """Noise-dominated single group (directions near uniform): L is computed from the toy and the noise model."""
    toy = tr.toys.rayleigh([[0.0, 0.02, 0.05, 0.1]], rotate=True, seed=0)
    big_l = grad_sq_at_unit_norm(toy, noise="tangent")[0]  # independent of any run
    assert big_l == pytest.approx(1.0, abs=0.01)
    for lr, wd, seed in [(0.1, 0.01, 0), (0.05, 0.002, 1), (0.2, 0.02, 2)]:
        gamma = lr * wd
        steps = int(30 / gamma)
        run = train(toy, lr, wd, steps, noise="tangent", seed=seed)
        tail = run.isel(step=slice(steps // 2, None))
        assert float((tail.norm**2).mean()) == pytest.approx(theory.sgd_equilibrium_sq_norm(lr, wd, big_l), rel=0.03)
        one_minus_cos = 1 - float(np.cos(tail.angle).mean())
        assert one_minus_cos == pytest.approx(1 - theory.sgd_equilibrium_cos_angle(lr, wd), rel=0.03)
        # sqrt(2 gamma) is the RMS angle; the mean angle is smaller (Jensen: the step length is random)
        assert float(np.sqrt((tail.angle**2).mean())) == pytest.approx(np.sqrt(2 * gamma), rel=0.03)
        assert float(tail.sphere_elr.mean()) == pytest.approx(theory.sgd_equilibrium_elr(lr, wd, big_l), rel=0.03)
    run = train(toy, 0.1, 0.01, 30_000, optimizer="sgdm", momentum=0.9, noise="tangent", seed=0)
    tail = run.isel(step=slice(15_000, None))
    rms = float(np.sqrt((tail.angle**2).mean()))
    assert rms == pytest.approx(theory.momentum_equilibrium_angle(0.1, 0.01, 0.9), rel=0.03)


def test_adamw_equilibrium_on_rotated_toy_and_axis_aligned_caveat():
    spectrum = [list(np.linspace(0.0, 0.1, 64))]
    lr, wd = 1e-2, 0.1
    ratios = {}
    for rotate in (True, False):
        toy = tr.toys.rayleigh(spectrum, rotate=rotate, seed=0 if rotate else None)
        run = train(toy, lr, wd, 30_000, optimizer="adamw", noise="tangent", record_every=5)
        tail = run.isel(step=slice(run.sizes["step"] // 2, None))
        ratios[rotate] = (
            float((tail.norm**2).mean()) / theory.adamw_equilibrium_sq_norm(lr, wd, 64),
            float(np.sqrt((tail.angle**2).mean())) / theory.adamw_equilibrium_angle(lr, wd, 0.9),
        )
    assert ratios[True][0] == pytest.approx(1, abs=0.05)
    assert ratios[True][1] == pytest.approx(1, abs=0.05)
    assert ratios[False][0] > 1.3  # axis-aligned: the per-coordinate normalisation breaks the formula
    assert ratios[False][1] < 0.9


def test_equal_gamma_collapses_late_equal_eta_agrees_early():
    toy = tr.toys.canonical([1.0, 2.0, 3.0])
    lr0, wd0, steps = 0.1, 0.01, 12_000  # gamma = 1e-3
    kw = {"noise": "tangent", "noise_scale": 0.5, "seed": 0}
    ref_run = train(toy, lr0, wd0, steps, **kw)
    early, late = slice(0, 50), slice(int(5 / (lr0 * wd0)), steps)  # t << 1/gamma, t >> 1/gamma
    for c in (0.5, 2.0):
        eq_eta = train(toy, lr0, c * wd0, steps, **kw)
        eq_gamma = train(toy, c * lr0, wd0 / c, steps, **kw)
        d_eta = np.abs(ref_run.loss.values - eq_eta.loss.values)
        d_gamma = np.abs(ref_run.loss.values - eq_gamma.loss.values)
        assert d_eta[early].mean() < 0.3 * d_gamma[early].mean()
        assert d_gamma[late].mean() < 1e-6 * d_eta[late].mean()


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"lr": -0.1}, "lr"),
        ({"lr": 0.0}, "lr"),
        ({"wd": -1e-3}, "wd"),
        ({"lr": 2.0, "wd": 0.5}, "lr \\* wd"),
        ({"lr": 0.5, "wd": 1.0, "schedule": np.full(10, 3.0)}, "lr \\* wd"),
        ({"eps": -1e-8, "optimizer": "adamw"}, "eps"),
        ({"optimizer": "adam"}, "optimizer"),
        ({"noise": "gaussian"}, "noise"),
        ({"momentum": 1.0, "optimizer": "sgdm"}, "momentum"),
        ({"betas": (0.9, 1.0), "optimizer": "adamw"}, "betas"),
        ({"init_norm": 0.0}, "init_norm"),
        ({"steps": 0}, "steps"),
        ({"schedule": "cosine"}, "schedule"),
        ({"schedule": np.ones(3)}, "schedule"),
        ({"noise": "minibatch", "batch": 2}, "stochastic toy"),
        ({"noise_scale": -1.0}, "noise_scale"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_hyperparameters(kwargs, name):
    toy = tr.toys.canonical([1.0, 2.0])
    args = {"lr": 0.1, "wd": 1e-3, "steps": 10} | kwargs
    with pytest.raises(ValueError, match=name):
        train(toy, **args)


def test_bad_batch_and_toy(stoch_toy):
    with pytest.raises(ValueError, match=r"batch must be in \[1, 12\]"):
        train(stoch_toy, 0.1, 1e-3, 10, noise="minibatch", batch=13)
    with pytest.raises(ValueError, match="batch must be given"):
        train(stoch_toy, 0.1, 1e-3, 10, noise="minibatch")
    with pytest.raises(ValueError, match="train supports"):
        train("canonical", 0.1, 1e-3, 10)
    with pytest.raises(ValueError, match="tail"):
        train_grid(stoch_toy, [0.1], [1e-3], 10, tail=11)
    with pytest.raises(ValueError, match="lr \\* wd"):
        train_grid(stoch_toy, [0.1, 10.0], [1e-3, 0.2], 10)
    with pytest.raises(ValueError, match="spread"):
        tr.toys.stochastic(tr.toys.canonical([1.0]), 4, -1.0)


# ----------------------------------------------------------------------------- toys, reproducibility, io, cli
def test_stochastic_toy_is_si_and_averages_to_base(rot_toy, stoch_toy):
    np.testing.assert_allclose(stoch_toy.samples.mean(axis=0), rot_toy.mats, atol=1e-15)
    w = initial_weights(rot_toy, 0, 2.0)
    grads = [ref.rayleigh(w, s, rot_toy.dims)[1] for s in stoch_toy.samples]
    for g in grads:
        for sl in ref.group_slices(rot_toy.dims):
            assert abs(g[sl] @ w[sl]) < 1e-13
    g3 = ref.rayleigh(3 * w, stoch_toy.samples[0], rot_toy.dims)[1]
    np.testing.assert_allclose(g3, grads[0] / 3, rtol=1e-12)


def test_reproducible_and_netcdf_roundtrip(tmp_path, stoch_toy):
    kw = {"noise": "minibatch", "batch": 5, "seed": 9, "optimizer": "adamw", "schedule": "wsd", "record_every": 3}
    a = train(stoch_toy, 0.01, 0.1, 300, **kw)
    b = train(stoch_toy, 0.01, 0.1, 300, **kw)
    assert a.identical(b)
    path = tr.save(a, tmp_path / "train.nc")
    c = tr.load(path)
    for name in a.variables:
        np.testing.assert_array_equal(a[name].values, c[name].values)
        assert a[name].dtype == c[name].dtype
    assert c.attrs["optimizer"] == "adamw" and c.attrs["batch"] == 5 and c.attrs["wsd_fractions"] == [0.05, 0.2]
    g = train_grid(stoch_toy, [0.01, 0.02], [0.0, 0.1], 100, **{k: v for k, v in kw.items() if k != "record_every"})
    g2 = tr.load(tr.save(g, tmp_path / "grid.nc"))
    for name in g.variables:
        np.testing.assert_array_equal(g[name].values, g2[name].values)


def test_noise_depends_only_on_seed(rot_toy):
    a = train(rot_toy, 0.1, 0.0, 50, noise="tangent", seed=3, init_norm=1.0)
    b = train(rot_toy, 0.2, 0.3, 50, noise="tangent", seed=3, init_norm=5.0, optimizer="sgdm")
    np.testing.assert_allclose(_flat(b, "initial_state"), 5 * _flat(a, "initial_state"), rtol=1e-15)
    # tangent noise at step 0 is the same draw: compare the noise vectors through their scale-free size
    assert float(a.scale_free_noise_trace[0]) == pytest.approx(float(b.scale_free_noise_trace[0]), rel=1e-12)


def test_cli_train(tmp_path, capsys):
    import json

    from toyregimes.cli.train import add_train_parser

    parser = argparse.ArgumentParser()
    add_train_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "r.nc"
    args = parser.parse_args(["train", "--alpha", "1", "2", "--lr", "0.1", "--wd", "0.01", "--steps", "500",
                              "--noise", "tangent", "--summary", "--out", str(out), "--plot", str(tmp_path / "r.png")])
    assert args.handler(args) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["status"] == "ok" and stats["gamma"] == pytest.approx(1e-3)
    assert tr.load(out).attrs["noise"] == "tangent"
    assert (tmp_path / "r.png").stat().st_size > 0
    args = parser.parse_args(["train", "--rotated", "[[0, 1, 2]]", "--lr", "0.1", "--wd", "20", "--steps", "5"])
    with pytest.raises(ValueError, match="lr \\* wd"):
        args.handler(args)


def test_heatmap_contours_follow_eta_short_and_gamma_long():
    from toyregimes.studies.trajectory_invariance import lr_wd_heatmap

    ds = lr_wd_heatmap(n=8, long=20_000)
    short, long = ds.sel(horizon="short"), ds.sel(horizon="long")
    assert float(short.slope_iso_eta) < 0.5 * float(short.slope_iso_gamma)  # t << 1/gamma: only eta matters
    assert float(long.slope_iso_gamma) < 0.01 * float(long.slope_iso_eta)  # t >> 1/gamma: only gamma matters
