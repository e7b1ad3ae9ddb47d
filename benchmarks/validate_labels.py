"""Validation study of the regime labels on held-out inputs (not a benchmark of speed).

A label is a claim about a run, so it is checked here on inputs the classification was not tuned on
(the criteria were calibrated on alpha = (1, 2, 3), seeds 0..31, runs of 20k and 100k steps):
invented alpha vectors, seeds 100..131, k from 0.9 to 3.  For every alpha it prints

1. the confusion matrix of the labels of runs of ``--short`` steps against runs of ``--long``
   steps from the same seeds (tail = a quarter of the run), and the agreement at k values at least
   ``--margin`` away from the boundaries measured on the long runs: k = 1, every k where the majority
   label of the long runs changes between neighbouring grid points, and every k where the long runs
   themselves are mixed (fewer than 90% share the majority label: coexisting attractors,
   intermittency, long chaotic transients);
2. the confusion matrix of the short-run labels against an *independent* estimate of the largest
   Lyapunov exponent of the attractor each short run ended on: from the run's final state, two
   trajectories 1e-8 apart advanced with the exact one-step map in angle form (``phi' = phi -
   arctan(c sin 2 phi)``, ``r'^2 = r^2 (1 + c^2 sin^2 2 phi) / S``; numpy, no tangent map, no code
   shared with the kernels), renormalised every 10 steps, for as many steps as the tail.

Run: ``python benchmarks/validate_labels.py`` (about a minute on 2 cores; ``--quick`` for a smaller grid).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import toyregimes as tr  # noqa: E402

HELD_OUT_ALPHAS = [(1.0, 2.0, 3.0), (0.7, 1.3, 2.9), (0.3, 0.5, 1.0, 4.2), (2.0, 2.1), (0.05, 1.0, 1.9)]
SEEDS = list(range(100, 132))
EXPONENT_BINS = ("< -0.002", "|λ| <= 0.002", "0.002 .. 0.01", "> 0.01")


def two_trajectory_exponent(alpha, elr, theta0, steps, tail, delta=1e-8, every=10, seed=0):
    """Largest exponent from the separation of two nearby trajectories (numpy, angle form of the map).

    ``theta0`` (D, m) are initial points (groups in R^2, unit total norm), advanced ``steps - tail``
    steps first.  Both trajectories are advanced with the exact one-step map (claim ``canonical_step_map``) in
    coordinates ``(phi_i, r_i^2)``; every ``every`` steps of the last ``tail`` the distance ``d``
    between the two points on the sphere is measured,
    ``log(d / delta)`` accumulated and the second point pulled back to distance ``delta`` along the
    separation.  Returns the exponent per step, one per column.
    """
    a = np.asarray(alpha, dtype=float)[:, None]
    x, y = theta0[0::2], theta0[1::2]
    phi, r2 = np.arctan2(y, x), x * x + y * y

    def step(phi, r2):
        c = elr * a / r2
        s2 = np.sin(2 * phi)
        grow = 1.0 + (c * s2) ** 2
        rt = r2 * grow
        return phi - np.arctan(c * s2), rt / rt.sum(axis=0)

    def point(phi, r2):
        r = np.sqrt(r2)
        return np.concatenate([r * np.cos(phi), r * np.sin(phi)])

    rng = np.random.default_rng(seed)
    t0 = steps - tail
    for _ in range(t0):
        phi, r2 = step(phi, r2)
    # a random perturbation of size delta (in phi and in the norm split)
    dphi = rng.standard_normal(phi.shape)
    dr = rng.standard_normal(r2.shape) * r2
    scale = delta / np.sqrt((dphi ** 2 * r2).sum(axis=0) + (dr ** 2 / (4 * r2)).sum(axis=0))
    phi2, r22 = phi + dphi * scale, r2 + dr * scale
    r22 = r22 / r22.sum(axis=0)
    logs = np.zeros(phi.shape[1])
    for t in range(tail):
        phi, r2 = step(phi, r2)
        phi2, r22 = step(phi2, r22)
        if (t + 1) % every == 0 or t == tail - 1:
            p, q = point(phi, r2), point(phi2, r22)
            d = np.linalg.norm(q - p, axis=0)
            d = np.where(d > 0, d, delta * 1e-300)
            logs += np.log(d / delta)
            q = p + (q - p) * (delta / d)
            qx, qy = q[: len(a)], q[len(a):]
            phi2, r22 = np.arctan2(qy, qx), qx * qx + qy * qy
            r22 = r22 / r22.sum(axis=0)
    return logs / tail


def exponent_bin(lam):
    if lam < -0.002:
        return EXPONENT_BINS[0]
    if lam <= 0.002:
        return EXPONENT_BINS[1]
    if lam <= 0.01:
        return EXPONENT_BINS[2]
    return EXPONENT_BINS[3]


def confusion(rows, cols, row_names, col_names, title):
    counts = collections.Counter(zip(rows, cols, strict=True))
    width = max(len(n) for n in row_names) + 2
    lines = [title, " " * width + "".join(f"{c[:14]:>15}" for c in col_names)]
    for r in row_names:
        lines.append(f"{r:<{width}}" + "".join(f"{counts.get((r, c), 0):>15}" for c in col_names))
    return "\n".join(lines)


def measured_boundaries(k, labels_long, share=0.9):
    """Boundaries seen in the long runs: k = 1, midpoints where the majority label changes, mixed k values."""
    counts = [collections.Counter(row).most_common(1)[0] for row in labels_long]
    edges = [1.0]
    for i in range(len(k)):
        if counts[i][1] < share * len(labels_long[i]):
            edges.append(float(k[i]))
        if i + 1 < len(k) and counts[i][0] != counts[i + 1][0]:
            edges.append(float(np.sqrt(k[i] * k[i + 1])))
    return np.array(sorted(set(edges)))


def _ranges(edges, gap=0.02):
    """``1.000, 1.747-1.954`` style text of sorted boundary k values (neighbours closer than ``gap`` merged)."""
    groups = [[edges[0]]]
    for e in edges[1:]:
        if e - groups[-1][-1] < gap:
            groups[-1].append(e)
        else:
            groups.append([e])
    return ", ".join(f"{g[0]:.3f}" if len(g) == 1 else f"{g[0]:.3f}-{g[-1]:.3f}" for g in groups)


def study(alpha, k, short, long, margin):
    toy = tr.toys.canonical(list(alpha))
    runs = {steps: tr.sweep(toy, k=k, seeds=SEEDS, steps=steps, tail=steps // 4, progress=False,
                            record_states=steps == short)
            for steps in (short, long)}
    lab_s, lab_l = runs[short].regime.values, runs[long].regime.values
    names = [n for n in tr.analysis.REGIMES if (lab_s == n).any() or (lab_l == n).any()]
    out = [f"\n=== alpha = {alpha}, {len(k)} k in [{k[0]:g}, {k[-1]:g}], seeds {SEEDS[0]}..{SEEDS[-1]} ==="]
    out.append(confusion(lab_s.ravel(), lab_l.ravel(), names, names,
                         f"labels at {short} steps (rows) vs {long} steps (columns):"))
    edges = measured_boundaries(k, lab_l)
    away = np.min(np.abs(k[:, None] - edges[None, :]), axis=1) >= margin
    agree_all = float((lab_s == lab_l).mean())
    agree_away = float((lab_s[away] == lab_l[away]).mean()) if away.any() else float("nan")
    out.append(f"measured boundaries (k): {_ranges(edges)}")
    agree_near = float((lab_s[~away] == lab_l[~away]).mean()) if (~away).any() else float("nan")
    out.append(f"agreement {short} vs {long} steps: {agree_all:.3f} overall, {agree_away:.3f} at the "
               f"{int(away.sum())} k values >= {margin} from a boundary ({int(away.sum()) * len(SEEDS)} runs), "
               f"{agree_near:.3f} at the other {int((~away).sum())}")
    final = runs[short].final_state.values.reshape(-1, toy.dim).T  # (D, k x seed)
    elr = np.repeat(k / sum(alpha), len(SEEDS))
    lam = two_trajectory_exponent(alpha, elr[None, :], final, short // 4, short // 4)
    bins = [exponent_bin(v) for v in lam]
    out.append(confusion(lab_s.ravel(), bins, names, EXPONENT_BINS,
                         f"labels at {short} steps (rows) vs independent two-trajectory exponent (columns):"))
    positive = lam > 0.01
    ordered = np.isin(lab_s.ravel(), ["periodic", "convergence"])
    bad = ordered & positive
    where = ", ".join(f"k={k[i // len(SEEDS)]:.3f} p={int(runs[short].period.values.ravel()[i])}"
                      for i in np.flatnonzero(bad))
    out.append(f"periodic/convergence labels with an independent exponent > 0.01: {int(bad.sum())} of "
               f"{int(ordered.sum())}" + (f" ({where})" if where else ""))
    return "\n".join(out), agree_away, f"{int(bad.sum())} of {int(ordered.sum())}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--short", type=int, default=20_000)
    parser.add_argument("--long", type=int, default=100_000)
    parser.add_argument("--num", type=int, default=60, help="k values, geometric in [0.9, 3]")
    parser.add_argument("--margin", type=float, default=0.05)
    parser.add_argument("--quick", action="store_true", help="two alphas, 24 k values")
    args = parser.parse_args(argv)
    alphas = HELD_OUT_ALPHAS[:2] if args.quick else HELD_OUT_ALPHAS
    k = np.geomspace(0.9, 3.0, 24 if args.quick else args.num)
    start = time.perf_counter()
    summary = []
    for alpha in alphas:
        text, agree_away, bad = study(alpha, k, args.short, args.long, args.margin)
        print(text, flush=True)
        summary.append((alpha, agree_away, bad))
    print(f"\nsummary ({time.perf_counter() - start:.0f} s):")
    for alpha, agree, bad in summary:
        print(f"  alpha = {alpha}: {agree:.3f} label agreement away from boundaries; {bad} periodic/convergence "
              f"labels have an independent exponent > 0.01")


if __name__ == "__main__":
    main()
