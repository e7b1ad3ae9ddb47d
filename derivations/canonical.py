"""Family 3 -- the canonical toy ``F = sum_i alpha_i sin^2 phi_i`` (Kodryan et al. 2022).

The step map is derived from the *vector* PGD step on ``f = alpha y^2 / (x^2 + y^2)``, not assumed.
Dynamics claims (2-cycle, coupled equilibrium, individual limit) are also checked against short
:func:`toyregimes.simulate` runs; their tolerances are documented next to each check.
"""

from __future__ import annotations

from functools import cache

import mpmath
import numpy as np
import sympy as sp

import toyregimes as tr

from . import Claim
from ._common import canonical_group, rng_for
from .equality import DPS, Checks

FAMILY = "canonical toy"
SIM = "simulation cross-check"
HP = f"high-precision linearisation (mpmath, {DPS} digits)"

phi, r, eta, c = sp.symbols("phi r eta c", positive=True)
k = sp.Symbol("k", positive=True)
lam = sp.Symbol("lambda")
# Domains for the point check: c > 1 where a 2-cycle exists, k > 1 above threshold.
ABOVE = {c: (1.01, 6.0), k: (1.01, 6.0)}


def angle_map(phi_, c_):
    """One-group angle map ``phi -> phi - arctan(c sin 2 phi)`` (sympy)."""
    return phi_ - sp.atan(c_ * sp.sin(2 * phi_))


@cache
def _vector_step():
    """Vector PGD step ``theta - eta grad f`` at ``theta = r (cos phi, sin phi)``; returns (theta, y)."""
    x, y, alpha, _, grad = canonical_group()
    at = {x: r * sp.cos(phi), y: r * sp.sin(phi)}
    g = [sp.simplify(gi.subs(at)) for gi in grad]
    theta = (r * sp.cos(phi), r * sp.sin(phi))
    return alpha, theta, (theta[0] - eta * g[0], theta[1] - eta * g[1]), g


# ----------------------------------------------------------------------------- step map
def _step_map() -> Checks:
    chk = Checks()
    alpha, theta, ystep, g = _vector_step()
    cc = eta * alpha / r**2  # c = alpha eta_i with eta_i = eta / r^2
    t = cc * sp.sin(2 * phi)
    psi = angle_map(phi, cc)
    # The stepped vector has length r sqrt(1 + t^2) and direction psi: compare componentwise.
    for j, trig in enumerate((sp.cos, sp.sin)):
        chk.equal(f"component {j + 1}: theta - eta grad f = r sqrt(1 + t^2) (cos psi, sin psi)",
                  ystep[j], r * sp.sqrt(1 + t**2) * trig(psi), {phi: (-1.5, 1.5)})
    chk.equal("|theta - eta grad f|^2 = r^2 (1 + c^2 sin^2 2 phi)",
              ystep[0] ** 2 + ystep[1] ** 2, r**2 * (1 + t**2), {phi: (-1.5, 1.5)})
    chk.equal("eta^2 |grad f|^2 = r^2 c^2 sin^2 2phi, so S = sum_j r~_j^2 = 1 + eta^2 |grad F|^2",
              eta**2 * (g[0] ** 2 + g[1] ** 2), r**2 * t**2, {phi: (-1.5, 1.5)})
    # <theta_j, y_j> = r_j^2, so <theta, y> = 1 on the unit sphere and cos angle = 1/|y| = 1/sqrt(S).
    chk.equal("<theta_i, theta_i - eta grad f_i> = r_i^2 (cos angle = 1/sqrt(S))",
              theta[0] * ystep[0] + theta[1] * ystep[1], r**2)
    # theory.canonical_step against one step of the simulator, from random points.
    rng = rng_for("step_map")
    alpha_ = np.array([1.0, 2.0, 3.0, 0.5])
    toy = tr.toys.canonical(alpha_)
    worst_state = worst_cos = 0.0
    for seed in range(8):
        e = float(rng.uniform(0.02, 1.5))
        run = tr.simulate(toy, elr=e, steps=1, seed=seed)
        th0 = run.initial_state.values
        ph0 = np.arctan2(th0[:, 1], th0[:, 0])
        ph1, r2_1, S = tr.theory.canonical_step(ph0, np.sum(th0**2, axis=1), alpha_, e)
        pred = np.sqrt(r2_1)[:, None] * np.stack([np.cos(ph1), np.sin(ph1)], axis=1)
        worst_state = max(worst_state, float(np.max(np.abs(pred - run.final_state.values))))
        worst_cos = max(worst_cos, abs(np.cos(run.angle.values[0]) - 1 / np.sqrt(S)))
    chk.close("theory.canonical_step == one simulate step (state)", worst_state, 0.0, 1e-12,
              "theory vs simulation cross-check")
    chk.close("cos angle of the step == 1/sqrt(S)", worst_cos, 0.0, 1e-12,
              "theory vs simulation cross-check")
    return chk


