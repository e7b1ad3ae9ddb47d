"""Family 2 -- total vs individual effective learning rate, and the threshold ``1 / sum(alpha)``.

The general-``n`` statements use sympy ``Sum`` over indexed symbols ``r2[i]`` (squared group
norms) and ``alpha[i]``, with ``n`` a symbol: nothing is checked only for n = 2 or 3.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

import toyregimes as tr

from . import Claim
from ._common import rng_for
from .equality import Checks

FAMILY = "total vs individual ELR"
SIM = "simulation cross-check"

i = sp.Symbol("i", integer=True, positive=True)
n = sp.Symbol("n", integer=True, positive=True)
r2 = sp.IndexedBase("r2", positive=True)
al = sp.IndexedBase("alpha", positive=True)
eta, A = sp.symbols("eta A", positive=True)
SUM_R2 = sp.Sum(r2[i], (i, 1, n))
SUM_AL = sp.Sum(al[i], (i, 1, n))
ON_SPHERE = {SUM_R2: 1, SUM_AL: A}  # the unit total sphere, and A = sum_i alpha_i


def _sum_rewrite(expr):
    """Linearity of finite sums, then the constraints ``sum r_i^2 = 1`` and ``sum alpha_i = A``."""
    return sp.factor_terms(sp.expand(sp.factor_terms(expr))).subs(ON_SPHERE)


def _harmonic() -> Checks:
    chk = Checks()
    eta_i = eta / r2[i]
    chk.equal("general n: sum_i 1/eta_i = (1/eta) sum_i r_i^2 = 1/eta",
              _sum_rewrite(sp.simplify(sp.Sum(1 / eta_i, (i, 1, n)))), 1 / eta)
    # Concrete n with the last norm eliminated (r_n^2 = 1 - sum of the others): no Sum machinery.
    for m in (2, 3, 5):
        q = sp.symbols(f"q1:{m}", positive=True)
        norms = [*q, 1 - sum(q)]
        chk.equal(f"n = {m}, explicit: sum 1/eta_i = 1/eta",
                  sum(r / eta for r in norms), 1 / eta, {s: (0.01, 1.0 / m) for s in q})
    rng = rng_for("harmonic")
    worst = 0.0
    for _ in range(50):
        m = int(rng.integers(1, 8))
        split = rng.dirichlet(np.ones(m))
        e = rng.uniform(0.01, 5.0)
        worst = max(worst, abs(tr.theory.harmonic_total_elr(tr.theory.individual_elr(e, split)) / e - 1))
    chk.close("theory.harmonic_total_elr(theory.individual_elr(eta, r^2)) == eta", worst, 0.0, 1e-13)
    return chk


def threshold_exists_checks(threshold_of) -> Checks:
    """Checks of the 'a stable split exists below threshold' claim for a candidate threshold.

    ``threshold_of(A)`` is the claimed threshold on the total ELR (``1/A`` for the true claim).
    At ``eta = threshold`` the exhibited split ``r_i^2 = alpha_i / A`` must put every group exactly
    at its own threshold, ``eta_i alpha_i = 1``; below it every ``eta_i alpha_i < 1``.
    """
    chk = Checks()
    split = al[i] / A
    chk.equal("general n: the split r_i^2 = alpha_i/A lies on the unit sphere",
              _sum_rewrite(sp.Sum(split, (i, 1, n))), 1)
    eta_i = eta / split
    chk.equal("eta_i alpha_i = eta A (the same for every group)", eta_i * al[i], eta * A)
    chk.equal("at eta = threshold every group sits exactly at eta_i alpha_i = 1",
              (eta_i * al[i]).subs(eta, threshold_of(A)), 1)
    # Below threshold: eta = t * threshold with t = 1/(1 + s), s > 0, covers exactly 0 < t < 1.
    s = sp.Symbol("s", positive=True)
    below = (eta_i * al[i]).subs(eta, threshold_of(A) / (1 + s))
    chk.true("eta < threshold  =>  eta_i alpha_i - 1 < 0 for every group",
             sp.simplify(below - 1).is_negative)
    rng = rng_for("threshold_exists")
    ok_all = True
    for _ in range(40):
        alpha = rng.uniform(0.1, 5.0, int(rng.integers(1, 7)))
        thr = float(threshold_of(sp.Float(alpha.sum())))
        c = tr.theory.individual_elr(0.999 * thr, alpha / alpha.sum()) * alpha
        ok_all &= bool(np.all(c < 1) and abs(tr.theory.threshold(alpha) - thr) <= 1e-14 * thr)
    chk.record("theory.threshold(alpha) equals the derived threshold; split stable just below it",
               ok_all, "theory cross-check")
    # Dynamics: below threshold PGD from a random start settles at a minimum with every c_i < 1.
    alpha = np.array([1.0, 2.0, 3.0])
    e = 0.9 * float(threshold_of(sp.Float(alpha.sum())))
    run = tr.simulate(tr.toys.canonical(alpha), elr=e, steps=4000, seed=1)
    c_final = e * alpha / run.sq_norm.values[-1]
    chk.record("simulate at 0.9 x threshold: loss -> 0 and final c_i < 1",
               bool(run.loss.values[-1] < 1e-12 and np.all(c_final < 1)), SIM,
               f"final loss {run.loss.values[-1]:.1e}, c = {np.round(c_final, 3).tolist()}")
    return chk


def every_split_checks(threshold) -> Checks:
    """Checks of 'above threshold every split is unstable' for a library threshold ``threshold(alpha)``.

    The symbolic part proves the statement at ``eta = 1/A``; the numeric part checks that ``threshold``
    is that value: at ``eta = threshold(alpha)`` the best split (``r_i^2 = alpha_i / A``) sits exactly
    at ``max_i eta_i alpha_i = 1``, just below it that split is stable, and above it every random split
    has some ``eta_i alpha_i > 1``.  (A threshold of ``2/A`` passes the last test but fails the others.)
    """
    chk = Checks()
    eta_i = eta / r2[i]
    u = sp.IndexedBase("u", nonnegative=True)  # u_i = 1/alpha_i - eta_i >= 0: group i not above
    # Per-term identity: r_i^2 - eta alpha_i = alpha_i r_i^2 (1/alpha_i - eta_i).
    chk.equal("r_i^2 - eta alpha_i = alpha_i r_i^2 (1/alpha_i - eta_i)",
              r2[i] - eta * al[i], al[i] * r2[i] * (1 / al[i] - eta_i))
    chk.true("if eta_i <= 1/alpha_i then alpha_i r_i^2 (1/alpha_i - eta_i) >= 0",
             (al[i] * r2[i] * u[i]).is_nonnegative)
    chk.true("a finite sum of such terms is >= 0 (any n)",
             sp.Sum(al[i] * r2[i] * u[i], (i, 1, n)).is_nonnegative)
    chk.equal("general n: sum_i (r_i^2 - eta alpha_i) = 1 - eta A on the unit sphere",
              _sum_rewrite(sp.Sum(r2[i] - eta * al[i], (i, 1, n))), 1 - eta * A)
    # So all eta_i <= 1/alpha_i forces 1 - eta A >= 0.  Contrapositive: eta > 1/A (A = 1/eta + d,
    # d > 0) makes 1 - eta A < 0, impossible; hence some eta_i > 1/alpha_i.
    d = sp.Symbol("d", positive=True)
    chk.true("eta > 1/A  =>  1 - eta A < 0", sp.expand(1 - eta * (1 / eta + d)).is_negative)
    # Numeric: the best split minimises max_i eta_i alpha_i; that minimum is eta A (attained at
    # r_i^2 = alpha_i / A), so above threshold every random split has some eta_i alpha_i > 1.
    rng = rng_for("every_split")
    ok_all = True
    worst_gap = np.inf
    for _ in range(30):
        alpha = rng.uniform(0.1, 5.0, int(rng.integers(2, 8)))
        k = rng.uniform(1.0001, 3.0)
        e = k * threshold(alpha)
        splits = rng.dirichlet(np.ones(alpha.size), size=2000)
        worst = np.max(e * alpha / splits, axis=1)
        ok_all &= bool(np.all(worst > 1.0))
        worst_gap = min(worst_gap, float(np.min(worst)) - k)
        ok_all &= worst_gap >= -1e-12
    chk.record("above threshold every random split has max_i eta_i alpha_i >= eta A > 1", ok_all,
               "theory cross-check", f"min (max_i eta_i alpha_i - eta A) = {worst_gap:.2e}")
    at_edge, below_ok = 0.0, True
    for _ in range(30):
        alpha = rng.uniform(0.1, 5.0, int(rng.integers(1, 8)))
        balanced = alpha / alpha.sum()
        at_edge = max(at_edge, abs(float(np.max(threshold(alpha) * alpha / balanced)) - 1.0))
        below_ok &= bool(np.max(rng.uniform(0.5, 0.9999) * threshold(alpha) * alpha / balanced) < 1.0)
    chk.record("at eta = threshold(alpha) the best split has max_i eta_i alpha_i = 1", at_edge < 1e-12,
               "theory cross-check", f"max deviation {at_edge:.1e}")
    chk.record("just below threshold(alpha) the split r_i^2 = alpha_i / A is stable", below_ok,
               "theory cross-check")
    return chk


CLAIMS = [
    Claim("elr_harmonic_sum", FAMILY,
          "Individual ELR eta_i = eta / r_i^2; on the unit total sphere sum_i 1/eta_i = 1/eta "
          "(general n).",
          lambda: _harmonic().result()),
    Claim("threshold_split_exists", FAMILY,
          "If eta < 1/sum(alpha), the split r_i^2 = alpha_i / sum(alpha) has every "
          "eta_i < 1/alpha_i (general n); PGD below threshold converges.",
          lambda: threshold_exists_checks(lambda a: 1 / a).result()),
    Claim("threshold_every_split_unstable", FAMILY,
          "If eta > 1/sum(alpha), every split has some eta_i > 1/alpha_i: all eta_i <= 1/alpha_i "
          "would give 1 = sum r_i^2 >= eta sum(alpha) (proved for general n).",
          lambda: every_split_checks(tr.theory.threshold).result()),
]
