"""The sweep engine: batched kernel == simulate == numpy twin, Lyapunov exponents, regimes, determinism."""

from __future__ import annotations

import sys

import numba
import numpy as np
import pytest

import toyregimes as tr
from tests import reference_batched
from toyregimes import analysis, theory
from toyregimes.kernels import batched, periods
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
@pytest.mark.parametrize("kernel", ["exact", "fast"])
@pytest.mark.parametrize("constraint", ["total", "individual"])
def test_sweep_equals_simulate_point_by_point(constraint, kernel):
    # The fast kernel rounds differently from simulate (one reciprocal per group instead of two divisions,
    # converging components floored every 8 steps instead of every step; see toyregimes.kernels.batched), so the
    # trajectories agree to rounding where the dynamics is not chaotic, and statistically where it is (the
    # exact kernel's are simulate's bit for bit: tests/test_rayleigh_sweep.py).
    k = [0.5, 1.3, 3.0]
    seeds = [0, 3]
    steps, tail = 3000, 1000
    res = sweep(TOY, k=k, seeds=seeds, steps=steps, tail=tail, constraint=constraint, record_states=True,
                kernel=kernel)
    assert res.attrs["kernel"] == {"exact": "rayleigh_batched", "fast": "canonical_batched"}[kernel]
    for j, elr in enumerate(res.elr.values):
        for s_idx, seed in enumerate(seeds):
            run = tr.simulate(TOY, elr, steps, constraint=constraint, seed=seed, lyapunov=True, tail=tail)
            stats = analysis.summary(run)
            pt = res.isel(elr=j, seed=s_idx)
            assert int(pt.period) == stats["period"]
            assert pt.regime.item() == stats["regime"]
            if stats["lyapunov"] > 0.01:  # chaotic: rounding differences grow to order one
                assert float(pt.mean_loss) == pytest.approx(stats["mean_loss"], rel=0.05)
                assert float(pt.mean_cos_angle) == pytest.approx(stats["mean_cos_angle"], rel=0.05)
                # a finite-time exponent over 1000 steps fluctuates by ~20% between nearby trajectories
                assert float(pt.lyapunov) == pytest.approx(stats["lyapunov"], rel=0.3)
                continue
            np.testing.assert_allclose(pt.final_state.values, run.final_state.values.reshape(-1), rtol=0, atol=1e-10)
            np.testing.assert_allclose(pt.tail_state.values, run.tail_state.values.reshape(128, -1), rtol=0,
                                       atol=1e-10)
            for key in ("mean_loss", "std_loss", "mean_cos_angle"):
                assert float(pt[key]) == pytest.approx(stats[key], rel=1e-10, abs=1e-12), key
            np.testing.assert_allclose(pt.mean_sq_norm.values, stats["mean_sq_norm"], rtol=1e-10)
            chord = 2 * np.sin(0.5 * run.angle.values[-tail:])
            assert float(pt.rms_step) == pytest.approx(np.sqrt(np.mean(chord**2)), rel=1e-10, abs=1e-12)
            assert float(pt.lyapunov) == pytest.approx(stats["lyapunov"], rel=1e-9, abs=1e-12)
            sq = run.sq_norm.values[-tail:]
            c = elr * np.asarray(ALPHA) / sq
            assert float(pt.min_c) == pytest.approx(c.min(), rel=1e-10)
            assert float(pt.max_c) == pytest.approx(c.max(), rel=1e-10)