# ----------------------------------------------------------------------------- single group
def _min_max_stability() -> Checks:
    chk = Checks()
    dmap = sp.diff(angle_map(phi, c), phi)
    chk.equal("minimum: d phi'/d phi at phi = 0 is 1 - 2c", dmap.subs(phi, 0), 1 - 2 * c)
    chk.equal("maximum: d phi'/d phi at phi = pi/2 is 1 + 2c", dmap.subs(phi, sp.pi / 2), 1 + 2 * c)
    stable = sp.solve_univariate_inequality(sp.Abs(1 - 2 * c) < 1, c, relational=False)
    chk.true("|1 - 2c| < 1 exactly for 0 < c < 1 (minimum stable iff c < 1)",
             stable == sp.Interval.open(0, 1), "sympy solve_univariate_inequality")
    chk.true("maximum always unstable: 1 + 2c > 1", (1 + 2 * c - 1).is_positive)
    cs = np.array([0.1, 0.3, 0.8, 0.95])
    # The library against the *derived* derivative (not a re-typed 1 - 2c).
    at_min = [dmap.subs({phi: 0, c: sp.Float(v)}) for v in cs]
    chk.close("theory.minimum_multiplier(c) == d phi'/d phi at the minimum",
              tr.theory.minimum_multiplier(cs), [float(m) for m in at_min], 1e-15)
    chk.close("theory.single_group_lyapunov(c) == log|d phi'/d phi| at the minimum",
              tr.theory.single_group_lyapunov(cs), [float(sp.log(sp.Abs(m))) for m in at_min], 1e-15)
    # Dynamics (n = 1, so c = eta alpha): the step angle |phi_t - phi_{t+1}| contracts by |1 - 2c|
    # near the minimum and expands by 1 + 2c near the maximum.  The linearisation error is
    # O(phi^2), so the ratio is read where phi ~ 1e-4 (tolerance 1e-5 relative).
    toy = tr.toys.canonical([2.0])
    for cv in (0.3, 0.8):
        run = tr.simulate(toy, elr=cv / 2.0, steps=200, init=[[1.0, 1e-4]])
        a = run.angle.values
        chk.close(f"simulate, c = {cv}: step-angle ratio near the minimum", a[3] / a[2],
                  abs(1 - 2 * cv), 1e-5, SIM)
        run = tr.simulate(toy, elr=cv / 2.0, steps=4, init=[[1e-6, 1.0]])
        a = run.angle.values
        chk.close(f"simulate, c = {cv}: step-angle ratio near the maximum", a[1] / a[0],
                  1 + 2 * cv, 1e-5, SIM)
    return chk


def two_cycle_checks(loss_of) -> Checks:
    """Checks of the single-group 2-cycle; ``loss_of(alpha, c)`` is the claimed loss on the cycle."""
    chk = Checks()
    alpha = sp.Symbol("alpha", positive=True)
    star = sp.acos(1 / c) / 2  # the branch in (0, pi/4): cos 2 phi* = 1/c
    # phi* -> -phi* iff arctan(c sin 2phi*) = 2phi*; both sides lie in (0, pi/2), so it is
    # enough that tan(2phi*) = c sin(2phi*) -- symbolic -- and the map itself is also evaluated.
    chk.equal("tan 2phi* = c sin 2phi*", sp.tan(2 * star), c * sp.sin(2 * star), ABOVE)
    chk.equal("phi* -> -phi* under the map (a 2-cycle)", angle_map(star, c), -star, ABOVE)
    chk.equal("-phi* -> phi* under the map", angle_map(-star, c), star, ABOVE)
    dmap = sp.diff(angle_map(phi, c), phi)
    m1, m2 = dmap.subs(phi, star), dmap.subs(phi, -star)
    chk.equal("one-step multiplier at phi* is 1 - 2/c^2", m1, 1 - 2 / c**2, ABOVE)
    chk.equal("two-step multiplier (chain rule) is (1 - 2/c^2)^2", m1 * m2, (1 - 2 / c**2) ** 2, ABOVE)
    s = sp.Symbol("s", positive=True)  # c = 1 + s covers exactly c > 1
    chk.equal("(1 - 2/c^2)^2 - 1 = -4 (c^2 - 1) / c^4", (1 - 2 / c**2) ** 2 - 1,
              -4 * (c**2 - 1) / c**4)
    chk.true("so 0 <= (1 - 2/c^2)^2 < 1 for c > 1: the cycle is stable",
             sp.factor((-4 * (c**2 - 1) / c**4).subs(c, 1 + s)).is_negative)
    chk.equal("loss on the cycle alpha sin^2 phi* matches the claimed loss",
              alpha * sp.sin(star) ** 2, loss_of(alpha, c), ABOVE)
    chk.equal("squared-norm growth before projection 1 + c^2 sin^2 2phi* = c^2",
              1 + c**2 * sp.sin(2 * star) ** 2, c**2, ABOVE)
    cs = np.array([1.1, 1.6, 2.5, 7.0])
    chk.close("theory.two_cycle_angle: cos 2phi* = 1/c", np.cos(2 * tr.theory.two_cycle_angle(cs)),
              1 / cs, 1e-14)
    chk.close("theory.two_cycle_multiplier == the chain-rule product m1 m2", tr.theory.two_cycle_multiplier(cs),
              [float((m1 * m2).subs(c, sp.Float(v))) for v in cs], 1e-14)
    chk.close("theory.two_cycle_loss", tr.theory.two_cycle_loss(2.0, cs),
              [float(loss_of(sp.Integer(2), sp.Float(v))) for v in cs], 1e-14)
    # Dynamics: one group (n = 1, c = eta alpha).  After 3000 steps the cycle is reached to
    # machine precision (multiplier <= 0.46 per two steps); tail of 1000 steps, tolerance 1e-9.
    toy = tr.toys.canonical([2.0])
    for cv in (1.6, 2.5):
        run = tr.simulate(toy, elr=cv / 2.0, steps=3000, seed=1)
        tail = run.isel(step=slice(-1000, None))
        chk.close(f"simulate, c = {cv}: tail loss equals the 2-cycle loss",
                  float(tail.loss.mean()), float(loss_of(sp.Integer(2), sp.Float(cv))), 1e-9, SIM)
        chk.close(f"simulate, c = {cv}: cos of the step angle = cos 2phi* = 1/c",
                  float(np.cos(tail.angle).mean()), 1 / cv, 1e-9, SIM)
    return chk


