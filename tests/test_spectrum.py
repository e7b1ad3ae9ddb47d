"""The Lyapunov spectrum (QR method): tested as the best toolkits test theirs.

The exact exponents compared with come from the derivation claims ``minimum_maximum_stability`` (a single
group's multiplier 1 - 2c), ``two_cycle`` and ``equilibrium_eigenvalues`` (the coupled 2-cycle's neutral
eigenvalues), run by ``toyregimes verify``; the regimes are those of Kodryan et al. 2022 (arXiv:2209.03695).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import null_space

import toyregimes as tr
from toyregimes import analysis
from toyregimes.kernels import pgd, spectrum


def test_qr_step_recovers_the_exponents_of_a_linear_map():
    # x -> A x with eigenvalues 2, -1.5, 0.5 (a non-normal A): exponents log 2, log 1.5, log 0.5, largest first
    rng = np.random.default_rng(4)
    basis = rng.standard_normal((3, 3))
    a = basis @ np.diag([2.0, -1.5, 0.5]) @ np.linalg.inv(basis)
    w = rng.standard_normal((3, 3))
    logs = np.zeros(3)
    steps = 3000
    for t in range(steps):
        w = a @ w
        spectrum.qr_step(w, logs, t >= 100)
    np.testing.assert_allclose(logs / (steps - 100), np.log([2.0, 1.5, 0.5]), atol=2e-3)
    # negative control: without re-orthonormalisation every column follows the largest direction
    w = rng.standard_normal((3, 3))
    for _ in range(60):
        w = a @ w
    cols = w / np.linalg.norm(w, axis=0)
    assert abs(abs(cols[:, 0] @ cols[:, 2]) - 1) < 1e-6


def _restricted_log_det(toy, elr, theta):
    """log |det| of one PGD step's Jacobian restricted to the tangent spaces (numpy, finite differences)."""

    def step(x):
        g = toy.gradient(x)
        y = x - elr * g
        return y / np.linalg.norm(y)

    h = 1e-7
    jac = np.column_stack([(step(theta + h * e) - step(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])
    nxt = step(theta)
    b0 = null_space(theta[None, :])
    b1 = null_space(nxt[None, :])
    return np.log(abs(np.linalg.det(b1.T @ jac @ b0))), nxt


@pytest.mark.parametrize("k", [3.0, 1.3])
def test_sum_of_exponents_is_the_mean_log_determinant(k):
    alpha = [0.7, 1.3, 2.9]
    toy = tr.toys.canonical(alpha)
    elr = k / sum(alpha)
    steps, transient = 1200, 600
    exps = tr.lyapunov_spectrum(toy, elr, steps, seed=5, transient=transient)
    assert exps.size == toy.dim - 1
    # the states theta_transient .. theta_{steps-1} of the same run (the single-run kernel keeps them)
    theta0 = toy.random_point(5)
    out = toy.kernels["pgd_run"](theta0, np.ones(toy.dim), elr, steps, 1, False, False, steps - transient,
                                 toy.offsets, toy.mats, pgd.no_noise(toy.dim), False, -1, pgd.no_samples(toy.mats),
                                 pgd.no_batch(), False)
    total = sum(_restricted_log_det(toy, elr, theta)[0] for theta in out[7])
    assert exps.sum() == pytest.approx(total / (steps - transient), abs=2e-4)
    assert abs(exps[:-1].sum() - total / (steps - transient)) > 1e-2  # negative control: one exponent short


def test_single_group_exponent_is_log_one_minus_two_c():
    for c in (0.1, 0.35, 0.8):
        exps = tr.lyapunov_spectrum(tr.toys.canonical([2.0]), elr=c / 2.0, steps=3000, seed=2)
        assert exps.size == 1
        assert exps[0] == pytest.approx(np.log(abs(1 - 2 * c)), abs=1e-9)


def test_individual_constraint_gives_every_group_its_own_multiplier():
    alpha = np.array([1.0, 2.0, 3.0])
    init = np.array([[1.0, 0.3], [1.0, -0.2], [1.0, 0.1]])
    elr = 0.05
    exps = tr.lyapunov_spectrum(tr.toys.canonical(alpha), elr, 4000, constraint="individual", init=init)
    r2 = (init**2).sum(axis=1) / (init**2).sum()
    c = elr * alpha / r2  # constant under the individual constraint; all < 1 here
    assert c.max() < 1
    np.testing.assert_allclose(exps, np.sort(np.log(np.abs(1 - 2 * c)))[::-1], atol=1e-9)


def test_neutral_exponents_on_the_coupled_two_cycle():
    # theory: 2n - 2 neutral eigenvalues and one (1 - 2/k^2)^2 per two steps, i.e. log|1 - 2/k^2| per step
    alpha = np.array([0.4, 1.0, 2.2])
    k = 1.27
    rng = np.random.default_rng(8)
    r2 = alpha / alpha.sum() * (1 + 1e-5 * rng.standard_normal(3))
    phi = np.arccos(1 / k) / 2 + 1e-5 * rng.standard_normal(3)
    init = np.stack([np.sqrt(r2) * np.cos(phi), np.sqrt(r2) * np.sin(phi)], axis=1)
    exps = tr.lyapunov_spectrum(tr.toys.canonical(alpha), k / alpha.sum(), 20_000, init=init)
    assert np.abs(exps[:4]).max() < 2e-3
    assert exps[4] == pytest.approx(np.log(abs(1 - 2 / k**2)), abs=1e-3)


def test_largest_exponent_agrees_with_the_single_vector_estimate():
    toy = tr.toys.canonical([1.0, 2.0, 3.0])
    elr, steps = 0.5, 6000
    run = tr.simulate(toy, elr, steps, seed=3, lyapunov=True, sharpness=False)
    single = analysis.lyapunov(run, tail=steps // 2)
    exps = tr.lyapunov_spectrum(toy, elr, steps, seed=3, n_exponents=2)
    assert single > 0.1
    assert exps[0] == pytest.approx(single, rel=1e-6)


def test_bad_input():
    toy = tr.toys.canonical([1.0, 2.0])
    with pytest.raises(ValueError, match="n_exponents must be <= 3"):
        tr.lyapunov_spectrum(toy, 0.1, 100, n_exponents=4)
    with pytest.raises(ValueError, match="transient must be < steps"):
        tr.lyapunov_spectrum(toy, 0.1, 100, transient=100)
    with pytest.raises(ValueError, match="elr"):
        tr.lyapunov_spectrum(toy, -0.1, 100)


@pytest.mark.parametrize("toy", [tr.toys.canonical([1.0, 2.0, 3.0]), tr.toys.rayleigh([[0, 1, 3], [0, 2]], rotate=True,
                                                                                         seed=0)])
def test_sweep_spectrum_equals_lyapunov_spectrum_bit_for_bit_in_any_chunking(toy):
    elr = np.array([0.15, 0.6]) if toy.kind == "canonical" else np.array([0.1, 0.3])
    steps, tail, seeds = 1500, 500, [0, 3, 7]
    res = tr.sweep(toy, elr=elr, seeds=seeds, steps=steps, tail=tail, n_exponents=2, progress=False)
    again = tr.sweep(toy, elr=elr, seeds=seeds, steps=steps, tail=tail, n_exponents=2, progress=False, chunk_size=2)
    np.testing.assert_array_equal(res.lyapunov_spectrum.values, again.lyapunov_spectrum.values)
    assert res.lyapunov_spectrum.dims == ("elr", "seed", "exponent")
    for i, e in enumerate(elr):
        for j, s in enumerate(seeds):
            ref = tr.lyapunov_spectrum(toy, e, steps, seed=s, n_exponents=2, transient=steps - tail)
            np.testing.assert_array_equal(res.lyapunov_spectrum.values[i, j], ref)
    assert "lyapunov_spectrum" not in tr.sweep(toy, elr=elr[:1], seeds=1, steps=50, tail=10, progress=False)
    with pytest.raises(ValueError, match="n_exponents must be <="):
        tr.sweep(toy, elr=elr, seeds=1, steps=50, tail=10, n_exponents=toy.dim)


def test_sweep_spectrum_of_a_user_toy_equals_lyapunov_spectrum():
    # the user-toy path (a specialised, uncached spectrum loop, built once per toy) gives the same numbers
    toy = tr.toys.from_expression("a*y**2/(x**2+y**2) + b*v**2/(u**2+v**2)", [["x", "y"], ["u", "v"]],
                                  {"a": 1.0, "b": 2.5})
    res = tr.sweep(toy, elr=[0.2, 0.5], seeds=[1], steps=600, tail=200, n_exponents=2, progress=False)
    for i, e in enumerate([0.2, 0.5]):
        np.testing.assert_array_equal(res.lyapunov_spectrum.values[i, 0],
                                      tr.lyapunov_spectrum(toy, e, 600, seed=1, n_exponents=2, transient=400))
    assert "spectrum" in toy.kernels  # compiled once and kept with the toy
