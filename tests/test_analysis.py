"""Period detection, Lyapunov bookkeeping and the regime criteria."""

import numpy as np
import pytest

import toyregimes as tr
from toyregimes import analysis


def test_detect_period_on_exact_sequences():
    t = np.arange(200)
    assert analysis.detect_period(np.ones((50, 3))) == 1
    assert analysis.detect_period(np.stack([np.cos(np.pi * t), np.sin(np.pi * t)], axis=1)) == 2
    three = np.stack([np.cos(2 * np.pi * t / 3), np.sin(2 * np.pi * t / 3)], axis=1)
    assert analysis.detect_period(three) == 3
    # irrational rotation: quasi-periodic, never returns
    golden = np.stack([np.cos(2 * np.pi * 0.618034 * t), np.sin(2 * np.pi * 0.618034 * t)], axis=1)
    assert analysis.detect_period(golden, max_period=20) == 0
    # too few rows to accept a period of 3
    assert analysis.detect_period(three[:5]) == 0


# Evidence of a clean period-2 orbit (a canonical 2-cycle at k = 1.5); each rule is tested by
# changing one piece of evidence away from it.
PERIODIC = {"mean_loss": 1.0, "mean_cos_angle": 0.67, "random_level": 3.0, "min_loss": 0.0, "period": 2,
            "lyapunov": 0.0, "lyapunov_se": 1e-5, "max_c": 1.5, "residual_head": 0.02, "residual_end": 0.015,
            "loss_first_half": 1.0, "loss_second_half": 1.0}
FIXED = {**PERIODIC, "mean_loss": 1e-12, "period": 1, "lyapunov": -0.2, "max_c": 0.8, "residual_head": np.nan,
         "residual_end": np.nan, "loss_first_half": 1e-12, "loss_second_half": 1e-12}


def test_decision_procedure_rule_by_rule():
    cs = analysis.classify_stats
    assert cs(**PERIODIC) == "periodic"
    assert cs(**FIXED) == "convergence"
    assert cs(**{**PERIODIC, "status": "diverged_numerically"}) == "diverged_numerically"
    assert cs(**{**PERIODIC, "mean_loss": np.nan}) == "diverged_numerically"
    # chaos wins over a periodic-looking tail once the exponent is significant (lambda - 3 se > tol) ...
    assert cs(**{**PERIODIC, "lyapunov": 0.05, "lyapunov_se": 0.01}) == "chaotic"
    # ... but not when it is within three standard errors of chaos_tol: then the evidence disagrees
    assert cs(**{**PERIODIC, "lyapunov": 0.05, "lyapunov_se": 0.02}) == "undetermined"
    # a fixed point is convergence only at a stable minimum
    assert cs(**{**FIXED, "max_c": 1.02}) == "transient"  # resting at a minimum that became unstable
    assert cs(**{**FIXED, "mean_loss": 1.5}) == "transient"  # never moved / a saddle
    assert cs(**{**FIXED, "max_c": np.nan}) == "undetermined"  # stability unknown
    # a periodic tail while every group is stable is still converging
    assert cs(**{**PERIODIC, "max_c": 0.99}) == "transient"
    # the residual must not grow, and the head must already be near the orbit
    assert cs(**{**PERIODIC, "residual_head": 0.005, "residual_end": 0.015}) == "undetermined"
    assert cs(**{**PERIODIC, "residual_head": 0.6}) == "undetermined"  # a laminar phase / late capture
    assert cs(**{**PERIODIC, "residual_head": np.nan}) == "undetermined"
    assert cs(**{**PERIODIC, "residual_head": 0.0, "residual_end": 1e-12}) == "periodic"  # rounding only
    # an exact periodic orbit is never divergence, even near the random level with decorrelated steps
    assert cs(**{**PERIODIC, "mean_loss": 2.97, "mean_cos_angle": 0.01, "loss_first_half": 2.97,
                 "loss_second_half": 2.97}) == "periodic"
    # halves of the tail that differ
    assert cs(**{**PERIODIC, "loss_second_half": 1.1}) == "undetermined"
    # no period
    aper = {**PERIODIC, "period": 0, "residual_head": np.nan, "residual_end": np.nan}
    assert cs(**aper) == "quasi_periodic"
    assert cs(**{**aper, "lyapunov": np.nan}) == "aperiodic"
    assert cs(**{**aper, "lyapunov": 0.002, "lyapunov_se": 0.001}) == "undetermined"
    assert cs(**{**aper, "loss_first_half": 0.9}) == "undetermined"
    near_random = {**aper, "mean_loss": 2.97, "mean_cos_angle": 0.01, "loss_first_half": 2.97,
                   "loss_second_half": 2.97}
    assert cs(**{**near_random, "lyapunov": 0.1}) == "divergence"
    assert cs(**{**near_random, "lyapunov": np.nan}) == "divergence"
    # loss near random but steps still correlated: not divergence
    assert cs(**{**near_random, "mean_cos_angle": 0.5, "lyapunov": 0.1}) == "chaotic"
    with pytest.raises(ValueError, match="unknown classification criteria"):
        cs(**PERIODIC, banana=1)


