"""The route to chaos of the coupled 2-cycle: rotation numbers, onset and periodic windows.

Theory: the derivation claims ``equilibrium_eigenvalues`` and ``resonances``.

Three measurements, each a Dataset that :func:`toyregimes.plot.route_to_chaos.plot_route_to_chaos` draws:

* :func:`rotation_comparison` -- the rotation number measured near the 2-cycle
  (:func:`toyregimes.analysis.rotation_number`) against the linear theory
  (:func:`toyregimes.theory.rotation_number`), for several alpha;
* :func:`chaos_scan` -- over ``k`` and the heterogeneity of alpha (3 groups, sum fixed): the fraction of
  seeds whose exponent is *significantly* positive (the criterion of the ``chaotic`` label), the mean
  exponent with its spread, the majority period of the other runs, and the onset ``k_c`` (first k where
  more than half the seeds are significantly chaotic; per-seed first k for the error bar);
* :func:`replicate_onsets` -- the onsets of :func:`chaos_scan` again with other seeds and longer runs, to
  tell a finding from an accident of the seeds or of the run length;
* :func:`periodic_windows` -- contiguous k ranges inside the chaotic band where at most half the seeds
  are chaotic, each with its majority period ``2q`` and the resonance ``p/q`` (``p`` coprime to ``q``)
  whose linear ``k`` (:func:`toyregimes.theory.resonance_k`) lies closest *below* the window, and the
  detuning ``k_window - k_resonance``.

The hypothesis under test: the onset of chaos and the periodic windows are organised by
the resonances of the neutral eigenvalues, shifted by nonlinear detuning.
"""

from __future__ import annotations

import collections
from math import gcd

import numpy as np
import xarray as xr

from toyregimes import analysis, theory, toys
from toyregimes.simulate import simulate
from toyregimes.sweep import canonical_alpha, sweep

__all__ = ["rotation_comparison", "chaos_scan", "onset_by_groups", "replicate_onsets", "periodic_windows",
           "near_cycle"]


def near_cycle(alpha, k, eps=1e-4, seed=1) -> np.ndarray:
    """A point ``eps`` (relative) away from the coupled 2-cycle ``phi_i = phi*``, ``r_i^2 = alpha_i / A``."""
    alpha = np.asarray(alpha, dtype=float)
    rng = np.random.default_rng(seed)
    r2 = alpha / alpha.sum() * (1 + eps * rng.standard_normal(alpha.size))
    phi = np.arccos(1 / k) / 2 + eps * rng.standard_normal(alpha.size)
    return np.stack([np.sqrt(r2) * np.cos(phi), np.sqrt(r2) * np.sin(phi)], axis=1)


def rotation_comparison(alphas, ks, steps=12_000, tail=8_000) -> xr.Dataset:
    """Measured (near the 2-cycle) and theoretical rotation numbers, dims ``(alpha, k)``."""
    ks = np.asarray(ks, dtype=float)
    measured = np.empty((len(alphas), ks.size))
    for i, alpha in enumerate(alphas):
        toy = toys.canonical(alpha)
        for j, k in enumerate(ks):
            run = simulate(toy, elr=k / float(np.sum(alpha)), steps=steps, init=near_cycle(alpha, k),
                           sharpness=False, tail=tail)
            measured[i, j] = analysis.rotation_number(run)
    labels = ["(" + ", ".join(f"{a:g}" for a in alpha) + ")" for alpha in alphas]
    return xr.Dataset(
        {"rho_measured": (("alpha", "k"), measured), "rho_theory": ("k", theory.rotation_number(ks))},
        coords={"alpha": labels, "k": ks},
        attrs={"steps": steps, "tail": tail, "start": "1e-4 from the 2-cycle"},
    )


