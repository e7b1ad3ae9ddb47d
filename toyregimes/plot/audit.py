"""Checks a reader would make of a figure, run by the tests on every gallery figure.

* :func:`unexplained_artists`: every line, marker set, band or mesh carrying data is named by a legend
  entry (matched by label), shown by a colourbar (its mappable), or deliberately marked
  :func:`~toyregimes.plot.style.unlabelled` with a reason;
* :func:`inconsistent_colours`: artists sharing a legend label share a colour, in every panel;
* :func:`unlabelled_axes`: every panel with data has both axis labels (a shared x axis may carry its
  label on the bottom panel only);
* :func:`overlapping_tick_labels`: no two tick labels of one axis overlap once drawn;
* :func:`clipped_texts`: no title, label, tick label or legend runs off the edge of the figure;
* :func:`overlapping_texts`: no two titles, labels, annotations or legends cover each other.

Example: ``assert not unexplained_artists(plot_phase_diagram(ds))``.
"""

from __future__ import annotations

import numpy as np

from toyregimes.plot.style import UNLABELLED

__all__ = ["unexplained_artists", "inconsistent_colours", "unlabelled_axes", "overlapping_tick_labels",
           "clipped_texts", "overlapping_texts", "legend_labels", "data_artists"]


def _is_colorbar_axes(ax) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def _panels(fig):
    return [ax for ax in fig.axes if not _is_colorbar_axes(ax) and ax.get_visible()]


def legend_labels(fig) -> set:
    """The texts of every legend entry in ``fig`` (figure and axes legends)."""
    from matplotlib.legend import Legend

    return {t.get_text() for leg in fig.findobj(Legend) for t in leg.get_texts()}


def _has_data(artist) -> bool:
    from matplotlib.collections import Collection
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D

    if not artist.get_visible():
        return False
    if isinstance(artist, Line2D):
        return len(artist.get_xdata()) > 0
    if isinstance(artist, Collection):
        return len(artist.get_offsets()) > 0 or len(artist.get_paths()) > 0
    if isinstance(artist, AxesImage):
        return artist.get_array() is not None
    return True  # a patch: a band, a bar, a polygon


def data_artists(ax) -> list:
    """The artists of ``ax`` that carry data: lines, collections (markers, bands, meshes), patches, images."""
    return [a for a in (*ax.lines, *ax.collections, *ax.patches, *ax.images) if _has_data(a)]


def _container_labels(ax) -> dict:
    """id(artist) -> label of the container holding it (errorbar, bar): the container carries the label."""
    out = {}
    for c in ax.containers:
        label = c.get_label()
        for child in _flatten(c):
            out[id(child)] = label
    return out


def _flatten(container):
    for item in container:
        if item is None:
            continue
        if isinstance(item, tuple | list):
            yield from _flatten(item)
        else:
            yield item


def _label(artist, containers) -> str:
    label = artist.get_label() or ""
    if label.startswith("_") and id(artist) in containers:
        label = containers[id(artist)] or ""
    return label


def _describe(ax, index) -> str:
    name = ax.get_title() or ax.get_title(loc="left") or ax.get_ylabel() or f"axes {index}"
    return name.strip()


def unexplained_artists(fig, allow=()) -> list:
    """Descriptions of the data artists of ``fig`` that a reader cannot identify (empty: all explained).

    An artist is explained when its label is the text of a legend entry of the figure, when it is the
    mappable of a colourbar of the figure, when :func:`~toyregimes.plot.style.unlabelled` marked it, or
    when its label or gid is in ``allow``.  Returns strings ``"<panel>: <Type> label='...'"``.
    """
    texts = legend_labels(fig)
    mapped = {id(ax._colorbar.mappable) for ax in fig.axes if _is_colorbar_axes(ax)}
    allow = set(allow)
    missing = []
    for i, ax in enumerate(_panels(fig)):
        containers = _container_labels(ax)
        for artist in data_artists(ax):
            label = _label(artist, containers)
            gid = artist.get_gid() or ""
            if (label in texts or id(artist) in mapped or gid.startswith(UNLABELLED) or label in allow
                    or gid in allow):
                continue
            missing.append(f"{_describe(ax, i)}: {type(artist).__name__} label={label!r}")
    return missing


def _rgb(artist):
    from matplotlib.collections import Collection
    from matplotlib.colors import to_rgb
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if isinstance(artist, Line2D):
        color = artist.get_color()
        if artist.get_linestyle() in ("None", "none", "", " ") and artist.get_marker() not in (None, "None", "none"):
            face = artist.get_markerfacecolor()
            color = color if isinstance(face, str) and face.lower() == "none" else face
        return to_rgb(color)
    if isinstance(artist, Collection):
        if artist.get_array() is not None:
            return None  # coloured by a colour map: the colourbar explains it
        fc = artist.get_facecolor()
        ec = artist.get_edgecolor()
        rgba = fc if len(fc) and np.asarray(fc)[0, 3] > 0 else ec
        return tuple(np.round(np.asarray(rgba)[0, :3], 3)) if len(rgba) else None
    if isinstance(artist, Patch):
        return to_rgb(artist.get_facecolor())
    return None