def test_block_exponents_and_relative_residual():
    lam, se = analysis.block_exponents(np.full(80, 0.1))
    assert lam == pytest.approx(0.1) and se == pytest.approx(0.0, abs=1e-15)
    rng = np.random.default_rng(5)
    g = 0.05 + rng.standard_normal(80_000)  # independent steps: se = 1 / sqrt(T)
    lam, se = analysis.block_exponents(g)
    assert se == pytest.approx(1 / np.sqrt(g.size), rel=0.6)
    assert abs(lam - 0.05) < 4 * se
    t = np.arange(100)
    two = np.stack([np.cos(np.pi * t), np.zeros(100)], axis=1)
    assert analysis.relative_residual(two, 2) == 0.0
    assert np.isnan(analysis.relative_residual(two, 1)) and np.isnan(analysis.relative_residual(two[:2], 2))
    wobble = two + 0.01 * np.stack([np.zeros(100), np.cos(0.3 * t)], axis=1)
    # max |x_{t+2} - x_t| = 0.01 * max |cos(0.3 (t + 2)) - cos(0.3 t)| ~ 0.0113, mean step ~ 2
    assert analysis.relative_residual(wobble, 2) == pytest.approx(0.01 * 2 * np.sin(0.3) / 2, rel=0.05)


def test_a_run_that_never_moved_is_not_convergence():
    run = tr.simulate(tr.toys.canonical([1, 2, 3]), elr=1e-12, steps=2000, seed=0, lyapunov=True)
    label, ev = tr.analysis.classify(run)
    assert label == "transient" and ev["period"] == 1
    assert ev["score"] > 0  # not scored as deep inside convergence
    res = tr.sweep(tr.toys.canonical([1, 2, 3]), elr=[1e-12], seeds=3, steps=2000, tail=500, progress=False)
    assert (res.regime.values == "transient").all() and (res.score.values > 0).all()


def test_single_group_two_cycle_at_large_c_is_periodic_not_divergence():
    # c = 60: loss alpha (1 - 1/c) / 2 is within 2% of the random level and cos angle = 1/c < 0.05, but the
    # orbit is an exact (stable, multiplier (1 - 2/c^2)^2) 2-cycle
    toy = tr.toys.canonical([2.0])
    run = tr.simulate(toy, elr=30.0, steps=20_000, seed=3, lyapunov=True)
    label, ev = tr.analysis.classify(run)
    assert (label, ev["period"]) == ("periodic", 2)
    assert ev["mean_loss"] == pytest.approx(2.0 * (1 - 1 / 60) / 2, rel=1e-5)  # theory: alpha (1 - 1/c) / 2
    res = tr.sweep(toy, elr=[30.0], seeds=4, steps=4000, tail=1000, progress=False)
    assert (res.regime.values == "periodic").all() and (res.period.values == 2).all()


@pytest.mark.parametrize(
    ("k", "label"), [(0.5, "convergence"), (0.99, "convergence"), (1.2, "periodic"), (3.0, "chaotic")]
)
def test_classify_canonical_runs(k, label):
    run = tr.simulate(tr.toys.canonical([1, 2, 3]), elr=k / 6, steps=20_000, seed=0, lyapunov=True)
    got, evidence = tr.analysis.classify(run, tail=5000)
    assert got == label, evidence
    if label == "chaotic":
        assert evidence["lyapunov"] > 0.1


def test_canonical_toy_approaches_but_never_reaches_random_level():
    # theory: no sharp divergent regime in this toy; the tail loss approaches A/2 as k grows
    alpha = [1.0, 2.0, 3.0]
    means = []
    for k in (3.0, 30.0, 300.0):
        run = tr.simulate(tr.toys.canonical(alpha), elr=k / 6, steps=20_000, seed=0)
        means.append(tr.analysis.summary(run, tail=10_000)["mean_loss"])
    assert means[0] < means[1] < means[2] < 3.0
    assert means[2] == pytest.approx(float(tr.theory.equilibrium_loss(alpha, 300 / 6)), abs=0.02 * 3)


