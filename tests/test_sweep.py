"""The sweep engine: batched kernel == simulate == numpy twin, Lyapunov exponents, regimes, determinism."""

from __future__ import annotations

import sys

import numba
import numpy as np
import pytest

import toyregimes as tr
from tests import reference_batched
from toyregimes import analysis, batched, theory
from toyregimes.sweep import canonical_alpha, sweep, sweep_grid

ALPHA = [1.0, 2.0, 3.0]
TOY = tr.toys.canonical(ALPHA)


def _columns(toy, seeds, elrs, individual=False):
    """Initial points/tangents of the (elr, seed) grid as the sweep draws them, as SoA arrays."""
    th = np.stack([toy.random_point(s) for _ in elrs for s in seeds], axis=1)
    v = np.stack([np.random.default_rng([s, 1]).standard_normal(toy.dim) for _ in elrs for s in seeds], axis=1)
    if individual:
        for i in range(toy.n_groups):
            sl = slice(2 * i, 2 * i + 2)
            v[sl] -= (v[sl] * th[sl]).sum(0) / (th[sl] * th[sl]).sum(0) * th[sl]
    else:
        v -= (v * th).sum(0) * th
    v /= np.linalg.norm(v, axis=0)
    elr = np.repeat(np.asarray(elrs, dtype=float), len(seeds))
    c = np.ascontiguousarray
    return c(th[0::2]), c(th[1::2]), c(v[0::2]), c(v[1::2]), elr


# ----------------------------------------------------------------------------- sweep == simulate
@pytest.mark.parametrize("constraint", ["total", "individual"])
def test_sweep_equals_simulate_point_by_point(constraint):
    k = [0.5, 1.3, 3.0]
    seeds = [0, 3]
    steps, tail = 3000, 1000
    res = sweep(TOY, k=k, seeds=seeds, steps=steps, tail=tail, constraint=constraint, record_states=True)
    for j, elr in enumerate(res.elr.values):
        for s_idx, seed in enumerate(seeds):
            run = tr.simulate(TOY, elr, steps, constraint=constraint, seed=seed, lyapunov=True)
            stats = analysis.summary(run, tail)
            pt = res.isel(elr=j, seed=s_idx)
            # the trajectory is bit for bit the same, also in the chaotic runs (k = 3)
            np.testing.assert_array_equal(pt.final_state.values, run.final_state.values.reshape(-1))
            np.testing.assert_array_equal(pt.tail_state.values, run.tail_state.values.reshape(128, -1))
            # sums differ only in order (sequential here, pairwise in numpy)
            for key in ("mean_loss", "std_loss", "mean_cos_angle"):
                assert float(pt[key]) == pytest.approx(stats[key], rel=1e-11, abs=1e-13), key
            np.testing.assert_allclose(pt.mean_sq_norm.values, stats["mean_sq_norm"], rtol=1e-12)
            chord = 2 * np.sin(0.5 * run.angle.values[-tail:])
            assert float(pt.mean_step) == pytest.approx(chord.mean(), rel=1e-11, abs=1e-13)
            assert float(pt.lyapunov) == pytest.approx(stats["lyapunov"], rel=1e-9, abs=1e-12)
            assert int(pt.period) == stats["period"]
            assert pt.regime.item() == stats["regime"]
            sq = run.sq_norm.values[-tail:]
            c = elr * np.asarray(ALPHA) / sq
            assert float(pt.min_c) == pytest.approx(c.min(), rel=1e-14)
            assert float(pt.max_c) == pytest.approx(c.max(), rel=1e-14)


def test_generic_toy_fallback_equals_simulate():
    toy = tr.toys.rayleigh([[0, 1, 3], [0, 2]], rotate=True, seed=0)
    res = sweep(toy, elr=[0.05, 0.4], seeds=[1], steps=600, tail=200)
    assert res.attrs["kernel"] == "single_run_loop"
    for j, elr in enumerate(res.elr.values):
        stats = analysis.summary(tr.simulate(toy, elr, 600, seed=1, lyapunov=True), 200)
        pt = res.isel(elr=j, seed=0)
        assert float(pt.mean_loss) == pytest.approx(stats["mean_loss"], rel=1e-12, abs=1e-14)
        assert float(pt.lyapunov) == pytest.approx(stats["lyapunov"], rel=1e-12, abs=1e-14)
        assert pt.regime.item() == stats["regime"]


