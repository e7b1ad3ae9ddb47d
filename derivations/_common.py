"""Shared sympy building blocks: a generic scale-invariant function and the canonical toy group."""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp


@cache
def generic_si(d: int = 3):
    """A *generic* scale-invariant function on R^d: ``F(x) = G(x / |x|)`` with ``G`` undefined.

    Every scale-invariant F has this form (take ``G = F`` restricted to the sphere), so an identity
    proved for it with ``G`` left as an undefined sympy Function holds for all SI functions.

    Returns ``(x, F, grad)`` with ``x`` a tuple of real symbols and ``grad`` a tuple of partials.
    """
    x = sp.symbols(f"x1:{d + 1}", real=True)
    G = sp.Function("G")
    rho = sp.sqrt(sum(xi**2 for xi in x))
    F = G(*[xi / rho for xi in x])
    grad = tuple(sp.diff(F, xi) for xi in x)
    return x, F, grad


@cache
def canonical_group():
    """One group of the canonical toy: ``f = alpha y^2 / (x^2 + y^2)`` and its gradient.

    Returns ``(x, y, alpha, f, (f_x, f_y))`` with ``alpha > 0``.
    """
    x, y = sp.symbols("x y", real=True)
    alpha = sp.Symbol("alpha", positive=True)
    f = alpha * y**2 / (x**2 + y**2)
    return x, y, alpha, f, (sp.diff(f, x), sp.diff(f, y))


def rng_for(name: str) -> np.random.Generator:
    """A generator seeded from a claim's name: numeric checks are reproducible and independent."""
    return np.random.default_rng(sum(name.encode()) * 7919)
