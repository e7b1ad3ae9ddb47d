"""The high-dimension study: deterministic Rayleigh toys follow the canonical 2-cycle of their extreme eigenvalues."""

from __future__ import annotations

import numpy as np
import pytest

import toyregimes as tr
from toyregimes.studies import high_dimension as hd
from toyregimes.studies.divergence import noisy_sweep


@pytest.fixture(scope="module")
def study():
    # inputs not used while the study was written: d = 5 and 12, 2 groups, other k and seeds
    return hd.dimension_study(dims=(2, 5, 12), groups=(2,), k=[1.7, 6.0, 40.0], seeds=3, steps=3000, tail=1000,
                              noise_scales=(), noise_dims=())


def test_loss_follows_the_canonical_cycle_of_the_extremes(study):
    frac = study.loss_fraction
    mid = study.midpoint_fraction
    # the comparison is the canonical theory (claim coupled_equilibrium), independent of the simulation
    np.testing.assert_allclose(frac.values, mid.values, rtol=0.03)
    # negative control: the random level (fraction 1) is not what the deterministic loss approaches for d > 2
    bottom = frac.sel(family="bottom", dim=12, k=40.0).item()
    top = frac.sel(family="top", dim=12, k=40.0).item()
    assert bottom > 4.0 and top < 0.6
    assert study.extreme_mass.min().item() > 0.999


def test_midpoint_fraction_closed_form():
    toy = hd.spectrum_toy("bottom", 4, 3)
    # F_min = 0, alpha_eff = 1 per group, random level 3 / 4: (1 - 1/k) * 3/2 / (3/4)
    np.testing.assert_allclose(hd.midpoint_fraction(toy, [2.0, np.inf]), [1.0, 2.0], rtol=1e-12)
    assert hd.extreme_mass(toy, toy.minimum()) == pytest.approx(1.0)


def test_extreme_mass_sees_intermediate_eigenvectors():
    toy = tr.toys.rayleigh([[0.0, 0.5, 1.0]], rotate=False)
    assert hd.extreme_mass(toy, [0.0, 1.0, 0.0]) == pytest.approx(0.0)
    assert hd.extreme_mass(toy, [1.0, 1.0, 1.0]) == pytest.approx(2 / 3)


def test_noise_brings_the_loss_to_the_random_level():
    toy = hd.spectrum_toy("bottom", 6, 2, seed=3)
    ds = noisy_sweep(toy, [30.0], [0.0, 3.0], seeds=2, steps=3000, tail=1500, progress=False)
    det, noisy = ds.loss_fraction.mean("seed").values[0]
    assert det > 2.5  # deterministic: near the extremes' midpoint (fraction 3 here), not the random level
    assert abs(noisy - 1.0) < 0.25


def test_unknown_family_is_refused():
    with pytest.raises(ValueError, match="family"):
        hd.spectrum_toy("flat", 4, 1)