def chaos_scan(heterogeneities, ks, seeds=16, steps=20_000, tail=5_000, n_groups=3, kernel="fast") -> xr.Dataset:
    """Chaos over ``(heterogeneity, k)`` for ``n_groups`` groups with ``sum(alpha) = n`` (:func:`canonical_alpha`).

    ``kernel`` is passed to :func:`toyregimes.sweep`: the study's published numbers (README, gallery) were
    measured with ``"fast"``; ``"exact"`` replicates them with ``simulate``'s rounding (README).

    ``onset`` is the first ``k`` where more than half the seeds are significantly chaotic (``onset_sd``:
    spread of each seed's first significantly chaotic ``k``); ``sustained_onset`` the first ``k`` from
    which that holds at this and the next four grid points (isolated weakly chaotic bands, e.g. inside
    the period-4 window near ``k = sqrt 2``, do not count).
    """
    ks = np.asarray(ks, dtype=float)
    hs = np.asarray(heterogeneities, dtype=float)
    crit = analysis.DEFAULTS
    frac = np.empty((hs.size, ks.size))
    lam = np.empty((hs.size, ks.size))
    lam_sd = np.empty((hs.size, ks.size))
    period = np.zeros((hs.size, ks.size), dtype=np.int64)
    onset = np.full(hs.size, np.nan)
    onset_sd = np.full(hs.size, np.nan)
    sustained = np.full(hs.size, np.nan)
    for i, h in enumerate(hs):
        res = sweep(toys.canonical(canonical_alpha(n_groups, h)), k=ks, seeds=seeds, steps=steps, tail=tail,
                    progress=False, kernel=kernel)
        sig = res.lyapunov.values - crit["chaos_z"] * res.lyapunov_se.values > crit["chaos_tol"]
        frac[i] = sig.mean(axis=1)
        lam[i] = res.lyapunov.values.mean(axis=1)
        lam_sd[i] = res.lyapunov.values.std(axis=1)
        for j in range(ks.size):
            ordered = res.period.values[j][~sig[j]]
            period[i, j] = collections.Counter(ordered.tolist()).most_common(1)[0][0] if ordered.size else 0
        if (frac[i] > 0.5).any():
            onset[i] = ks[np.argmax(frac[i] > 0.5)]
            first = [ks[np.argmax(sig[:, s])] for s in range(sig.shape[1]) if sig[:, s].any()]
            onset_sd[i] = float(np.std(first)) if first else np.nan
            major = frac[i] > 0.5
            for j in range(ks.size):
                if major[j:j + 5].all() and j + 5 <= ks.size:
                    sustained[i] = ks[j]
                    break
    return xr.Dataset(
        {
            "frac_chaotic": (("heterogeneity", "k"), frac),
            "mean_lyapunov": (("heterogeneity", "k"), lam),
            "sd_lyapunov": (("heterogeneity", "k"), lam_sd),
            "period": (("heterogeneity", "k"), period),
            "onset": ("heterogeneity", onset),
            "onset_sd": ("heterogeneity", onset_sd),
            "sustained_onset": ("heterogeneity", sustained),
        },
        coords={"heterogeneity": hs, "k": ks},
        attrs={"seeds": seeds, "steps": steps, "tail": tail, "n_groups": n_groups,
               "criterion": "lambda - 3 se > 1e-3"},
    )


def onset_by_groups(n_groups, heterogeneity, ks, seeds=16, steps=20_000, tail=5_000, kernel="fast") -> xr.Dataset:
    """Onset of chaos (as in :func:`chaos_scan`) against the number of groups at one heterogeneity."""
    rows = [chaos_scan([heterogeneity], ks, seeds, steps, tail, n_groups=int(n), kernel=kernel) for n in n_groups]
    return xr.Dataset(
        {name: ("n_groups", [float(r[name].values[0]) for r in rows])
         for name in ("onset", "onset_sd", "sustained_onset")},
        coords={"n_groups": np.asarray(n_groups, dtype=np.int64)},
        attrs={"heterogeneity": float(heterogeneity), "seeds": seeds, "steps": steps, "tail": tail},
    )


