"""Sweeps of user toys: the parallel kernel == the per-record reference; expression toys compile once per machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

import toyregimes as tr
from tests import reference_user_chunk
from toyregimes.sweep import chunks
from toyregimes.sweep.plan import make_plan

EXPR = "a*y**2/(x**2+y**2) + b*(x*v - y*u)**2/((x**2+y**2)*(u**2+v**2))"
GROUPS = [["x", "y"], ["u", "v"]]


@numba.njit
def _value(t):
    return 1.5 * t[1] ** 2 / (t[0] ** 2 + t[1] ** 2) + 0.7 * t[3] ** 2 / (t[2] ** 2 + t[3] ** 2 + t[4] ** 2)


@numba.njit
def _gradient(t):
    g = np.zeros(5)
    r1 = t[0] ** 2 + t[1] ** 2
    r2 = t[2] ** 2 + t[3] ** 2 + t[4] ** 2
    g[0] = -2 * 1.5 * t[0] * t[1] ** 2 / r1**2
    g[1] = 2 * 1.5 * t[1] * t[0] ** 2 / r1**2
    g[2] = -2 * 0.7 * t[2] * t[3] ** 2 / r2**2
    g[3] = 2 * 0.7 * t[3] * (t[2] ** 2 + t[4] ** 2) / r2**2
    g[4] = -2 * 0.7 * t[4] * t[3] ** 2 / r2**2
    return g


@pytest.fixture(scope="module")
def custom_toy():
    """One custom toy for the module: a user toy's kernels compile per toy and process (~1 min)."""
    return tr.toys.custom(_value, _gradient, dims=[2, 3], check_points=2)