# ----------------------------------------------------------------------------- kernel == numpy twin
@pytest.mark.parametrize("individual", [False, True])
def test_kernel_equals_numpy_twin(individual):
    x0, y0, vx, vy, elr = _columns(TOY, [0, 1, 2], [0.5 / 6, 1.2 / 6, 1.6 / 6, 3.0 / 6, 8.0 / 6], individual)
    steps, tail = 700, 300
    out = batched.canonical_sweep(x0, y0, vx, vy, elr, np.array(ALPHA), steps, tail, individual, True, 128, 64,
                                  1e-3, 0.05, 4, True)
    ml, sl, mc, ma, msq, r2lo, r2hi, ly, per, stat, fx, fy, states = out
    ref = reference_batched.canonical_sweep(x0, y0, vx, vy, elr, ALPHA, steps, tail, individual)
    np.testing.assert_array_equal(fx, ref["final_x"])
    np.testing.assert_array_equal(fy, ref["final_y"])
    np.testing.assert_array_equal(states, ref["states"])
    for got, key in [(ml, "mean_loss"), (sl, "std_loss"), (mc, "mean_cos_angle"), (msq, "mean_sq_norm"),
                     (r2lo, "min_r2"), (r2hi, "max_r2"), (stat, "status")]:
        np.testing.assert_array_equal(got, ref[key], err_msg=key)
    np.testing.assert_array_equal(ma, ref["mean_step"])
    np.testing.assert_allclose(ly, ref["lyapunov"], rtol=1e-9, atol=1e-12)
    # in-kernel period detection == analysis.detect_period on the same states
    np.testing.assert_array_equal(per, ref["period"])


def test_nonfinite_is_data_not_error():
    x0, y0, vx, vy, elr = _columns(TOY, [0, 1], [0.1])
    x0[:, 1] = 0.0
    y0[:, 1] = 0.0  # a zero-norm point: F is undefined there, the run must be marked, not crash
    out = batched.canonical_sweep(x0, y0, vx, vy, elr, np.array(ALPHA), 50, 10, False, True, 20, 8, 1e-3, 0.05,
                                  256, False)
    assert out[9].tolist() == [batched.STATUS_OK, batched.STATUS_NONFINITE]
    assert np.isfinite(out[0][0]) and np.isnan(out[0][1]) and out[8][1] == 0


# ----------------------------------------------------------------------------- Lyapunov exponents
def test_lyapunov_single_group_fixed_point():
    # n = 1, total constraint: r = 1, c = elr * alpha, exponent log|1 - 2c| (SPEC section 2)
    toy = tr.toys.canonical([2.0])
    c = np.array([0.1, 0.3, 0.7, 0.9])
    res = sweep(toy, elr=c / 2.0, seeds=[0, 1], steps=2000, tail=1000)
    expected = theory.single_group_lyapunov(c)[:, None]
    np.testing.assert_allclose(res.lyapunov.values, np.broadcast_to(expected, (4, 2)), rtol=1e-9)
    assert (res.regime == "convergence").all()


def test_lyapunov_single_group_two_cycle():
    # on the 2-cycle the two-step multiplier is (1 - 2/c^2)^2: exponent per step is half its log
    toy = tr.toys.canonical([1.0])
    c = np.array([1.5, 2.0, 4.0])
    res = sweep(toy, elr=c, seeds=[0, 1], steps=2000, tail=1000)
    expected = 0.5 * np.log(theory.two_cycle_multiplier(c))[:, None]
    np.testing.assert_allclose(res.lyapunov.values, np.broadcast_to(expected, (3, 2)), rtol=1e-8)
    assert (res.period == 2).all()


def test_lyapunov_linear_decoupled_groups():
    # individual constraint: groups decouple and each sits at a fixed point with multiplier 1 - 2 c_i
    # (c_i = elr alpha_i / R_i^2 with the seed's radii), so the exponent is max_i log|1 - 2 c_i|
    toy = tr.toys.canonical([1.0, 2.0])
    seed = 4
    r2 = toy.sq_norms(toy.random_point(seed))
    elr = 0.4 / np.max(np.asarray([1.0, 2.0]) / r2)  # largest c_i = 0.4
    res = sweep(toy, elr=[elr], seeds=[seed], steps=3000, tail=1000, constraint="individual")
    c = elr * np.array([1.0, 2.0]) / r2
    assert float(res.lyapunov[0, 0]) == pytest.approx(np.max(np.log(np.abs(1 - 2 * c))), rel=1e-9)


