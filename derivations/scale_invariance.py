"""Family 1 -- scale invariance (Kodryan et al. 2022).

The proofs use a *generic* SI function ``F(x) = G(x/|x|)`` with ``G`` an undefined sympy Function
(see :func:`toyregimes.derivations._common.generic_si`), so they hold for every SI function on R^3; the
numeric cross-checks use the library's toys (canonical and rotated Rayleigh groups).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

import toyregimes as tr
from toyregimes.simulate import state_vector

from . import Claim
from ._common import generic_si, rng_for
from .equality import Checks

FAMILY = "scale invariance"
TOYS = "toys cross-check"
SIM = "simulation cross-check"


def _toys():
    return [tr.toys.canonical([1.0, 2.0, 3.0]),
            tr.toys.rayleigh([[0.0, 1.0, 3.0], [0.5, 2.0]], rotate=True, seed=3)]


def _euler() -> Checks:
    chk = Checks()
    x, F, grad = generic_si(3)
    c = sp.Symbol("c", positive=True)
    scaled = F.subs({xi: c * xi for xi in x}, simultaneous=True)
    # Scale invariance of the generic form itself: F(c x) = F(x).
    chk.equal("F(c x) = F(x) for F = G(x/|x|)", scaled, F)
    # Differentiating F(c x) = F(x) in c at c = 1 gives the Euler sum; it must vanish.
    chk.equal("d/dc F(c x) at c=1 equals <grad F, x>", sp.diff(scaled, c).subs(c, 1),
              sum(xi * g for xi, g in zip(x, grad, strict=True)))
    chk.equal("<grad F(x), x> = 0", sum(xi * g for xi, g in zip(x, grad, strict=True)), 0)
    rng = rng_for("euler")
    for toy in _toys():
        worst = 0.0
        for _ in range(20):
            th = rng.standard_normal(toy.dim)
            g = toy.gradient(th)
            for gi, ti in zip(toy.split(g), toy.split(th), strict=True):
                worst = max(worst, abs(gi @ ti) / (np.linalg.norm(gi) * np.linalg.norm(ti) + 1e-300))
        chk.close(f"per-group <grad, theta_i> = 0 on {toy.kind} toy", worst, 0.0, 1e-12, TOYS)
    return chk


def _homogeneity() -> Checks:
    chk = Checks()
    x, _, grad = generic_si(3)
    c = sp.Symbol("c", positive=True)
    for j, g in enumerate(grad):
        chk.equal(f"d_{j + 1}F(c x) = d_{j + 1}F(x) / c",
                  g.subs({xi: c * xi for xi in x}, simultaneous=True), g / c)
    rng = rng_for("homogeneity")
    for toy in _toys():
        worst = 0.0
        for _ in range(20):
            th = rng.standard_normal(toy.dim)
            scale = np.exp(rng.uniform(-2, 2, toy.n_groups))
            # Scaling group i by c_i divides only that group's gradient by c_i (SI per group).
            got = toy.gradient(th * np.repeat(scale, toy.dims))
            want = toy.gradient(th) / np.repeat(scale, toy.dims)
            worst = max(worst, np.max(np.abs(got - want)) / np.max(np.abs(want)))
        chk.close(f"grad F(c_i theta_i) = grad F / c_i on {toy.kind} toy", worst, 0.0, 1e-12, TOYS)
    return chk


def _norm_growth() -> Checks:
    chk = Checks()
    x, _, grad = generic_si(3)
    eta = sp.Symbol("eta", positive=True)
    after = sum((xi - eta * g) ** 2 for xi, g in zip(x, grad, strict=True))
    chk.equal("|x - eta grad F|^2 = |x|^2 + eta^2 |grad F|^2", after,
              sum(xi**2 for xi in x) + eta**2 * sum(g**2 for g in grad))
    rng = rng_for("norm_growth")
    for toy in _toys():
        worst = 0.0
        for _ in range(20):
            th, eta_ = rng.standard_normal(toy.dim), rng.uniform(0.01, 3.0)
            g = toy.gradient(th)
            lhs = np.sum((th - eta_ * g) ** 2)
            worst = max(worst, abs(lhs - th @ th - eta_**2 * g @ g) / lhs)
        chk.close(f"norm growth of a gradient step on {toy.kind} toy", worst, 0.0, 1e-12, TOYS)
    return chk


def _radius_scaling() -> Checks:
    chk = Checks()
    x, _, grad = generic_si(3)
    u = sp.symbols("u1:4", real=True)
    eta, rho = sp.symbols("eta rho", positive=True)
    at_rho = {xi: rho * ui for xi, ui in zip(x, u, strict=True)}
    at_unit = dict(zip(x, u, strict=True))
    for j, g in enumerate(grad):
        # The un-normalised step at radius rho with lr eta rho^2 is rho times the unit-sphere step;
        # a positive factor does not change the direction, so the projected iterates coincide.
        chk.equal(f"component {j + 1}: step(rho u; eta rho^2) = rho step(u; eta)",
                  rho * u[j] - eta * rho**2 * g.subs(at_rho, simultaneous=True),
                  rho * (u[j] - eta * g.subs(at_unit, simultaneous=True)))
    # Dynamics: PGD at radius rho with lr eta rho^2 (numpy) against the unit-sphere simulator.
    toy = tr.toys.canonical([1.0, 2.0, 3.0])
    rng = rng_for("radius_scaling")
    u0 = rng.standard_normal((3, 2))
    u0 /= np.linalg.norm(u0)
    eta_, rho_, steps = 0.2, 2.7, 300
    th = rho_ * u0.reshape(-1)
    for _ in range(steps):
        y = th - eta_ * rho_**2 * toy.gradient(th)
        th = rho_ * y / np.linalg.norm(y)
    run = tr.simulate(toy, elr=eta_, steps=steps, init=u0)
    unit = state_vector(toy, run.final_state.values)
    chk.close(f"{steps} PGD steps at radius {rho_} == simulate on the unit sphere",
              th / rho_, unit, 1e-9, SIM)
    return chk


CLAIMS = [
    Claim("euler_identity", FAMILY,
          "Euler identity: if F(c x) = F(x) for all c > 0 then <grad F(x), x> = 0 (per group too).",
          lambda: _euler().result()),
    Claim("gradient_homogeneity", FAMILY,
          "The gradient of an SI function is homogeneous of degree -1: grad F(c x) = grad F(x) / c.",
          lambda: _homogeneity().result()),
    Claim("step_norm_growth", FAMILY,
          "A plain gradient step grows the norm: |x - eta grad F|^2 = |x|^2 + eta^2 |grad F|^2.",
          lambda: _norm_growth().result()),
    Claim("radius_scaling", FAMILY,
          "PGD at radius rho with learning rate eta rho^2 gives the same directions as PGD on the "
          "unit sphere with learning rate eta.",
          lambda: _radius_scaling().result()),
]