# ----------------------------------------------------------------------------- coupled equilibrium
def equilibrium_checks(loss_of) -> Checks:
    """Checks of the coupled period-2 equilibrium; ``loss_of(A, eta)`` is the claimed F_eq."""
    chk = Checks()
    i = sp.Symbol("i", integer=True, positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    al = sp.IndexedBase("alpha", positive=True)
    A = sp.Symbol("A", positive=True)
    sum_al = {sp.Sum(al[i], (i, 1, n)): A}
    e = k / A  # eta = k / A
    r2 = al[i] / A
    ci = e * al[i] / r2
    chk.equal("with r_i^2 = alpha_i/A every c_i = eta alpha_i / r_i^2 = k", ci, k)
    star = sp.acos(1 / k) / 2
    grown = r2 * (1 + ci**2 * sp.sin(2 * star) ** 2)
    chk.equal("each group on its 2-cycle: r~_i^2 = k^2 r_i^2", grown, k**2 * r2, ABOVE)

    def total(term):
        return sp.factor_terms(sp.expand(sp.factor_terms(sp.Sum(term, (i, 1, n))))).subs(sum_al)

    S = total(k**2 * r2)
    chk.equal("general n: S = sum_i r~_i^2 = k^2", S, k**2)
    chk.equal("r_i'^2 = r~_i^2 / S = alpha_i / A (norms fixed)", k**2 * r2 / S, r2)
    F = total(al[i] * (1 - 1 / k) / 2)  # alpha_i sin^2 phi*, sin^2 phi* = (1 - 1/k)/2
    chk.equal("sin^2 phi* = (1 - 1/k)/2", sp.sin(star) ** 2, (1 - 1 / k) / 2, ABOVE)
    chk.equal("general n: F_eq = sum_i alpha_i sin^2 phi* matches the claimed F_eq",
              F, loss_of(A, e), ABOVE)
    grad2 = total(al[i] ** 2 * (1 - 1 / k**2) / r2)  # |grad f_i|^2 = alpha_i^2 sin^2 2phi / r_i^2
    chk.equal("general n: |grad F|^2 = A^2 - 1/eta^2", grad2, A**2 - 1 / e**2, ABOVE)
    chk.equal("S = 1 + eta^2 |grad F|^2 (consistent)", 1 + e**2 * grad2, S, ABOVE)
    chk.equal("cos angle = 1/sqrt(S) = 1/k", 1 / sp.sqrt(S), 1 / k, ABOVE)

    # theory at random alpha, k: the closed forms and two exact steps back to the start.
    rng = rng_for("equilibrium")
    for _ in range(5):
        alpha = rng.uniform(0.2, 4.0, int(rng.integers(2, 6)))
        a_, kv = alpha.sum(), rng.uniform(1.05, 5.0)
        ev = kv / a_
        chk.close("theory.equilibrium_loss", tr.theory.equilibrium_loss(alpha, ev),
                  float(loss_of(sp.Float(a_), sp.Float(ev))), 1e-13)
        chk.close("theory.equilibrium_sq_norms / cos_angle / grad_norm / step_norm_growth",
                  [*tr.theory.equilibrium_sq_norms(alpha), tr.theory.equilibrium_cos_angle(alpha, ev),
                   tr.theory.equilibrium_grad_norm(alpha, ev),
                   tr.theory.equilibrium_step_norm_growth(alpha, ev)],
                  # the derived S and |grad F|^2 above, evaluated (not re-typed closed forms)
                  [*(alpha / a_), float(1 / sp.sqrt(S.subs(k, kv))),
                   float(sp.sqrt(grad2.subs({A: a_, k: kv}))), float(S.subs(k, kv))], 1e-13)
        p0 = np.full(alpha.size, 0.5 * np.arccos(1 / kv))
        p1, q1, _ = tr.theory.canonical_step(p0, alpha / a_, alpha, ev)
        p2, q2, _ = tr.theory.canonical_step(p1, q1, alpha, ev)
        chk.close("theory.canonical_step twice returns to the orbit point",
                  [*p1, *p2, *q2], [*-p0, *p0, *(alpha / a_)], 1e-12)
    # Dynamics: from a random start at k in (1, 1.5] the coupled run settles on the orbit.
    # 20000 steps, tail of 5000; tolerance 1e-5 (observed agreement ~1e-6).
    alpha = np.array([1.0, 2.0, 3.0])
    for kv in (1.2, 1.5):
        ev = kv / alpha.sum()
        tail = tr.simulate(tr.toys.canonical(alpha), elr=ev, steps=20000, seed=1).isel(
            step=slice(-5000, None))
        chk.close(f"simulate k = {kv}: tail mean loss = F_eq", float(tail.loss.mean()),
                  float(loss_of(sp.Float(alpha.sum()), sp.Float(ev))), 1e-5, SIM)
        chk.close(f"simulate k = {kv}: tail mean r_i^2 = alpha_i/A",
                  tail.sq_norm.mean("step").values, alpha / alpha.sum(), 1e-5, SIM)
        chk.close(f"simulate k = {kv}: tail mean cos angle = 1/k", float(np.cos(tail.angle).mean()),
                  1 / kv, 1e-5, SIM)
        chk.close(f"simulate k = {kv}: tail |grad F| = sqrt(A^2 - 1/eta^2)",
                  float(tail.eff_grad_norm.mean()), np.sqrt(alpha.sum() ** 2 - 1 / ev**2), 1e-5, SIM)
    return chk


@cache
def _coupled_map(n_groups: int):
    """Symbolic one-step map of n coupled groups in coordinates (phi_1..phi_n, q_1..q_{n-1}).

    ``q_i = r_i^2`` and ``r_n^2 = 1 - sum q`` (the unit total sphere).  Returns
    ``(variables, alphas, k, map, jacobian)`` with ``eta = k / sum(alpha)``.
    """
    ph = sp.symbols(f"phi1:{n_groups + 1}", real=True)
    q = sp.symbols(f"q1:{n_groups}", positive=True)
    al = sp.symbols(f"a1:{n_groups + 1}", positive=True)
    r2 = [*q, 1 - sum(q)]
    e = k / sum(al)
    cs = [e * al[j] / r2[j] for j in range(n_groups)]
    grown = [r2[j] * (1 + (cs[j] * sp.sin(2 * ph[j])) ** 2) for j in range(n_groups)]
    S = sum(grown)
    m = sp.Matrix([*(angle_map(ph[j], cs[j]) for j in range(n_groups)),
                   *(grown[j] / S for j in range(n_groups - 1))])
    var = (*ph, *q)
    return var, al, m, m.jacobian(var)


def _orbit_points(var, al, n_groups, kv, alpha):
    """The two points of the coupled 2-cycle as substitution dicts (all phi_i = +-phi*)."""
    A = sum(alpha)
    star = sp.acos(1 / kv) / 2
    q = {var[n_groups + j]: alpha[j] / A for j in range(n_groups - 1)}
    base = {**dict(zip(al, alpha, strict=True)), k: kv}
    p1 = {**base, **q, **{var[j]: star for j in range(n_groups)}}
    p2 = {**base, **q, **{var[j]: -star for j in range(n_groups)}}
    return p1, p2


def _eigenvalues() -> Checks:
    chk = Checks()
    lam_real = (1 - 2 / k**2) ** 2
    re = 1 - 8 * (k**2 - 1) / k**4
    # n = 2, fully symbolic in (alpha_1, alpha_2, k): J2 = J(P2) J(P1) by the chain rule.
    var, al, _, jac = _coupled_map(2)
    p1, p2 = _orbit_points(var, al, 2, k, al)
    two = sp.simplify(jac.subs(p2)) * sp.simplify(jac.subs(p1))
    cp = two.charpoly(lam).as_expr()
    pred = (lam - lam_real) * (lam**2 - 2 * re * lam + 1)
    dom = {k: (1.01, 6.0), al[0]: (0.1, 5.0), al[1]: (0.1, 5.0)}
    for p in range(3):
        chk.equal(f"n = 2: coefficient of lambda^{p} of the two-step characteristic polynomial",
                  sp.expand(cp).coeff(lam, p), sp.expand(pred).coeff(lam, p), dom)
    # The quadratic factor has constant term 1 and |re| <= 1, so its roots are on the unit circle.
    chk.equal("1 - re^2 = 16 (k^2 - 1)(k^2 - 2)^2 / k^8 >= 0 for k > 1",
              1 - re**2, 16 * (k**2 - 1) * (k**2 - 2) ** 2 / k**8)
    # n = 3, 4: the same Jacobian, evaluated at 40 digits at random alpha and k (mpmath eig).
    rng = rng_for("eigenvalues")
    for ng in (3, 4):
        var, al, m, jac = _coupled_map(ng)
        fj = sp.lambdify([*var, *al, k], jac, modules="mpmath")
        for _ in range(2):
            alpha = [sp.Rational(int(v), 100) for v in rng.integers(20, 500, ng)]
            kv = sp.Rational(int(rng.integers(105, 500)), 100)
            pts = _orbit_points(var, al, ng, kv, alpha)
            with mpmath.workdps(DPS):
                args = [[mpmath.mpf(sp.N(p[s], DPS + 10)) for s in (*var, *al, k)] for p in pts]
                mat = mpmath.matrix(fj(*args[1])) * mpmath.matrix(fj(*args[0]))
                ev = sorted(mpmath.eig(mat)[0], key=lambda z: abs(z - float(lam_real.subs(k, kv))))
                want_real = mpmath.mpf(sp.N(lam_real.subs(k, kv), DPS))
                want_re = mpmath.mpf(sp.N(re.subs(k, kv), DPS))
                err = max([abs(ev[0] - want_real)]
                          + [abs(abs(z) - 1) + abs(mpmath.re(z) - want_re) for z in ev[1:]])
            chk.record(f"n = {ng}, k = {kv}: one eigenvalue (1-2/k^2)^2, {2 * ng - 2} on the unit "
                       "circle with Re = 1 - 8(k^2-1)/k^4", err < mpmath.mpf(10) ** (10 - DPS), HP,
                       f"max error {mpmath.nstr(err, 3)}")
            t_real, t_pair = tr.theory.equilibrium_eigenvalues(float(kv), ng)
            got = [complex(z) for z in ev]
            chk.close(f"n = {ng}: theory.equilibrium_eigenvalues",
                      [t_real, t_pair.real, abs(t_pair)], [got[0].real, got[1].real, abs(got[1])],
                      1e-12)
        # The symbolic Jacobian against central differences of theory.canonical_step (float64).
        alpha_f = np.array([float(a) for a in alpha])
        x0 = np.array([float(sp.N(pts[0][s])) for s in var])

        e_fd = float(kv) / alpha_f.sum()

        def step_red(x, alpha_f=alpha_f, ng=ng, e=e_fd):
            q = np.append(x[ng:], 1 - x[ng:].sum())
            p1, q1, _ = tr.theory.canonical_step(x[:ng], q, alpha_f, e)
            return np.concatenate([p1, q1[:-1]])

        h = 1e-6
        fd = np.column_stack([(step_red(x0 + h * e) - step_red(x0 - h * e)) / (2 * h)
                              for e in np.eye(x0.size)])
        sym = np.array(fj(*[float(sp.N(pts[0][s])) for s in (*var, *al, k)]).tolist(), dtype=float)
        chk.close(f"n = {ng}: symbolic Jacobian == finite differences of theory.canonical_step",
                  fd, sym, 1e-7, "finite differences of theory")
    return chk


# ----------------------------------------------------------------------------- resonances
def two_step_spectrum(alpha, kv):
    """Eigenvalues of the Jacobian of two steps at the coupled 2-cycle, by central differences.

    Independent of the closed forms: two steps of :func:`toyregimes.theory.canonical_step` in coordinates
    ``phi_1..phi_n, r_1^2..r_{n-1}^2`` (``r_n^2 = 1 - sum``: the tangent space of the sphere), differentiated
    at ``phi_i = phi*``, ``r_i^2 = alpha_i / A``.
    """
    alpha = np.asarray(alpha, dtype=float)
    n = alpha.size
    e = kv / alpha.sum()

    def two_steps(x):
        q = np.append(x[n:], 1 - x[n:].sum())
        ph = x[:n]
        for _ in range(2):
            ph, q, _ = tr.theory.canonical_step(ph, q, alpha, e)
        return np.concatenate([ph, q[:-1]])

    x0 = np.concatenate([np.full(n, np.arccos(1 / kv) / 2), alpha[:-1] / alpha.sum()])
    h = 1e-6
    jac = np.column_stack([(two_steps(x0 + h * d) - two_steps(x0 - h * d)) / (2 * h) for d in np.eye(x0.size)])
    return np.linalg.eigvals(jac)


def _neutral_rotation(kv: float, alpha) -> float:
    """Angle / 2 pi of the neutral eigenvalues (those on the unit circle) of :func:`two_step_spectrum`."""
    ev = two_step_spectrum(alpha, kv)
    ring = ev[np.abs(np.abs(ev) - 1) < 1e-5]
    return float(np.max(np.abs(np.angle(ring))) / (2 * np.pi)) if ring.size else float("nan")


def resonance_checks(cos_of, resonance_k) -> Checks:
    """``k^2 = 2 / (1 +- cos_of(pi p/q))`` solves ``rotation_number(k) = p / q``, and so does ``resonance_k``.

    ``cos_of`` is the closed form's cosine (``sympy.cos`` of the half angle ``pi p / q``); checked
    symbolically, then the library's ``resonance_k`` against reference values and the finite-difference
    spectrum of the two-step map.
    """
    chk = Checks()
    th = sp.Symbol("theta", positive=True)  # pi p / q in (0, pi / 2]
    for sign, name in ((1, "+"), (-1, "-")):
        k2 = 2 / (1 + sign * cos_of(th))
        chk.equal(f"k^2 = 2 / (1 {name} cos(pi p/q)) solves cos(2 pi p/q) = 1 - 8 (k^2 - 1) / k^4",
                  1 - 8 * (k2 - 1) / k2**2, sp.cos(2 * th), {th: (0.05, 1.55)})
    spec = {(1, 2): (np.sqrt(2),), (1, 3): (2 / np.sqrt(3), 2.0),
            (1, 4): (np.sqrt(4 - 2 * np.sqrt(2)), np.sqrt(4 + 2 * np.sqrt(2))), (2, 5): (1.236, 1.701)}
    for (p, q), want in spec.items():
        chk.close(f"{p}:{q} at its reference values", resonance_k(p, q), want,
                  1e-3 if (p, q) == (2, 5) else 1e-12, "reference values")
    for (p, q) in [(1, 2), (1, 3), (1, 4), (2, 5), (1, 6), (3, 10)]:
        for kv in resonance_k(p, q):
            rho = _neutral_rotation(kv, [0.7, 1.3, 2.9])
            chk.close(f"{p}:{q} at k = {kv:.6f}: neutral eigenvalues of the two-step map (n = 3) at angle 2 pi p/q",
                      rho, p / q, 1e-6, "finite differences of theory.canonical_step")
    for kv in (1.1, 1.6, 3.0):
        chk.close(f"theory.rotation_number({kv}) == angle of the neutral eigenvalues / 2 pi",
                  tr.theory.rotation_number(kv), _neutral_rotation(kv, [0.7, 1.3, 2.9]), 1e-6,
                  "finite differences of theory.canonical_step")
    return chk


# ----------------------------------------------------------------------------- stationarity identity
def _iterate(alpha, k, phi0, r20, steps, growth_of=None):
    """``steps`` applications of the exact step map (claim ``canonical_step_map``) to columns of initial states, numpy.

    The map as :func:`toyregimes.theory.canonical_step` states it (checked against the simulator by the
    claim ``canonical_step_map``), vectorised over the columns.  Returns the per-step ``growth_of(c, phi)``
    (default ``log(1 + c^2 sin^2 2 phi)``; (steps, n, m)), ``log S`` (steps, m) and ``log r_i^2``
    (steps + 1, n, m).
    """
    alpha = np.asarray(alpha, dtype=float)[:, None]
    e = k / alpha.sum()
    ph, q2 = phi0.copy(), r20.copy()
    grow = np.empty((steps, *ph.shape))
    logs = np.empty((steps, ph.shape[1]))
    logr = np.empty((steps + 1, *ph.shape))
    logr[0] = np.log(q2)
    for t in range(steps):
        c = e * alpha / q2
        s2 = np.sin(2 * ph)
        grow[t] = np.log1p((c * s2) ** 2) if growth_of is None else growth_of(c, ph)
        grown = q2 * (1 + (c * s2) ** 2)
        total = grown.sum(axis=0)
        ph = ph - np.arctan(c * s2)
        q2 = grown / total
        logs[t] = np.log(total)
        logr[t + 1] = np.log(q2)
    return grow, logs, logr


def stationarity_checks(growth_of) -> Checks:
    """``<log(1 + c_i^2 sin^2 2 phi_i)> = <log S>`` for every group, up to a boundary term ``O(1/T)``.

    ``growth_of(c, phi)`` is the claimed per-step log growth of ``r_i^2`` before projection.
    """
    chk = Checks()
    S = sp.Symbol("S", positive=True)
    cc = sp.Symbol("c", positive=True)
    r2_next = r**2 * (1 + (cc * sp.sin(2 * phi)) ** 2) / S  # the step map (claim canonical_step_map)
    chk.equal("log r_i'^2 - log r_i^2 = log(1 + c_i^2 sin^2 2 phi_i) - log S (one step)",
              sp.log(r2_next) - sp.log(r**2), growth_of(cc, phi) - sp.log(S), {phi: (-1.5, 1.5), S: (1.0, 9.0)})
    # Chaotic runs (k = 2.5, 3): the time averages differ by exactly (log r_i^2(T) - log r_i^2(0)) / T,
    # a boundary term, because log r_i^2 stays bounded on the attractor.
    rng = rng_for("stationarity")
    alpha = np.array([0.6, 1.5, 2.4])
    f = sp.lambdify((cc, phi), growth_of(cc, phi), "numpy")
    for kv in (2.5, 3.0):
        m = 4
        phi0 = rng.uniform(-1.5, 1.5, (3, m))
        r20 = rng.dirichlet(np.ones(3), m).T
        claimed, logs, logr = _iterate(alpha, kv, phi0, r20, 12_000, f)
        worst, spread = 0.0, 0.0
        for T in (3_000, 12_000):
            res = claimed[:T].mean(axis=0) - logs[:T].mean(axis=0)  # (n, m)
            bound = (logr[: T + 1].max(axis=0) - logr[: T + 1].min(axis=0)) / T
            worst = max(worst, float(np.max(np.abs(res) - bound)))
            spread = max(spread, float(np.max(bound * T)))
        chk.record(f"k = {kv} (chaotic): |<growth_i> - <log S>| <= (range of log r_i^2) / T at T = 3000, 12000",
                   worst <= 1e-9, SIM, f"excess {worst:.1e}; range of log r_i^2 at most {spread:.2f}")
    dev = float(np.mean(logs) - 2 * np.log(3.0))
    chk.record("k = 3 (chaotic): <log S> is not 2 log k", abs(dev) > 0.05, SIM, f"<log S> - 2 log k = {dev:+.3f}")
    # On the 2-cycle S = k^2 at every step: <log S> = 2 log k exactly.
    kv = 1.4
    phi0 = np.full((3, 1), np.arccos(1 / kv) / 2)
    _, logs, _ = _iterate(alpha, kv, phi0, (alpha / alpha.sum())[:, None].copy(), 200)
    chk.close("on the 2-cycle (k = 1.4): <log S> = 2 log k", float(np.mean(logs)), 2 * np.log(kv), 1e-12, SIM)
    return chk


# ----------------------------------------------------------------------------- individual
def _individual() -> Checks:
    chk = Checks()
    alpha, theta, ystep, _ = _vector_step()
    cc = eta * alpha / r**2
    t = cc * sp.sin(2 * phi)
    psi = angle_map(phi, cc)
    norm = r * sp.sqrt(1 + t**2)
    # Individual constraint: group i is projected back to its own radius r_i, so
    # theta_i' = r_i y_i / |y_i| = r_i (cos psi, sin psi): the same angle map, with r_i (hence
    # c_i) constant for ever, and no reference to other groups -- the groups decouple.
    for j, trig in enumerate((sp.cos, sp.sin)):
        chk.equal(f"component {j + 1}: r y/|y| = r (cos psi, sin psi) with c_i fixed",
                  r * ystep[j] / norm, r * trig(psi), {phi: (-1.5, 1.5)})
    lim = sp.Max(0, 1 - 1 / c) * sp.Symbol("alpha", positive=True) / 2
    a_ = sp.Symbol("alpha", positive=True)
    chk.equal("c < 1: limit is the minimum (loss 0)", lim.subs(c, 1 / (1 + k)), 0)
    star = sp.acos(1 / c) / 2
    s = sp.Symbol("s", positive=True)  # c = 1 + s: the branch c > 1, where Max(0, .) resolves
    chk.equal("c > 1: limit is the 2-cycle, loss alpha sin^2 phi* = alpha (1 - 1/c)_+ / 2",
              (a_ * sp.sin(star) ** 2).subs(c, 1 + s), lim.subs(c, 1 + s))
    # theory and simulation: norms chosen so that c = (0.5, 1.6, 2.5).
    alpha_ = np.array([1.0, 2.0, 3.0])
    e, cs = 0.25, np.array([0.5, 1.6, 2.5])
    r2 = e * alpha_ / cs
    chk.close("theory.individual_limit_loss == sum of per-group limits",
              tr.theory.individual_limit_loss(alpha_, e, r2),
              float(sum(lim.subs({a_: sp.Float(a), c: sp.Float(cv)}) for a, cv in zip(alpha_, cs, strict=True))),
              1e-14)
    rng = rng_for("individual")
    init = np.sqrt(r2)[:, None] * np.array([[np.cos(p), np.sin(p)] for p in rng.uniform(0.1, 1.4, 3)])
    init /= np.linalg.norm(init)  # simulate normalises to unit total norm: keep c as chosen
    e_run = e / float(np.sum(r2))
    run = tr.simulate(tr.toys.canonical(alpha_), elr=e_run, steps=3000, constraint="individual",
                      init=init)
    tail = run.isel(step=slice(-1000, None))
    # Exactly periodic once converged (multipliers <= 0.46 per two steps): tolerance 1e-9.
    chk.close("simulate (individual): tail loss = sum_i alpha_i (1 - 1/c_i)_+ / 2",
              float(tail.loss.mean()), tr.theory.individual_limit_loss(alpha_, e, r2), 1e-9, SIM)
    chk.close("simulate (individual): group norms never move",
              run.sq_norm.values - run.sq_norm.values[0], np.zeros_like(run.sq_norm.values), 1e-12, SIM)
    return chk


def _true_two_cycle_loss(alpha, c_):
    return alpha * (1 - 1 / c_) / 2


def _true_equilibrium_loss(A, eta_):
    return A / 2 - 1 / (2 * eta_)


CLAIMS = [
    Claim("canonical_step_map", FAMILY,
          "Exact PGD step of the canonical toy: phi_i' = phi_i - arctan(c_i sin 2phi_i), "
          "r~_i^2 = r_i^2 (1 + c_i^2 sin^2 2phi_i), S = 1 + eta^2 |grad F|^2, cos angle = 1/sqrt(S).",
          lambda: _step_map().result()),
    Claim("minimum_maximum_stability", FAMILY,
          "Single group at fixed c: the minimum has multiplier 1 - 2c (stable iff c < 1); the "
          "maximum has multiplier 1 + 2c (always unstable).",
          lambda: _min_max_stability().result()),
    Claim("two_cycle", FAMILY,
          "For c > 1 a single group has the 2-cycle +-phi* with cos 2phi* = 1/c, multiplier "
          "(1 - 2/c^2)^2, loss alpha (1 - 1/c)/2; before projection the squared norm grows by c^2 "
          "per step (the norm by c).",
          lambda: two_cycle_checks(_true_two_cycle_loss).result()),
    Claim("coupled_equilibrium", FAMILY,
          "For k = eta A > 1 the coupled system has a period-2 orbit with c_i = k, "
          "r_i^2 = alpha_i/A, F_eq = A/2 - 1/(2 eta), S = k^2, cos angle = 1/k, "
          "|grad F| = sqrt(A^2 - 1/eta^2) (general n).",
          lambda: equilibrium_checks(_true_equilibrium_loss).result()),
    Claim("equilibrium_eigenvalues", FAMILY,
          "The two-step map linearised at the coupled equilibrium has one eigenvalue "
          "(1 - 2/k^2)^2 and 2n - 2 on the unit circle with real part 1 - 8(k^2 - 1)/k^4 "
          "(symbolic for n = 2, 40-digit numeric for n = 3, 4).",
          lambda: _eigenvalues().result()),
    Claim("resonances", FAMILY,
          "The rotation number rho = omega / 2 pi of the neutral eigenvalues reaches p/q at "
          "k = sqrt(2 / (1 +- cos(pi p/q))): 1:2 at sqrt 2, 1:3 at 2/sqrt 3 and 2, 1:4 at k^2 = 4 -+ 2 sqrt 2, "
          "2:5 at 1.236 and 1.701 (symbolic; checked on the finite-difference spectrum of the two-step map).",
          lambda: resonance_checks(sp.cos, tr.theory.resonance_k).result()),
    Claim("stationarity_identity", FAMILY,
          "Under the total constraint log r_i'^2 - log r_i^2 = log(1 + c_i^2 sin^2 2 phi_i) - log S, so "
          "<log(1 + c_i^2 sin^2 2 phi_i)> = <log S> for every group up to a boundary term O(1/T) (log r_i^2 "
          "stays bounded); on the 2-cycle <log S> = 2 log k, in chaos it is not.",
          lambda: stationarity_checks(lambda c_, p_: sp.log(1 + (c_ * sp.sin(2 * p_)) ** 2)).result()),
    Claim("individual_limit_loss", FAMILY,
          "Individual constraint: c_i is constant, groups decouple, and the loss tends to "
          "sum_i alpha_i (1 - 1/c_i)_+ / 2.",
          lambda: _individual().result()),
]