def replicate_onsets(heterogeneities, ks, runs, n_groups=3, kernel="fast") -> xr.Dataset:
    """:func:`chaos_scan` once per ``(seeds, steps, tail)`` in ``runs``: its onsets side by side.

    Parameters
    ----------
    heterogeneities, ks, n_groups, kernel
        As :func:`chaos_scan`.
    runs : sequence of (seeds, steps, tail)
        ``seeds`` an int (``0 .. seeds-1``) or a list; e.g. the study's ``(16, 20_000, 5_000)``, then other
        seeds ``(list(range(100, 116)), 20_000, 5_000)`` and longer runs ``(..., 80_000, 20_000)``.

    Returns
    -------
    xarray.Dataset with dims ``(run, heterogeneity)``: ``onset``, ``onset_sd``, ``sustained_onset``; the
    coordinates ``first_seed``, ``steps`` and ``tail`` along ``run`` say what each run was.
    """
    runs = [(seeds, int(steps), int(tail)) for seeds, steps, tail in runs]
    if not runs:
        raise ValueError("runs must name at least one (seeds, steps, tail)")
    scans = [chaos_scan(heterogeneities, ks, seeds, steps, tail, n_groups=n_groups, kernel=kernel)
             for seeds, steps, tail in runs]
    first = [int(seeds[0]) if np.ndim(seeds) else 0 for seeds, _, _ in runs]
    return xr.Dataset(
        {name: (("run", "heterogeneity"), np.stack([sc[name].values for sc in scans]))
         for name in ("onset", "onset_sd", "sustained_onset")},
        coords={"run": np.arange(len(runs)), "heterogeneity": scans[0].heterogeneity.values,
                "first_seed": ("run", first), "steps": ("run", [r[1] for r in runs]),
                "tail": ("run", [r[2] for r in runs])},
        attrs={"n_groups": n_groups, "criterion": scans[0].attrs["criterion"]},
    )


def _nearest_resonance(k: float, q: int):
    """The resonance ``p/q`` (``p`` coprime to ``q``) on the branch ``k >= sqrt 2`` whose ``k`` is nearest ``k``."""
    best = None
    for p in range(1, q // 2 + 1):
        if gcd(p, q) != 1:
            continue
        kr = theory.resonance_k(p, q)[-1]
        if best is None or abs(kr - k) < abs(best[2] - k):
            best = (p, q, kr)
    return best


def periodic_windows(scan: xr.Dataset, max_gap: float | None = None) -> list[dict]:
    """Periodic windows above the onset of chaos in a :func:`chaos_scan`, with their resonances.

    A window is a run of neighbouring ``k`` (past the onset) where at most half the seeds are
    significantly chaotic and the majority period of the others is ``2q >= 4``; runs of the same period
    closer than ``max_gap`` (default 0.05) are merged.  Returns one dict per window: ``heterogeneity``,
    ``k_lo``, ``k_hi``, ``period``, ``resonance`` ("p:q" on the branch above ``sqrt 2``, nearest the
    window), ``k_resonance``, ``detuning`` (window centre minus ``k_resonance``).
    """
    ks = scan.k.values
    gap = 0.05 if max_gap is None else float(max_gap)
    out = []
    for i, h in enumerate(scan.heterogeneity.values):
        onset = scan.onset.values[i]
        if not np.isfinite(onset):
            continue
        cur = None
        for j, k in enumerate(ks):
            per = int(scan.period.values[i, j])
            inside = k > onset and scan.frac_chaotic.values[i, j] <= 0.5 and per >= 4 and per % 2 == 0
            if not inside:
                continue
            if cur is not None and cur["period"] == per and k - cur["k_hi"] <= gap:
                cur["k_hi"] = float(k)
                continue
            if cur is not None:
                out.append(cur)
            cur = {"heterogeneity": float(h), "k_lo": float(k), "k_hi": float(k), "period": per}
        if cur is not None:
            out.append(cur)
    for w in out:
        res = _nearest_resonance(0.5 * (w["k_lo"] + w["k_hi"]), w["period"] // 2)
        w["resonance"] = f"{res[0]}:{res[1]}"
        w["k_resonance"] = res[2]
        w["detuning"] = 0.5 * (w["k_lo"] + w["k_hi"]) - res[2]
    return out
