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


def test_classify_stats_criteria():
    base = {"mean_loss": 1.0, "mean_cos_angle": 0.7, "random_level": 3.0, "min_loss": 0.0}
    assert analysis.classify_stats(**base, period=1) == "convergence"
    assert analysis.classify_stats(**base, period=2) == "periodic"
    assert analysis.classify_stats(**base, period=0, lyapunov=0.3) == "chaotic"
    assert analysis.classify_stats(**base, period=0, lyapunov=0.0) == "quasi_periodic"
    assert analysis.classify_stats(**base, period=0) == "aperiodic"
    assert analysis.classify_stats(**base, period=0, status="diverged_numerically") == "diverged_numerically"
    near_random = {**base, "mean_loss": 2.97, "mean_cos_angle": 0.01}
    assert analysis.classify_stats(**near_random, period=0, lyapunov=0.1) == "divergence"
    # loss near random but steps still correlated: not divergence
    assert analysis.classify_stats(**{**near_random, "mean_cos_angle": 0.5}, period=0, lyapunov=0.1) == "chaotic"


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
    # SPEC: no sharp divergent regime in this toy; the tail loss approaches A/2 as k grows
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
