"""The documentation: the Sphinx site builds with warnings as errors, its generated references are
complete, the docstring examples pass as doctests and every code block of the guides runs.

Needs the ``docs`` extra (the README's test command installs it).  Costs: the site build ~30 s,
the doctests a few seconds once the simulate kernel is in Numba's cache, the guides ~1-2 min (they
compile user toys, which Numba cannot cache).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import toyregimes_docs  # noqa: E402  (docs/_ext, put on the path above)

from toyregimes.cli import build_parser  # noqa: E402


def _subcommands():
    return list(toyregimes_docs._subcommands(build_parser()))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The HTML site, built as CI builds it: ``sphinx -W`` (any warning fails the build)."""
    out = tmp_path_factory.mktemp("html")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS),
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"docs build failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_docs_build_with_warnings_as_errors(site):
    for page in ("index", "install", "science", "gallery", "examples", "guides/custom_toy", "guides/cluster",
                 "_generated/api", "_generated/cli"):
        assert (site / f"{page}.html").is_file(), page
    for nb in sorted((ROOT / "examples").glob("*.ipynb")):
        assert (site / "_generated" / "examples" / f"{nb.stem}.html").is_file(), nb.name


def test_cli_reference_lists_every_subcommand(site):
    commands = _subcommands()
    assert {"run", "sweep", "plot", "figures", "verify", "train", "explore"} <= set(commands)
    html = (site / "_generated" / "cli.html").read_text()
    for name in commands:
        # a section per sub-command, with its usage line and its --help example
        assert f'id="toyregimes-{name}"' in html, name
        assert f"usage: toyregimes {name}" in html, name
        sub = toyregimes_docs._subcommands(build_parser())[name]
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in html, (name, flag)


def test_api_reference_documents_every_public_name(site):
    html = (site / "_generated" / "api.html").read_text()
    for modname, _ in toyregimes_docs.API_MODULES:
        assert f'id="module-{modname}"' in html, modname
        for name in toyregimes_docs.public_names(modname):
            assert f">{name}<" in html, (modname, name)


def test_science_page_has_every_claim_and_gallery_every_figure(site):
    from toyregimes.derivations import all_claims
    from toyregimes.plot.gallery import FIGURES

    science = (site / "science.html").read_text()
    for claim in all_claims():
        assert f">{claim.name}<" in science, claim.name
    gallery = (site / "gallery.html").read_text()
    for name in FIGURES:
        assert f"{name}.png" in gallery, name
        assert (site / "_images" / f"{name}.png").is_file(), name


def _modules():
    import toyregimes
    import toyregimes.derivations

    names = ["toyregimes", "toyregimes.derivations"]
    for pkg in (toyregimes, toyregimes.derivations):
        names += [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
    return sorted({n for n in names if not n.endswith("__main__")})  # __main__ would run the CLI


def test_docstring_examples_pass_as_doctests():
    """Every ``>>>`` example of the package runs (those that take minutes are marked ``+SKIP``)."""
    failed, attempted, report = 0, 0, []
    for name in _modules():
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, report=False)
        failed += result.failed
        attempted += result.attempted
        if result.failed:
            report.append(name)
    assert failed == 0, f"doctests failed in {report} (run python -m pytest --doctest-modules on them for details)"
    assert attempted >= 40  # the examples exist (a refactoring that drops them should be noticed)


GUIDE_RUNNER = """
import sys
if __name__ == "__main__":  # Dask's worker processes import the main module again
    source = open(sys.argv[1]).read()
    exec(compile(source, sys.argv[1], "exec"), {"__name__": "guide"})
"""


@pytest.mark.parametrize("guide", sorted(p.name for p in (DOCS / "guides").glob("*.md")))
def test_guide_code_blocks_run(guide, tmp_path):
    """The ``python`` blocks of a guide run in order, in one namespace, in a fresh process (blocks that
    need a real cluster are ``code-block`` directives, which this does not pick up)."""
    text = (DOCS / "guides" / guide).read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)
    assert blocks, f"{guide} has no python blocks"
    (tmp_path / "guide.py").write_text("\n".join(blocks))
    (tmp_path / "runner.py").write_text(GUIDE_RUNNER)
    proc = subprocess.run([sys.executable, "runner.py", "guide.py"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
