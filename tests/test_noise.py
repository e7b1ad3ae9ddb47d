"""The counter-based Gaussian numbers of sweeps and simulate: distribution, independence, order independence."""

from __future__ import annotations

import numpy as np
from scipy import stats

from toyregimes.kernels import noise


def test_standard_normal_moments_and_distribution():
    x = noise.fill_normals(noise.run_key(11), 40_000, 5).ravel()
    n = x.size
    assert abs(x.mean()) < 4 / np.sqrt(n)
    assert abs(x.var() - 1) < 4 * np.sqrt(2 / n)
    assert abs(np.mean(x**4) - 3) < 4 * np.sqrt(96 / n)
    assert stats.kstest(x, "norm").pvalue > 1e-3


def test_counters_and_keys_are_independent():
    a = noise.fill_normals(noise.run_key(3), 30_000, 4)
    b = noise.fill_normals(noise.run_key(4), 30_000, 4)
    lim = 4 / np.sqrt(a.shape[0])
    assert abs(np.corrcoef(a[:, 0], a[:, 1])[0, 1]) < lim  # neighbouring components
    assert abs(np.corrcoef(a[1:, 2], a[:-1, 2])[0, 1]) < lim  # neighbouring steps
    assert abs(np.corrcoef(a[:, 0], b[:, 0])[0, 1]) < lim  # neighbouring seeds


def test_a_number_depends_only_on_its_counter():
    key = noise.run_key(7)
    table = noise.fill_normals(key, 50, 6)
    rng = np.random.default_rng(0)
    for t, p in rng.integers(0, [50, 6], size=(40, 2)):
        assert noise.normal(key, int(t), int(p)) == table[t, p]


def test_negative_control_a_weak_mixer_is_caught():
    # the same tests on numbers made without the finaliser (counter * golden ratio only) must fail
    golden = 0x9E3779B97F4A7C15
    u = np.array([(((t * golden + golden) % 2**64) >> 11) * 2.0**-53 for t in range(2000)])
    assert abs(np.corrcoef(u[1:], u[:-1])[0, 1]) > 4 / np.sqrt(u.size) or stats.kstest(u, "uniform").pvalue < 1e-3
