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
    "fitted_legend",
    "panels",
    "finish",
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

# The smallest text size of a figure drawn at a journal width (most journals ask for 5-7 pt at least).
MIN_PRINT_POINTS = 6.0


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
    patches); labels in ``exclude`` are left to another legend of the figure.  Returns the Legend,
    or None if there is nothing to name.
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
    if isinstance(target, FigureBase):
        return fitted_legend(target, list(entries.values()), list(entries), ncol=kwargs.pop("ncol", len(entries)),
                             **kwargs)
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


def fitted_legend(fig, handles, labels, ncol: int, margin: float = 0.98, **kwargs):
    """``fig.legend(handles, labels, ncols=...)`` with at most ``ncol`` columns, fewer if it would be wider
    than ``margin`` x the figure.

    A legend below the panels with as many columns as fit keeps the figure short; at a single column's
    width fewer fit, and a legend wider than the figure would be cropped from the saved image.
    """
    renderer = fig.canvas.get_renderer()
    ncol = max(1, int(ncol))
    while True:
        legend = fig.legend(handles, labels, ncols=ncol, **kwargs)
        if ncol == 1 or legend.get_window_extent(renderer).width <= margin * fig.bbox.width:
            return legend
        legend.remove()
        ncol -= 1


# Below this width (inches) a row of panels is restacked into a column: a 3.5 in row of three panels
# leaves each under an inch wide, too narrow for its tick labels.
_STACK_BELOW = 5.0


def panels(size: tuple, nrows: int = 1, ncols: int = 1, **kwargs):
    """A new figure (:func:`new_figure`) and its ``nrows x ncols`` panels, restacked for a narrow column.

    Inside ``paper_width("single")`` (or any width below 5 in) a grid with several columns is drawn
    as one column of ``nrows * ncols`` panels, each keeping its designed aspect ratio (the figure
    grows taller, up to 9.5 in, a journal page), and the axes are returned in the designed
    ``(nrows, ncols)`` shape so callers index them as designed.  ``sharex``/``sharey`` of ``True`` are
    kept; ``"row"``/``"col"`` sharing is dropped when restacked (rows and columns no longer exist).

    Example: ``fig, ax = panels((12, 4), 1, 3, sharey=True)``.
    """
    width = current_width()
    squeeze = kwargs.pop("squeeze", True)
    if width is None or width >= _STACK_BELOW or ncols == 1:
        fig = new_figure(size)
        return fig, fig.subplots(nrows, ncols, squeeze=squeeze, **kwargs)
    n = nrows * ncols
    panel_aspect = (size[1] / nrows) / (size[0] / ncols)
    height = min(9.5, width * max(panel_aspect, 0.45) * n + 0.9)
    for key in ("sharex", "sharey"):
        if kwargs.get(key) in ("row", "col"):
            kwargs[key] = False
    fig = new_figure((width, height))
    axes = np.asarray(fig.subplots(n, 1, squeeze=False, **kwargs)).reshape(nrows, ncols)
    if squeeze:
        axes = axes.squeeze() if n > 1 else axes[0, 0]
    return fig, axes


def _wrap(text: str, fraction: float) -> str:
    """``text`` re-wrapped into lines about ``fraction`` of its current longest line (never inside $...$)."""
    import textwrap

    if "$" in text:
        return text
    longest = max(len(line) for line in text.split("\n"))
    width = max(12, int(longest * fraction * 0.95))
    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))


def finish(fig):
    """Last touches before saving, so no text runs off the figure: wraps titles and labels wider than
    their room (legends fit at creation, :func:`fitted_legend`) and, inside :func:`paper_width`, raises
    any text below :data:`MIN_PRINT_POINTS`.  Returns ``fig``.

    Called by :func:`toyregimes.plot.save_figure`, :func:`toyregimes.plot.training.save` and the
    gallery, so a figure drawn at a narrow width stays readable; harmless on a figure that fits.
    """
    if current_width() is not None:
        from matplotlib.text import Text

        # relative sizes ("x-small") of a print-sized font fall below what a printed page shows legibly
        for text in fig.findobj(Text):
            if text.get_fontsize() < MIN_PRINT_POINTS:
                text.set_fontsize(MIN_PRINT_POINTS)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        # a panel restacked above another sharing its x axis shows no x tick labels: its x label belongs
        # to the bottom panel only
        below = [o for o in ax.get_shared_x_axes().get_siblings(ax) if o is not ax and o.bbox.y1 <= ax.bbox.y0]
        if below and ax.get_xlabel() and not any(t.get_visible() and t.get_text() for t in ax.get_xticklabels()):
            ax.set_xlabel("")
    jobs = []
    if getattr(fig, "_suptitle", None) is not None:
        jobs.append((fig._suptitle, fig.bbox.width, "w"))
    for ax in fig.axes:
        if getattr(ax, "_colorbar", None) is not None:
            jobs.append((ax.yaxis.label, fig.bbox.height, "w"))  # rotated: its width runs along the bar
            continue
        room = ax.get_position().width * fig.bbox.width
        for t in (ax.title, ax._left_title, ax._right_title):
            jobs.append((t, max(room, 1.0), "w"))
        jobs.append((ax.xaxis.label, max(room, 1.0), "w"))
        jobs.append((ax.yaxis.label, max(ax.get_position().height * fig.bbox.height, 1.0), "h"))
    changed = False
    for text, room, along in jobs:
        if not text.get_text():
            continue
        ext = text.get_window_extent(renderer)
        size = ext.width if along == "w" else ext.height
        if size > room:
            wrapped = _wrap(text.get_text(), room / size)
            if wrapped != text.get_text():
                text.set_text(wrapped)
                changed = True
    if changed:
        fig.canvas.draw()
    return fig