def test_lyapunov_positive_on_chaotic_runs():
    res = sweep(TOY, k=[2.5, 3.0], seeds=4, steps=6000, tail=3000)
    assert (res.lyapunov > 0.1).all()
    assert (res.regime == "chaotic").all()


# ----------------------------------------------------------------------------- regimes of the canonical toy
def test_classification_canonical():
    res = sweep(TOY, k=[0.5, 0.9, 1.1, 1.3, 1.5, 3.0], seeds=4, steps=20_000, tail=5_000)
    reg = res.regime.values
    assert (reg[:2] == "convergence").all()
    assert (reg[2:5] == "periodic").all() and (res.period.values[2:5] == 2).all()
    assert (reg[5] == "chaotic").all() and (res.lyapunov.values[5] > 0).all()
    # on the 2-cycle the tail-averaged loss is the equilibrium loss A/2 - 1/(2 elr)
    eq = theory.equilibrium_loss(ALPHA, res.elr.values[2:5])[:, None]
    np.testing.assert_allclose(res.mean_loss.values[2:5], np.broadcast_to(eq, (3, 4)), atol=1e-4)
    # exact cycle: every c_i = k; the neutrally stable neighbours the runs settle on straddle it
    k = res.k.values[2:5, None]
    assert (res.min_c.values[2:5] < k).all() and (res.max_c.values[2:5] > k).all()


# ----------------------------------------------------------------------------- determinism
def test_results_independent_of_chunking_and_threads(monkeypatch):
    kw = dict(k=np.geomspace(0.3, 6, 7), seeds=[0, 5, 2], steps=800, tail=300, record_states=True)
    base = sweep(TOY, **kw)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        # sys.modules: ``toyregimes.sweep`` may be shadowed by the exported function of that name
        monkeypatch.setattr(sys.modules["toyregimes.sweep"], "BLOCK", 2)
        other = sweep(TOY, chunk_size=5, **kw)
    finally:
        numba.set_num_threads(old)
    for name in base.data_vars:
        np.testing.assert_array_equal(base[name].values, other[name].values, err_msg=name)


# ----------------------------------------------------------------------------- API
def test_dataset_schema_roundtrip(tmp_path):
    res = sweep(TOY, elr=[0.05, 0.3], seeds=2, steps=200, tail=50, lyapunov=False)
    assert res.sizes == {"elr": 2, "seed": 2, "group": 3}
    assert np.isnan(res.lyapunov.values).all()
    assert res.attrs["seeds"] == [0, 1] and res.attrs["lyapunov"] == 0
    back = tr.load(tr.save(res, tmp_path / "s.nc"))
    for name in res.data_vars:
        np.testing.assert_array_equal(back[name].values, res[name].values)


def test_sweep_grid_heterogeneity_and_groups(tmp_path):
    grid = sweep_grid(lambda n, h: tr.toys.canonical(canonical_alpha(n, h)), {"n": [1, 2], "h": [0.0, 1.0]},
                      k=[0.5, 2.0], seeds=2, steps=300, tail=100, lyapunov=False)
    assert grid.mean_loss.dims == ("k", "seed", "n", "h")
    assert grid.mean_sq_norm.sizes["group"] == 2
    assert np.isnan(grid.mean_sq_norm.sel(n=1).values[..., 1]).all()
    assert (grid.regime.sel(k=0.5) == "convergence").all()
    back = tr.load(tr.save(grid, tmp_path / "g.nc"))
    np.testing.assert_array_equal(back.regime.values, grid.regime.values)


def test_canonical_alpha():
    a = canonical_alpha(4, 0.7, total=6.0)
    assert a.sum() == pytest.approx(6.0) and a[-1] / a[0] == pytest.approx(np.exp(1.4))
    np.testing.assert_allclose(canonical_alpha(3, 0.0), [1, 1, 1])
    with pytest.raises(ValueError, match="heterogeneity"):
        canonical_alpha(3, -1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(elr=[-0.1]), "elr"),
        (dict(elr=[0.1], seeds=[]), "seeds"),
        (dict(elr=[0.1], steps=10, tail=20), "tail"),
        (dict(elr=[0.1], constraint="both"), "constraint"),
        (dict(), "elr and k"),
        (dict(elr=[0.1], chunk_size=0), "chunk_size"),
        (dict(elr=[0.1], seeds=[1, 1]), "seeds"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sweep(TOY, **{"steps": 10, "tail": 5, **kwargs})
