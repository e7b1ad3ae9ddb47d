"""What a regime label promises, checked on runs, not on the rule's own numbers.

The k values of the stability test were chosen at least 0.05 away from the boundaries measured by
``benchmarks/validate_labels.py`` (k = 1 and the mixed band 1.75-1.92 for alpha = (1, 2, 3); k = 1,
1.27 and 1.73-1.75 for alpha = (0.3, 0.5, 1.0, 4.2)); the seeds are not those of that study nor of
the calibration (0..31).
"""

from __future__ import annotations

import numpy as np
import pytest

import toyregimes as tr
from toyregimes import analysis

HETEROGENEOUS = [0.01, 0.3, 1.0]  # smallest alpha_i = 1% of the largest


def _final_c(res, alpha):
    """``c_i = elr alpha_i / r_i^2`` at the final state of every run, from the recorded states."""
    final = res.final_state.values  # (elr, seed, component)
    r2 = final[..., 0::2] ** 2 + final[..., 1::2] ** 2
    return res.elr.values[:, None, None] * np.asarray(alpha)[None, None, :] / r2


def test_no_convergence_above_threshold_with_heterogeneous_alpha():
    # Just above k = 1 no split stabilises every group (Kodryan et al. 2022); the small-alpha group used to be
    # frozen at y = 0 by the kernel's snap and the run called converged although c_i > 1.
    ks = [1.001, 1.002, 1.004, 1.01]
    res = tr.sweep(tr.toys.canonical(HETEROGENEOUS), k=ks, seeds=64, steps=20_000, tail=5_000, progress=False,
                   record_states=True)
    assert not (res.regime.values == "convergence").any()
    assert (_final_c(res, HETEROGENEOUS).max(axis=-1) > 1).all()  # some group above its threshold: theory


def test_simulate_and_sweep_agree_on_the_label_near_the_threshold():
    toy = tr.toys.canonical(HETEROGENEOUS)
    ks = [0.999, 1.001, 1.004, 1.01]
    seeds = list(range(0, 64, 8))
    res = tr.sweep(toy, k=ks, seeds=seeds, steps=20_000, tail=5_000, progress=False)
    labels = set()
    for i, k in enumerate(ks):
        for j, seed in enumerate(seeds):
            run = tr.simulate(toy, elr=k / sum(HETEROGENEOUS), steps=20_000, seed=seed, lyapunov=True,
                              sharpness=False, tail=5_000)
            label = analysis.classify(run)[0]
            assert label == res.regime.values[i, j], (k, seed)
            labels.add(label)
    assert len(labels) >= 2  # the grid is not trivially one regime


@pytest.mark.parametrize("alpha", [[1.0, 2.0, 3.0], HETEROGENEOUS, [0.4, 0.9, 2.2, 3.1]])
def test_convergence_only_at_a_stable_minimum(alpha):
    res = tr.sweep(tr.toys.canonical(alpha), k=np.linspace(0.9, 1.0, 11), seeds=16, steps=20_000, tail=5_000,
                   progress=False, record_states=True)
    conv = res.regime.values == "convergence"
    assert conv.sum() >= 16  # the check below is not vacuous
    c = _final_c(res, alpha)
    assert (c[conv].max(axis=-1) < 1).all()
    assert (res.mean_loss.values[conv] < 1e-6 * sum(alpha) / 2).all()


def test_no_significantly_positive_exponent_is_periodic_or_convergence():
    res = tr.sweep(tr.toys.canonical([1.0, 2.0, 3.0]), k=np.linspace(1.5, 2.2, 36), seeds=16, steps=20_000,
                   tail=5_000, progress=False)
    lam, se = res.lyapunov.values, res.lyapunov_se.values
    crit = analysis.DEFAULTS
    significant = lam - crit["chaos_z"] * se > crit["chaos_tol"]
    ordered = np.isin(res.regime.values, ["periodic", "convergence"])
    assert significant.sum() > 100 and ordered.sum() > 100  # the band holds both
    assert not (significant & ordered).any()
    # negative control: the old precedence (any detected period wins) would have claimed some of them
    assert (significant & (res.period.values >= 2)).any()


@pytest.mark.parametrize(
    ("alpha", "ks"),
    [
        ([1.0, 2.0, 3.0], [0.9, 0.95, 1.06, 1.2, 1.44, 1.6, 1.69, 1.97, 2.3, 2.8]),
        ([0.3, 0.5, 1.0, 4.2], [0.92, 1.1, 1.2, 1.35, 1.5, 1.65, 1.8, 2.0, 2.5]),
    ],
)
def test_labels_are_stable_when_the_run_is_five_times_longer(alpha, ks):
    toy = tr.toys.canonical(alpha)
    seeds = list(range(200, 232))
    short = tr.sweep(toy, k=ks, seeds=seeds, steps=20_000, tail=5_000, progress=False)
    long = tr.sweep(toy, k=ks, seeds=seeds, steps=100_000, tail=25_000, progress=False)
    agree = short.regime.values == long.regime.values
    assert agree.mean() >= 0.97, {k: float(a) for k, a in zip(ks, agree.mean(axis=1), strict=True)}
    assert len(set(short.regime.values.ravel())) >= 3  # convergence, periodic and chaotic all occur


def test_resonant_period_four_window_is_periodic_with_its_own_period():
    # Observed near k = 1.44 (alpha = (1, 2, 3)) random starts settle on period-4 motion, not the 2-cycle;
    # the label is periodic and the evidence says which orbit
    k = 1.44
    res = tr.sweep(tr.toys.canonical([1.0, 2.0, 3.0]), k=[k], seeds=32, steps=20_000, tail=5_000, progress=False)
    four = res.period.values[0] == 4
    assert four.sum() >= 16
    assert (res.regime.values[0][four] == "periodic").all()
    f_eq = 3.0 * (1 - 1 / k)  # A/2 (1 - 1/k), theory
    # period 4 is not the 2-cycle: its loss oscillates and its mean lies below F_eq
    assert (res.std_loss.values[0][four] > 0.05).all()
    assert (res.mean_loss.values[0][four] < f_eq).all()


def test_a_group_started_exactly_at_an_unstable_minimum_leaves_it():
    # y = 0 exactly is a fixed point of the map; without the floor the run would sit there for ever (period 1,
    # labelled transient because c = 1.5 > 1); with it the group leaves the minimum as any perturbed system would
    # and settles on the 2-cycle cos 2 phi* = 1/c (theory)
    toy = tr.toys.canonical([1.5])
    run = tr.simulate(toy, elr=1.0, steps=3000, init=[[1.0, 0.0]], lyapunov=True)
    label, ev = analysis.classify(run)
    assert (label, ev["period"]) == ("periodic", 2)
    phi = np.arctan2(run.final_state.values[0, 1], run.final_state.values[0, 0])
    assert np.cos(2 * phi) == pytest.approx(1 / 1.5, rel=1e-8)
