"""Sphinx extension of the toyregimes documentation: pages generated from the code at build time.

Nothing here is typed by hand, so nothing here can drift from the code:

* ``_generated/api.rst`` -- the API reference: for each public module its docstring and an autosummary
  table of its ``__all__`` (numpydoc renders the docstrings);
* ``_generated/cli.rst`` -- the command line reference, walked from :func:`toyregimes.cli.build_parser`
  (every sub-command, its usage, description, arguments and example);
* ``_generated/derivations.inc`` -- the verified-derivations table, from the claim registry
  (:func:`toyregimes.derivations.all_claims`; no derivation is run at build time);
* ``_generated/gallery.inc`` -- the gallery, from :data:`toyregimes.plot.gallery.FIGURES` and the PNGs of
  ``figures/``;
* ``_generated/examples/`` -- copies of the notebooks of ``examples/`` (rendered by myst-nb, not executed).

The functions are plain (``cli_rst(parser)`` etc.) so that the tests can call them too.
"""

from __future__ import annotations

import argparse
import shutil
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
OUT = DOCS / "_generated"

# Public modules of the API reference, in reading order, with a one-line heading each.
API_MODULES = [
    ("toyregimes", "Top level: the public API"),
    ("toyregimes.toys", "Toys: scale-invariant functions"),
    ("toyregimes.theory", "Theory: closed forms"),
    ("toyregimes.analysis", "Analysis: tail statistics, exponents, periods, regime labels"),
    ("toyregimes.simulate", "Single runs"),
    ("toyregimes.lyapunov", "Lyapunov spectrum"),
    ("toyregimes.orbits", "Orbit diagrams"),
    ("toyregimes.train", "Weight-decay training"),
    ("toyregimes.sweep", "Sweeps: grids of runs"),
    ("toyregimes.sweep.checkpoints", "Sweep checkpoints"),
    ("toyregimes.io", "Saving and loading results"),
    ("toyregimes.studies.divergence", "Study: the divergent regime"),
    ("toyregimes.studies.route_to_chaos", "Study: the route to chaos"),
    ("toyregimes.studies.trajectory_invariance", "Study: trajectory invariance under weight decay"),
    ("toyregimes.plot", "Plots of runs and regime maps"),
    ("toyregimes.plot.training", "Plots of weight-decay training"),
    ("toyregimes.plot.route_to_chaos", "Plot of the route to chaos"),
    ("toyregimes.plot.gallery", "The gallery"),
    ("toyregimes.plot.style", "Figure style: column widths, colours, legends"),
    ("toyregimes.plot.audit", "Figure checks: every artist named, no colliding text"),
    ("toyregimes.explore", "The interactive explorer"),
    ("toyregimes.derivations", "Derivations: the claim registry"),
    ("toyregimes.derivations.report", "Derivations: reports"),
]


def _heading(text: str, char: str, over: bool = False) -> list[str]:
    line = char * len(text)
    return [line, text, line, ""] if over else [text, line, ""]


def public_names(modname: str) -> list[str]:
    """Names documented for a module: its ``__all__`` minus sub-modules and ``__version__``."""
    import importlib
    import inspect

    mod = importlib.import_module(modname)
    return [n for n in mod.__all__ if n != "__version__" and not inspect.ismodule(getattr(mod, n))]


def _home(obj, default: str) -> str:
    """The API module that documents ``obj``: the first module after the top level whose ``__all__`` holds it.

    So a function re-exported at the top level (``toyregimes.simulate`` is the module and the
    function) has one page, under the module that owns it, and the function never shares a name
    with a module.
    """
    import importlib

    for modname, _ in API_MODULES[1:]:
        mod = importlib.import_module(modname)
        if any(getattr(mod, n, None) is obj for n in public_names(modname)):
            return modname
    return default


def _entry(modname: str, name: str) -> str:
    """Autosummary entry, relative to the current module ``modname``, for its public name ``name``."""
    import importlib

    obj = getattr(importlib.import_module(modname), name)
    home = _home(obj, modname) if modname == "toyregimes" else modname
    if home == modname:
        return name
    target = f"{home}.{_name_in(home, obj)}"
    return target[len(modname) + 1:] if target.startswith(modname + ".") else target


def _name_in(modname: str, obj) -> str:
    import importlib

    mod = importlib.import_module(modname)
    return next(n for n in public_names(modname) if getattr(mod, n, None) is obj)


def api_rst() -> str:
    lines = _heading("API reference", "=", over=True)
    lines += [
        "Generated from the docstrings of the public modules (each module's ``__all__``). "
        "``import toyregimes as tr`` gives the top level; the sub-packages are reached as attributes "
        "(``tr.toys``, ``tr.theory``, ``tr.analysis``) or imported by name.",
        "",
    ]
    for modname, title in API_MODULES:
        lines += _heading(f"{title} (``{modname}``)", "-")
        lines += [f".. automodule:: {modname}", "   :no-members:", ""]
        names = [n for n in public_names(modname) if _is_code(modname, n)]
        if names:
            lines += [".. autosummary::", "   :toctree: api", "   :nosignatures:", ""]
            lines += [f"   ~{_entry(modname, n)}" for n in names]
            lines += [""]
        data = [n for n in public_names(modname) if not _is_code(modname, n)]
        if data:
            lines += ["Constants:", ""]
            for n in data:
                lines += [f".. py:data:: {n}", f"   :value: {_short_repr(modname, n)}", ""]
    return "\n".join(lines) + "\n"


