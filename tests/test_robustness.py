"""Regression tests of issue #16: every bad input, fault and interruption ends in one clear line.

One test (or parameter) per item of the issue; each fails on the code before the fix.  The real Ctrl-C and
the concurrent sweeps are in ``test_cli_interrupt.py``, the fuzzing of the CLI in ``test_cli_fuzz.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import toyregimes as tr
from toyregimes import cli, io
from toyregimes.cli import main

REPO = Path(__file__).resolve().parent.parent
RUN = ["run", "--alpha", "1", "2", "--k", "1.5", "--steps", "50"]


def _one_error_line(capsys, *needles):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def no_compute(monkeypatch):
    """Make every simulation, training and sweep fail loudly: a test using it proves a check came first."""

    def refuse(*args, **kwargs):
        raise AssertionError("computed before checking the inputs and outputs")

    for name in ("simulate", "train", "sweep"):
        monkeypatch.setattr(tr, name, refuse)
    # the CLI's train imports the function from its module (named like the function: reach it by sys.modules)
    monkeypatch.setattr(sys.modules["toyregimes.train"], "train", refuse)


# ----------------------------------------------------------------------------- file-system errors
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (lambda d: [*RUN, "--out", str(d)], "is an existing directory"),
        (lambda d: [*RUN, "--out", str(d / "missing" / "r.nc")], "does not exist"),
        (lambda d: [*RUN, "--out", "/proc/toyregimes-test.nc"], "not writable"),
        (lambda d: [*RUN, "--out", str(d / "file.txt" / "r.nc")], "is not a directory"),
        (lambda d: [*RUN, "--plot", str(d / "missing" / "r.png")], "does not exist"),
        (lambda d: [*RUN, "--plot", str(d / "r.xyz")], "image format"),
        (lambda d: ["sweep", "--alpha", "1", "--out", str(d)], "is an existing directory"),
        (lambda d: ["sweep", "--alpha", "1", "--out", str(d / "missing" / "s.nc")], "does not exist"),
        (lambda d: ["train", "--alpha", "1", "--lr", "0.1", "--wd", "0.01", "--out", str(d / "m" / "t.nc")],
         "does not exist"),
        (lambda d: ["train", "--alpha", "1", "--lr", "0.1", "--wd", "0.01", "--plot", str(d / "m" / "t.png")],
         "does not exist"),
        (lambda d: ["figures", "--out", "/proc/toyregimes-figures", "--only", "phase_diagram"], "cannot be created"),
        (lambda d: ["figures", "--out", str(d / "file.txt"), "--only", "phase_diagram"], "not a directory"),
    ],
)
def test_paths_and_windows_are_checked_before_computing(tmp_path, capsys, no_compute, argv, needle):
    (tmp_path / "file.txt").write_text("x")
    before = sorted(tmp_path.rglob("*"))
    assert main(argv(tmp_path)) == 2
    _one_error_line(capsys, needle)
    assert sorted(tmp_path.rglob("*")) == before  # no .part, no chunk folder, no probe file left behind


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--tail", "6000000"], "tail must be <= steps (5000000)"),
        (["--record-every", "6000000"], "record_every must be <= tail"),
        (["--record-every", "3000000"], "record_every must be <= tail (2500000"),
    ],
)
def test_run_windows_are_checked_before_simulating(capsys, extra, needle):
    start = time.monotonic()  # simulating 5e6 steps would take a minute
    assert main(["run", "--alpha", "1", "2", "--k", "1.5", "--steps", "5000000", *extra]) == 2
    _one_error_line(capsys, needle)
    assert time.monotonic() - start < 5


def test_a_sweep_refused_after_taking_its_lock_leaves_no_chunk_folder(tmp_path, capsys):
    out = tmp_path / "s.nc"
    assert main(["sweep", "--alpha", "1", "--num", "2", "--seeds", "1", "--steps", "20", "--tail", "10",
                 "--local-cluster", "0", "--out", str(out), "--quiet"]) == 2
    _one_error_line(capsys, "local_cluster")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_a_directory_and_never_leaves_a_part_file(tmp_path, monkeypatch):
    run = tr.simulate(tr.toys.canonical([1.0]), elr=0.5, steps=20)
    with pytest.raises(ValueError, match="existing directory"):
        tr.save(run, tmp_path)
    assert list(tmp_path.iterdir()) == []

    def failing_write(self, path, **kwargs):
        Path(path).write_bytes(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", failing_write)
    with pytest.raises(OSError):
        tr.save(run, tmp_path / "r.nc")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- size guard
def test_huge_run_is_refused_before_allocating(capsys):
    assert main(["run", "--alpha", "1", "2", "3", "--elr", "0.25", "--steps", "10000000000000"]) == 2
    _one_error_line(capsys, "memory", "--force")
    from toyregimes.simulate import simulate  # the real one (tr.simulate is patched by no_compute)

    with pytest.raises(ValueError, match="max_memory"):
        simulate(tr.toys.canonical([1.0]), elr=0.5, steps=10**13)


def test_huge_sweep_is_refused_at_once(capsys):
    start = time.monotonic()
    assert main(["sweep", "--alpha", "1", "2", "3", "--num", "100000", "--seeds", "100000", "--out", "x.nc"]) == 2
    _one_error_line(capsys, "10000000000 trajectories", "memory")
    assert time.monotonic() - start < 10
    assert not Path("x.nc.chunks").exists()
    with pytest.raises(ValueError, match="would take about"):  # small in memory, absurd in time
        tr.sweep(tr.toys.canonical([1.0]), k=[1.5, 2.0], seeds=1, steps=10**13, tail=10)


def test_force_lifts_the_size_guard(monkeypatch, capsys):
    seen = {}

    def fake_simulate(toy, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(tr, "simulate", fake_simulate)
    assert main([*RUN, "--force"]) == 2
    assert seen["max_memory"] is None and seen["max_seconds"] is None
    capsys.readouterr()


def test_budget_limits_are_validated():
    with pytest.raises(ValueError, match="max_memory must be None"):
        tr.simulate(tr.toys.canonical([1.0]), elr=0.5, steps=10, max_memory=-1)


# ----------------------------------------------------------------------------- expression parser
@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("9**9**9*y**2/(x**2+y**2)", "too large"),
        ("(2**600)**2*y**2/(x**2+y**2)", "too large"),
        ("y**2/(x**2+y**2)*x**100000", "too large"),
        ("3", "is a constant"),
        ("pi**2", "is a constant"),
        ("x/y", "not defined"),
        ("y/x + y**2/(x**2+y**2)", "not defined"),
    ],
)
def test_expression_refusals_are_fast_and_clear(text, match):
    start = time.monotonic()
    with pytest.raises(ValueError, match=match):
        tr.toys.from_expression(text, [["x", "y"]], check_points=2)
    assert time.monotonic() - start < 20  # 9**9**9 used to hang for hours


def test_expression_with_an_absent_group_is_refused():
    with pytest.raises(ValueError, match=r"does not depend on group\(s\) \[\['u', 'v'\]\]"):
        tr.toys.from_expression("y**2/(x**2+y**2)", [["x", "y"], ["u", "v"]])


# ----------------------------------------------------------------------------- strict JSON, divergence
def _strict(text):
    def refuse(token):
        raise AssertionError(f"non-standard JSON constant {token}")

    return json.loads(text, parse_constant=refuse)


def test_summary_of_a_diverged_run_is_strict_json_saying_where(capsys):
    assert main(["run", "--alpha", "1", "2", "3", "--elr", "1e300", "--steps", "100", "--summary"]) == 0
    stats = _strict(capsys.readouterr().out)
    assert stats["status"] == "diverged_numerically"
    assert stats["diverged_at_step"] == 0 and "step 0" in stats["diverged_reason"]
    assert stats["final_sq_norm"] == [None, None, None]  # not [0, 0, 0]
    assert stats["period"] == 0
    assert stats["mean_loss"] is None


def test_loss_at_step_zero_is_recorded_even_when_the_first_step_overflows():
    toy = tr.toys.canonical([1.0, 2.0, 3.0])
    run = tr.simulate(toy, elr=1e300, steps=100)
    assert run.attrs["status"] == "diverged_numerically" and run.attrs["diverged_at_step"] == 0
    from toyregimes.simulate import state_vector

    assert np.isfinite(run.loss.values[0])
    assert run.loss.values[0] == pytest.approx(toy.value(state_vector(toy, run.initial_state.values)))
    np.testing.assert_allclose(run.sq_norm.values[0].sum(), 1.0)


def test_summary_of_a_healthy_run_is_unchanged_and_strict(capsys):
    assert main([*RUN, "--summary"]) == 0
    stats = _strict(capsys.readouterr().out)
    assert stats["status"] == "ok" and stats["diverged_at_step"] is None
    assert sum(stats["final_sq_norm"]) == pytest.approx(1.0)


def test_json_ready_replaces_every_non_finite_value():
    got = tr.analysis.json_ready({"a": float("nan"), "b": [1.0, float("inf"), np.float64(-np.inf)], "c": np.int64(3)})
    assert got == {"a": None, "b": [1.0, None, None], "c": 3}
    json.dumps(got, allow_nan=False)


# ----------------------------------------------------------------------------- plot and load of every kind
@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """One saved file of every kind of result the package can save (``io.SCHEMAS``)."""
    from toyregimes.studies import divergence, trajectory_invariance

    d = tmp_path_factory.mktemp("kinds")
    toy = tr.toys.canonical([1.0, 2.0])
    made = {
        "run": tr.simulate(toy, elr=0.5, steps=200),
        "sweep": tr.sweep(toy, k=[0.5, 2.0], seeds=1, steps=200, tail=50),
        "sweep_grid": tr.sweep_grid(lambda heterogeneity: tr.toys.canonical(tr.canonical_alpha(2, heterogeneity)),
                                    {"heterogeneity": [0, 1]},
                                    k=[0.5, 2.0], seeds=1, steps=200, tail=50),
        "orbit": tr.orbit_diagram(toy, np.linspace(0.2, 1.0, 4), steps=100, keep=8),
        "noisy_sweep": divergence.noisy_sweep(toy, [1.0, 5.0], [0.0, 1.0], seeds=1, steps=100, tail=50),
        "minibatch_sweep": divergence.minibatch_sweep(tr.toys.stochastic(toy, n_samples=4, seed=1), [1.0, 5.0], [1, 4],
                                                      seeds=1, steps=100, tail=50),
        "train": tr.train(toy, lr=0.1, wd=0.01, steps=100),
        "train_grid": tr.train_grid(toy, lr=[0.05, 0.1], wd=[0.001, 0.01], steps=100),
        "train_experiment": trajectory_invariance.reparametrisation(steps=50),
    }
    paths = {}
    for kind, ds in made.items():
        paths[kind] = tr.save(ds, d / f"{kind}.nc")
    return paths


def test_every_saveable_kind_is_covered(results):
    assert set(results) == set(io.SCHEMAS)  # a new kind must be added here, and so to the tests below


@pytest.mark.parametrize("kind", sorted(io.SCHEMAS))
def test_plot_draws_every_kind(results, tmp_path, capsys, kind):
    png = tmp_path / f"{kind}.png"
    assert main(["plot", str(results[kind]), "--out", str(png)]) == 0, capsys.readouterr().err
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_every_kind_loads_in_a_fresh_process(results):
    code = "import sys, toyregimes as tr\nfor p in sys.argv[1:]: tr.load(p)\nprint('ok')"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code, *map(str, results.values())], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_plot_reports_the_file_it_really_wrote(results, tmp_path, capsys):
    target = tmp_path / "adir"
    assert main(["plot", str(results["run"]), "--out", str(target)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {target}.png"
    assert Path(f"{target}.png").exists()


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_plot_refuses_y_where_it_means_nothing(results, tmp_path, capsys, kind):
    assert main(["plot", str(results[kind]), "--out", str(tmp_path / "p.png"), "--y", "heterogeneity"]) == 2
    _one_error_line(capsys, "only to a sweep grid")


def test_plot_refuses_an_unknown_grid_axis(results, tmp_path, capsys):
    assert main(["plot", str(results["sweep_grid"]), "--out", str(tmp_path / "p.png"), "--y", "bogus"]) == 2
    _one_error_line(capsys, "heterogeneity")


# ----------------------------------------------------------------------------- loose validation
def test_canonical_alpha_bounds_heterogeneity():
    with pytest.raises(ValueError, match=r"heterogeneity must be in \[0, 300\]"):
        tr.canonical_alpha(3, 1000)
    assert np.all(np.isfinite(tr.canonical_alpha(3, 300))) and np.all(tr.canonical_alpha(3, 300) > 0)


def test_custom_gradient_of_the_wrong_length_is_reported_as_such():
    with pytest.raises(ValueError, match=r"shape \(2,\).*got shape \(3,\)"):
        tr.toys.custom(lambda x: x[1] ** 2 / (x[0] ** 2 + x[1] ** 2),
                       lambda x: np.zeros(3), dims=[2])


def _sin2(x):
    return x[1] ** 2 / (x[0] ** 2 + x[1] ** 2)


def _sin2_grad(x):
    r2 = x[0] ** 2 + x[1] ** 2
    g = np.zeros(4)
    g[0] = -2 * x[0] * x[1] ** 2 / r2**2
    g[1] = 2 * x[1] * x[0] ** 2 / r2**2
    return g


def test_custom_refuses_a_flat_group_as_rayleigh_does():
    with pytest.raises(ValueError, match=r"group\(s\) \[1\] are flat"):
        tr.toys.custom(_sin2, _sin2_grad, dims=[2, 2])
    with pytest.raises(ValueError, match="flat"):
        tr.toys.rayleigh([[0, 1], [1, 1]])


@pytest.mark.parametrize("bad", ["0.25", True, np.bool_(True), ["0.25"], [0.25, True], np.array(["0.25"])])
def test_numeric_arguments_refuse_strings_and_bools(bad):
    with pytest.raises(ValueError, match="elr must be numeric"):
        tr.simulate(tr.toys.canonical([1.0]), elr=bad, steps=10)


def test_sweep_refuses_duplicate_k():
    with pytest.raises(ValueError, match=r"k values must be distinct, got duplicates \[1.5\]"):
        tr.sweep(tr.toys.canonical([1.0]), k=[1.5, 1.5], seeds=1, steps=10, tail=5)


def test_save_names_the_accepted_type():
    with pytest.raises(ValueError, match="xarray.Dataset .* got dict"):
        tr.save({"loss": [1, 2]}, "x.nc")


# ----------------------------------------------------------------------------- options never silently ignored
@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--batch", "4"], "--batch applies only with --noise minibatch"),
        (["--samples", "8"], "--samples applies only with --noise minibatch"),
        (["--samples", "8", "--batch", "4", "--noise", "tangent"], "--samples and --batch apply only"),
        (["--noise", "minibatch"], "--noise minibatch needs --samples N"),
        (["--noise", "minibatch", "--samples", "8"], "needs --samples N"),
    ],
)
def test_train_minibatch_options(capsys, no_compute, extra, needle):
    assert main(["train", "--alpha", "1", "2", "--lr", "0.1", "--wd", "0.01", "--steps", "10", *extra]) == 2
    line = _one_error_line(capsys, needle)
    assert "toys.stochastic" not in line  # a CLI user gets CLI options, not a Python function


def test_train_library_refuses_batch_without_minibatch():
    with pytest.raises(ValueError, match="batch applies only to noise='minibatch'"):
        tr.train(tr.toys.canonical([1.0, 2.0]), lr=0.1, wd=0.01, steps=10, noise="tangent", batch=4)


# ----------------------------------------------------------------------------- the error boundary
@pytest.mark.parametrize(
    ("exc", "code", "needle"),
    [
        (ValueError("bad\nvalue"), 2, "error: bad value"),
        (FileNotFoundError(2, "No such file or directory", "x.nc"), 2, "No such file"),
        (PermissionError(13, "Permission denied"), 2, "Permission denied"),
        (KeyboardInterrupt(), 130, "interrupted"),
        (RuntimeError("oops"), 1, "this is a bug"),
        (ZeroDivisionError("division by zero"), 1, "this is a bug"),
    ],
)
def test_error_boundary(monkeypatch, capsys, exc, code, needle):
    def handler(args):
        raise exc

    monkeypatch.setattr(cli, "_cmd_run", handler)
    assert main(RUN) == code
    _one_error_line(capsys, needle)


def test_an_interrupt_inside_c_code_is_still_an_interrupt(monkeypatch, capsys):
    def handler(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:  # what Numba's dispatcher does when SIGINT lands inside it
            raise SystemError("<function> returned a result with an exception set") from None

    monkeypatch.setattr(cli, "_cmd_run", handler)
    assert main(RUN) == 130
    _one_error_line(capsys, "interrupted")


def test_debug_shows_the_traceback_of_a_bug(monkeypatch, capsys):
    def handler(args):
        raise RuntimeError("oops")

    monkeypatch.setattr(cli, "_cmd_run", handler)
    assert main([*RUN, "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: oops" in err
    assert main(["--debug", *RUN]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_usage_errors_and_help_return_instead_of_exiting(capsys):
    assert main(["run", "--alpha", "x", "--k", "1"]) == 2
    _one_error_line(capsys, "invalid float value")
    assert main(["--version"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    "argv",
    [
        ["sweep", "--alpha", "1", "--num", "10000000000000", "--seeds", "1", "--out", "x.nc"],
        ["sweep", "--alpha", "1", "--num", "2", "--seeds", "10000000000000", "--out", "x.nc"],
        ["train", "--alpha", "1", "2", "--lr", "0.1", "--wd", "0.01", "--noise", "minibatch", "--samples",
         "10000000000000", "--batch", "2"],
    ],
)
def test_huge_grids_seeds_and_samples_are_refused_before_allocating(capsys, argv):
    start = time.monotonic()
    assert main(argv) == 2
    _one_error_line(capsys, "memory", "--force")
    assert time.monotonic() - start < 10
