"""Property-based fuzzing of the command line (issue #16): whatever the arguments, one clear outcome.

Argument vectors are drawn from valid and invalid values of every option of every sub-command (bad
numbers, wrong types, huge sizes, unusable paths, option combinations that make no sense).  The
property: ``main(argv)`` returns 0, 2 or 130, never raises, never prints a traceback, an error is exactly
one line on stderr, and each call finishes within a bounded time.  Sizes of valid values are tiny so that
each call takes a fraction of a second once the kernels are compiled (the module fixture compiles them).

Not fuzzed with valid output paths, because they take seconds each and are covered by their own tests:
``figures`` drawing a figure, ``explore --save`` drawing the window, ``verify`` running a claim.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toyregimes.cli import main

SECONDS_PER_CALL = 30.0  # generous bound on one call of tiny size (compiled kernels); typical: < 0.5 s
_counter = itertools.count()


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    """Existing files and directories the fuzzer refers to, and a warm-up that compiles the kernels."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "text.nc").write_text("not a netcdf file")
    run_nc, sweep_nc = root / "run.nc", root / "sweep.nc"
    warm = [
        ["run", "--alpha", "1", "2", "--k", "1.5", "--steps", "20", "--out", str(run_nc)],
        ["run", "--alpha", "1", "--k", "1.5", "--steps", "20", "--constraint", "individual", "--lyapunov"],
        ["sweep", "--alpha", "1", "2", "--num", "2", "--seeds", "1", "--steps", "20", "--tail", "10", "--quiet",
         "--out", str(sweep_nc)],
        # the batched kernel is specialised by the number of groups (and compiled once per specialisation)
        *(["sweep", "--alpha", *alpha, "--num", "1", "--seeds", "1", "--steps", "20", "--tail", "10", "--quiet",
           "--constraint", constraint, *flag, "--out", str(root / f"warm{len(alpha)}{constraint}{len(flag)}.nc")]
          for alpha in (["1"], ["1", "2"], ["1", "2", "3"]) for constraint in ("total", "individual")
          for flag in ([], ["--no-lyapunov"])),
        ["train", "--alpha", "1", "2", "--lr", "0.1", "--wd", "0.01", "--steps", "20"],
        ["train", "--rotated", "[[0, 1], [0, 2]]", "--lr", "0.1", "--wd", "0.01", "--steps", "20"],
    ]
    for argv in warm:
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(argv) == 0, argv
    return {"root": root, "run": run_nc, "sweep": sweep_nc}


def _call(argv):
    err, out = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue(), err.getvalue(), time.monotonic() - start


def _check(argv):
    code, _, err, seconds = _call(argv)
    assert "Traceback" not in err, (argv, err)
    assert code in (0, 2, 130), (argv, code, err)
    if code != 0:
        assert len(err.strip().splitlines()) == 1, (argv, err)  # one line, whatever went wrong
    assert seconds < SECONDS_PER_CALL, (argv, seconds)


def _argv(command, options: dict) -> list:
    argv = [command]
    for name, value in options.items():
        if value is None:
            continue
        value = value() if callable(value) else value  # a fresh file name per call
        if value is True:
            argv.append(name)
        elif isinstance(value, list):
            argv += [name, *value]
        else:
            argv += [name, value]
    return argv


def _draw(data, spec: dict) -> dict:
    """Options from ``spec`` (option -> (valid values, invalid values)); None means the option is absent.

    Every option first gets a valid value, then up to two options get an invalid one: vectors with every
    option invalid at once would only ever test the first check, and all-valid vectors must run too.
    """
    options = {name: data.draw(st.sampled_from(valid), label=name) for name, (valid, _) in spec.items()}
    corruptible = [name for name, (_, invalid) in spec.items() if invalid]
    for name in data.draw(st.lists(st.sampled_from(corruptible), max_size=2, unique=True), label="corrupt"):
        options[name] = data.draw(st.sampled_from(spec[name][1]), label=f"bad {name}")
    return options


BAD_NUMBERS = ["0", "-1", "nan", "inf", "abc", ""]
BAD_INTS = ["0", "-5", "1.5", "x"]
BAD_ALPHAS = [["0"], ["-1", "2"], ["nan"], ["1", "inf"], ["a"]]
WIDTHS = ([None, "single", "double", "4.5"], ["triple", "0", "nan", "100", ""])


def _outs(paths, suffix):
    """(valid, invalid) output paths: a fresh file or none; a directory, a missing directory, an unwritable
    place, a path under a file."""
    root = paths["root"]
    valid = [None, lambda: str(root / f"out{next(_counter)}{suffix}")]
    invalid = [str(root), str(root / "missing" / f"x{suffix}"), "/proc/toyregimes-fuzz" + suffix,
               str(root / "text.nc" / f"x{suffix}")]
    return valid, invalid


FUZZ = settings(max_examples=30, deadline=None)


@FUZZ
@given(data=st.data())
def test_fuzz_run(paths, data):
    lr = data.draw(st.sampled_from(["--elr", "--k"]))
    plots = _outs(paths, ".png")
    spec = {
        "--alpha": ([["1", "2"], ["1"], ["3", "1", "2"]], BAD_ALPHAS),
        lr: (["0.25", "1.5", "0.05"], [*BAD_NUMBERS, "1e300"]),
        "--steps": (["1", "10", "60"], [*BAD_INTS, "10000000000000"]),
        "--seed": ([None, "0", "3"], ["-1", "x"]),
        "--record-every": ([None, "1", "3"], ["0", "1000"]),
        "--tail": ([None, "1"], ["0", "100"]),
        "--constraint": ([None, "total", "individual"], ["bogus"]),
        "--lyapunov": ([None, True], []),
        "--summary": ([None, True], []),
        "--out": _outs(paths, ".nc"),
        "--plot": (plots[0], [*plots[1], str(paths["root"] / "p.xyz")]),
        "--width": WIDTHS,
    }
    _check(_argv("run", _draw(data, spec)))


