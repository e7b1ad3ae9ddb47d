"""Bad input gets a ValueError naming the argument (API) or one stderr line and exit 2 (CLI)."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import toyregimes as tr
from toyregimes.cli import main

TOY = tr.toys.canonical([1.0, 2.0])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"elr": 0.0}, "elr"),
        ({"elr": -0.1}, "elr"),
        ({"elr": float("nan")}, "elr"),
        ({"elr": float("inf")}, "elr"),
        ({"elr": [0.1, 0.2]}, "elr"),
        ({"elr": "fast"}, "elr"),
        ({"steps": 0}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"steps": True}, "steps"),
        ({"record_every": 0}, "record_every"),
        ({"constraint": "sphere"}, "constraint"),
        ({"seed": -1}, "seed"),
        ({"init": np.zeros((2, 2))}, "init"),
        ({"init": np.array([[1.0, 0.0], [0.0, 0.0]])}, "init"),
        ({"init": np.ones((3, 2))}, "init"),
        ({"init": np.array([[1.0, np.nan], [1.0, 0.0]])}, "init"),
    ],
)
def test_simulate_rejects_bad_input(kwargs, name):
    args = {"elr": 0.1, "steps": 10, **kwargs}
    with pytest.raises(ValueError, match=name):
        tr.simulate(TOY, **args)


def test_simulate_rejects_non_toy():
    with pytest.raises(ValueError, match="toy"):
        tr.simulate("canonical", elr=0.1, steps=10)


@pytest.mark.parametrize(
    ("alpha", "match"),
    [([], "alpha"), ([1.0, 0.0], "alpha"), ([1.0, -2.0], "alpha"), ([[1.0, 2.0]], "alpha"), ([np.inf], "alpha")],
)
def test_canonical_rejects_bad_alpha(alpha, match):
    with pytest.raises(ValueError, match=match):
        tr.toys.canonical(alpha)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([],), "spectra"),
        (([[1.0]],), "spectra"),
        (([[1.0, 1.0]],), "spectra"),
        (([[0.0, np.nan]],), "spectra"),
        (([[0.0, 1.0]], True, None), "seed"),
    ],
)
def test_rayleigh_rejects_bad_spectra(args, match):
    with pytest.raises(ValueError, match=match):
        tr.toys.rayleigh(*args)


@given(bad=st.one_of(st.floats(max_value=0.0), st.just(float("nan")), st.just(float("inf"))))
def test_theory_rejects_non_positive_elr(bad):
    with pytest.raises(ValueError, match="elr"):
        tr.theory.equilibrium_loss([1.0, 2.0], bad)


def test_theory_rejects_bad_alpha():
    with pytest.raises(ValueError, match="alpha"):
        tr.theory.threshold([1.0, 0.0])


def test_analysis_rejects_non_runs_and_bad_options():
    with pytest.raises(ValueError, match="run"):
        tr.analysis.classify({"loss": [1.0]})
    run = tr.simulate(TOY, elr=0.1, steps=100)
    with pytest.raises(ValueError, match="tail"):
        tr.analysis.summary(run, tail=1000)
    with pytest.raises(ValueError, match="lyapunov=True"):
        tr.analysis.lyapunov(run)
    with pytest.raises(ValueError, match="unknown classification criteria"):
        tr.analysis.summary(run, banana=1)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "--alpha", "1", "-2", "--elr", "0.1"], "alpha"),
        (["run", "--alpha", "1", "2", "--elr", "0"], "elr"),
        (["run", "--alpha", "1", "2", "--k", "-1"], "k"),
        (["run", "--alpha", "1", "2", "--elr", "0.1", "--steps", "0"], "steps"),
        (["run", "--alpha", "1", "2", "--elr", "0.1", "--steps", "10", "--tail", "100"], "tail"),
        (["run", "--alpha", "1", "2", "--elr", "0.1", "--constraint", "sphere"], "constraint"),
        (["run", "--alpha", "1", "2"], "elr"),
        (["run", "--alpha", "x", "--elr", "0.1"], "alpha"),
        (["nonsense"], "invalid choice"),
        (["explore", "--alpha", "1", "0", "--save", "never-written.png"], "alpha"),
        (["train", "--alpha", "1", "--lr", "0.1", "--wd", "20"], "wd"),
        (["sweep", "--alpha", "1", "--num", "0", "--out", "never-written.nc"], "num"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(argv, fragment, capsys):
    # argparse problems exit through SystemExit, library ValueErrors through main's return value
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err, err


def test_console_script_exit_status_and_single_stderr_line():
    proc = subprocess.run(
        [sys.executable, "-m", "toyregimes.cli", "run", "--alpha", "1", "0", "--elr", "0.1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "alpha" in proc.stderr
    assert "Traceback" not in proc.stderr
