"""Reference reduction of single runs to sweep statistics, in numpy: the independent check of the sweep kernels.

:func:`generic_chunk` runs the single-run kernel (``pgd_run``, what ``simulate`` runs) one trajectory at a
time with every step recorded and reduces the records with numpy and :mod:`toyregimes.analysis`, with the
definitions of the sweep kernels.  It was the sweep's path for every toy but the canonical one before the
Rayleigh-family and user-toy kernels; the tests compare those kernels with it.
"""

from __future__ import annotations

import numpy as np

from toyregimes import analysis
from toyregimes.kernels import batched, pgd
from toyregimes.sweep.plan import EVIDENCE


def generic_chunk(toy, e, th, tv, steps, tail, individual, lyapunov, n_states, opts, pgd_run=None):
    """Sweep statistics of the trajectories (columns of ``th``/``tv``) from single runs' per-step records.

    The definitions of the batched kernels (population std, cos of the recorded angle, exponent = tail
    log growth / tail, block standard error, halves, head and end residuals); ``sharpness_c`` is half the
    largest recorded group sphere sharpness at step ``steps - 1`` times ``elr`` (the stability
    measure of toys without ``alpha_eff``).  Also returns ``states`` and ``final``.
    """
    m = e.size
    out = {name: np.full(m, np.nan) for name in ("mean_loss", "std_loss", "mean_cos_angle", "rms_step",
                                                   "lyapunov", *EVIDENCE)}
    out.update({
        "mean_sq_norm": np.full((m, toy.n_groups), np.nan), "min_r2": np.full((m, toy.n_groups), np.nan),
        "max_r2": np.full((m, toy.n_groups), np.nan), "period": np.zeros(m, dtype=np.int64),
        "status": np.zeros(m, dtype=np.int64),
    })
    head_start = min(steps - tail, steps - n_states)
    states = np.full((m, n_states, toy.dim), np.nan)
    final = np.full((m, toy.dim), np.nan)
    for c in range(m):
        rec = (pgd_run or toy.kernels["pgd_run"])(
            np.ascontiguousarray(th[:, c]), np.ascontiguousarray(tv[:, c]), float(e[c]), steps, 1, individual,
            lyapunov, n_states, toy.offsets, toy.mats, pgd.no_noise(toy.dim), True, head_start,
            pgd.no_samples(toy.mats), pgd.no_batch(), False,  # angles, not the sweep's squared chords
        )
        loss, sq, _geff, angle, sharp, _tsh, growth, tail_states, theta, status, _fail, head_states = rec
        states[c] = tail_states
        final[c] = theta
        if status != batched.STATUS_OK:
            out["status"][c] = batched.STATUS_NONFINITE
            continue
        w = slice(steps - tail, steps)
        out["mean_loss"][c] = loss[w].mean()
        out["std_loss"][c] = loss[w].std()
        out["mean_cos_angle"][c] = np.cos(angle[w]).mean()
        out["rms_step"][c] = np.sqrt(np.mean((2.0 * np.sin(0.5 * angle[w])) ** 2))
        out["mean_sq_norm"][c] = sq[w].mean(axis=0)
        out["min_r2"][c] = sq[w].min(axis=0)
        out["max_r2"][c] = sq[w].max(axis=0)
        h = tail // 2
        out["loss_first_half"][c] = loss[w][:h].mean() if h else np.nan
        out["loss_second_half"][c] = loss[w][h:].mean()
        out["sharpness_c"][c] = 0.5 * float(e[c]) * np.max(sharp[steps - 1])
        if lyapunov:
            out["lyapunov"][c] = growth[w].sum() / tail
            out["lyapunov_se"][c] = analysis.block_exponents(growth[w])[1]
        p = analysis.detect_period(tail_states, opts["period_tol"], opts["period_rtol"], int(opts["max_period"]))
        out["period"][c] = p
        out["residual_head"][c] = analysis.relative_residual(head_states, p)
        out["residual_end"][c] = analysis.relative_residual(tail_states, p)
    out["states"] = states
    out["final"] = final
    return out
