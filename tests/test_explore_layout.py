"""The explorer's figures: every text inside the figure and nothing written over anything else.

Checked on the rendered figure (Agg) at the settings where the JupyterLab review found clipping and
collisions: ten groups (title, alpha labels under the circles), large k (wide log ticks pushed the
eta_i label out of the figure), an error message (it covered the "step" label).
"""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from toyregimes.explore import ExplorerModel, WeightDecayModel, explore_window
from toyregimes.explore.views import SphereView, WeightDecayView, _log_tick, circle_centres, new_figure
from toyregimes.sweep import canonical_alpha

STEPS = 1500
LONG_ERROR = "steps must be an integer in [10, 200000], got 5 " + "(and a long tail of explanation) " * 6


def _inside(bbox, outer, tol=1.0):
    return (bbox.x0 >= outer.x0 - tol and bbox.y0 >= outer.y0 - tol and bbox.x1 <= outer.x1 + tol
            and bbox.y1 <= outer.y1 + tol)


def _check_all_inside(fig):
    """Every axes with all it draws (tick and axis labels, titles, legends, texts) and every figure text."""
    renderer = fig.canvas.get_renderer()
    outside = [f"axes {ax.get_ylabel() or ax.get_title()!r}" for ax in fig.axes
               if ax.get_visible() and not _inside(ax.get_tightbbox(renderer), fig.bbox)]
    outside += [t.get_text() for t in fig.texts
                if t.get_visible() and t.get_text() and not _inside(t.get_window_extent(renderer), fig.bbox)]
    assert not outside, f"cut off at the figure's edge: {outside}"


def _sphere_figure(alpha, k, message=""):
    fig = new_figure()
    view = SphereView(fig)
    view.update(ExplorerModel(alpha=alpha, k=k, steps=STEPS).compute())
    view.show_message(message, error=bool(message))
    fig.canvas.draw()
    return fig, view


@pytest.mark.parametrize(("n", "het", "k"), [(3, 0.0, 1.5), (10, 1.0, 12.0), (10, 3.0, 50.0), (1, 0.0, 0.02),
                                              (7, 2.0, 15.0)])
def test_sphere_texts_inside_and_apart(n, het, k):
    fig, view = _sphere_figure(canonical_alpha(n, het), k, message=LONG_ERROR)
    renderer = fig.canvas.get_renderer()
    _check_all_inside(fig)
    box = lambda t: t.get_window_extent(renderer)  # noqa: E731
    # the error line overlaps neither the "step" label nor the step tick labels
    msg = box(view.message)
    for t in [view.ax_eta.xaxis.label, *view.ax_eta.get_xticklabels()]:
        assert not msg.overlaps(box(t)), t.get_text()
    # the eta_i label is left of its tick labels, never on them, at every k
    ylab = box(view.ax_eta.yaxis.label)
    for t in view.ax_eta.get_yticklabels():
        if t.get_text():
            assert not ylab.overlaps(box(t)), t.get_text()
    # the alpha labels under the circles do not collide (ten groups: two rows, short labels)
    labels = [box(t) for t in view.labels if t.get_visible()]
    assert len(labels) == n
    for i in range(n):
        for j in range(i):
            assert not labels[i].overlaps(labels[j]), (i, j)
    # the two title lines stay clear of the directions panel's own title
    assert not box(view.title).overlaps(box(view.ax_dir.title))
    plt.close(fig)


def test_weight_decay_texts_inside_at_ten_groups():
    from toyregimes import toys

    fig = new_figure(figsize=(12.0, 4.8))
    model = WeightDecayModel(toys.canonical(canonical_alpha(10, 1.0)), lr=0.3, wd=1e-4, steps=STEPS)
    view = WeightDecayView(fig, factors=model.factors)
    view.update(model.compute())
    view.show_message(LONG_ERROR)
    fig.canvas.draw()
    _check_all_inside(fig)
    renderer = fig.canvas.get_renderer()
    for ax in view.axes:
        assert not view.message.get_window_extent(renderer).overlaps(ax.xaxis.label.get_window_extent(renderer))


def test_window_texts_inside():
    win = explore_window(alpha=canonical_alpha(10, 1.0), k=12.0, steps=STEPS, show=False)
    try:
        win.fig.canvas.draw()
        _check_all_inside(win.fig)
    finally:
        plt.close(win.fig)


def test_log_ticks_are_short():
    assert [_log_tick(y) for y in (0.01, 0.3, 1.0, 100.0, 1000.0)] == ["0.01", "0.3", "1", "100", "1000"]
    assert [_log_tick(y) for y in (1e4, 1e8, 1e-3, 1e-12)] == ["10⁴", "10⁸", "10⁻³", "10⁻¹²"]
    # the values a log axis puts major ticks at: decades, or 1-2-5 over a short range
    ticks = [m * 10.0**e for e in range(-12, 13) for m in (1, 2, 5)]
    assert all(len(_log_tick(y)) <= 5 for y in ticks), [_log_tick(y) for y in ticks if len(_log_tick(y)) > 5]


def test_circles_wrap_to_rows_of_at_most_five():
    for n in range(1, 11):
        c = circle_centres(n)
        rows = np.unique(c[:, 1])
        assert c.shape == (n, 2) and len(rows) == (1 if n <= 5 else 2)
        assert max(np.sum(c[:, 1] == r) for r in rows) <= 5
        assert len({tuple(p) for p in c}) == n  # no two circles in the same place
