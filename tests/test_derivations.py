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
from toyregimes.derivations import all_claims, negative_controls, run_claims
from toyregimes.derivations.equality import POINTS, SIMPLIFY, check_equal
from toyregimes.derivations.report import JSON_KEYS, format_table, main, readme_section, verify

ROOT = Path(__file__).resolve().parents[1]
CLAIM_NAMES = [c.name for c in all_claims()]
CHEAP = "threshold_every_split_unstable"  # sympy only, no simulation: fast in a subprocess


@pytest.fixture(scope="module")
def results():
    return {r["name"]: r for r in run_claims()}


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
