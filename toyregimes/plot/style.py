"""One look for every figure: sizes at a journal's column width, shared colours, log ranges, markers.

Every plotting function of :mod:`toyregimes.plot` creates its figure with :func:`new_figure`, so
``with paper_width("single"): fig = plot_phase_diagram(ds)`` (or ``--width single`` on the command
line) draws any figure at a journal column's width with font sizes chosen for print, and the same
regime, group and reference-line colours appear in every panel of every figure.

Deliberately unlabelled artists (a zero line of an axis whose label already names it, the bands of a
shading that a proxy legend explains) are marked with :func:`unlabelled`, which records the reason in
the artist's ``gid``; :func:`toyregimes.plot.audit.unexplained_artists` accepts exactly those.
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np

__all__ = [
    "COLUMN_WIDTHS",
    "REGIME_COLORS",
    "THRESHOLD_LINE",
    "THEORY_COLOR",
    "group_color",
    "figure_size",
    "paper_width",
    "current_width",
    "new_figure",
    "log_limits",
    "integer_ticks",
    "unlabelled",
    "UNLABELLED",
    "unique_legend",
    "log_ticks",
]

# Column widths in inches: single ~ 3.3-3.5 in (Nature 89 mm, APS/IEEE 3.4-3.5 in), double ~ 7.0-7.2 in
# (Nature 183 mm, NeurIPS text width 5.5 in fits between the two: pass it as a number).
COLUMN_WIDTHS = {"single": 3.5, "double": 7.2}

# One colour per regime label, used by every figure that shades or marks regimes.
REGIME_COLORS = {
    "convergence": "#4C72B0",
    "periodic": "#55A868",
    "quasi_periodic": "#8C8C8C",
    "aperiodic": "#CCB974",
    "chaotic": "#DD8452",
    "divergence": "#C44E52",
    "diverged_numerically": "#000000",
    "transient": "#B8D4EA",
    "undetermined": "#E5E5E5",
}

# The convergence threshold k = 1 (or its analogue) drawn the same way everywhere, and one theory colour.
THRESHOLD_LINE = {"color": "0.25", "ls": ":", "lw": 1.0}
THEORY_COLOR = "#C03030"

# Groups (and other categorical series) take the Okabe-Ito colours, distinguishable with colour-vision
# deficiencies and never the theory red; the i-th group has the same colour in every panel and figure.
_SERIES = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
           "#999999", "#882255"]

UNLABELLED = "unlabelled: "

_state = {"width": None}


def group_color(i: int) -> str:
    """Colour of the ``i``-th group (0-based) or ``i``-th categorical series, the same in every figure."""
    return _SERIES[int(i) % len(_SERIES)]


def _inches(column) -> float:
    if isinstance(column, str):
        if column in COLUMN_WIDTHS:
            return COLUMN_WIDTHS[column]
        try:
            column = float(column)
        except ValueError:
            raise ValueError(f"width must be 'single', 'double' or a number of inches, got {column!r}") from None
    width = float(column)
    if not np.isfinite(width) or not 1.0 <= width <= 30.0:
        raise ValueError(f"width must be between 1 and 30 inches, got {column!r}")
    return width


def figure_size(column="double", aspect: float = 0.62) -> tuple:
    """``(width, height)`` in inches of a figure ``column`` wide with height ``aspect * width``.

    ``column`` is ``"single"`` (3.5 in), ``"double"`` (7.2 in) or a width in inches (a number, or a
    string holding one, as the ``--width`` option passes it).

    Example: ``plt.figure(figsize=figure_size("single", aspect=0.8))``.
    """
    if not np.isfinite(aspect) or aspect <= 0:
        raise ValueError(f"aspect must be a positive number, got {aspect!r}")
    width = _inches(column)
    return (width, aspect * width)


def current_width():
    """The width in inches set by the innermost :func:`paper_width`, or None (each figure's own size)."""
    return _state["width"]


def _rc(width):
    """Font sizes readable in print: 8 pt text at double-column width, 7 pt at single (journals ask 6-9 pt)."""
    base = 7.0 if width < 5.0 else 8.0
    return {
        "font.size": base,
        "axes.titlesize": base,
        "axes.labelsize": base,
        "xtick.labelsize": base - 1,
        "ytick.labelsize": base - 1,
        "legend.fontsize": base - 1,
        "figure.titlesize": base,
        "lines.markersize": 4.0,
        "axes.linewidth": 0.6,
        "savefig.dpi": 300,
    }


@contextlib.contextmanager
def paper_width(column="double"):
    """Draw every figure made inside the block ``column`` wide (see :func:`figure_size`) with print fonts.

    The height keeps each figure's own aspect ratio.  ``None`` leaves the sizes alone (a no-op block).

    Example: ``with paper_width("single"): save_figure(plot_run(run), "run.pdf")``.
    """
    if column is None:
        yield None
        return
    import matplotlib

    width = _inches(column)
    previous = _state["width"]
    _state["width"] = width
    try:
        with matplotlib.rc_context(_rc(width)):
            yield width
    finally:
        _state["width"] = previous


def new_figure(size: tuple, **kwargs):
    """A constrained-layout figure of ``size`` inches, or at the :func:`paper_width` in force with ``size``'s aspect.

    Figures narrower than their designed size would squeeze their panels, so the height grows by up
    to a factor 1.6 when the width is below half the designed width (multi-panel figures stay legible
    at a single column, taller).
    """
    import matplotlib.pyplot as plt

    width = current_width()
    if width is not None:
        aspect = size[1] / size[0]
        if width < 0.5 * size[0]:
            aspect *= min(1.6, 0.5 * size[0] / width)
        size = (width, width * aspect)
    kwargs.setdefault("layout", "constrained")
    return plt.figure(figsize=size, **kwargs)


def log_limits(*arrays, decades: float | None = None, pad: float = 1.25):
    """Limits of a log axis from the meaningful positive values of ``arrays``.

    Zeros, negatives, non-finite values and subnormal numbers (below ``sys.float_info.min``, about
    2.2e-308: an underflow, not a measurement) are ignored; ``decades`` (optional) keeps only the top
    that many decades below the largest value.  Returns ``(low, high)`` padded by the factor ``pad``,
    or None when no value is usable (leave the axis to matplotlib).

    Example: ``ax.set_ylim(*log_limits(run.loss.values, decades=12))``.
    """
    values = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays]) if arrays else np.array([])
    values = values[np.isfinite(values) & (values >= sys.float_info.min)]
    if values.size == 0:
        return None
    high = float(values.max())
    low = float(values.min())
    if decades is not None:
        low = max(low, high / 10.0**decades)
    if low == high:
        low, high = low / 10.0, high * 10.0
    return (low / pad, high * pad)


