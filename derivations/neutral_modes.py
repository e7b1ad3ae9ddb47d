"""The neutral eigenvalues of the coupled 2-cycle, for every number of groups n.

The proof reduces the ``(2n - 1)``-dimensional linearisation to one 2 x 2 matrix.  Write a tangent
vector at a point of the 2-cycle (all ``phi_i = s phi*``, ``s = +-1``, ``cos 2 phi* = 1/k``,
``r_i^2 = q_i = alpha_i / A``) as angle deviations ``dphi_i`` and *relative* norm deviations
``u_i = dq_i / q_i``; the tangent space of the unit total sphere is ``v = sum_i q_i u_i = 0``.

1. **Entries** (symbolic, for any n).  Group i's angle depends on group i only, and its new norm is
   ``q_i' = g_i / S`` with ``S = g_i + g_j + R``, where ``R`` (the other groups) does not depend on
   groups i and j.  Differentiating with ``R`` a free symbol covers every pair ``i != j`` of every n:

       dphi_i' = a dphi_i + s b u_i
       u_i'    = s beta dphi_i + d u_i - s beta m - d v,      m = sum_j q_j dphi_j,

   with ``a = 1 - 2/k^2``, ``b = sqrt(k^2 - 1)/k^2``, ``beta = 4 sqrt(k^2 - 1)/k^2``,
   ``d = (2 - k^2)/k^2`` -- the same numbers in every group, because every ``c_i = k``.
2. **Invariant splitting.**  Because ``sum_i q_i = 1``: ``m' = a m + s b v`` and ``v' = 0``.  So
   ``W = {m = 0, v = 0}`` (dimension ``2n - 2``) is invariant, and on it the step acts as the same
   2 x 2 matrix ``B_s = [[a, s b], [s beta, d]]`` on each group's pair ``(dphi_i, u_i)``; on the
   quotient ``T / W`` (spanned by m) it multiplies by ``a``.
3. **Two steps.**  The characteristic polynomial of the two-step map on the tangent space is
   ``(lambda - a^2) * det(lambda - B_- B_+)^(n-1)``; ``det B_s = -1`` and
   ``tr B_- B_+ = 2 - 16 (k^2 - 1)/k^4``.  Hence one eigenvalue ``(1 - 2/k^2)^2`` and ``n - 1``
   pairs with product 1 and real part ``1 - 8 (k^2 - 1)/k^4`` in ``[-1, 1]``: on the unit circle.

Every step is a sympy identity on the entries *derived* in step 1 (not on re-typed formulas): that
the coupling coefficients depend on the other group's ``q_j`` only and linearly, that ``v'`` has no
``dphi_i`` or ``u_i`` term, that the 2 x 2 block is the same for every group, and its det and trace.
Independently, the eigenvalues of finite-difference Jacobians of two steps of
:func:`toyregimes.theory.canonical_step` are compared with the predicted multiset for n up to 8.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import Claim
from ._common import rng_for
from .canonical import FAMILY, angle_map, k, two_step_spectrum
from .equality import Checks

FD = "finite differences of theory.canonical_step"


def _true_neutral_re(k_):
    return 1 - 8 * (k_**2 - 1) / k_**4


def _entries(renormalise: bool):
    """Jacobian entries of groups i, j at the 2-cycle point with sign ``s`` (sympy, n-independent).

    ``renormalise=False`` is the deliberately wrong model of a negative control: the new squared
    norms are divided by the orbit value ``k^2`` of S instead of by S itself, which drops the coupling
    through the projection.
    """
    eta = sp.Symbol("eta", positive=True)
    phi_i, phi_j = sp.symbols("phi_i phi_j", real=True)
    q_i, q_j, a_i, a_j, rest = sp.symbols("q_i q_j alpha_i alpha_j R", positive=True)
    c_i, c_j = eta * a_i / q_i, eta * a_j / q_j
    g_i = q_i * (1 + (c_i * sp.sin(2 * phi_i)) ** 2)
    g_j = q_j * (1 + (c_j * sp.sin(2 * phi_j)) ** 2)
    S = g_i + g_j + rest if renormalise else k**2
    phi_next, q_next = angle_map(phi_i, c_i), g_i / S
    d = {
        "dphi'/dphi_i": sp.diff(phi_next, phi_i),
        "q_i dphi'/dq_i": q_i * sp.diff(phi_next, q_i),
        "dphi'/dphi_j": sp.diff(phi_next, phi_j),
        "dphi'/dq_j": sp.diff(phi_next, q_j),
        "(1/q_i) dq'/dphi_i": sp.diff(q_next, phi_i) / q_i,
        "dq'/dq_i": sp.diff(q_next, q_i),
        "(1/q_i) dq'/dphi_j": sp.diff(q_next, phi_j) / q_i,
        "(q_j/q_i) dq'/dq_j": q_j * sp.diff(q_next, q_j) / q_i,
    }
    out = {}
    for s in (1, -1):
        star = s * sp.acos(1 / k) / 2
        at = {a_i: k * q_i / eta, a_j: k * q_j / eta, phi_i: star, phi_j: star,
              rest: k**2 * (1 - q_i - q_j)}  # c_i = k and g_l = k^2 q_l at the orbit, for every group
        out[s] = {name: expr.subs(at) for name, expr in d.items()}
    return out, (q_i, q_j)


def neutral_mode_checks(re_of, renormalise: bool = True) -> Checks:
    """Sub-checks of the general-n claim; ``re_of(k)`` is the claimed real part of the neutral pair."""
    chk = Checks()
    a = 1 - 2 / k**2
    b = sp.sqrt(k**2 - 1) / k**2
    beta = 4 * sp.sqrt(k**2 - 1) / k**2
    d = (2 - k**2) / k**2
    entries, (q_i, q_j) = _entries(renormalise)
    dom = {k: (1.01, 6.0), q_i: (0.01, 0.45), q_j: (0.01, 0.45)}
    for s, got in entries.items():
        want = {
            "dphi'/dphi_i": a, "q_i dphi'/dq_i": s * b, "dphi'/dphi_j": 0, "dphi'/dq_j": 0,
            "(1/q_i) dq'/dphi_i": s * beta * (1 - q_i), "dq'/dq_i": d * (1 - q_i),
            "(1/q_i) dq'/dphi_j": -s * beta * q_j, "(q_j/q_i) dq'/dq_j": -d * q_j,
        }
        for name, expr in got.items():
            chk.equal(f"step 1, s = {s:+d}: {name} at the 2-cycle", expr, want[name], dom)
    # Step 2 from the *derived* entries: the other groups enter only through the coefficients
    # E_ij = (1/q_i) dq_i'/dphi_j and G_ij = (q_j/q_i) dq_i'/dq_j, which must depend on q_j alone and
    # linearly, so that sum_{j != i} E_ij dphi_j = eps (m - q_i dphi_i) with eps = E_ij / q_j.
    B = {}
    for s, ent in entries.items():
        tag = f"s = {s:+d}"
        e_ij, g_ij = ent["(1/q_i) dq'/dphi_j"], ent["(q_j/q_i) dq'/dq_j"]
        for name, expr in (("E_ij", e_ij), ("G_ij", g_ij)):
            chk.equal(f"step 2, {tag}: {name} does not depend on q_i", sp.diff(expr, q_i), 0, dom)
            chk.equal(f"step 2, {tag}: {name} is linear in q_j through 0", expr - q_j * sp.diff(expr, q_j), 0, dom)
        eps, gam = sp.diff(e_ij, q_j), sp.diff(g_ij, q_j)
        # v' = sum_l q_l u_l' has no dphi_i and no u_i term (using sum_l q_l = 1): W's second equation.
        chk.equal(f"step 2, {tag}: coefficient of dphi_i in v' is 0",
                  q_i * ent["(1/q_i) dq'/dphi_i"] + (1 - q_i) * eps * q_i, 0, dom)
        chk.equal(f"step 2, {tag}: coefficient of u_i in v' is 0",
                  q_i * ent["dq'/dq_i"] + (1 - q_i) * gam * q_i, 0, dom)
        # m' = sum_l q_l dphi_l' = a m + s b v needs the angle row to be the same for every group.
        for name in ("dphi'/dphi_i", "q_i dphi'/dq_i"):
            chk.equal(f"step 2, {tag}: {name} is the same for every group", sp.diff(ent[name], q_i), 0, dom)
        # On W (m = v = 0) group i's pair (dphi_i, u_i) maps by this 2 x 2 matrix; it must not depend on i.
        B[s] = sp.Matrix([[ent["dphi'/dphi_i"], ent["q_i dphi'/dq_i"]],
                          [ent["(1/q_i) dq'/dphi_i"] - eps * q_i, ent["dq'/dq_i"] - gam * q_i]])
        for (r_, c_), expr in zip(((1, 0), (1, 1)), (B[s][1, 0], B[s][1, 1]), strict=True):
            chk.equal(f"step 2, {tag}: B[{r_},{c_}] is the same for every group", sp.diff(expr, q_i), 0, dom)
        B[s] = B[s].subs(q_i, sp.Rational(1, 3))  # any value: it does not depend on q_i
    # Step 3: the 2 x 2 matrices built from the derived entries.
    two = B[-1] * B[1]
    for s in (1, -1):
        chk.equal(f"step 3: det B_{'+' if s > 0 else '-'} = -1", B[s].det(), -1, {k: (1.01, 6.0)})
    chk.equal("step 3: the other eigenvalue, on the quotient T/W, is a^2 = (1 - 2/k^2)^2",
              B[-1][0, 0] * B[1][0, 0], (1 - 2 / k**2) ** 2, {k: (1.01, 6.0)})
    chk.equal("step 3: tr(B_- B_+) / 2 = claimed real part of the neutral pair",
              two.trace() / 2, re_of(k), {k: (1.01, 6.0)})
    chk.equal("step 3: 1 - re^2 = 16 (k^2 - 1)(k^2 - 2)^2 / k^8 >= 0 (the pair is on the unit circle)",
              1 - re_of(k) ** 2, 16 * (k**2 - 1) * (k**2 - 2) ** 2 / k**8, {k: (1.01, 6.0)})
    # Independent: finite-difference spectra of two steps of theory.canonical_step, n = 2 ... 8.
    rng = rng_for("neutral_eigenvalues_general_n")
    for n in (2, 3, 5, 8):
        alpha = rng.uniform(0.2, 5.0, n)
        kv = float(rng.uniform(1.05, 4.0))
        got = _by_value(two_step_spectrum(alpha, kv))
        re = float(re_of(sp.Float(kv)))
        pair = complex(re, np.sqrt(max(0.0, 1 - re**2)))
        want = _by_value(np.array([(1 - 2 / kv**2) ** 2] + [pair, pair.conjugate()] * (n - 1)))
        chk.close(f"n = {n}, k = {kv:.3f}: eigenvalues of the two-step map = one (1-2/k^2)^2 and "
                  f"{n - 1} x the neutral pair", got, want, 1e-7, FD)
    return chk


def _by_value(ev):
    """Eigenvalues in a rounding-proof order: by real, then imaginary part, both rounded to 1e-6.

    ``np.sort_complex`` orders by the exact real part, which finite-difference noise permutes
    inside a repeated conjugate pair.
    """
    ev = np.asarray(ev, dtype=complex)
    return ev[np.lexsort((np.round(ev.imag, 6), np.round(ev.real, 6)))]


CLAIMS = [
    Claim("neutral_eigenvalues_general_n", FAMILY,
          "For every n >= 2 the two-step map linearised at the coupled 2-cycle is, on a (2n-2)-dimensional "
          "invariant subspace, n - 1 copies of one 2 x 2 matrix (the product of the two steps' blocks) with "
          "det 1 and trace 2 - 16(k^2 - 1)/k^4, and multiplies the remaining direction by (1 - 2/k^2)^2: so "
          "2n - 2 eigenvalues on the unit circle with cos omega = 1 - 8(k^2 - 1)/k^4 (symbolic proof for "
          "general n; finite-difference spectra for n = 2, 3, 5, 8).",
          lambda: neutral_mode_checks(_true_neutral_re).result()),
]
