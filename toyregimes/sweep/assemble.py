"""The sweep Dataset from the raw results of every chunk (:func:`assemble`): labels, scores and ``c``
extremes are derived here, so they are the same whichever process computed the chunks.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from toyregimes import analysis
from toyregimes._version import __version__
from toyregimes.kernels import batched
from toyregimes.sweep.plan import SweepPlan


def assemble(plan: SweepPlan, chunks) -> xr.Dataset:
    """The sweep Dataset from the results of every chunk of ``plan``, in chunk order.

    Regime labels, scores and ``c`` extremes are derived here from the raw per-point results, so they
    are the same whichever process computed the chunks.
    """
    chunks = list(chunks)
    if len(chunks) != plan.n_chunks:
        raise ValueError(f"chunks must hold the {plan.n_chunks} chunks of the plan, got {len(chunks)}")
    res = {name: np.concatenate([c[name] for c in chunks]) for name in plan.chunk_spec()}
    toy, elr, seeds, opts = plan.toy, plan.elr, plan.seeds, plan.opts
    steps, n_states, record_states = plan.steps, plan.n_states, plan.record_states
    n_e, n_s, n_g = elr.size, len(seeds), toy.n_groups
    n_pts = plan.n_points
    a_sum = float(np.sum(toy.alpha_eff))
    states = res.pop("states") if record_states else None
    final = res.pop("final") if record_states else None

    ok = res["status"] == batched.STATUS_OK
    # Period 1 with a non-negligible RMS move is not a fixed point (analysis.summary's rule, with the
    # chord |theta_{t+1} - theta_t| for the angle: they differ by a factor 1 + O(angle^2)).
    res["period"][(res["period"] == 1) & ~(res["rms_step"] < opts["period_tol"])] = 0
    res["period"][~ok] = 0
    if plan.arrays["noise_scale"] > 0:  # noise never lets the state repeat exactly: no period test
        res["period"][:] = 0
        res["residual_head"][:] = np.nan
        res["residual_end"][:] = np.nan
    elr_pt = elr[np.arange(n_pts) // n_s]
    a_eff = np.asarray(toy.alpha_eff, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        c_lo = elr_pt[:, None] * a_eff[None, :] / res["max_r2"]
        c_hi = elr_pt[:, None] * a_eff[None, :] / res["min_r2"]
    min_c = np.min(c_lo, axis=1)
    max_c = np.max(c_hi, axis=1)
    if not np.all(np.isfinite(a_eff)):  # toys without alpha_eff: half the sphere sharpness times elr
        max_c = res["sharpness_c"].copy()
    min_loss = toy.min_loss if np.isfinite(toy.min_loss) else 0.0
    criteria = {key: opts[key] for key in analysis.DEFAULTS if key != "max_period"}
    regime = np.array([
        analysis.classify_stats(
            status="ok" if ok[p] else "diverged_numerically",
            mean_loss=res["mean_loss"][p], mean_cos_angle=res["mean_cos_angle"][p],
            period=int(res["period"][p]), lyapunov=res["lyapunov"][p], lyapunov_se=res["lyapunov_se"][p],
            max_c=max_c[p], residual_head=res["residual_head"][p], residual_end=res["residual_end"][p],
            loss_first_half=res["loss_first_half"][p], loss_second_half=res["loss_second_half"][p],
            random_level=toy.random_level, min_loss=min_loss, **criteria,
        )
        for p in range(n_pts)
    ])
    shape = (n_e, n_s)
    status = np.where(ok, "ok", "diverged_numerically")
    data = {
        "mean_loss": (("elr", "seed"), res["mean_loss"].reshape(shape)),
        "std_loss": (("elr", "seed"), res["std_loss"].reshape(shape)),
        "mean_cos_angle": (("elr", "seed"), res["mean_cos_angle"].reshape(shape)),
        "rms_step": (("elr", "seed"), res["rms_step"].reshape(shape)),
        "mean_sq_norm": (("elr", "seed", "group"), res["mean_sq_norm"].reshape(*shape, n_g)),
        "min_c": (("elr", "seed"), min_c.reshape(shape)),
        "max_c": (("elr", "seed"), max_c.reshape(shape)),
        "lyapunov": (("elr", "seed"), res["lyapunov"].reshape(shape)),
        "period": (("elr", "seed"), res["period"].reshape(shape)),
        "status": (("elr", "seed"), status.reshape(shape)),
        "regime": (("elr", "seed"), regime.reshape(shape)),
        "score": (
            ("elr", "seed"),
            analysis.signed_score(
                mean_loss=res["mean_loss"], period=res["period"], max_c=max_c,
                random_level=toy.random_level, min_loss=min_loss, converged=regime == "convergence",
            ).reshape(shape),
        ),
        **{
            name: (("elr", "seed"), res[name].reshape(shape))
            for name in ("lyapunov_se", "residual_head", "residual_end", "loss_first_half", "loss_second_half")
        },
    }
    if plan.n_exponents:
        data["lyapunov_spectrum"] = (("elr", "seed", "exponent"),
                                     res["lyapunov_spectrum"].reshape(*shape, plan.n_exponents))
    if record_states:
        data["tail_state"] = (("elr", "seed", "tail_step", "component"), states.reshape(*shape, n_states, toy.dim))
        data["final_state"] = (("elr", "seed", "component"), final.reshape(*shape, toy.dim))
    coords = {
        "elr": elr,
        "seed": np.asarray(seeds, dtype=np.int64),
        "group": np.arange(n_g, dtype=np.int64),
    }
    if plan.k is not None:
        coords["k"] = ("elr", plan.k)  # exactly as given: grids over toys must align on k
    elif np.isfinite(a_sum):
        coords["k"] = ("elr", elr * a_sum)
    if plan.n_exponents:
        coords["exponent"] = np.arange(plan.n_exponents, dtype=np.int64)
    if record_states:
        coords["tail_step"] = np.arange(steps - n_states, steps, dtype=np.int64)
    attrs = {
        "toyregimes_kind": "sweep",
        "toyregimes_version": __version__,
        "toy": toy.spec_json,
        "toy_kind": toy.kind,
        "dims": list(toy.dims),
        "alpha_eff": a_eff.tolist(),
        "random_level": toy.random_level,
        "min_loss": min_loss,
        "steps": steps,
        "tail": plan.tail,
        "constraint": plan.constraint,
        "lyapunov": int(plan.lyapunov),
        "seeds": list(seeds),
        "init": "random",
        "noise_scale": float(plan.arrays["noise_scale"]),
        # which kernel ran: the canonical toy's, or the one bit-identical to simulate (Rayleigh family / user toy)
        "batch": int(plan.arrays["batch"]),
        "kernel": "canonical_batched" if plan.fast else (
            "rayleigh_batched" if plan.arrays["rayleigh_kernels"] and not plan.arrays["batch"] else "user_batched"),
        **{f"criterion_{key}": val for key, val in opts.items()},
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)
