"""The batched kernel of the Rayleigh family: == its numpy twin, == ``simulate``, == the single-run path."""

from __future__ import annotations

import numpy as np
import pytest

import toyregimes as tr
from tests import reference_rayleigh_batched, reference_user_chunk
from toyregimes.kernels import periods, pgd, rayleigh_batched
from toyregimes.sweep import chunks
from toyregimes.sweep.assemble import assemble
from toyregimes.sweep.plan import _initial, make_plan


def _toy(d, n, rotate, seed=0):
    """Groups in R^d with spectra 0 .. a_i spread over d values (a_i = 1, 2, 3, ...)."""
    spectra = [list(np.linspace(0.0, float(i + 1), d) ** 1.5) for i in range(n)]
    return tr.toys.rayleigh(spectra, rotate=rotate, seed=seed if rotate else None)


CASES = [(d, n, rot) for d in (2, 3, 8) for n in (1, 3) for rot in (False, True)]
# elr in units of the threshold 1 / sum(alpha_eff): converged, periodic and chaotic regions
K = np.array([0.4, 0.9, 1.3, 1.6, 2.4])


def _kernel(toy, k, seeds, steps, tail, individual, lyapunov=True, n_states=32, max_period=16):
    theta, tang = _initial(toy, seeds, individual)
    elr = np.repeat(k / np.sum(toy.alpha_eff), len(seeds))
    th = np.ascontiguousarray(np.tile(theta, (1, k.size)))
    tv = np.ascontiguousarray(np.tile(tang, (1, k.size)))
    out = rayleigh_batched.rayleigh_sweep(th, tv, elr, toy.offsets, toy.mats, steps, tail, individual, lyapunov,
                                          n_states, max_period, 1e-3, 0.05, 256, True)
    return th, tv, elr, out


@pytest.mark.parametrize("d,n,rotate", CASES)
def test_kernel_equals_numpy_twin(d, n, rotate):
    toy = _toy(d, n, rotate)
    seen = set()
    # groups in R^2 take a one-pass path without the tangent map: both paths, both constraints
    for individual, lyapunov in ((False, True), (True, False), (False, False), (True, True)):
        th, tv, elr, out = _kernel(toy, K, [0, 1], 300, 100, individual, lyapunov)
        ref = reference_rayleigh_batched.rayleigh_sweep(th, tv, elr, toy.offsets, toy.mats, 300, 100, individual,
                                                        lyapunov, 32, 16)
        assert np.array_equal(out[10], ref["final"], equal_nan=True)  # states: bit for bit
        assert np.array_equal(out[11], np.moveaxis(ref["states"], 2, 0), equal_nan=True)
        assert np.array_equal(out[5], ref["min_r2"].reshape(out[5].shape), equal_nan=True)
        assert np.array_equal(out[6], ref["max_r2"].reshape(out[6].shape), equal_nan=True)
        assert np.array_equal(out[8], ref["period"]) and np.array_equal(out[9], ref["status"])
        for pos, name in [(0, "mean_loss"), (1, "std_loss"), (2, "mean_cos_angle"), (3, "rms_step"),
                          (4, "mean_sq_norm"), (13, "loss_first_half"), (14, "loss_second_half"),
                          (15, "residual_head"), (16, "residual_end")]:
            np.testing.assert_allclose(out[pos], ref[name].reshape(out[pos].shape), rtol=1e-11, atol=1e-13,
                                       err_msg=name)
        # the tangent map: closed form (kernel) against the explicit Hessian (twin)
        np.testing.assert_allclose(out[7], ref["lyapunov"], rtol=0, atol=1e-9)
        assert np.isnan(out[7]).all() != lyapunov
        np.testing.assert_allclose(out[12], ref["lyapunov_se"], rtol=1e-6, atol=1e-12)
        seen |= set(out[8].tolist())
    assert len(seen) > 1  # the cases are not all alike


