"""Tests of ``derivations/``: every claim passes, the checker can fail, the CLI and README output.

The full registry runs once per module (about 10 s on 2 cores); everything else is cheap.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import toyregimes.derivations as derivations
import toyregimes.theory as tr_theory
from toyregimes.derivations import all_claims, negative_controls, run_claim, run_claims
from toyregimes.derivations.equality import POINTS, SIMPLIFY, check_equal
from toyregimes.derivations.report import JSON_KEYS, format_table, main, readme_section, verify

ROOT = Path(__file__).resolve().parents[1]
CLAIM_NAMES = [c.name for c in all_claims()]
CHEAP = "threshold_every_split_unstable"  # sympy only, no simulation: fast in a subprocess


# Public closed forms of toyregimes.theory that no claim checks, with the test that checks them instead.
CHECKED_ELSEWHERE = {
    "random_level": "tests/test_toys.py::test_random_level_matches_monte_carlo",
    "momentum_equilibrium_angle": "tests/test_train.py (SGD with momentum, measured angle)",
    "adamw_equilibrium_sq_norm": "tests/test_train.py::test_adamw_equilibrium_on_rotated_toy_and_axis_aligned_caveat",
    "adamw_equilibrium_angle": "tests/test_train.py::test_adamw_equilibrium_on_rotated_toy_and_axis_aligned_caveat",
}


def _theory_functions():
    return [n for n in tr_theory.__all__ if callable(getattr(tr_theory, n))]


def _spy(func, name, calls, current):
    def spy(*args, **kwargs):
        calls.setdefault(name, set()).add(current[0])
        return func(*args, **kwargs)
    return spy


@pytest.fixture(scope="module")
def traced():
    """Every claim's report row, and which library closed forms each claim called while it ran."""
    calls: dict[str, set[str]] = {}
    current = [""]
    with pytest.MonkeyPatch.context() as mp:
        for name in _theory_functions():
            mp.setattr(tr_theory, name, _spy(getattr(tr_theory, name), name, calls, current))
        rows = {}
        for claim in all_claims():
            current[0] = claim.name
            rows[claim.name] = run_claim(claim)
    return rows, calls


@pytest.fixture(scope="module")
def results(traced):
    return traced[0]


# ----------------------------------------------------------------------------- registry
def test_registry_covers_the_four_families():
    families = {c.family for c in all_claims()}
    assert families == {"scale invariance", "total vs individual ELR", "canonical toy", "weight decay"}
    assert len(CLAIM_NAMES) == len(set(CLAIM_NAMES)) >= 15


@pytest.mark.parametrize("name", CLAIM_NAMES)
def test_every_claim_passes(results, name):
    row = results[name]
    assert row["status"] == "passed", row["detail"]
    assert row["method"], "a passing claim must say which method decided it"


def test_dynamics_claims_are_checked_against_simulation(results):
    for name in ("coupled_equilibrium", "two_cycle", "individual_limit_loss"):
        assert "simulation cross-check" in results[name]["method"]


# ----------------------------------------------------------------------------- negative controls
def test_negative_controls_fail():
    rows = run_claims(claims=negative_controls())
    assert len(rows) == 8
    for row in rows:
        assert row["status"] == "failed", row["name"]
    by_name = {row["name"]: row for row in rows}
    # A wrong closed form is refuted at high-precision points, not only numerically ...
    for name in ("wrong_threshold_2_over_A", "wrong_equilibrium_loss_sign", "wrong_sgd_cos_2gamma",
                 "wrong_resonance_cos_2theta", "wrong_stationarity_no_square", "wrong_neutral_real_part",
                 "wrong_neutral_no_projection_coupling"):
        assert POINTS in by_name[name]["method"], by_name[name]["method"]
    # ... and a wrong library value by the cross-check against the derived one
    assert "theory cross-check" in by_name["wrong_library_threshold_every_split"]["method"]
    # The general-n proof's wrong real part is also refuted by the independent finite-difference spectra.
    assert "finite differences of theory.canonical_step" in by_name["wrong_neutral_real_part"]["method"]


def _perturbed(value, eps=1e-3):
    """``value`` off by a relative 1e-3 (tuples, arrays, floats and complex; None stays None)."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return tuple(_perturbed(v, eps) for v in value)
    arr = np.asarray(value)
    return value * (1 + eps) + (eps if not np.any(arr) else 0)


def test_every_library_closed_form_is_checked_by_some_claim(traced):
    """Mutation test: a 0.1% error in any public function of toyregimes.theory fails a claim that calls it.

    So no claim compares the library with a copy of itself, and no closed form goes unchecked (except
    the ones listed in CHECKED_ELSEWHERE, which simulations in other tests check).
    """
    _, calls = traced
    claims = {c.name: c for c in all_claims()}
    public = set(_theory_functions())
    assert public - set(calls) == set(CHECKED_ELSEWHERE), "a closed form is neither claimed nor listed"
    survived = []
    for name, users in sorted(calls.items()):
        if name not in public:
            continue
        original = getattr(tr_theory, name)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(tr_theory, name, lambda *a, _f=original, **k: _perturbed(_f(*a, **k)))
            statuses = [run_claim(claims[c])["status"] for c in sorted(users)]
        if "failed" not in statuses:
            survived.append(name)
    assert not survived, f"a 0.1% error in these library functions passes every claim: {survived}"


def test_the_mutation_test_detects_an_unchecked_function(traced, monkeypatch):
    """Negative control of the mutation test: with the claim's library check removed, the error survives."""
    import toyregimes.derivations.canonical as canonical_claims

    monkeypatch.setattr(canonical_claims.tr.theory, "single_group_lyapunov",
                        lambda c: _perturbed(np.log(np.abs(1 - 2 * np.asarray(c)))))
    assert run_claims(["minimum_maximum_stability"])[0]["status"] == "failed"
    # The same mutation with the theory cross-check dropped from the claim's checks passes it:
    # the checker, not luck, caught it.
    real_close = canonical_claims.Checks.close

    def skip_lyapunov(self, label, *args, **kwargs):
        if "single_group_lyapunov" in label:
            return True
        return real_close(self, label, *args, **kwargs)

    monkeypatch.setattr(canonical_claims.Checks, "close", skip_lyapunov)
    assert run_claims(["minimum_maximum_stability"])[0]["status"] == "passed"


