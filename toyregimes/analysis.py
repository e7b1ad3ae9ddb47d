"""Tail statistics, Lyapunov exponent, period and regime label of a run.

The regime criteria (documented here and in the README; every threshold is a keyword argument):

``diverged_numerically``
    The run hit a non-finite value (``attrs["status"]``).
``convergence``
    The tail is a fixed point: consecutive states differ by less than ``period_tol`` and the RMS
    angular update is below ``period_tol``.
``periodic``
    The tail repeats with a period ``p >= 2``: ``|theta_{t+p} - theta_t|`` below ``period_rtol``
    times the mean one-step move (see :func:`detect_period`).
``divergence``
    The time-averaged loss is within ``divergence_tol`` (relative to ``random_level - min_loss``)
    of the random-direction level *and* consecutive directions are decorrelated
    (``mean cos angle < divergence_cos``).
``chaotic``
    Not periodic and the largest Lyapunov exponent exceeds ``chaos_tol``.
``quasi_periodic``
    Not periodic, exponent at most ``chaos_tol`` (or not computed: then ``aperiodic``).

The exponent separates chaos from order, not convergence from periodic motion (SPEC section 5):
periodicity is decided from the states themselves.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from toyregimes._validate import as_int, as_positive

__all__ = [
    "REGIMES",
    "tail",
    "lyapunov",
    "detect_period",
    "period_residuals",
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
)

DEFAULTS = {
    "period_tol": 1e-3,
    "period_rtol": 0.05,
    "chaos_tol": 1e-3,
    "divergence_tol": 0.02,
    "divergence_cos": 0.05,
    "max_period": 64,
}


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
    random_level,
    min_loss=0.0,
    divergence_tol: float = DEFAULTS["divergence_tol"],
    divergence_cos: float = DEFAULTS["divergence_cos"],
    chaos_tol: float = DEFAULTS["chaos_tol"],
) -> str:
    """Regime label from tail statistics (see the module docstring for the criteria).

    Used by :func:`classify` for single runs and by the sweep for every grid point.
    """
    if status != "ok" or not np.isfinite(mean_loss):
        return "diverged_numerically"
    span = random_level - min_loss
    if (
        np.isfinite(span)
        and span > 0
        and mean_loss >= random_level - divergence_tol * span
        and mean_cos_angle < divergence_cos
    ):
        return "divergence"
    if period == 1:
        return "convergence"
    if period >= 2:
        return "periodic"
    if not np.isfinite(lyapunov):
        return "aperiodic"
    return "chaotic" if lyapunov > chaos_tol else "quasi_periodic"


def signed_score(*, mean_loss, period, max_c, random_level, min_loss=0.0):
    """A signed, continuous regime score in ``[-1, 1]``: side of the boundary and distance from it.

    * Converged runs (``period == 1``) score ``-(1 - max_c)``, minus the stability margin of the
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
    out = np.where(np.asarray(period) == 1, below, np.clip(above, 0.0, 1.0))
    out = np.where(np.isfinite(mean_loss), out, np.nan)
    return out if out.ndim else float(out)


def summary(run: xr.Dataset, tail=None, **criteria) -> dict:
    """Tail statistics of a run, as a JSON-ready dict.

    Keys: ``mean_loss``, ``std_loss``, ``mean_cos_angle``, ``mean_sq_norm`` (list),
    ``final_sq_norm`` (list), ``period`` (0 if none), ``lyapunov`` (None unless recorded),
    ``max_c`` (largest ``elr alpha_i / r_i^2`` over the tail; None for custom toys), ``score``
    (:func:`signed_score`), ``regime``, ``status``.
    """
    run = _check_run(run)
    unknown = set(criteria) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown classification criteria {sorted(unknown)}; allowed {sorted(DEFAULTS)}")
    opts = {**DEFAULTS, **criteria}
    for key in ("period_tol", "period_rtol", "divergence_tol", "divergence_cos"):
        as_positive(opts[key], key)
    window = tail_(run, tail)
    states = run.tail_state.values.reshape(run.sizes["tail_step"], -1)
    states = states[:, ~np.isnan(states).all(axis=0)]  # drop the padding of ragged groups
    max_period = as_int(opts["max_period"], "max_period", minimum=1)
    period = detect_period(states, opts["period_tol"], opts["period_rtol"], max_period)
    if period == 1 and float(np.sqrt(np.mean(window.angle.values ** 2))) >= opts["period_tol"]:
        period = 0  # should not happen on a sphere: a fixed point has zero angular update
    lyap = lyapunov(run, tail) if int(run.attrs.get("lyapunov", 0)) else float("nan")
    final = run.final_state.values
    final_sq = np.nansum(final**2, axis=1)
    stats = {
        "mean_loss": float(window.loss.mean()),
        "std_loss": float(window.loss.std()),
        "mean_cos_angle": float(np.cos(window.angle).mean()),
        "mean_sq_norm": window.sq_norm.mean("step").values.tolist(),
        "final_sq_norm": final_sq.tolist(),
        "period": int(period),
        "lyapunov": None if np.isnan(lyap) else lyap,
        "status": run.attrs["status"],
    }
    alpha = np.asarray(run.attrs["alpha_eff"], dtype=float).reshape(-1)
    known = stats["status"] == "ok" and np.all(np.isfinite(alpha))
    stats["max_c"] = float(np.max(float(run.attrs["elr"]) * alpha / window.sq_norm.values)) if known else None
    stats["score"] = (
        None
        if stats["max_c"] is None
        else signed_score(
            mean_loss=stats["mean_loss"],
            period=period,
            max_c=stats["max_c"],
            random_level=float(run.attrs["random_level"]),
            min_loss=_known(run.attrs.get("min_loss"), 0.0),
        )
    )
    stats["regime"] = classify_stats(
        status=stats["status"],
        mean_loss=stats["mean_loss"],
        mean_cos_angle=stats["mean_cos_angle"],
        period=period,
        lyapunov=lyap,
        random_level=float(run.attrs["random_level"]),
        min_loss=_known(run.attrs.get("min_loss"), 0.0),
        divergence_tol=opts["divergence_tol"],
        divergence_cos=opts["divergence_cos"],
        chaos_tol=opts["chaos_tol"],
    )
    return stats


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