def integer_ticks(axis) -> None:
    """Major ticks of ``axis`` (e.g. ``ax.yaxis``) on integers only: for counts such as the number of groups."""
    from matplotlib.ticker import MaxNLocator, NullLocator

    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_minor_locator(NullLocator())


def unlabelled(artist, reason: str):
    """Mark ``artist`` as deliberately absent from every legend, for ``reason``; returns the artist.

    The figure audit (:func:`toyregimes.plot.audit.unexplained_artists`) accepts such artists and
    reports the others, so a line a reader cannot identify is a test failure, not an oversight.
    """
    if not reason:
        raise ValueError("reason must say why the artist needs no legend entry")
    artist.set_gid(UNLABELLED + reason)
    return artist


def unique_legend(target, axes=None, handles=(), exclude=(), **kwargs):
    """A legend on ``target`` (an Axes or a Figure) with one entry per label found on ``axes``.

    ``axes`` defaults to ``[target]`` for an Axes and every panel of a Figure; labels starting with
    ``_`` are skipped and a repeated label (the same series drawn in several panels, or several
    bands of one regime) appears once.  ``handles`` are extra proxy artists appended first (e.g. regime
    patches); labels in ``exclude`` are left to another legend of the figure.  Returns the Legend, or None if there is nothing to name.
    """
    from matplotlib.figure import FigureBase

    if axes is None:
        axes = [a for a in target.axes if getattr(a, "_colorbar", None) is None] if isinstance(
            target, FigureBase) else [target]
    entries = {}
    for h in handles:
        entries.setdefault(h.get_label(), h)
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in exclude:
                entries.setdefault(label, h)
    if not entries:
        return None
    return target.legend(list(entries.values()), list(entries), **kwargs)


def log_ticks(axis) -> None:
    """Readable ticks on a log ``axis`` spanning few decades: labelled majors at 1, 2, 5 (or 1, 3) x 10^n.

    matplotlib labels the minor ticks of a short log axis itself, and those labels collide; here only
    majors carry labels.  Call after the data (or the limits) are set.
    """
    from matplotlib.ticker import LogFormatterSciNotation, LogLocator, NullFormatter

    lo, hi = sorted(axis.get_view_interval())
    if lo <= 0 or hi <= lo:
        return
    span = np.log10(hi / lo)
    subs = (1.0, 2.0, 5.0) if span < 1.5 else (1.0, 3.0) if span < 3 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))
    axis.set_minor_formatter(NullFormatter())