def test_verify_exit_status_1_on_a_failing_claim(monkeypatch, capsys):
    monkeypatch.setattr(derivations, "all_claims", lambda: negative_controls()[:1])
    assert verify() == 1
    assert "FAILED" in capsys.readouterr().out


def test_a_crashing_derivation_is_a_failed_claim():
    def boom():
        raise ZeroDivisionError("on purpose")

    row = run_claims(claims=[derivations.Claim("boom", "test", "crashes", boom)])[0]
    assert row["status"] == "failed" and "ZeroDivisionError" in row["detail"]


# ----------------------------------------------------------------------------- equality checker
def test_checker_simplify_decides_identities():
    x = sp.Symbol("x", real=True)
    res = check_equal(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1)
    assert res.ok and res.method == SIMPLIFY


def test_checker_falls_back_to_points_and_can_refute():
    c = sp.Symbol("c", positive=True)
    # arccos(1/c) = arctan(sqrt(c^2 - 1)) holds for c > 1; sympy's simplify does not see it.
    res = check_equal(sp.acos(1 / c), sp.atan(sp.sqrt(c**2 - 1)), {c: (1.01, 6.0)})
    assert res.ok and res.method == POINTS
    x = sp.Symbol("x", real=True)
    wrong = check_equal(sp.sqrt(x**2), x, {x: (-3.0, 3.0)})
    assert not wrong.ok and wrong.method == POINTS


def test_checker_rejects_strings():
    with pytest.raises(TypeError):
        check_equal("x + 1", 1)


# ----------------------------------------------------------------------------- output and CLI
def test_json_output_shape(capsys):
    assert main(["--json", "--claim", CHEAP, "--claim", "elr_harmonic_sum"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["claims"]
    assert [c["name"] for c in data["claims"]] == [CHEAP, "elr_harmonic_sum"]
    for c in data["claims"]:
        assert tuple(c) == JSON_KEYS
        assert c["status"] in ("passed", "failed")
        assert isinstance(c["seconds"], float) and c["seconds"] >= 0
        assert isinstance(c["statement"], str) and isinstance(c["method"], str)


def test_table_has_the_columns(results):
    table = format_table(list(results.values()))
    header = table.splitlines()[0]
    for col in ("claim", "statement", "method", "status", "seconds"):
        assert col in header
    assert f"{len(results)}/{len(results)} claims passed" in table


@pytest.mark.parametrize("module", ["toyregimes.derivations", "derivations"])
def test_python_m_derivations_single_claim(module):
    """``python -m toyregimes.derivations`` anywhere; ``python -m derivations`` still works from a checkout."""
    proc = subprocess.run([sys.executable, "-m", module, "--claim", CHEAP],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert CHEAP in proc.stdout and "PASSED" in proc.stdout


def test_unknown_claim_exits_2_with_one_line():
    proc = subprocess.run([sys.executable, "-m", "toyregimes.derivations", "--claim", "no_such_claim"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "no_such_claim" in proc.stderr


def test_toyregimes_verify_cli():
    """``toyregimes verify`` delegates to derivations."""
    proc = subprocess.run([sys.executable, "-c", "import sys; from toyregimes.cli import main; "
                           "sys.exit(main(sys.argv[1:]))", "verify", "--claim", CHEAP, "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["claims"][0]["status"] == "passed"


def test_readme_section_mentions_every_claim(results):
    text = readme_section()
    assert text.startswith("## Verified derivations")
    for claim in all_claims():
        assert f"`{claim.name}`" in text and claim.statement in text
    with_status = readme_section(list(results.values()))
    assert with_status.count("*(passed;") == len(CLAIM_NAMES)


def test_readme_flag(capsys):
    assert main(["--readme"]) == 0
    assert capsys.readouterr().out.strip() == readme_section().strip()


def test_a_wrong_library_threshold_fails_both_threshold_claims(monkeypatch):
    # the claims must check the library, not a re-typed copy of the formula
    import toyregimes as tr

    monkeypatch.setattr(tr.theory, "threshold", lambda alpha: 2.0 / float(np.sum(alpha)))
    rows = {row["name"]: row for row in run_claims(names=["threshold_split_exists", "threshold_every_split_unstable"])}
    assert rows["threshold_split_exists"]["status"] == "failed"
    assert rows["threshold_every_split_unstable"]["status"] == "failed"
