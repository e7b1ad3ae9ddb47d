"""Experiments that combine the layers below (toys, simulate, sweep, train, analysis, theory).

* :mod:`~toyregimes.studies.divergence` -- the divergent regime: noisy sweeps and its onset.
* :mod:`~toyregimes.studies.high_dimension` -- Rayleigh toys as the group dimension grows: no sharp
  divergent regime; the loss follows the canonical 2-cycle of the extreme eigenvalues.
* :mod:`~toyregimes.studies.trajectory_invariance` -- weight decay: equal-gamma families, exact
  reparametrisation, equilibria, the (lr, wd) heatmap, weight-decay runs on the regime diagram.

May import every layer except ``plot``, ``explore`` and ``cli``.
"""

# Importing the studies registers their result kinds (io.register_schema), so that toyregimes.load reads
# every kind the package can save in a fresh process (the facade imports this package).
from toyregimes.studies import divergence, route_to_chaos, trajectory_invariance  # noqa: E402

__all__ = ["divergence", "route_to_chaos", "trajectory_invariance"]
