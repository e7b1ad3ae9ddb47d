"""`toyregimes run`: summary JSON, NetCDF output and the plot, checked against theory and the API."""

import json

import numpy as np
import pytest

import toyregimes as tr
from toyregimes.cli import main


def test_summary_is_one_json_object_matching_theory(capsys):
    assert main(["run", "--alpha", "1", "2", "3", "--elr", "0.25", "--steps", "20000", "--summary"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    stats = json.loads(out[0])
    for key in ("mean_loss", "std_loss", "mean_cos_angle", "final_sq_norm", "regime"):
        assert key in stats
    assert stats["mean_loss"] == pytest.approx(float(tr.theory.equilibrium_loss([1, 2, 3], 0.25)), abs=1e-3)
    assert stats["mean_cos_angle"] == pytest.approx(float(tr.theory.equilibrium_cos_angle([1, 2, 3], 0.25)), abs=1e-3)
    assert len(stats["final_sq_norm"]) == 3 and sum(stats["final_sq_norm"]) == pytest.approx(1.0)
    assert stats["regime"] == "periodic"


def test_k_option_equals_elr_option(capsys):
    main(["run", "--alpha", "1", "2", "3", "--k", "1.5", "--steps", "500", "--summary"])
    by_k = json.loads(capsys.readouterr().out)
    main(["run", "--alpha", "1", "2", "3", "--elr", "0.25", "--steps", "500", "--summary"])
    assert json.loads(capsys.readouterr().out) == by_k


def test_out_and_plot_files(tmp_path, capsys):
    nc, png = tmp_path / "run.nc", tmp_path / "run.png"
    argv = ["run", "--alpha", "1", "2", "--elr", "0.2", "--steps", "3000", "--seed", "4",
            "--constraint", "individual", "--out", str(nc), "--plot", str(png), "--lyapunov"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "regime:" in text and "Lyapunov" in text
    run = tr.load(nc)
    api = tr.simulate(tr.toys.canonical([1, 2]), elr=0.2, steps=3000, seed=4, constraint="individual", lyapunov=True)
    np.testing.assert_array_equal(run.loss, api.loss)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_sweep_kernel_option_selects_the_kernel(tmp_path):
    # the default is the exact kernel (simulate's trajectories); --kernel fast the canonical toy's own kernel
    for option, kernel in ((None, "rayleigh_batched"), ("exact", "rayleigh_batched"), ("fast", "canonical_batched")):
        out = tmp_path / f"{option}.nc"
        argv = ["sweep", "--alpha", "1", "2", "3", "--num", "2", "--seeds", "1", "--steps", "20", "--tail", "10",
                "--quiet", "--out", str(out)] + ([] if option is None else ["--kernel", option])
        assert main(argv) == 0
        assert tr.load(out).attrs["kernel"] == kernel