def inconsistent_colours(fig) -> dict:
    """Legend labels of ``fig`` drawn in more than one colour: ``{label: [colours]}`` (empty: consistent).

    A label names one thing, so a reader expects one colour for it in every panel.
    """
    texts = legend_labels(fig)
    seen = {}
    for ax in _panels(fig):
        containers = _container_labels(ax)
        for artist in data_artists(ax):
            label = _label(artist, containers)
            if label not in texts:
                continue
            rgb = _rgb(artist)
            if rgb is not None:
                seen.setdefault(label, set()).add(tuple(round(float(c), 3) for c in rgb))
    return {label: sorted(colours) for label, colours in seen.items() if len(colours) > 1}


def unlabelled_axes(fig) -> list:
    """Panels with data and no x (or y) label on them nor on a panel sharing that axis (``sharex``/``sharey``)."""
    out = []
    panels = _panels(fig)
    for i, ax in enumerate(panels):
        if not data_artists(ax):
            continue
        twin_y = any(o is not ax and o.bbox.bounds == ax.bbox.bounds for o in panels)  # twiny/twinx overlay
        shared_y = ax.get_shared_y_axes().get_siblings(ax)
        if not any(s.get_ylabel() for s in shared_y) and not twin_y:
            out.append(f"{_describe(ax, i)}: no y label")
        shared = ax.get_shared_x_axes().get_siblings(ax)
        if not any(s.get_xlabel() for s in shared) and not ax.get_xlabel():
            out.append(f"{_describe(ax, i)}: no x label")
    return out


def overlapping_tick_labels(fig, draw: bool = True) -> list:
    """Pairs of tick labels of one axis whose drawn boxes overlap: ``["<panel> x: '1' / '2'", ...]``.

    ``draw=False`` reuses the last drawing (the figure must not have changed since).
    """
    if draw:
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for i, ax in enumerate(fig.axes):
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            ticks = [t for t in (*axis.get_majorticklabels(), *axis.get_minorticklabels())
                     if t.get_visible() and t.get_text()]
            boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in ticks]
            # ticks outside the view limits are laid out but not drawn: keep those beside the axes
            lo, hi = (ax.bbox.x0, ax.bbox.x1) if name == "x" else (ax.bbox.y0, ax.bbox.y1)
            centre = (lambda bb: 0.5 * (bb.x0 + bb.x1)) if name == "x" else (lambda bb: 0.5 * (bb.y0 + bb.y1))
            boxes = [(s, b) for s, b in boxes if b.width > 0 and b.height > 0 and lo - 1 <= centre(b) <= hi + 1]
            for a in range(len(boxes)):
                for b in range(a + 1, len(boxes)):
                    # shrink by half a pixel: labels that merely touch are not a collision
                    if boxes[a][1].padded(-0.5).overlaps(boxes[b][1].padded(-0.5)):
                        out.append(f"{_describe(ax, i)} {name}: {boxes[a][0]!r} / {boxes[b][0]!r}")
    return out


def _texts(fig):
    """Titles, axis labels, annotations, suptitle and legends of ``fig`` (tick labels are checked apart)."""
    from matplotlib.legend import Legend

    def every():
        yield from fig.texts
        for name in ("_suptitle", "_supxlabel", "_supylabel"):
            if getattr(fig, name, None) is not None:
                yield getattr(fig, name)
        for ax in fig.axes:
            yield from (ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label)
            yield from ax.texts
        yield from fig.findobj(Legend)

    seen = set()
    for artist in every():  # the suptitle is also one of fig.texts: each once
        if id(artist) not in seen:
            seen.add(id(artist))
            yield artist


def clipped_texts(fig, tolerance: float = 2.0, draw: bool = True) -> list:
    """Titles, labels, annotations and legends of ``fig`` that extend beyond the figure's edges.

    A title longer than its panel or a legend placed outside the axes without room runs off the
    canvas of a PNG (``savefig`` without ``bbox_inches="tight"`` crops it).  ``tolerance`` is in pixels;
    ``draw=False`` reuses the last drawing.
    """
    from matplotlib.text import Text

    if draw:
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    out = []
    for artist in _texts(fig):
        if not artist.get_visible() or (isinstance(artist, Text) and not artist.get_text().strip()):
            continue
        ext = artist.get_window_extent(renderer)
        if ext.width <= 0 or ext.height <= 0:
            continue
        if (ext.x0 < box.x0 - tolerance or ext.x1 > box.x1 + tolerance or ext.y0 < box.y0 - tolerance
                or ext.y1 > box.y1 + tolerance):
            name = artist.get_text() if isinstance(artist, Text) else "legend"
            out.append(f"{name[:40]!r} runs off the figure")
    return out


def overlapping_texts(fig, draw: bool = True) -> list:
    """Pairs of titles, axis labels, annotations and legends of ``fig`` whose drawn boxes overlap.

    A text inside a legend's box (e.g. a note in the corner a legend also chose) or two panel labels
    sharing the gap between panels are collisions a reader stumbles on.  ``draw=False`` reuses the
    last drawing.
    """
    from matplotlib.text import Text

    if draw:
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    items = []
    for artist in _texts(fig):
        if not artist.get_visible() or (isinstance(artist, Text) and not artist.get_text().strip()):
            continue
        ext = artist.get_window_extent(renderer)
        if ext.width > 0 and ext.height > 0:
            name = artist.get_text()[:30] if isinstance(artist, Text) else "legend"
            items.append((name, ext.padded(-1.0)))  # touching is not overlapping
    out = []
    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            if items[a][1].overlaps(items[b][1]):
                out.append(f"{items[a][0]!r} / {items[b][0]!r}")
    return out