def _compare(toy, k_or_elr, constraint="total", record_states=True):
    plan = make_plan(toy, elr=k_or_elr, seeds=3, steps=600, tail=200, constraint=constraint,
                     record_states=record_states, chunk_size=10**6)
    a = plan.arrays
    idx = np.arange(plan.n_points)
    ref = reference_user_chunk.generic_chunk(toy, a["elr"][idx // 3], a["theta0"][:, idx % 3], a["tang0"][:, idx % 3],
                                             600, 200, a["individual"], True, a["n_states"], a["opts"])
    got = chunks.run_chunk(a, 0, plan.n_points)
    # the same single-run kernel: states bit for bit; statistics to rounding (sequential sums vs numpy)
    assert np.array_equal(got["final"], ref["final"], equal_nan=True)
    assert np.array_equal(got["states"], ref["states"], equal_nan=True)
    np.testing.assert_array_equal(got["period"], ref["period"])
    np.testing.assert_array_equal(got["status"], ref["status"])
    for name in ("mean_loss", "std_loss", "mean_cos_angle", "rms_step", "lyapunov", "lyapunov_se", "loss_first_half",
                 "loss_second_half", "residual_head", "residual_end", "sharpness_c", "mean_sq_norm", "min_r2",
                 "max_r2"):
        np.testing.assert_allclose(got[name], ref[name], rtol=1e-10, atol=1e-12, err_msg=name)
    return got


def test_custom_toy_sweep_equals_reference(custom_toy):
    toy = custom_toy
    for constraint in ("total", "individual"):
        got = _compare(toy, np.array([0.02, 0.2, 0.5]), constraint)
        assert len(set(got["period"].tolist())) > 1  # not all alike


def test_expression_toy_sweep_equals_reference():
    toy = tr.toys.from_expression(EXPR, GROUPS, {"a": 1.0, "b": 2.0}, check_points=2)
    got = _compare(toy, np.array([0.05, 0.3, 0.6]))
    assert len(set(got["period"].tolist())) > 1
    res = tr.sweep(toy, elr=[0.05, 0.3, 0.6], seeds=3, steps=600, tail=200, progress=False)
    assert np.allclose(res.mean_loss.values.ravel(), got["mean_loss"], rtol=1e-14)


def test_expression_sweep_in_second_process_does_not_recompile(tmp_path):
    # the cache-hit counters of the generated module's dispatchers: a cold process compiles (misses), a
    # second process loads every kernel from disk (hits, no misses)
    script = textwrap.dedent(f"""
        import json, toyregimes as tr
        toy = tr.toys.from_expression({EXPR!r}, {GROUPS!r}, {{"a": 1.0, "b": 0.5}}, check_points=1)
        tr.sweep(toy, elr=[0.1, 0.4], seeds=2, steps=100, tail=50, progress=False)
        tr.simulate(toy, elr=0.1, steps=10)
        from toyregimes.sweep.chunks import _user_kernels
        kern = _user_kernels(toy)
        print(json.dumps({{name: [sum(kern[name].stats.cache_hits.values()),
                                  sum(kern[name].stats.cache_misses.values())]
                          for name in ("user_sweep", "pgd_run", "loss_grad")}}))
    """)
    # a fresh module cache; the library's own kernels keep their (warm) Numba cache
    env = dict(os.environ, TOYREGIMES_CACHE_DIR=str(tmp_path / "cache"))

    def run():
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    first = run()
    assert all(miss > 0 for _, miss in first.values()), first  # negative control: a cold cache compiles
    second = run()
    assert all(hit > 0 and miss == 0 for hit, miss in second.values()), second
    assert len(list((tmp_path / "cache").glob("toyregimes_expr_*.py"))) == 1


def test_generated_module_is_named_by_its_content(tmp_path, monkeypatch):
    from toyregimes.toys import codegen, expressions

    monkeypatch.setenv("TOYREGIMES_CACHE_DIR", str(tmp_path))
    x, y = expressions.sp.symbols("x y", real=True)
    one = codegen.module_source(expressions.function_source(2 * y**2 / (x**2 + y**2), [["x", "y"]]))
    two = codegen.module_source(expressions.function_source(3 * y**2 / (x**2 + y**2), [["x", "y"]]))
    assert codegen._key(one) != codegen._key(two)
    # a change of any kernel source (a constant such as FLOOR included) renames the module: no stale code
    from toyregimes.kernels import _cache_guard

    before = codegen._key(one)
    monkeypatch.setattr(_cache_guard, "fingerprint", lambda: "another library")
    assert codegen._key(one) != before
    monkeypatch.undo()
    assert codegen._key(one) == before
    assert "def _pgd_run_impl" in one and "@njit" not in one.split("def value")[1].split("value = njit")[0]


@pytest.mark.parametrize("bad", ["__import__('os')", "x.__class__", "[x for x in y]"])
def test_expression_text_never_reaches_generated_source(bad):
    with pytest.raises(ValueError):
        tr.toys.from_expression(bad, GROUPS)


def test_noisy_sweep_of_a_custom_toy_equals_simulate(custom_toy):
    toy = custom_toy
    res = tr.sweep(toy, elr=[0.1, 0.6], seeds=[0, 4], steps=300, tail=100, lyapunov=False, noise_scale=0.5,
                   record_states=True, progress=False)
    for i, e in enumerate(res.elr.values):
        for s, seed in enumerate([0, 4]):
            run = tr.simulate(toy, elr=e, steps=300, seed=seed, noise_scale=0.5, sharpness=False)
            assert np.array_equal(toy.from_rows(run["final_state"].values), res.final_state.values[i, s])
    # noisy and deterministic sweeps and simulate share one compiled signature of the toy's single-run kernel
    # (each signature costs ~30 s of compilation for a user toy; before, a sweep added two)
    tr.simulate(toy, elr=0.1, steps=20, seed=0)
    tr.sweep(toy, elr=[0.1], seeds=[0], steps=20, tail=10, progress=False)
    assert len(toy.kernels["pgd_run"].signatures) == 1, toy.kernels["pgd_run"].signatures
