"""Release check: the sdist and the wheel build, pass ``twine check``, and the wheel works on its own.

The wheel is installed (not editable) into a fresh virtual environment, with its dependencies, and
run from a directory outside the checkout: ``toyregimes verify``, a small sweep and its plot.  There
``import derivations`` must fail -- the repository's ``derivations/`` folder installs as
``toyregimes.derivations`` and nowhere else.

Costs ~3-5 min on 2 cores, once per test run: building, installing the dependencies (from pip's
cache when warm) and the Numba compilation of the kernels in the new environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(cmd, cwd, env=None, timeout=1200):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n" \
                                 f"{proc.stderr[-3000:]}"
    return proc


def test_package_list_matches_the_folders():
    """pyproject lists the packages explicitly (because of the package-dir mapping): none may be missing."""
    try:
        import tomllib  # Python >= 3.11
    except ImportError:  # Python 3.10: the TOML parser pip vendors (never skip the check)
        from pip._vendor import tomli as tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "toyregimes").rglob("__init__.py")}
    found.add("toyregimes.derivations")
    assert set(config["packages"]) == found
    assert config["package-dir"]["toyregimes.derivations"] == "derivations"


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The sdist, and the wheel built from it (``python -m build`` does both, in isolated environments)."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out)
    sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out.iterdir())
    return sdists[0], wheels[0]


def test_twine_check(dist):
    _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist)], cwd=dist[0].parent)


def test_wheel_holds_derivations_inside_the_package(dist):
    names = zipfile.ZipFile(dist[1]).namelist()
    assert "toyregimes/derivations/__init__.py" in names
    assert "toyregimes/derivations/report.py" in names
    assert not any(n.startswith("derivations/") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    with tarfile.open(dist[0]) as sdist:
        members = {Path(*Path(m).parts[1:]).as_posix() for m in sdist.getnames()}
    assert {"derivations/__init__.py", "LICENSE", "README.md", "pyproject.toml"} <= members


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory):
    """A fresh virtual environment with the wheel installed; commands run in a directory outside the checkout."""
    home = tmp_path_factory.mktemp("fresh")
    _run([sys.executable, "-m", "venv", str(home / "venv")], cwd=home)
    bindir = home / "venv" / ("Scripts" if os.name == "nt" else "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    work = home / "work"
    work.mkdir()
    _run([str(bindir / "python"), "-m", "pip", "install", "-q", str(dist[1])], cwd=work, env=env)
    return bindir, work, env


def test_import_derivations_fails_and_toyregimes_derivations_works(venv):
    bindir, work, env = venv
    proc = subprocess.run([str(bindir / "python"), "-c", "import derivations"], cwd=work, env=env,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "No module named 'derivations'" in proc.stderr
    code = ("import toyregimes, toyregimes.derivations as d; print(toyregimes.__file__); print(d.__file__); "
            "print(len(d.all_claims()))")
    lines = _run([str(bindir / "python"), "-c", code], cwd=work, env=env).stdout.split()
    venv_root = str(bindir.parent.resolve())
    assert all(Path(p).resolve().as_posix().startswith(Path(venv_root).as_posix()) for p in lines[:2]), lines
    assert not any(str(ROOT) in p for p in lines[:2])
    assert int(lines[2]) > 0


def test_verify_sweep_and_plot_from_the_wheel(venv):
    bindir, work, env = venv
    exe = str(bindir / "toyregimes")
    out = _run([exe, "verify"], cwd=work, env=env).stdout
    assert "FAILED" not in out and "claims passed" in out
    _run([str(bindir / "python"), "-m", "toyregimes.derivations", "--list"], cwd=work, env=env)
    _run([exe, "sweep", "--alpha", "1", "2", "3", "--k-min", "0.5", "--k-max", "5", "--num", "16", "--seeds", "2",
          "--steps", "2000", "--tail", "500", "--out", "sweep.nc", "--quiet"], cwd=work, env=env)
    _run([exe, "plot", "sweep.nc", "--out", "phase.png"], cwd=work, env=env)
    assert (work / "sweep.nc").stat().st_size > 0
    assert (work / "phase.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
