"""The PGD kernel against its numpy twin, machine-precision invariants, reproducibility and I/O."""

import numpy as np
import pytest
import xarray as xr

import toyregimes as tr
from toyregimes.kernels.noise import fill_normals, run_key
from toyregimes.simulate import state_vector

from . import reference as ref

TOYS = {
    "canonical": tr.toys.canonical([1.0, 2.0, 3.0]),
    "canonical-hetero": tr.toys.canonical([0.2, 5.0]),
    "rayleigh-rotated": tr.toys.rayleigh([[0, 1, 3], [-1, 2], [0, 0.2, 0.4, 5]], rotate=True, seed=3),
}


def _twin_loss_grad(toy):
    if toy.kind == "canonical":
        alpha = np.asarray(toy.spec["alpha"])
        return lambda z: ref.canonical_loss_grad(z, alpha)
    mats = [toy.mats[i, :d, :d] for i, d in enumerate(toy.dims)]
    return lambda z: ref.rayleigh_loss_grad(z, mats)


@pytest.mark.parametrize("constraint", ["total", "individual"])
@pytest.mark.parametrize("name", list(TOYS))
def test_kernel_equals_numpy_twin_over_hundreds_of_steps(name, constraint):
    toy = TOYS[name]
    elr = 0.8 / np.sum(toy.alpha_eff)  # k = 0.8: non-trivial transient, no chaos amplification
    run = tr.simulate(toy, elr=elr, steps=400, constraint=constraint, seed=11)
    theta0 = toy.random_point(11)
    rec, final = ref.run(_twin_loss_grad(toy), theta0, elr, 400, constraint, toy.dims)
    np.testing.assert_allclose(run.loss, rec["loss"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(run.sq_norm, rec["sq_norm"], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(run.angle, rec["angle"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(run.eff_grad_norm, rec["eff_grad_norm"], rtol=1e-11, atol=1e-12)
    got_final = state_vector(toy, run.final_state.values)
    np.testing.assert_allclose(got_final, final, atol=1e-12)


@pytest.mark.parametrize("constraint", ["total", "individual"])
def test_chaotic_run_equals_twin_before_divergence_of_rounding(constraint):
    # in the chaotic regime (k = 3) rounding differences of 1e-16 grow like exp(0.37 t) on average,
    # faster in bursts: 40 steps keep them far below the tolerance
    toy = TOYS["canonical"]
    run = tr.simulate(toy, elr=0.5, steps=40, constraint=constraint, seed=2)
    rec, _ = ref.run(_twin_loss_grad(toy), toy.random_point(2), 0.5, 40, constraint, toy.dims)
    np.testing.assert_allclose(run.loss, rec["loss"], rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("constraint", ["total", "individual"])
@pytest.mark.parametrize("name", list(TOYS))
def test_iterates_stay_on_the_sphere_and_harmonic_elr_identity(name, constraint):
    toy = TOYS[name]
    run = tr.simulate(toy, elr=2.5 / np.sum(toy.alpha_eff), steps=3000, constraint=constraint, seed=4)
    np.testing.assert_allclose(run.sq_norm.sum("group"), 1.0, rtol=0, atol=1e-13)
    # sum_i 1/eta_i = 1/eta on the unit total sphere
    np.testing.assert_allclose((1.0 / run.individual_elr).sum("group") * run.attrs["elr"], 1.0, atol=1e-13)
    final = state_vector(toy, run.final_state.values)
    assert np.linalg.norm(final) == pytest.approx(1.0, abs=1e-14)
    if constraint == "individual":
        np.testing.assert_allclose(run.sq_norm, np.broadcast_to(run.sq_norm[0], run.sq_norm.shape), atol=1e-14)


@pytest.mark.parametrize("constraint", ["total", "individual"])
def test_sharpness_record_equals_toy_method(constraint):
    toy = TOYS["rayleigh-rotated"]
    run = tr.simulate(toy, elr=0.05, steps=5, constraint=constraint, seed=1)
    groups, total = toy.sharpness(toy.random_point(1), constraint)
    np.testing.assert_allclose(run.sharpness[0], groups, rtol=1e-12)
    assert float(run.total_sharpness[0]) == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize("constraint", ["total", "individual"])
@pytest.mark.parametrize("name", ["canonical", "rayleigh-rotated"])
def test_tangent_map_matches_finite_difference_jacobian(name, constraint):
    toy = TOYS[name]
    # k = 2 (chaotic under the total constraint): 30 steps, before rounding separates the two
    elr = 2.0 / np.sum(toy.alpha_eff)
    run = tr.simulate(toy, elr=elr, steps=30, constraint=constraint, seed=5, lyapunov=True)
    v0 = np.random.default_rng([5, 1]).standard_normal(toy.dim)
    want = ref.tangent_log_growth_fd(_twin_loss_grad(toy), toy.random_point(5), v0, elr, 30, constraint, toy.dims)
    np.testing.assert_allclose(run.tangent_log_growth, want, atol=1e-6)
    assert tr.analysis.lyapunov(run, tail=30) == pytest.approx(want.mean(), abs=1e-6)


def test_record_every_semantics():
    toy = TOYS["canonical"]
    full = tr.simulate(toy, elr=0.2, steps=1000, seed=3)
    sparse = tr.simulate(toy, elr=0.2, steps=1000, seed=3, record_every=7)
    np.testing.assert_array_equal(sparse.step, np.arange(0, 1000, 7))
    np.testing.assert_array_equal(sparse.loss, full.loss.sel(step=sparse.step))
    np.testing.assert_array_equal(sparse.final_state, full.final_state)
    assert full.loss[0] == toy.value(toy.random_point(3))
    np.testing.assert_array_equal(full.tail_step, np.arange(1000 - 128, 1000))


def test_lyapunov_switch_does_not_change_the_trajectory():
    toy = TOYS["canonical"]
    a = tr.simulate(toy, elr=0.5, steps=2000, seed=3)
    b = tr.simulate(toy, elr=0.5, steps=2000, seed=3, lyapunov=True)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.final_state, b.final_state)


def test_init_is_normalised_and_used():
    toy = TOYS["canonical"]
    init = np.array([[3.0, 1.0], [0.0, 2.0], [1.0, 1.0]])
    run = tr.simulate(toy, elr=0.1, steps=3, init=init)
    np.testing.assert_allclose(run.initial_state.values, init / np.linalg.norm(init), rtol=1e-15)
    assert run.attrs["init"] == "given"


def test_same_seed_same_dataset_and_different_seed_differs():
    toy = TOYS["canonical"]
    a = tr.simulate(toy, elr=0.5, steps=500, seed=9, lyapunov=True)
    b = tr.simulate(toy, elr=0.5, steps=500, seed=9, lyapunov=True)
    c = tr.simulate(toy, elr=0.5, steps=500, seed=10, lyapunov=True)
    xr.testing.assert_identical(a, b)
    assert not np.array_equal(a.loss, c.loss)


def test_attrs_hold_every_input():
    toy = TOYS["rayleigh-rotated"]
    run = tr.simulate(toy, elr=0.05, steps=10, constraint="individual", seed=4, record_every=2)
    for key, value in {"elr": 0.05, "steps": 10, "constraint": "individual", "seed": 4, "record_every": 2}.items():
        assert run.attrs[key] == value
    again = tr.toys.from_spec(run.attrs["toy"])
    np.testing.assert_array_equal(again.mats, toy.mats)


@pytest.mark.parametrize("name", list(TOYS))
def test_netcdf_round_trip_is_lossless(tmp_path, name):
    run = tr.simulate(TOYS[name], elr=0.3, steps=300, seed=1, lyapunov=True, record_every=3)
    path = tr.save(run, tmp_path / "run.nc")
    back = tr.load(path)
    xr.testing.assert_identical(back, run)
    for var in run.variables:
        assert back[var].dtype == run[var].dtype, var


def test_load_rejects_foreign_and_incomplete_files(tmp_path):
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"x": ("a", [1.0])}).to_netcdf(foreign, engine="scipy")
    with pytest.raises(ValueError, match="not a toyregimes result"):
        tr.load(foreign)
    run = tr.simulate(TOYS["canonical"], elr=0.3, steps=10)
    broken = tmp_path / "broken.nc"
    run.drop_vars("loss").to_netcdf(broken, engine="scipy")
    with pytest.raises(ValueError, match="lacks variable 'loss'"):
        tr.load(broken)
    text = tmp_path / "text.nc"
    text.write_text("not netcdf")
    with pytest.raises(ValueError, match="not a readable NetCDF"):
        tr.load(text)
    with pytest.raises(ValueError, match="no such file"):
        tr.load(tmp_path / "missing.nc")


def test_numerical_blow_up_is_data_not_a_crash():
    run = tr.simulate(TOYS["canonical"], elr=1e308, steps=50, seed=0)
    assert run.attrs["status"] == "diverged_numerically"
    assert run.attrs["diverged_at_step"] == 0
    # theta_0 is finite, only the step from it overflowed: F(theta_0) is recorded, nothing after it
    assert np.isfinite(run.loss.values[0]) and np.all(np.isnan(run.loss.values[1:]))
    label, evidence = tr.analysis.classify(run)
    assert label == "diverged_numerically"


@pytest.mark.parametrize("constraint", ["total", "individual"])
@pytest.mark.parametrize("name", ["canonical", "rayleigh-rotated"])
def test_noisy_kernel_equals_numpy_twin_with_the_same_noise(name, constraint):
    toy = TOYS[name]
    elr, sigma = 0.5 / np.sum(toy.alpha_eff), 0.7
    run = tr.simulate(toy, elr=elr, steps=300, constraint=constraint, seed=6, noise_scale=sigma)
    # simulate's noise: the counter-based numbers of the seed (tested in tests/test_noise.py)
    noise = sigma * fill_normals(run_key(6), 300, toy.dim)
    rec, final = ref.run(_twin_loss_grad(toy), toy.random_point(6), elr, 300, constraint, toy.dims, noise)
    np.testing.assert_allclose(run.loss, rec["loss"], rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(run.sq_norm, rec["sq_norm"], rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(state_vector(toy, run.final_state.values), final, atol=1e-11)
    assert run.attrs["noise_scale"] == sigma


def test_tangent_noise_is_si_consistent():
    # orthogonal to every group and with mean square sigma^2 / r_i^2 (the scaling of an SI gradient)
    from . import reference as r

    toy = TOYS["rayleigh-rotated"]
    theta = toy.random_point(0) * 3.0
    xi = np.random.default_rng(1).standard_normal((20_000, toy.dim))
    samples = np.array([r.tangent_noise(theta, x, toy.dims) for x in xi])
    for sl in r.group_slices(toy.dims):
        np.testing.assert_allclose(samples[:, sl] @ theta[sl], 0, atol=1e-12)
        ms = np.mean(np.sum(samples[:, sl] ** 2, axis=1))
        assert ms == pytest.approx(1 / (theta[sl] @ theta[sl]), rel=0.03)


def test_noise_depends_only_on_the_seed_and_rejects_bad_values():
    toy = TOYS["canonical"]
    a = tr.simulate(toy, elr=0.2, steps=200, seed=3, noise_scale=0.5)
    b = tr.simulate(toy, elr=0.2, steps=200, seed=3, noise_scale=0.5)
    xr.testing.assert_identical(a, b)
    with pytest.raises(ValueError, match="noise_scale"):
        tr.simulate(toy, elr=0.2, steps=10, noise_scale=-1.0)
    with pytest.raises(ValueError, match="lyapunov"):
        tr.simulate(toy, elr=0.2, steps=10, noise_scale=1.0, lyapunov=True)


def test_sharpness_switch_changes_only_the_sharpness_records():
    toy = TOYS["canonical"]
    a = tr.simulate(toy, elr=0.3, steps=300, seed=2)
    b = tr.simulate(toy, elr=0.3, steps=300, seed=2, sharpness=False)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.final_state, b.final_state)
    assert np.isnan(b.sharpness).all() and np.isnan(b.total_sharpness).all()
    assert np.isfinite(a.sharpness).all()
