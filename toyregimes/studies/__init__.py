"""Experiments that combine the layers below (toys, simulate, sweep, train, analysis, theory).

* :mod:`~toyregimes.studies.divergence` -- the divergent regime: noisy sweeps and its onset.
* :mod:`~toyregimes.studies.trajectory_invariance` -- weight decay: equal-gamma families, exact
  reparametrisation, equilibria, the (lr, wd) heatmap, weight-decay runs on the regime diagram.

May import every layer except ``plot``, ``explore`` and ``cli``.
"""
