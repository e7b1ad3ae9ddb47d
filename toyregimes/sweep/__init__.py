"""Grids of runs -> one summary ``xarray.Dataset`` (regime maps).

:func:`sweep` runs every (elr, seed) pair of one toy and reduces tail statistics in the kernel
(:mod:`toyregimes.kernels.batched` for the canonical toy; other toys loop the single-run kernel).
:func:`sweep_grid` repeats it over toy parameters (e.g. heterogeneity of alpha, number of groups)
and stacks the results along named dimensions; :func:`canonical_alpha` builds the alpha vectors.

Seeds: the point (elr_j, s) starts at ``toy.random_point(s)`` with tangent vector
``default_rng([s, 1]).standard_normal(D)`` projected and normalised, exactly as
``simulate(toy, elr_j, seed=s)``; every trajectory is computed independently, so a point's result is
the same bit for bit whatever the chunking, block size or thread count.

A sweep is three steps with one code path: :func:`make_plan` validates the inputs and derives every
per-point input (elr, initial point, tangent vector) deterministically; :func:`run_chunk` runs a
range of points through the kernel (a module-level function, so Dask workers import it); and
:func:`assemble` builds the Dataset from the chunks' raw results.  In process the chunks run in a
loop; with ``scheduler``/``local_cluster`` they run as Dask tasks (:mod:`toyregimes.sweep.distributed`,
imported only then); with ``checkpoint`` each finished chunk is stored (:mod:`toyregimes.sweep.checkpoints`)
so an interrupted sweep resumes.  Which process, order or chunking computed a point never changes it.

Modules: :mod:`~toyregimes.sweep.plan`, :mod:`~toyregimes.sweep.chunks`,
:mod:`~toyregimes.sweep.assemble`, :mod:`~toyregimes.sweep.run`, :mod:`~toyregimes.sweep.grid`,
:mod:`~toyregimes.sweep.checkpoints`, :mod:`~toyregimes.sweep.distributed`.  Layer: may import
``kernels``, ``toys``, ``io``, ``analysis`` and ``simulate`` (never ``plot`` or above).
"""

from toyregimes.sweep.assemble import assemble
from toyregimes.sweep.chunks import run_chunk
from toyregimes.sweep.grid import sweep_grid
from toyregimes.sweep.plan import BLOCK, EVIDENCE, SWEEP_VARIABLES, SweepPlan, canonical_alpha, make_plan
from toyregimes.sweep.run import sweep

__all__ = ["sweep", "sweep_grid", "canonical_alpha", "SWEEP_VARIABLES", "SweepPlan", "make_plan", "run_chunk",
           "assemble", "BLOCK", "EVIDENCE"]
