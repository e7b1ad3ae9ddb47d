"""Tier 1: the canonical toy against the exact theory (Kodryan et al. 2022).

Expected values come from ``toyregimes.theory`` (closed forms), never from a simulation.
"""

import numpy as np
import pytest

import toyregimes as tr
from toyregimes import theory

ALPHAS = [[1.0, 2.0, 3.0], [1.0, 1.0], [0.5, 2.0, 4.0, 1.0], [3.0, 1.0], [0.3, 0.7, 1.1, 2.9, 5.0]]


def _tail(run, n=2000):
    return run.isel(step=slice(-n, None))


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("k", [0.3, 0.7, 0.95])
def test_below_threshold_loss_goes_to_zero_and_every_c_below_one(alpha, k):
    toy = tr.toys.canonical(alpha)
    elr = k * theory.threshold(alpha)
    run = tr.simulate(toy, elr=elr, steps=20_000, seed=2)
    assert float(run.loss[-1]) < 1e-12
    c = elr * np.asarray(alpha) / run.sq_norm.values[-1]
    assert np.all(c < 1.0)
    # converged: the last step barely moves
    assert float(run.angle[-1]) < 1e-6


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("k", [1.05, 1.2, 1.5])
def test_just_above_threshold_settles_on_the_coupled_two_cycle(alpha, k):
    """The coupled two-cycle attracts; it need not attract every start.

    Other attractors coexist with it: with five groups (0.3, 0.7, 1.1, 2.9, 5.0) at k = 1.2, three of
    seeds 1-8 settle on a period-6 orbit (loss 0.8308 against the cycle's 0.8333, c_1 = 1.23 while the
    other c_i = 1.2); with (1, 1) at k = 1.5, seeds 4 and 5 of 1-5 stay aperiodic (loss 0.307).  Which
    seeds reach the cycle changes with the rounding of the step.  So: each seed whose tail loss is the
    cycle's matches every closed form of the cycle and has period 2, and at least one of five seeds
    gets there.
    """
    toy = tr.toys.canonical(alpha)
    elr = k * theory.threshold(alpha)
    a = float(np.sum(alpha))
    loss_eq = float(theory.equilibrium_loss(alpha, elr))
    on_cycle = 0
    for seed in range(1, 6):
        run = tr.simulate(toy, elr=elr, steps=20_000, seed=seed)
        tail = _tail(run)
        # four or more digits, relative to the loss scale A and to unit norms/cosines
        if float(tail.loss.mean()) != pytest.approx(loss_eq, abs=1e-4 * a):
            continue
        on_cycle += 1
        np.testing.assert_allclose(tail.sq_norm.mean("step"), theory.equilibrium_sq_norms(alpha), atol=1e-4)
        cos = float(np.cos(tail.angle).mean())
        assert cos == pytest.approx(float(theory.equilibrium_cos_angle(alpha, elr)), abs=1e-4)
        grad = float(tail.eff_grad_norm.mean())
        assert grad == pytest.approx(float(theory.equilibrium_grad_norm(alpha, elr)), rel=1e-3)
        assert tr.analysis.classify(run, tail=5000)[1]["period"] == 2
    assert on_cycle >= 1


@pytest.mark.parametrize("constraint", ["total", "individual"])
def test_exact_one_step_map(constraint):
    alpha = np.array([1.0, 2.0, 3.0])
    toy = tr.toys.canonical(alpha)
    for seed in range(5):
        theta = toy.random_point(seed)
        run = tr.simulate(toy, elr=0.37, steps=1, seed=seed, constraint=constraint)
        th = theta.reshape(-1, 2)
        phi = np.arctan2(th[:, 1], th[:, 0])
        r2 = np.sum(th**2, axis=1)
        phi_next, r2_next, s = theory.canonical_step(phi, r2, alpha, 0.37)
        final = run.final_state.values
        got_phi = np.arctan2(final[:, 1], final[:, 0])
        np.testing.assert_allclose(np.angle(np.exp(1j * (got_phi - phi_next))), 0, atol=1e-12)
        if constraint == "total":
            np.testing.assert_allclose(np.sum(final**2, axis=1), r2_next, rtol=1e-12)
            assert np.cos(float(run.angle[0])) == pytest.approx(1 / np.sqrt(s), rel=1e-12)