@FUZZ
@given(data=st.data())
def test_fuzz_sweep(paths, data):
    out_valid, out_invalid = _outs(paths, ".nc")
    spec = {
        "--alpha": ([["1", "2"], ["1"]], BAD_ALPHAS),
        "--k-min": ([None, "0.1", "2"], ["0", "-1", "nan", "20"]),
        "--k-max": ([None, "10"], ["0.05", "inf"]),
        "--num": (["1", "3"], [*BAD_INTS, "100000", "10000000000000"]),
        "--seeds": (["1", "2"], ["0", "-1", "100000", "10000000000000"]),
        "--steps": (["20", "50"], ["0", "10000000000000"]),
        "--tail": (["5", "10"], ["0", "100"]),
        "--constraint": ([None, "total", "individual"], ["bogus"]),
        "--no-lyapunov": ([None, True], []),
        "--chunk-size": ([None, "1", "4"], ["0", "x"]),
        "--kernel": ([None, "exact"], ["slow", ""]),  # (fast would compile a kernel per number of groups)
        "--out": (out_valid[1:], out_invalid),  # required
        "--quiet": ([True], []),
    }
    _check(_argv("sweep", _draw(data, spec)))


@FUZZ
@given(data=st.data())
def test_fuzz_plot(paths, data):
    root = paths["root"]
    out_valid, out_invalid = _outs(paths, ".png")
    spec = {
        "file": ([str(paths["run"]), str(paths["sweep"])], [str(root / "text.nc"), str(root / "absent.nc"),
                                                             str(root)]),
        "--out": ([*out_valid[1:], lambda: str(root / f"noext{next(_counter)}")], [*out_invalid, str(root / "p.xyz")]),
        "--y": ([None], ["heterogeneity", "bogus"]),
        "--width": WIDTHS,
    }
    options = _draw(data, spec)
    file = options.pop("file")
    _check(["plot", file, *_argv("plot", options)[1:]])


@FUZZ
@given(data=st.data())
def test_fuzz_train(paths, data):
    toy = data.draw(st.sampled_from(["--alpha", "--rotated"]))
    noise = data.draw(st.sampled_from(["none", "tangent", "isotropic", "minibatch"]))
    minibatch = noise == "minibatch"
    spec = {
        toy: ([["1", "2"]] if toy == "--alpha" else ["[[0, 1], [0, 2]]"],
              BAD_ALPHAS if toy == "--alpha" else ["[[1, 1]]", "not json", "[]", "[[0]]"]),
        "--lr": (["0.1", "0.02"], BAD_NUMBERS),
        "--wd": (["0.01", "0"], ["20", "-1", "nan"]),
        "--steps": (["10", "40"], ["0", "-3", "10000000000000"]),
        "--optimizer": ([None, "sgd", "sgdm", "adamw"], ["bogus"]),
        "--schedule": ([None, "constant", "wsd"], ["bogus"]),
        "--noise": ([noise], ["bogus"]),
        "--samples": (["8"] if minibatch else [None], ["0", "-2", "10000000000000"] if minibatch else ["8"]),
        "--batch": (["4"] if minibatch else [None], ["100", "0"] if minibatch else ["4"]),
        "--record-every": ([None, "1", "3"], ["0", "1000"]),
        "--momentum": ([None, "0.5"], ["1", "-0.1"]),
        "--betas": ([None, ["0.9", "0.99"]], [["1", "0.5"], ["nan", "0.9"]]),
        "--eps": ([None, "0", "1e-8"], ["-1", "inf"]),
        "--noise-scale": ([None, "0.5"], ["-1", "nan"]),
        "--init-norm": ([None, "1", "3"], ["0", "-2", "inf"]),
        "--spread": ([None, "0.5"], ["-1", "nan"]),
        "--toy-seed": ([None, "1"], ["-1"]),
        "--summary": ([None, True], []),
        "--out": _outs(paths, ".nc"),
        "--plot": _outs(paths, ".png"),
        "--width": WIDTHS,
    }
    _check(_argv("train", _draw(data, spec)))


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_fuzz_figures_verify_explore(paths, data):
    """Only the refusals: a valid figure, claim or explorer snapshot takes seconds (tested elsewhere)."""
    root = paths["root"]
    argv = data.draw(st.sampled_from([
        ["figures", "--list"],
        ["figures", "--only", "no_such_figure", "--out", str(root / "figs")],
        ["figures", "--only", "phase_diagram", "--out", "/proc/toyregimes-figs"],
        ["figures", "--only", "phase_diagram", "--out", str(root / "text.nc")],
        ["figures", "--only", "phase_diagram", "--out", str(root / "figs"), "--width", "triple"],
        ["figures", "--only", "phase_diagram", "--out", str(root / "figs"), "--format", "gif"],
        ["verify", "--claim", "no_such_claim"],
        ["verify", "--json", "--claim", "no_such_claim"],
        ["explore", "--steps", "50"],  # no display in tests: refused with a hint to use --save
        ["explore", "--steps", "0", "--save", str(root / "e.png")],
        ["explore", "--k", "-1", "--save", str(root / "e.png")],
        ["explore", "--save", str(root / "missing" / "e.png")],
        ["explore", "--save", str(root / "e.xyz")],
        ["explore", "--alpha", "nan", "--save", str(root / "e.png")],
    ]))
    _check(argv)