def test_lyapunov_uses_only_the_tail_and_handles_record_every():
    toy = tr.toys.canonical([1.0])
    c = 0.3
    run = tr.simulate(toy, elr=c, steps=1000, seed=0, lyapunov=True, record_every=7)
    assert tr.analysis.lyapunov(run, tail=500) == pytest.approx(np.log(abs(1 - 2 * c)), abs=1e-9)


def test_signed_score_is_continuous_across_the_threshold_and_matches_theory():
    alpha = [1.0, 2.0, 3.0]
    scores = {}
    for k in (0.5, 0.97, 1.05, 1.5):
        run = tr.simulate(tr.toys.canonical(alpha), elr=k / 6, steps=20_000, seed=0)
        scores[k] = tr.analysis.summary(run, tail=5000)["score"]
    assert -1 < scores[0.5] < scores[0.97] < 0 < scores[1.05] < scores[1.5] < 1
    # above threshold: the fraction of the random level, 1 - 1/k on the equilibrium
    for k in (1.05, 1.5):
        assert scores[k] == pytest.approx(1 - 1 / k, abs=1e-4)
    # below: minus the stability margin, and near 0 close to the threshold
    assert abs(scores[0.97]) < 0.1


# ----------------------------------------------------------------------------- rotation number
@pytest.mark.parametrize("rho", [0.0371, 0.25, 1 / 3, 0.4917])
def test_rotation_number_of_a_linear_rotation(rho):
    t = np.arange(400)
    w = 2 * np.pi * rho
    rot = np.stack([np.cos(w * t + 0.3), np.sin(w * t + 0.3), 0.5 * np.cos(w * t)], axis=1) + 7.0  # any offset
    assert analysis.rotation_number_of_series(rot) == pytest.approx(rho, abs=1e-12)
    noisy = rot + 1e-3 * np.random.default_rng(3).standard_normal(rot.shape)
    assert analysis.rotation_number_of_series(noisy) == pytest.approx(rho, abs=2e-3)


def _near_cycle(alpha, k, eps=1e-4, seed=1):
    """A point 1e-4 away from the coupled 2-cycle phi_i = phi*, r_i^2 = alpha_i / A (theory)."""
    alpha = np.asarray(alpha, dtype=float)
    rng = np.random.default_rng(seed)
    r2 = alpha / alpha.sum() * (1 + eps * rng.standard_normal(alpha.size))
    phi = np.arccos(1 / k) / 2 + eps * rng.standard_normal(alpha.size)
    return np.stack([np.sqrt(r2) * np.cos(phi), np.sqrt(r2) * np.sin(phi)], axis=1)


@pytest.mark.parametrize(("alpha", "k"), [([1.0, 2.0, 3.0], 1.15), ([0.4, 2.2], 1.7), ([0.9, 1.1, 1.3, 2.0], 2.4),
                                          ([1.0, 2.0, 3.0], 1.1), ([1.0, 2.0, 3.0], 1.2), ([1.0, 2.0, 3.0], 1.3),
                                          ([0.3, 0.8, 1.9], 1.1), ([0.3, 0.8, 1.9], 1.2), ([0.3, 0.8, 1.9], 1.3)])
def test_measured_rotation_number_matches_the_neutral_eigenvalues(alpha, k):
    # the linear theory (cos omega = 1 - 8(k^2 - 1)/k^4) against a simulation near the 2-cycle
    run = tr.simulate(tr.toys.canonical(alpha), elr=k / sum(alpha), steps=12_000, init=_near_cycle(alpha, k),
                      sharpness=False, tail=8_000)
    assert analysis.classify(run)[0] == "periodic"
    got = analysis.rotation_number(run)
    assert got == pytest.approx(tr.theory.rotation_number(k), abs=1e-5)
    # negative control: sampling every step (the one-step map) is not what the theory describes
    assert abs(analysis.rotation_number(run, period=1) - got) > 0.01


def test_rotation_number_needs_every_step():
    run = tr.simulate(tr.toys.canonical([1.0, 2.0]), elr=0.4, steps=1000, record_every=2)
    with pytest.raises(ValueError, match="record_every=1"):
        analysis.rotation_number(run)