def _is_code(modname: str, name: str) -> bool:
    """Functions and classes get a page; constants are listed with their value (their ``__doc__`` is
    the docstring of their type, which says nothing about them)."""
    import importlib
    import inspect

    obj = getattr(importlib.import_module(modname), name)
    return inspect.isclass(obj) or callable(obj)


def _short_repr(modname: str, name: str, width: int = 90) -> str:
    import importlib
    import reprlib

    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxdict, r.maxtuple, r.maxlist = width, width, 4, 9, 9
    text = " ".join(r.repr(getattr(importlib.import_module(modname), name)).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help_lines(parser: argparse.ArgumentParser) -> list[str]:
    """Option rows of one parser as an rst option list (argparse's own formatting of the flags)."""
    rows = []
    fmt = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        flags = fmt._format_action_invocation(action)
        text = " ".join((fmt._expand_help(action) if action.help else "").split())
        notes = []
        if action.choices is not None and not action.help:
            notes.append("one of " + ", ".join(map(str, action.choices)))
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS) \
                and "default" not in text and action.nargs != 0:
            notes.append(f"default {action.default}")
        if action.required and action.option_strings:
            notes.append("required")
        if notes:
            text = f"{text} ({'; '.join(notes)})" if text else "; ".join(notes).capitalize()
        rows.append((flags, text or "(no description)"))
    for group in parser._mutually_exclusive_groups:
        names = " | ".join(a.option_strings[0] for a in group._group_actions)
        rows.append(("", f"Exclusive: {names}" + (" (one is required)." if group.required else ".")))
    lines = []
    for flags, text in rows:
        if flags:
            lines += [f"``{flags}``", f"   {_rst_escape(text)}", ""]
        else:
            lines += [_rst_escape(text), ""]
    return lines


def cli_rst(parser: argparse.ArgumentParser | None = None) -> str:
    """The command line reference from the argparse parser (every sub-command, with its example)."""
    if parser is None:
        from toyregimes.cli import build_parser

        parser = build_parser()
    lines = _heading("Command line reference", "=", over=True)
    lines += [
        "Generated from the argparse parser of ``toyregimes`` (:func:`toyregimes.cli.build_parser`), so it "
        "lists exactly what ``toyregimes --help`` and ``toyregimes COMMAND --help`` print. Bad input prints "
        "one line on stderr and exits with status 2.",
        "",
        ".. code-block:: text",
        "",
        textwrap.indent(parser.format_usage().strip(), "   "),
        "",
    ]
    lines += _help_lines(parser)
    for name, sub in _subcommands(parser).items():
        lines += [f".. _cli-{name}:", ""]
        lines += _heading(f"toyregimes {name}", "-")
        if sub.description:
            lines += [_rst_escape(" ".join(sub.description.split())), ""]
        lines += [".. code-block:: text", "", textwrap.indent(sub.format_usage().strip(), "   "), ""]
        lines += _help_lines(sub)
        if sub.epilog:
            example = sub.epilog.removeprefix("example:").strip()
            lines += ["Example:", "", ".. code-block:: bash", "", f"   {example}", ""]
    return "\n".join(lines) + "\n"


def _rst_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", r"\*").replace("`", r"\`").replace("|", r"\|")


def derivations_rst() -> str:
    """The verified-derivations table: every claim of the registry, family by family."""
    from toyregimes.derivations import all_claims

    lines = []
    family = None
    for claim in all_claims():
        if claim.family != family:
            family = claim.family
            lines += _heading(family[0].upper() + family[1:], "~")
            lines += [".. list-table::", "   :header-rows: 1", "   :widths: 25 75", "",
                      "   * - claim", "     - statement", ""]
        lines += [f"   * - ``{claim.name}``", f"     - {_rst_escape(claim.statement)}", ""]
    return "\n".join(lines) + "\n"


def gallery_rst() -> str:
    """Every gallery figure with its caption (the same captions as the README's gallery)."""
    from toyregimes.plot.gallery import FIGURES

    lines = []
    for fig in FIGURES.values():
        lines += _heading(fig.name.replace("_", " ").capitalize(), "-")
        lines += [f".. figure:: /_generated/figures/{fig.name}.png", "   :width: 100%",
                  f"   :alt: {fig.name}", "", f"   {_rst_escape(fig.caption)}", ""]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    # Rewrite only on change, so that Sphinx does not rebuild pages that did not change.
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def generate(out: Path = OUT) -> None:
    """Write every generated page and copy the notebooks and figures into ``out``."""
    # autosummary writes the stubs of api/ afterwards; stubs of names that left __all__ must not linger
    shutil.rmtree(out / "api", ignore_errors=True)
    _write(out / "api.rst", api_rst())
    _write(out / "cli.rst", cli_rst())
    _write(out / "derivations.inc", derivations_rst())
    _write(out / "gallery.inc", gallery_rst())
    from toyregimes.plot.gallery import FIGURES

    for name in FIGURES:
        src = ROOT / "figures" / f"{name}.png"
        dst = out / "figures" / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
    for nb in sorted((ROOT / "examples").glob("*.ipynb")):
        dst = out / "examples" / nb.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists() or dst.read_bytes() != nb.read_bytes():
            shutil.copyfile(nb, dst)


def _on_builder_inited(app) -> None:
    generate()


def setup(app):
    # before autosummary's own builder-inited handler (priority 500), which reads the generated api.rst
    app.connect("builder-inited", _on_builder_inited, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
