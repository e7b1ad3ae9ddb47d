"""Interactive exploration of the toys: sliders, live panels, the point on the phase diagram.

* :mod:`~toyregimes.explore.model` -- the pure-Python models (settings, validation, everything the
  panels draw);
* :mod:`~toyregimes.explore.controller` -- applies a change, redraws, turns errors into a message;
* :mod:`~toyregimes.explore.views` -- the matplotlib views, updated in place;
* :mod:`~toyregimes.explore.widgets` -- the front ends: :func:`explore` (Jupyter, ipywidgets, the
  ``interactive`` extra) and :func:`explore_window` (matplotlib widgets, no extra dependency).

May import every layer below it (toys, simulate, sweep, train, analysis, theory, plot); the command
line (``toyregimes explore``) lives in :mod:`toyregimes.cli.explore`.

Example (Jupyter)::

    import toyregimes as tr
    tr.explore()                        # or tr.explore(tr.toys.canonical([1, 5]), k=2.5)
"""

from __future__ import annotations

from toyregimes.explore.controller import Controller
from toyregimes.explore.model import (
    K_RANGE,
    MAX_GROUPS,
    STEPS_RANGE,
    ExplorerModel,
    PhaseBackground,
    SphereData,
    WeightDecayData,
    WeightDecayModel,
    parse_alpha,
)

__all__ = [
    "ExplorerModel",
    "WeightDecayModel",
    "Controller",
    "SphereData",
    "PhaseBackground",
    "WeightDecayData",
    "parse_alpha",
    "explore",
    "explore_window",
    "K_RANGE",
    "STEPS_RANGE",
    "MAX_GROUPS",
]


def explore(toy=None, *, alpha=(1.0, 2.0, 3.0), k=1.5, constraint="total", seed=0, steps=5000, lr=0.1, wd=0.01):
    """The interactive explorer for Jupyter (needs ``ipywidgets``: ``pip install 'toyregimes[interactive]'``).

    Tab "sphere": alpha (or number of groups and heterogeneity), ``k`` on a log slider over its whole
    range, on a fine slider over ``k/1.25 .. 1.25 k`` and typed, constraint, seed, steps (the status
    line reads "computing…" while a change runs; a rejected value shows in red and its box returns to
    the value that runs); panels: loss with its equilibrium level, ``r_i^2``, ``eta_i`` against
    ``1/alpha_i``, the groups' directions on their circles, the point on the 1-D phase diagram.
    Tab "weight decay": lr and wd on log sliders, the ``gamma = lr wd`` readout, the run over its
    equal-gamma family.  Returns a :class:`toyregimes.explore.widgets.JupyterExplorer` (displays itself).

    Example: ``tr.explore(alpha=[1, 2, 3], k=2.0)``.
    """
    from toyregimes.explore.widgets import JupyterExplorer

    return JupyterExplorer(toy, alpha=alpha, k=k, constraint=constraint, seed=seed, steps=steps, lr=lr, wd=wd)


def explore_window(toy=None, *, tab="sphere", show=True, **settings):
    """The same explorer as a matplotlib window with sliders (no Jupyter, no ipywidgets).

    ``tab`` is ``"sphere"`` or ``"weight_decay"``; ``settings`` as in :func:`explore`.  With
    ``show=False`` the window is built but not shown (headless use, e.g. the Agg backend in tests).
    Returns a :class:`toyregimes.explore.widgets.WindowExplorer`.
    """
    from toyregimes.explore.widgets import WindowExplorer

    win = WindowExplorer(toy, tab=tab, **settings)
    if show:
        win.show()
    return win