def test_generic_toy_fallback_equals_simulate():
    toy = tr.toys.rayleigh([[0, 1, 3], [0, 2]], rotate=True, seed=0)
    res = sweep(toy, elr=[0.05, 0.4], seeds=[1], steps=600, tail=200)
    assert res.attrs["kernel"] == "rayleigh_batched"
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
    ml, sl, mc, ma, msq, r2lo, r2hi, ly, per, stat, fx, fy, states, lse, lh1, lh2, rh, re = out
    ref = reference_batched.canonical_sweep(x0, y0, vx, vy, elr, ALPHA, steps, tail, individual)
    np.testing.assert_array_equal(fx, ref["final_x"])
    np.testing.assert_array_equal(fy, ref["final_y"])
    np.testing.assert_array_equal(states, ref["states"])
    for got, key in [(ml, "mean_loss"), (sl, "std_loss"), (mc, "mean_cos_angle"), (msq, "mean_sq_norm"),
                     (r2lo, "min_r2"), (r2hi, "max_r2"), (stat, "status"), (lh1, "loss_first_half"),
                     (lh2, "loss_second_half")]:
        np.testing.assert_array_equal(got, ref[key], err_msg=key)
    # the evidence of the label: block standard error (logs of products of 16 factors in the kernel,
    # one log per step in the twin) and the head / end period residuals (different summation)
    np.testing.assert_allclose(lse, ref["lyapunov_se"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rh, ref["residual_head"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(re, ref["residual_end"], rtol=1e-12, atol=1e-15)
    assert np.isfinite(re).any() and np.isfinite(lse).all()
    np.testing.assert_array_equal(ma, ref["rms_step"])
    np.testing.assert_allclose(ly, ref["lyapunov"], rtol=1e-9, atol=1e-12)
    # in-kernel period detection == analysis.detect_period on the same states
    np.testing.assert_array_equal(per, ref["period"])
    # the end residual (from the period test's distances and the kept chord sum) is block_residuals of
    # the kept states bit for bit
    window = np.ascontiguousarray(np.moveaxis(states, 0, 2))
    again = np.empty(per.size)
    periods.block_residuals(window, per, stat == 0, again)
    assert np.array_equal(re, again, equal_nan=True) and np.isfinite(re).sum() >= 3


@pytest.mark.parametrize("alpha, individual", [([1.5], False), ([1.5], True), ([0.5, 1.0, 1.5, 2.0, 2.5], False)])
def test_kernel_equals_numpy_twin_other_group_counts(alpha, individual):
    # the kernel is compiled per number of groups (alpha as a tuple); 37 trajectories in blocks of 20
    # leave partly filled lane blocks, whose padding must not leak into the results
    toy = tr.toys.canonical(alpha)
    x0, y0, vx, vy, elr = _columns(toy, list(range(37)), [1.3 / sum(alpha)], individual)
    elr = elr * np.geomspace(0.3, 6.0, elr.size)
    inputs = [a.copy() for a in (x0, y0, vx, vy, elr)]
    steps, tail, n_states = 400, 150, 40
    out = batched.canonical_sweep(x0, y0, vx, vy, elr, np.array(alpha), steps, tail, individual, True, n_states, 8,
                                  1e-3, 0.05, 20, True)
    for before, after in zip(inputs, (x0, y0, vx, vy, elr), strict=True):
        np.testing.assert_array_equal(before, after)  # inputs are not modified
    ref = reference_batched.canonical_sweep(x0, y0, vx, vy, elr, alpha, steps, tail, individual, n_states=n_states,
                                            max_period=8)
    keys = ["mean_loss", "std_loss", "mean_cos_angle", "rms_step", "mean_sq_norm", "min_r2", "max_r2", None,
            "period", "status", "final_x", "final_y", "states", None, "loss_first_half", "loss_second_half",
            None, None]
    for got, key in zip(out, keys, strict=True):
        if key is not None:
            np.testing.assert_array_equal(got, ref[key], err_msg=key)
    np.testing.assert_allclose(out[7], ref["lyapunov"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out[13], ref["lyapunov_se"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out[16], ref["residual_head"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out[17], ref["residual_end"], rtol=1e-12, atol=1e-15)
    assert len(set(out[8].tolist())) > 1  # the grid spans more than one regime


@pytest.mark.parametrize("crowded", [False, True])
def test_block_periods_equal_detect_period_rows(crowded):
    rng = np.random.default_rng(1)
    rows, n, bsz = 40, 2, 40
    if crowded:  # most lanes noisy periodic: the test of a period runs vectorised to the window's end
        lane_periods = [3, 2, 3, 0, 3, 4, 3, 3] * 5
        noise = [1e-4, 1e-5, 2e-4, 0.0, 1e-6, 1e-4, 0.0, 3e-4] * 5
    else:  # 12 assorted lanes and 28 aperiodic ones: few stay in the running, the one-by-one path ends it
        lane_periods = [1, 2, 3, 5, 7, 2, 0, 4, 1, 3, 6, 0] + [0] * 28
        noise = [0.0, 1e-6, 0.04, 1e-3, 0.0, 0.3, 0.0, 1e-4, 1e-5, 0.0, 0.01, 0.0] + [0.0] * 28
    buf = np.empty((rows, n, 2, bsz))
    t = np.arange(rows)
    for j in range(bsz):
        p = lane_periods[j]
        base = rng.standard_normal((max(p, 1), n, 2)) if p else rng.standard_normal((rows, n, 2))
        buf[:, :, :, j] = base[t % len(base)] + noise[j] * rng.standard_normal((rows, n, 2))
    buf[5, 0, 1, 11] = np.nan
    valid = np.ones(bsz, dtype=bool)
    valid[11] = False
    flat = np.moveaxis(buf, 3, 0).reshape(bsz, rows, 2 * n)
    step_max, step_sum = np.zeros(bsz), np.zeros(bsz)
    for j in range(bsz):
        for t in range(rows - 1):  # sequential, as the kernels keep them
            d2 = 0.0
            for q in range(2 * n):
                d2 += (flat[j, t + 1, q] - flat[j, t, q]) ** 2
            step_max[j] = max(step_max[j], np.sqrt(d2))
            step_sum[j] += np.sqrt(d2)
    window = buf.reshape(rows, 2 * n, bsz)
    for tol, rtol, max_period in [(1e-3, 0.05, 16), (1e-2, 0.5, 8), (1e-9, 1e-3, 20), (1e-3, 0.05, 1)]:
        out = np.empty(bsz, dtype=np.int64)
        worst = np.empty(bsz)
        periods.block_periods(window, step_max, step_sum, valid, tol, rtol, max_period, out, worst)
        expected = [periods.detect_period_rows(np.ascontiguousarray(flat[j]), tol, rtol, max_period) if valid[j]
                    else 0 for j in range(bsz)]
        assert out.tolist() == expected
        assert max_period == 1 or len(set(expected)) >= 3  # the cases are not all alike
        # the residual at the found period from the test's own distances: block_residuals' bit for bit
        res, ref = np.empty(bsz), np.empty(bsz)
        periods.residuals_at_periods(out, worst, step_sum, rows, valid, res)
        periods.block_residuals(window, out, valid, ref)
        assert np.array_equal(res, ref, equal_nan=True)
        assert max_period == 1 or np.isfinite(res).sum() >= 3  # found periods >= 2 are compared


def _residual_one_lane(rows_of_lane, p):
    """The one-lane definition, written out in the kernel's order (rows, then components)."""
    rows, dim = rows_of_lane.shape
    total = 0.0
    for t in range(rows - 1):
        d2 = 0.0
        for q in range(dim):
            d2 += (rows_of_lane[t + 1, q] - rows_of_lane[t, q]) ** 2
        total += np.sqrt(d2)
    worst = 0.0
    for t in range(rows - p):
        d2 = 0.0
        for q in range(dim):
            d2 += (rows_of_lane[t + p, q] - rows_of_lane[t, q]) ** 2
        worst = max(worst, np.sqrt(d2))
    return worst / (total / (rows - 1))


def test_block_residuals_equal_the_one_lane_definition():
    rng = np.random.default_rng(5)
    rows, dim, bsz = 30, 5, 24
    # several periods in one block (each present period is a pass of its own), lanes without a period,
    # a period the window cannot hold, and an invalid lane
    per = np.array([2, 3, 2, 0, 7, 1, 3, 29, 30, 2, 5, 4] * 2, dtype=np.int64)
    buf = rng.standard_normal((rows, dim, bsz))
    for j in range(bsz):
        if 2 <= per[j] < 20:  # periodic up to small noise; the lane labelled 29 stays aperiodic
            buf[:, :, j] = buf[np.arange(rows) % per[j], :, j] + 1e-3 * rng.standard_normal((rows, dim))
    valid = np.ones(bsz, dtype=bool)
    valid[4] = False
    out = np.empty(bsz)
    periods.block_residuals(buf, per, valid, out)
    for j in range(bsz):
        lane = np.ascontiguousarray(buf[:, :, j])
        if per[j] < 2 or per[j] >= rows or not valid[j]:
            assert np.isnan(out[j])
        else:
            assert out[j] == _residual_one_lane(lane, per[j])  # bit for bit
            np.testing.assert_allclose(out[j], analysis.relative_residual(lane, per[j]), rtol=1e-12)
    assert np.nanmax(out) > 0.3 and np.nanmin(out) < 0.01  # noisy periods and the aperiodic lane both seen


def test_sqrt_threshold_is_exact():
    rng = np.random.default_rng(2)
    for thr in np.concatenate([rng.uniform(0, 2, 200), 10.0 ** rng.uniform(-200, 150, 200), [0.0, 1.0, 4.0]]):
        lim = periods.below_sqrt_threshold(thr)
        cands = np.concatenate([[lim, np.nextafter(lim, 0), np.nextafter(lim, np.inf), thr * thr],
                                np.nextafter(thr * thr, np.inf) + np.zeros(1)])
        for d2 in cands[np.isfinite(cands) & (cands >= 0)]:
            assert (np.sqrt(d2) < thr) == (d2 < lim), (thr, d2)


def test_converging_runs_are_floored_not_frozen():
    # y_i decays geometrically; it is held at SNAP |x_i| (a normal number) instead of crossing the
    # subnormal range to exactly 0, where it could never leave a minimum that becomes unstable
    x0, y0, vx, vy, elr = _columns(TOY, [0, 1, 2, 3], [0.3 / 6, 0.6 / 6])
    out = batched.canonical_sweep(x0, y0, vx, vy, elr, np.array(ALPHA), 3000, 100, False, True, 20, 8, 1e-3, 0.05,
                                  256, True)
    states = out[12]
    y_final = np.abs(out[11])
    assert (y_final > 0).all() and (y_final < 1e-55).all()
    assert not (np.abs(states) < 1e-300).any()
    assert (out[8] == 1).all() and (np.abs(out[7]) < 1e-9).all()  # a neutral direction: the minima form a sphere


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
    # n = 1, total constraint: r = 1, c = elr * alpha, exponent log|1 - 2c| (theory)
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
@pytest.mark.parametrize("kernel", ["exact", "fast"])
def test_results_independent_of_chunking_and_threads(monkeypatch, kernel):
    kw = dict(k=np.geomspace(0.3, 6, 7), seeds=[0, 5, 2], steps=800, tail=300, record_states=True, kernel=kernel)
    base = sweep(TOY, **kw)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        # the kernel's block size, as run_chunk reads it (and the local runner's grouping of chunks)
        monkeypatch.setattr(sys.modules["toyregimes.sweep.chunks"], "BLOCK", 2)
        monkeypatch.setattr(sys.modules["toyregimes.sweep.run"], "BLOCK", 2)
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