@pytest.mark.parametrize("d", [2, 3, 8])
def test_end_residual_is_block_residuals_of_the_kept_states(d):
    """The end window's residual comes from the period test's distances and the kept chord sum."""
    toy = _toy(d, 3, True, seed=4)
    k = np.array([1.05, 1.3, 1.5, 1.7, 1.9])  # cycles of several periods, and chaos
    *_, out = _kernel(toy, k, [0, 1, 2, 3], 900, 300, False, lyapunov=False, n_states=64, max_period=32)
    again = np.empty(out[8].size)
    periods.block_residuals(np.ascontiguousarray(np.moveaxis(out[11], 0, 2)), out[8], out[9] == 0, again)
    assert np.array_equal(out[16], again, equal_nan=True)
    assert np.isfinite(again).sum() >= 3 and np.isnan(again).sum() >= 1  # periodic and aperiodic lanes


@pytest.mark.parametrize("steps,tail,n_states", [(61, 40, 32), (40, 10, 40), (301, 100, 32), (33, 33, 16)])
def test_kept_windows_in_any_arrangement_equal_the_twin(steps, tail, n_states):
    # the step writes the states to keep straight into the kept windows: overlapping windows of the tail
    # head and end, a window starting at step 0, an odd number of steps (the final state in the other
    # buffer) and a tail that is the whole run
    toy = _toy(3, 3, True)
    for individual in (False, True):
        th, tv, elr, out = _kernel(toy, K, [0, 1], steps, tail, individual, True, n_states, n_states // 2)
        ref = reference_rayleigh_batched.rayleigh_sweep(th, tv, elr, toy.offsets, toy.mats, steps, tail, individual,
                                                        True, n_states, n_states // 2)
        assert np.array_equal(out[10], ref["final"], equal_nan=True)
        assert np.array_equal(out[11], np.moveaxis(ref["states"], 2, 0), equal_nan=True)
        assert np.array_equal(out[8], ref["period"])
        for pos, name in [(15, "residual_head"), (16, "residual_end"), (0, "mean_loss"), (3, "rms_step")]:
            np.testing.assert_allclose(out[pos], ref[name].reshape(out[pos].shape), rtol=1e-11, atol=1e-13,
                                       err_msg=name)
        assert np.isfinite(out[15]).any() or np.isnan(ref["residual_head"]).all()


def test_final_state_does_not_depend_on_the_kept_windows():
    # without kept states the final state ends in either of the two step buffers (odd or even step counts)
    toy = _toy(3, 3, True)
    for steps in (31, 32):
        finals = [_kernel(toy, K, [0, 1], steps, 10, False, True, n_states, n_states // 2)[3][10]
                  for n_states in (0, 1, 2, 16)]
        assert all(np.array_equal(f, finals[-1]) for f in finals)


@pytest.mark.parametrize("d,n,rotate", CASES)
@pytest.mark.parametrize("constraint", ["total", "individual"])
def test_kernel_equals_simulate(d, n, rotate, constraint):
    # the kernel performs simulate's operations in simulate's order: the trajectories agree bit for bit,
    # chaotic or not (the issue asks for 1e-10 on converged runs); statistics agree to rounding
    toy = _toy(d, n, rotate, seed=4)
    seeds = [3, 5]
    # without the tangent map on rotated toys (groups in R^2 then take the one-pass path), with it otherwise
    _, _, elr, out = _kernel(toy, K, seeds, 600, 200, constraint == "individual", lyapunov=not rotate)
    for c in range(elr.size):
        run = tr.simulate(toy, elr=elr[c], steps=600, seed=seeds[c % 2], constraint=constraint, sharpness=False)
        assert np.array_equal(toy.from_rows(run["final_state"].values), out[10][:, c])
        tail = run.isel(step=slice(400, None))
        np.testing.assert_allclose(out[0][c], float(tail.loss.mean()), rtol=1e-12)
        np.testing.assert_allclose(out[4][:, c], tail.sq_norm.mean("step").values, rtol=1e-12)
        np.testing.assert_allclose(out[2][c], float(np.cos(tail.angle).mean()), rtol=1e-10, atol=1e-12)


def _both_paths(toy, k, seeds, steps, tail, constraint="total"):
    """The sweep of a plan through the batched kernel and through the single-run kernel (the old path)."""
    plan = make_plan(toy, k=k, seeds=seeds, steps=steps, tail=tail, constraint=constraint, chunk_size=10**6)
    a = plan.arrays
    assert a["rayleigh_kernels"] and not a["fast"]
    idx = np.arange(plan.n_points)
    e = a["elr"][idx // len(seeds)]
    gen = reference_user_chunk.generic_chunk(toy, e, a["theta0"][:, idx % len(seeds)], a["tang0"][:, idx % len(seeds)],
                                             steps, tail, a["individual"], True, a["n_states"], a["opts"], pgd.pgd_run)
    del gen["states"], gen["final"]
    fast = chunks.run_chunk(a, 0, plan.n_points)
    gen["sharpness_c"] = fast["sharpness_c"]  # not used by labels of toys with alpha_eff
    return gen, fast, assemble(plan, [gen]), assemble(plan, [fast])


@pytest.mark.parametrize("d,n,rotate,constraint", [(2, 3, True, "total"), (3, 1, False, "total"),
                                                    (8, 3, True, "individual")])
def test_labels_equal_single_run_path(d, n, rotate, constraint):
    toy = _toy(d, n, rotate, seed=7)
    k = np.array([0.3, 0.8, 1.2, 1.5, 1.9, 2.6])
    gen, fast, ds_gen, ds_fast = _both_paths(toy, k, [0, 1, 2], 2000, 500, constraint)
    for name in ("mean_loss", "mean_cos_angle", "lyapunov", "lyapunov_se", "residual_head", "residual_end",
                 "loss_first_half", "loss_second_half"):
        np.testing.assert_allclose(fast[name], gen[name], rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(fast["period"], gen["period"])
    # identical trajectories: the labels agree everywhere, chaotic points included
    np.testing.assert_array_equal(ds_fast.regime.values, ds_gen.regime.values)
    assert len(set(ds_fast.regime.values.ravel().tolist())) >= 2  # more than one regime in the test


def test_sweep_of_rotated_toy_uses_the_batched_kernel(monkeypatch):
    # negative control of the dispatch: with the batched kernel disabled the sweep fails
    toy = _toy(3, 2, True)
    def broken(*args, **kwargs):
        raise RuntimeError("batched kernel called")
    monkeypatch.setattr(rayleigh_batched, "rayleigh_sweep", broken)
    with pytest.raises(RuntimeError, match="batched kernel called"):
        tr.sweep(toy, k=[0.5], seeds=1, steps=50, tail=10, progress=False)


def test_results_independent_of_chunking_and_threads():
    import numba

    toy = _toy(3, 3, True, seed=2)
    k = np.linspace(0.3, 2.8, 9)
    a = tr.sweep(toy, k=k, seeds=5, steps=800, tail=200, chunk_size=7, progress=False)
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        b = tr.sweep(toy, k=k, seeds=5, steps=800, tail=200, chunk_size=1000, progress=False)
    finally:
        numba.set_num_threads(old)
    for name in ("mean_loss", "lyapunov", "period", "regime", "mean_sq_norm"):
        assert np.array_equal(a[name].values, b[name].values), name


def test_divergence_is_data_not_error():
    toy = _toy(2, 2, True)
    theta, tang = _initial(toy, [0, 1], False)
    theta[:, 1] = np.nan
    out = rayleigh_batched.rayleigh_sweep(theta, tang, np.array([0.1, 0.1]), toy.offsets, toy.mats, 100, 20, False,
                                          True, 16, 8, 1e-3, 0.05, 256, False)
    assert out[9].tolist() == [0, 1]
    assert np.isfinite(out[0][0]) and np.isnan(out[0][1]) and np.isnan(out[10][:, 1]).all()


def test_exact_kernel_is_the_default_for_the_canonical_toy(monkeypatch):
    # the default kernel="exact" runs the canonical toy through the Rayleigh kernel: simulate's trajectories
    # bit for bit, the fast kernel's labels where they are not chaotic, and never the per-n canonical kernel
    from toyregimes.kernels import batched

    toy = tr.toys.canonical([0.7, 1.9, 2.4])
    k = np.array([0.5, 0.9, 1.3, 1.6, 3.0])
    fast = tr.sweep(toy, k=k, seeds=4, steps=3000, tail=1000, record_states=True, progress=False, kernel="fast")

    def broken(*args, **kwargs):
        raise RuntimeError("canonical kernel called")

    monkeypatch.setattr(batched, "canonical_sweep", broken)
    exact = tr.sweep(toy, k=k, seeds=4, steps=3000, tail=1000, record_states=True, progress=False)
    assert exact.attrs["kernel"] == "rayleigh_batched" and fast.attrs["kernel"] == "canonical_batched"
    for i, e in enumerate(exact.elr.values):
        for s in range(4):
            run = tr.simulate(toy, elr=e, steps=3000, seed=s, sharpness=False)
            assert np.array_equal(run["final_state"].values.ravel(), exact.final_state.values[i, s])
    calm = fast.regime.values != "chaotic"
    assert calm.sum() >= 12
    np.testing.assert_array_equal(exact.regime.values[calm], fast.regime.values[calm])
    with pytest.raises(ValueError, match="kernel"):
        tr.sweep(toy, k=k, seeds=1, steps=10, tail=5, kernel="slow")


def test_grid_over_the_number_of_groups_uses_one_kernel():
    grid = tr.sweep_grid(lambda n: tr.toys.canonical(tr.canonical_alpha(n, 0.5)), {"n": [2, 3]}, k=[0.6, 2.0],
                         seeds=2, steps=200, tail=50)
    assert grid.attrs["kernel"] == "rayleigh_batched"
    fast = tr.sweep_grid(lambda h: tr.toys.canonical(tr.canonical_alpha(3, h)), {"h": [0.0, 0.5]}, k=[0.6, 2.0],
                         seeds=2, steps=200, tail=50, kernel="fast")
    assert fast.attrs["kernel"] == "canonical_batched"


@pytest.mark.parametrize("toy", [tr.toys.rayleigh([[0, 1, 3], [0, 2], [0.5, 4]], rotate=True, seed=5),
                                 tr.toys.canonical([0.8, 2.2])], ids=["rotated", "canonical"])
def test_noisy_sweep_points_are_simulate_runs(toy):
    # SI gradient noise from counter-based numbers: each point is simulate(seed=s, noise_scale=) bit for bit,
    # whatever the chunking; labels never claim a period
    kw = dict(elr=[0.05, 0.3, 1.1], seeds=[2, 9], steps=400, tail=150, lyapunov=False, noise_scale=0.4,
              record_states=True, progress=False)
    res = tr.sweep(toy, **kw)
    assert np.array_equal(res.final_state.values, tr.sweep(toy, chunk_size=1, **kw).final_state.values)
    for i, e in enumerate(res.elr.values):
        for s, seed in enumerate([2, 9]):
            run = tr.simulate(toy, elr=e, steps=400, seed=seed, noise_scale=0.4, sharpness=False)
            assert np.array_equal(toy.from_rows(run["final_state"].values), res.final_state.values[i, s])
            np.testing.assert_allclose(res.mean_loss.values[i, s], float(run.loss[250:].mean()), rtol=1e-12)
    assert (res.period.values == 0).all()
    quiet = tr.sweep(toy, **{**kw, "noise_scale": 0.0})
    assert not np.array_equal(quiet.final_state.values, res.final_state.values)  # the noise is really there
    with pytest.raises(ValueError, match="lyapunov"):
        tr.sweep(toy, **{**kw, "lyapunov": True})
