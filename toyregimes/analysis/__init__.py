"""Tail statistics, Lyapunov exponent, period and regime label of a run.

A label is a claim about the tail window of a run, so it is decided by one
documented procedure from evidence that is stored beside it: :func:`classify_stats`, used by
:func:`classify` for single runs and by the sweep for every grid point.  The tests are applied in
this order; the first that matches gives the label (every threshold is a keyword argument, defaults
in :data:`DEFAULTS`; ``span = random_level - min_loss``; ``c_max`` is the largest ``c_i = elr
alpha_i / r_i^2`` over the tail and the groups, i.e. half the sphere sharpness times the ELR, so a
minimum is stable iff ``c_max < 1``):

==================== ===========================================================================
label                rule
==================== ===========================================================================
diverged_numerically a non-finite value occurred.
chaotic              the largest exponent is *significantly* positive:
                     ``lambda - chaos_z * se > chaos_tol`` (``se``: standard error of the mean of
                     the exponents of 8 blocks of the tail), unless the divergence rule holds.
                     Takes precedence over a tail that looks periodic (laminar phases of
                     intermittent chaos).
divergence           (among chaotic and aperiodic tails) mean loss within ``divergence_tol * span``
                     of the random level and mean cos angle ``< divergence_cos``.
convergence          a fixed point (every chord ``< period_tol``), every group stable over the
                     tail (``c_max < 1``), the mean loss within ``loss_tol * span`` of the minimum,
                     and no exponent above ``chaos_tol``.
transient            a fixed point that is not a stable minimum (a run that barely moved, a
                     saddle, a minimum whose ``c_max >= 1`` it has not yet left), or a periodic
                     tail although every group is stable throughout (then no periodic orbit
                     exists: the run is still converging).
periodic             period ``p >= 2`` in the last states (relative residual ``< period_rtol``),
                     the head of the tail already near that orbit (``residual_head < head_rtol``)
                     and the residual not growing (``residual_end <= residual_growth *
                     residual_head``), the exponent at most ``chaos_tol``, and the mean losses of
                     the two halves of the tail within ``drift_tol * span`` of each other.  (A
                     residual that shrinks into ``period_rtol`` during the tail is the algebraic,
                     ``t^(-1/2)``, approach to a neutrally stable orbit; a head far from the orbit
                     is a laminar phase or a late capture.)
undetermined         the evidence disagrees: a periodic end with a non-periodic or
                     growing-residual head, an exponent above ``chaos_tol`` but not significantly,
                     halves of the tail that differ, or an unknown stability margin.
quasi_periodic       no period, exponent at most ``chaos_tol``, stationary halves.
aperiodic            no period and no exponent computed, stationary halves.
==================== ===========================================================================

The exponent separates chaos from order, not convergence from periodic motion:
periodicity is decided from the states themselves, stability from ``c_max``.

Modules: :mod:`~toyregimes.analysis.labels` (the procedure and criteria), :mod:`~toyregimes.analysis.period`,
:mod:`~toyregimes.analysis.exponents`, :mod:`~toyregimes.analysis.runs` (summary and classify of a run),
:mod:`~toyregimes.analysis.rotation` (rotation number near a neutrally stable orbit).
Layer: plain numpy and xarray on Datasets; imports no other layer but the private helpers.
"""

from toyregimes.analysis.exponents import LYAP_BLOCKS, block_exponents
from toyregimes.analysis.labels import DEFAULTS, REGIMES, RESIDUAL_NOISE, check_criteria, classify_stats, signed_score
from toyregimes.analysis.period import detect_period, period_residuals, relative_residual
from toyregimes.analysis.rotation import rotation_number, rotation_number_of_series
from toyregimes.analysis.runs import classify, json_ready, lyapunov, summary, tail

__all__ = [
    "REGIMES",
    "DEFAULTS",
    "RESIDUAL_NOISE",
    "LYAP_BLOCKS",
    "tail",
    "lyapunov",
    "detect_period",
    "period_residuals",
    "relative_residual",
    "block_exponents",
    "summary",
    "classify",
    "json_ready",
    "check_criteria",
    "classify_stats",
    "signed_score",
    "rotation_number",
    "rotation_number_of_series",
]
