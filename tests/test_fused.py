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


def test_fma_without_an_fma_unit_gives_the_same_results(tmp_path):
    """Compiled for a CPU without FMA instructions (x86-64 baseline), fma is still the rounded-once operation."""
    import os
    import platform
    import subprocess
    import sys

    if platform.machine().lower() not in ("x86_64", "amd64"):
        cpu = "generic"
    else:
        cpu = "x86-64"
    code = (
        "import numpy as np\n"
        "from numba import njit\n"
        "from toyregimes.kernels.fused import fma_exact, fma_ufunc\n"
        "from tests.test_fused import _cases\n"
        "a, b, c = _cases(11, 300)\n"
        "exact = np.array([fma_exact(x, y, z) for x, y, z in zip(a, b, c, strict=True)])\n"
        "got = fma_ufunc(a, b, c)\n"
        "print(int(np.array_equal(got, exact)), int(np.count_nonzero(a * b + c != exact) > 100))\n"
    )
    env = dict(os.environ, NUMBA_CPU_NAME=cpu, NUMBA_CPU_FEATURES="", NUMBA_CACHE_DIR=str(tmp_path))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["1", "1"]