@pytest.mark.parametrize("c", [1.3, 1.6, 2.5])
def test_single_group_two_cycle(c):
    toy = tr.toys.canonical([2.0])
    run = tr.simulate(toy, elr=c / 2.0, steps=3000, seed=0)
    final = run.final_state.values[0]
    phi = np.arctan2(final[1], final[0])
    # the cycle is +-phi* (mod pi)
    folded = abs(np.angle(np.exp(2j * phi))) / 2
    assert folded == pytest.approx(float(theory.two_cycle_angle(c)), abs=1e-10)
    assert float(run.loss[-1]) == pytest.approx(float(theory.two_cycle_loss(2.0, c)), abs=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_individual_constraint_limit_loss(seed):
    # Hold the group norms so that c_i = elr alpha_i / r_i^2 takes chosen values on both sides of 1,
    # away from c = 1 and from large c, where the single-group maps converge slowly.
    alpha = np.array([1.0, 2.0, 3.0, 0.5])
    c = np.array([0.5, np.sqrt(2.0), 0.3, 1.7])
    r2 = (alpha / c) / np.sum(alpha / c)
    elr = 1.0 / np.sum(alpha / c)
    phi = np.random.default_rng(seed).uniform(-np.pi, np.pi, alpha.size)
    init = np.sqrt(r2)[:, None] * np.stack([np.cos(phi), np.sin(phi)], axis=1)
    toy = tr.toys.canonical(alpha)
    run = tr.simulate(toy, elr=elr, steps=3000, constraint="individual", init=init)
    np.testing.assert_allclose(elr * alpha / run.sq_norm.values[-1], c, rtol=1e-12)
    assert float(run.loss[-1]) == pytest.approx(theory.individual_limit_loss(alpha, elr, r2), abs=1e-10)


@pytest.mark.parametrize("c", [0.1, 0.3, 0.7, 0.9])
def test_single_group_lyapunov_is_log_one_minus_two_c(c):
    run = tr.simulate(tr.toys.canonical([1.0]), elr=c, steps=2000, seed=0, lyapunov=True)
    assert tr.analysis.lyapunov(run, tail=1000) == pytest.approx(float(theory.single_group_lyapunov(c)), abs=1e-9)


def test_converged_total_constraint_run_has_zero_exponent_from_neutral_norm_exchange():
    run = tr.simulate(tr.toys.canonical([1.0, 2.0, 3.0]), elr=0.5 / 6, steps=5000, seed=0, lyapunov=True)
    assert tr.analysis.lyapunov(run, tail=2000) == pytest.approx(0.0, abs=1e-9)


def test_chaotic_k3_statistics_match_spec_reference_loosely():
    # theory: k = 3 for alpha = (1,2,3): mean F ~ 2.0 +- 0.03 (A/2 - 1/(2 elr)), std F ~ 0.6, exponent > 0.
    alpha = [1.0, 2.0, 3.0]
    run = tr.simulate(tr.toys.canonical(alpha), elr=0.5, steps=60_000, seed=0, lyapunov=True)
    label, ev = tr.analysis.classify(run, tail=50_000)
    assert label == "chaotic" and ev["lyapunov"] > 0.1
    assert ev["mean_loss"] == pytest.approx(float(theory.equilibrium_loss(alpha, 0.5)), abs=0.015 * 6)
    assert 0.4 < ev["std_loss"] < 0.8


def test_theory_identities():
    alpha = np.array([1.0, 2.0, 3.0])
    r2 = np.array([0.2, 0.3, 0.5])
    assert theory.harmonic_total_elr(theory.individual_elr(0.1, r2)) == pytest.approx(0.1)
    elr = 1.5 / 6
    # S = 1 + elr^2 |grad|^2 = k^2 on the equilibrium
    s = 1 + elr**2 * theory.equilibrium_grad_norm(alpha, elr) ** 2
    assert s == pytest.approx(float(theory.equilibrium_step_norm_growth(alpha, elr)))


def test_equilibrium_eigenvalues_match_the_linearised_two_step_map():
    # Independent check: finite differences of the exact two-step map (theory.canonical_step) at the
    # equilibrium, in coordinates (phi_1..phi_n, r_1^2..r_{n-1}^2).
    alpha = np.array([1.0, 2.0, 3.0])
    k = 1.3
    elr = k / alpha.sum()
    r2 = alpha / alpha.sum()
    phi_star = 0.5 * np.arccos(1 / k)  # c_i = k for every group on the equilibrium

    def two_steps(z):
        phi, q = z[:3], np.append(z[3:], 1 - z[3:].sum())
        for _ in range(2):
            phi, q, _s = theory.canonical_step(phi, q, alpha, elr)
        return np.concatenate([phi, q[:2]])

    z0 = np.concatenate([np.full(3, phi_star), r2[:2]])
    np.testing.assert_allclose(two_steps(z0), z0, atol=1e-12)  # it is a fixed point of the two-step map
    h = 1e-6
    jac = np.stack([(two_steps(z0 + h * e) - two_steps(z0 - h * e)) / (2 * h) for e in np.eye(5)], axis=1)
    eig = np.linalg.eigvals(jac)
    lam_real, lam_pair = theory.equilibrium_eigenvalues(k, 3)
    assert np.min(np.abs(eig - lam_real)) < 1e-6
    on_circle = eig[np.argsort(np.abs(np.abs(eig) - 1))[:4]]
    np.testing.assert_allclose(np.abs(on_circle), 1, atol=1e-6)
    np.testing.assert_allclose(on_circle.real, lam_pair.real, atol=1e-6)
    assert theory.equilibrium_eigenvalues(k, 1)[1] is None
    with pytest.raises(ValueError, match="k must be > 1"):
        theory.equilibrium_eigenvalues(0.9, 3)


# ----------------------------------------------------------------------------- route to chaos
def test_rotation_number_and_resonances_are_inverse_and_hit_spec_values():
    # two different closed forms (arccos of the eigenvalue's real part; sqrt of 2/(1 +- cos(pi p/q))) must agree;
    # their agreement with the spectrum of the two-step map itself is the derivation claim "resonances"
    for p, q in [(1, 3), (1, 4), (2, 5), (3, 7), (1, 10)]:
        lo, hi = tr.theory.resonance_k(p, q)
        assert 1 < lo < np.sqrt(2) < hi
        assert tr.theory.rotation_number([lo, hi]) == pytest.approx([p / q, p / q], abs=1e-12)
    assert tr.theory.resonance_k(1, 2) == pytest.approx((np.sqrt(2),), abs=1e-12)
    assert len(tr.theory.resonance_k(2, 4)) == 1
    assert tr.theory.resonance_k(1, 3) == pytest.approx((2 / np.sqrt(3), 2.0), abs=1e-12)
    assert tr.theory.rotation_number(1.0) == 0.0
    assert tr.theory.rotation_number(np.sqrt(2)) == pytest.approx(0.5, abs=1e-12)
    k = np.geomspace(1.0, 1e3, 200)
    rho = tr.theory.rotation_number(k)
    assert np.all(np.diff(rho[k < np.sqrt(2)]) > 0) and np.all(np.diff(rho[k > np.sqrt(2)]) < 0)
    assert rho[-1] < 1e-3


@pytest.mark.parametrize(("p", "q"), [(0, 3), (2, 3), (1, 1), (1.0, 3), (True, 3), (1, "4")])
def test_resonance_k_rejects_bad_input(p, q):
    with pytest.raises(ValueError):
        tr.theory.resonance_k(p, q)


def test_rotation_number_rejects_k_below_threshold():
    with pytest.raises(ValueError, match="k must be >= 1"):
        tr.theory.rotation_number([1.5, 0.9])
