"""The fused multiply-add of the Rayleigh family's gradient is one correctly rounded operation."""

from __future__ import annotations

import numpy as np
from numba import njit

from toyregimes.kernels.fused import fma, fma_exact, fma_ufunc


@njit
def _fma_many(a, b, c):
    out = np.empty(a.size)
    for j in range(a.size):
        out[j] = fma(a[j], b[j], c[j])
    return out


def _cases(seed, m=2000):
    """Operands whose product and sum cancel, so a separate multiply and add would round twice."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(m) * 10.0 ** rng.integers(-8, 8, m)
    b = rng.standard_normal(m)
    c = -(a * b) * (1 + rng.standard_normal(m) * 1e-9)  # near cancellation: the product's rounding shows
    return a, b, c


def test_fma_is_the_correctly_rounded_a_times_b_plus_c():
    a, b, c = _cases(7)
    exact = np.array([fma_exact(x, y, z) for x, y, z in zip(a, b, c, strict=True)])
    assert np.array_equal(_fma_many(a, b, c), exact)
    assert np.array_equal(fma_ufunc(a, b, c), exact)
    # negative control: the unfused expression differs from it on these operands
    assert np.count_nonzero(a * b + c != exact) > a.size // 2


def test_fma_edge_values():
    assert fma_ufunc(0.0, 5.0, 0.0) == 0.0 and fma_ufunc(2.0, 3.0, 1.0) == 7.0
    with np.errstate(invalid="ignore"):
        assert np.isnan(fma_ufunc(np.inf, 0.0, 1.0))
    assert fma_ufunc(1e308, 10.0, -np.inf) == -np.inf
