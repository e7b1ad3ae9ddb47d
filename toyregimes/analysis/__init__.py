"""Tail statistics, Lyapunov exponent, period and regime label of a run.

A label is a claim about the tail window of a run (SPEC section 7), so it is decided by one
documented procedure from evidence that is stored beside it: :func:`classify_stats`, used by
:func:`classify` for single runs and by the sweep for every grid point.  The tests are applied in
this order; the first that matches gives the label (every threshold is a keyword argument, defaults
in :data:`DEFAULTS`; ``span = random_level - min_loss``; ``c_max`` is the largest ``c_i = elr
alpha_i / r_i^2`` over the tail and the groups, i.e. half the sphere sharpness times the ELR, so a
minimum is stable iff ``c_max < 1``):

===================  ==========================================================================
label                rule
===================  ==========================================================================
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
===================  ==========================================================================

The exponent separates chaos from order, not convergence from periodic motion (SPEC section 5):
periodicity is decided from the states themselves, stability from ``c_max``.

Layer: plain numpy and xarray on Datasets; imports no other layer but the private helpers.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from toyregimes._validate import as_float_array, as_int, as_positive

__all__ = [
    "REGIMES",
    "tail",
    "lyapunov",
    "detect_period",
    "period_residuals",
    "relative_residual",
    "block_exponents",
    "summary",
    "classify",
    "classify_stats",
    "signed_score",
]

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

# Blocks of the tail whose exponents give the standard error of the exponent (as the sweep kernel).
LYAP_BLOCKS = 8


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


def _check_run(run) -> xr.Dataset:
    if not isinstance(run, xr.Dataset) or run.attrs.get("toyregimes_kind") != "run":
        raise ValueError("run must be a Dataset returned by toyregimes.simulate")
    return run


def tail(run: xr.Dataset, tail=None) -> xr.Dataset:
    """The records of the last ``tail`` steps (default: the last half of the run).

    Example: ``tail(run, 5000).loss.mean()``.
    """
    run = _check_run(run)
    steps = int(run.attrs["steps"])
    window = steps // 2 if tail is None else as_int(tail, "tail", minimum=1)
    if window > steps:
        raise ValueError(f"tail must be <= steps ({steps}), got {window}")
    return run.sel(step=slice(steps - window, None))


def lyapunov(run: xr.Dataset, tail=None) -> float:
    """Largest Lyapunov exponent over the tail window, from the tangent map recorded by ``simulate``.

    ``lambda = (1/T) sum_t log |J_t v_t|`` over the last ``T`` steps (the tangent vector is
    renormalised every step).  Requires ``simulate(..., lyapunov=True)``.
    """
    run = _check_run(run)
    if not int(run.attrs.get("lyapunov", 0)):
        raise ValueError("the run has no tangent map: simulate it with lyapunov=True")
    window = tail_(run, tail)
    steps = int(run.attrs["steps"])
    r = int(run.attrs["record_every"])
    first = int(window.step.values[0])
    n_steps = min(steps, first + r * window.sizes["step"]) - first
    return float(window.tangent_log_growth.sum()) / n_steps


tail_ = tail  # alias used where a parameter shadows the function name


def period_residuals(states, max_period: int = DEFAULTS["max_period"]) -> np.ndarray:
    """``e_p = max_t |x_{t+p} - x_t|`` for ``p = 1 .. max_period`` (NaN where too few rows)."""
    x = np.asarray(states, dtype=float)
    x = x.reshape(x.shape[0], -1)
    x = x[np.all(np.isfinite(x), axis=1)]
    out = np.full(max_period, np.nan)
    for p in range(1, min(max_period, x.shape[0] // 2) + 1):
        out[p - 1] = np.max(np.linalg.norm(x[p:] - x[:-p], axis=1))
    return out


def relative_residual(states, period: int) -> float:
    """``max_t |x_{t+p} - x_t| / mean_t |x_{t+1} - x_t|`` over the rows of ``states`` (NaN if ``p < 2``).

    The quantity that :func:`detect_period` compares with ``rtol``; evaluated on the head and on the
    end of a tail window it shows whether the residual of a periodic tail shrinks or grows.

    Example: ``relative_residual([[1.0], [-1.0], [1.0], [-1.0]], 2) == 0.0``.
    """
    x = np.asarray(states, dtype=float)
    x = x.reshape(x.shape[0], -1)
    x = x[np.all(np.isfinite(x), axis=1)]
    p = int(period)
    if p < 2 or x.shape[0] <= p:
        return float("nan")
    step = np.mean(np.linalg.norm(x[1:] - x[:-1], axis=1))
    return float(np.max(np.linalg.norm(x[p:] - x[:-p], axis=1)) / step)


def block_exponents(log_growth, n_blocks: int = LYAP_BLOCKS) -> tuple[float, float]:
    """Exponent and its standard error from per-step log growths of a tangent vector.

    The ``T`` values are cut into ``b = min(n_blocks, T)`` blocks ``[q T // b, (q + 1) T // b)``
    (as the sweep kernel does); the exponent is ``sum / T`` and the standard error that of the mean
    of the ``b`` block exponents, ``std(block means, ddof=1) / sqrt(b)`` (NaN with fewer than two
    blocks).  Blocks much longer than the correlation time make the block means nearly independent.

    Example: ``block_exponents(np.full(80, 0.1)) == (0.1, 0.0)`` (up to rounding).
    """
    g = np.asarray(log_growth, dtype=float).ravel()
    total = g.size
    if total == 0:
        return float("nan"), float("nan")
    b = min(int(n_blocks), total)
    edges = [(q * total) // b for q in range(b + 1)]
    means = np.array([g[edges[q]:edges[q + 1]].mean() for q in range(b)])
    se = float(np.std(means, ddof=1) / np.sqrt(b)) if b >= 2 else float("nan")
    return float(g.sum() / total), se


def detect_period(
    states,
    tol: float = DEFAULTS["period_tol"],
    rtol: float = DEFAULTS["period_rtol"],
    max_period: int = DEFAULTS["max_period"],
) -> int:
    """Period of the rows of ``states`` (consecutive states of a run), 0 if there is none.

    Period 1 (a fixed point) needs ``max_t |x_{t+1} - x_t| < tol`` (absolute: states are on the
    unit sphere).  Period ``p >= 2`` needs ``max_t |x_{t+p} - x_t| < rtol * mean_t |x_{t+1} - x_t|``:
    the return distance is small compared with how far one step moves.  The relative test is what
    accepts the coupled 2-cycle of the canonical toy, which is only neutrally stable and is
    approached slowly, with a residual quasi-periodic wobble (about 2% of a step after 2e4 steps).
    At least ``2p`` rows are needed to accept period ``p``.

    Example: ``detect_period([[1], [-1], [1], [-1]]) == 2``.
    """
    x = np.asarray(states, dtype=float)
    x = x.reshape(x.shape[0], -1)
    x = x[np.all(np.isfinite(x), axis=1)]
    res = period_residuals(x, max_period)
    if not np.isfinite(res[0]):
        return 0
    if res[0] < tol:
        return 1
    step = np.mean(np.linalg.norm(x[1:] - x[:-1], axis=1))
    for p in range(2, max_period + 1):
        if res[p - 1] < rtol * step:  # NaN compares False: too few rows
            return p
    return 0


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

    Example: ``classify_stats(mean_loss=1.0, mean_cos_angle=0.5, period=2, lyapunov=0.0,
    max_c=1.5, residual_head=1e-3, residual_end=1e-4, random_level=3.0) == "periodic"``.
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
    Works elementwise on arrays.  Example: ``signed_score(mean_loss=1.0, period=2, max_c=1.5,
    random_level=3.0) == 1/3``.
    """
    mean_loss = np.asarray(mean_loss, dtype=float)
    span = np.asarray(random_level, dtype=float) - np.asarray(min_loss, dtype=float)
    above = (mean_loss - min_loss) / span
    below = -(1.0 - np.clip(np.asarray(max_c, dtype=float), 0.0, 1.0))
    conv = np.asarray(period) == 1 if converged is None else np.asarray(converged, dtype=bool)
    out = np.where(conv, below, np.clip(above, 0.0, 1.0))
    out = np.where(np.isfinite(mean_loss), out, np.nan)
    return out if out.ndim else float(out)


def summary(run: xr.Dataset, tail=None, **criteria) -> dict:
    """Tail statistics of a run and the evidence of its label, as a JSON-ready dict.

    ``tail`` defaults to the run's own ``attrs["tail"]`` (``simulate(..., tail=...)``), else half
    the run.  Keys: ``mean_loss``, ``std_loss``, ``mean_cos_angle``, ``mean_sq_norm`` (list),
    ``final_sq_norm`` (list), ``period`` (0 if none), ``lyapunov`` and ``lyapunov_se`` (None unless
    recorded; the standard error from :func:`block_exponents`), ``max_c`` (largest ``elr alpha_i /
    r_i^2`` over the tail, or half the recorded sphere sharpness times ``elr`` for toys without
    ``alpha_eff``; None if neither is known), ``residual_head`` / ``residual_end``
    (:func:`relative_residual` at the detected period of the run's ``head_state`` and
    ``tail_state``; None unless the period is >= 2), ``loss_first_half`` / ``loss_second_half``,
    ``score`` (:func:`signed_score`), ``regime`` (:func:`classify_stats`), ``status``.
    """
    run = _check_run(run)
    opts = check_criteria(criteria)
    if tail is None and "tail" in run.attrs:
        tail = int(run.attrs["tail"])
    window = tail_(run, tail)
    states = _flat_states(run.tail_state)
    period = detect_period(states, opts["period_tol"], opts["period_rtol"], opts["max_period"])
    if period == 1 and float(np.sqrt(np.mean(window.angle.values ** 2))) >= opts["period_tol"]:
        period = 0  # should not happen on a sphere: a fixed point has zero angular update
    lyap, lyap_se = float("nan"), float("nan")
    if int(run.attrs.get("lyapunov", 0)):
        lyap = lyapunov(run, tail)
        growth = window.tangent_log_growth.values / int(run.attrs["record_every"])
        lyap_se = block_exponents(growth[np.isfinite(growth)])[1]
    final = run.final_state.values
    final_sq = np.nansum(final**2, axis=1)
    loss = window.loss.values
    half = loss.size // 2
    res_head = relative_residual(_flat_states(run.head_state), period) if "head_state" in run else float("nan")
    res_end = relative_residual(states, period)
    stats = {
        "mean_loss": float(loss.mean()),
        "std_loss": float(loss.std()),
        "mean_cos_angle": float(np.cos(window.angle).mean()),
        "mean_sq_norm": window.sq_norm.mean("step").values.tolist(),
        "final_sq_norm": final_sq.tolist(),
        "period": int(period),
        "lyapunov": _or_none(lyap),
        "lyapunov_se": _or_none(lyap_se),
        "residual_head": _or_none(res_head),
        "residual_end": _or_none(res_end),
        "loss_first_half": _or_none(loss[:half].mean() if half else np.nan),
        "loss_second_half": float(loss[half:].mean()),
        "status": run.attrs["status"],
    }
    elr = float(run.attrs["elr"])
    alpha = np.asarray(run.attrs["alpha_eff"], dtype=float).reshape(-1)
    max_c = float("nan")
    if stats["status"] == "ok":
        if np.all(np.isfinite(alpha)):
            max_c = float(np.max(elr * alpha / window.sq_norm.values))
        elif np.any(np.isfinite(window.sharpness.values)):
            max_c = float(0.5 * elr * np.nanmax(window.sharpness.values))
    stats["max_c"] = _or_none(max_c)
    min_loss = _known(run.attrs.get("min_loss"), 0.0)
    random_level = float(run.attrs["random_level"])
    stats["regime"] = classify_stats(
        status=stats["status"],
        mean_loss=stats["mean_loss"],
        mean_cos_angle=stats["mean_cos_angle"],
        period=period,
        lyapunov=lyap,
        lyapunov_se=lyap_se,
        max_c=max_c,
        residual_head=res_head,
        residual_end=res_end,
        loss_first_half=stats["loss_first_half"] if half else np.nan,
        loss_second_half=stats["loss_second_half"],
        random_level=random_level,
        min_loss=min_loss,
        **{key: opts[key] for key in DEFAULTS if key != "max_period"},
    )
    stats["score"] = (
        None
        if not np.isfinite(max_c)
        else signed_score(
            mean_loss=stats["mean_loss"], period=period, max_c=max_c, random_level=random_level,
            min_loss=min_loss, converged=stats["regime"] == "convergence",
        )
    )
    return stats


def _flat_states(da) -> np.ndarray:
    """Rows of flat state vectors from a ``(step, group, component)`` array, without the NaN padding."""
    states = da.values.reshape(da.shape[0], -1)
    return states[:, ~np.isnan(states).all(axis=0)]


def _or_none(value):
    value = float(value)
    return value if np.isfinite(value) else None


def _known(value, default: float) -> float:
    value = float("nan") if value is None else float(value)
    return value if np.isfinite(value) else default


def classify(run: xr.Dataset, tail=None, **criteria) -> tuple[str, dict]:
    """Regime label of a run and the evidence for it: ``(label, summary(run))``.

    Example: ``label, evidence = classify(simulate(canonical([1, 2, 3]), 0.5, 20_000, lyapunov=True))``
    gives ``"chaotic"`` with ``evidence["lyapunov"] > 0``.
    """
    stats = summary(run, tail, **criteria)
    return stats["regime"], stats
