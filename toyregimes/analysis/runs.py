"""Statistics and the label of one run of :func:`toyregimes.simulate` (:func:`summary`, :func:`classify`)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from toyregimes._validate import as_int
from toyregimes.analysis.exponents import block_exponents
from toyregimes.analysis.labels import DEFAULTS, check_criteria, classify_stats, signed_score
from toyregimes.analysis.period import detect_period, relative_residual


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
    ``score`` (:func:`signed_score`), ``regime`` (:func:`classify_stats`), ``status``, and for a run
    that diverged numerically ``diverged_at_step`` (the step whose update was not finite) and
    ``diverged_reason`` (both None otherwise).  Non-finite statistics are NaN; :func:`json_ready`
    turns them into None for strict JSON.
    """
    run = _check_run(run)
    opts = check_criteria(criteria)
    if tail is None and "tail" in run.attrs:
        tail = int(run.attrs["tail"])
    window = tail_(run, tail)
    states = _flat_states(run.tail_state)
    diverged = run.attrs["status"] != "ok"
    # The states of a diverged run end in NaN rows: whatever period they seem to have is not a property of
    # the dynamics, so none is reported beside the NaN losses.
    period = 0 if diverged else detect_period(states, opts["period_tol"], opts["period_rtol"], opts["max_period"])
    if period == 1 and float(np.sqrt(np.mean(window.angle.values ** 2))) >= opts["period_tol"]:
        period = 0  # should not happen on a sphere: a fixed point has zero angular update
    lyap, lyap_se = float("nan"), float("nan")
    if int(run.attrs.get("lyapunov", 0)):
        lyap = lyapunov(run, tail)
        growth = window.tangent_log_growth.values / int(run.attrs["record_every"])
        lyap_se = block_exponents(growth[np.isfinite(growth)])[1]
    # Sum over each group's own components (rows are NaN-padded for ragged groups): a diverged run's NaN
    # final state gives NaN (null in JSON), never the 0 that nansum would make of it.
    final = run.final_state.values
    dims = [int(d) for d in np.atleast_1d(run.attrs.get("dims", [final.shape[1]] * final.shape[0]))]
    final_sq = np.array([np.sum(final[i, :d] ** 2) for i, d in enumerate(dims)])
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
        "diverged_at_step": None,
        "diverged_reason": None,
    }
    if diverged:
        step = int(run.attrs.get("diverged_at_step", -1))
        stats["diverged_at_step"] = step if step >= 0 else None
        stats["diverged_reason"] = (
            f"a non-finite value (overflow) in the loss, its gradient or the update from step {step} to {step + 1}: "
            f"elr = {float(run.attrs['elr']):.6g} times the gradient is out of float64 range there; the run stopped"
        )
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


def json_ready(value):
    """``value`` with every non-finite float replaced by None (recursively), numpy scalars as Python ones.

    ``json.dumps(json_ready(stats), allow_nan=False)`` is then strict JSON: ``NaN`` is not JSON, and a
    reader such as ``jq`` or JavaScript's ``JSON.parse`` rejects it.
    """
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_ready(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if np.isfinite(value) else None
    return value
