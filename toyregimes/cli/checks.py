"""Checks every sub-command makes before it computes: output paths, image formats, size-guard overrides,
and strict JSON output.

A command that fails after an hour of computing because its ``--out`` directory does not exist has
wasted the hour; so every path a command will write is checked first (the directory exists, the path is
not a directory, a file can be created there), with the same one-line ``ValueError`` as bad numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["output_file", "image_file", "json_line", "budget", "add_force", "add_width", "width_of"]


def output_file(path, option: str) -> Path:
    """A writable file path for ``option`` (e.g. ``"--out"``), checked before computing."""
    from toyregimes.io import check_output_path

    return check_output_path(path, option)


def image_file(path, option: str) -> Path:
    """The file matplotlib will really write for ``path``, checked before computing.

    matplotlib appends ``.png`` to a name without a suffix and refuses unknown suffixes only when it
    saves; here both happen up front, and the returned path is the one to report.
    """
    from matplotlib.figure import Figure

    p = Path(str(path))
    if not p.suffix:
        p = p.with_name(p.name + ".png")
    formats = sorted(Figure().canvas.get_supported_filetypes())
    if p.suffix[1:].lower() not in formats:
        raise ValueError(f"{option} must end in an image format ({', '.join(formats)}), got {str(path)!r}")
    return output_file(p, option)


def json_line(obj) -> str:
    """Strict JSON (non-finite numbers as ``null``; never the non-standard ``NaN``) on one line."""
    from toyregimes.analysis import json_ready

    return json.dumps(json_ready(obj), allow_nan=False)


def add_force(parser) -> None:
    """Add ``--force``: lift the size guard's memory and time limits."""
    parser.add_argument(
        "--force",
        action="store_true",
        help="run even if the estimated memory or time exceeds the size guard's limits (8 GiB, one day)",
    )


def budget(args) -> dict:
    """Keyword arguments of the size guard for the library call: no limits under ``--force``."""
    return {"max_memory": None, "max_seconds": None} if getattr(args, "force", False) else {}


def add_width(parser) -> None:
    """Add ``--width single|double|INCHES``: draw at a journal column's width with print-sized fonts."""
    parser.add_argument(
        "--width",
        metavar="W",
        help="draw at a journal column's width: single (3.5 in), double (7.2 in) or a width in inches; "
        "fonts sized for print (default: each figure's own size)",
    )


def width_of(args):
    """The checked ``--width`` (None when absent); a bad value is a ``ValueError`` before any computing."""
    width = getattr(args, "width", None)
    if width is None:
        return None
    from toyregimes.plot.style import figure_size

    try:
        figure_size(width)
    except ValueError as exc:
        raise ValueError(f"--width: {exc}") from None
    return width
