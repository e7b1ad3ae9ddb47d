"""The regime labels, their criteria and the decision procedure (the table of :mod:`toyregimes.analysis`);
the signed score."""

from __future__ import annotations

import numpy as np

from toyregimes._validate import as_float_array, as_int, as_positive

REGIMES = (
    "convergence",
    "periodic",
    "quasi_periodic",
    "chaotic",
    "aperiodic",
    "divergence",
    "diverged_numerically",
    "transient",
    "undetermined",
)

DEFAULTS = {
    "period_tol": 1e-3,
    "period_rtol": 0.05,
    "chaos_tol": 1e-3,
    "chaos_z": 3.0,
    "loss_tol": 1e-6,
    "head_rtol": 0.1,
    "residual_growth": 1.5,
    "drift_tol": 0.02,
    "divergence_tol": 0.02,
    "divergence_cos": 0.05,
    "max_period": 64,
}

# Relative period residuals below this are rounding, not a trend (states are on the unit sphere).
RESIDUAL_NOISE = 1e-9


def check_criteria(criteria: dict) -> dict:
    """:data:`DEFAULTS` updated with ``criteria``, validated (``ValueError`` naming a bad or unknown key)."""
    unknown = set(criteria) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown classification criteria {sorted(unknown)}; allowed {sorted(DEFAULTS)}")
    opts = {**DEFAULTS, **criteria}
    for key in DEFAULTS:
        if key == "max_period":
            opts[key] = as_int(opts[key], key, minimum=1)
        elif key in ("chaos_tol",):
            opts[key] = float(as_float_array(opts[key], key))
            if not np.isfinite(opts[key]) or opts[key] < 0:
                raise ValueError(f"{key} must be a finite number >= 0, got {opts[key]}")
        else:
            opts[key] = float(as_positive(opts[key], key))
    return opts


def classify_stats(
    *,
    status="ok",
    mean_loss,
    mean_cos_angle,
    period,
    lyapunov=np.nan,
    lyapunov_se=np.nan,
    max_c=np.nan,
    residual_head=np.nan,
    residual_end=np.nan,
    loss_first_half=np.nan,
    loss_second_half=np.nan,
    random_level,
    min_loss=0.0,
    **criteria,
) -> str:
    """Regime label from the evidence of a tail (the decision procedure of the module docstring).

    Used by :func:`classify` for single runs and by the sweep for every grid point.  Evidence that
    was not measured is NaN: then every rule that needs it fails safe (a periodic tail without its
    head residual, or a fixed point with an unknown ``max_c``, is ``undetermined``; NaN halves never
    count as a drift; without ``lyapunov_se`` an exponent above ``chaos_tol`` counts as significant).

    Examples
    --------
    >>> classify_stats(mean_loss=1.0, mean_cos_angle=0.5, period=2, lyapunov=0.0,
    ...                max_c=1.5, residual_head=1e-3, residual_end=1e-4, random_level=3.0)
    'periodic'
    """
    o = {**DEFAULTS, **criteria}
    if set(o) != set(DEFAULTS):
        extra = sorted(set(o) - set(DEFAULTS))
        raise ValueError(f"unknown classification criteria {extra}; allowed {sorted(DEFAULTS)}")
    if status != "ok" or not np.isfinite(mean_loss):
        return "diverged_numerically"
    span = random_level - min_loss
    known_span = bool(np.isfinite(span) and span > 0)
    at_random = (
        known_span
        and mean_loss >= random_level - o["divergence_tol"] * span
        and mean_cos_angle < o["divergence_cos"]
    )
    has_lyap = bool(np.isfinite(lyapunov))
    se = lyapunov_se if np.isfinite(lyapunov_se) else 0.0
    significant = has_lyap and lyapunov - o["chaos_z"] * se > o["chaos_tol"]
    above_tol = has_lyap and lyapunov > o["chaos_tol"]
    drift = abs(loss_second_half - loss_first_half) / span if known_span else np.nan
    drifting = bool(np.isfinite(drift) and drift > o["drift_tol"])
    if significant:
        return "divergence" if at_random else "chaotic"
    if period == 1:
        if not np.isfinite(max_c) or above_tol:
            return "undetermined"
        excess = (mean_loss - min_loss) / span if known_span else np.inf
        if max_c < 1.0 and excess <= o["loss_tol"]:
            return "convergence"
        return "transient"
    if period >= 2:
        if np.isfinite(max_c) and max_c < 1.0:
            return "transient"
        steady = (residual_head < o["head_rtol"]
                  and residual_end <= o["residual_growth"] * residual_head + RESIDUAL_NOISE)
        if above_tol or drifting or not steady:
            return "undetermined"
        return "periodic"
    if at_random:
        return "divergence"
    if above_tol or drifting:
        return "undetermined"
    return "quasi_periodic" if has_lyap else "aperiodic"


def signed_score(*, mean_loss, period, max_c, random_level, min_loss=0.0, converged=None):
    """A signed, continuous regime score in ``[-1, 1]``: side of the boundary and distance from it.

    * Converged runs (``converged``, default ``period == 1``; pass ``regime == "convergence"`` so
      that a run that never moved is not scored as converged) score ``-(1 - max_c)``, minus the
      stability margin of the
      minimum reached (``max_c = max_i elr * alpha_i / r_i^2``, stable iff < 1): near -1 deep in
      the convergent regime, approaching 0 from below as ``k -> 1`` (the flattest minima).
    * Every other run scores ``(mean_loss - min_loss) / (random_level - min_loss)``, the fraction
      of the way to the random-direction level: ``1 - 1/k`` on the canonical equilibrium, rising
      through the chaotic regime towards 1 (divergence).

    So the score is continuous across ``k = 1`` on the canonical toy, and a map coloured by it with
    a diverging colormap centred at 0 shows both the boundary and how far each point is from it.
    Works elementwise on arrays.

    Examples
    --------
    >>> round(float(signed_score(mean_loss=1.0, period=2, max_c=1.5, random_level=3.0)), 12)
    0.333333333333
    """
    mean_loss = np.asarray(mean_loss, dtype=float)
    span = np.asarray(random_level, dtype=float) - np.asarray(min_loss, dtype=float)
    above = (mean_loss - min_loss) / span
    below = -(1.0 - np.clip(np.asarray(max_c, dtype=float), 0.0, 1.0))
    conv = np.asarray(period) == 1 if converged is None else np.asarray(converged, dtype=bool)
    out = np.where(conv, below, np.clip(above, 0.0, 1.0))
    out = np.where(np.isfinite(mean_loss), out, np.nan)
    return out if out.ndim else float(out)
