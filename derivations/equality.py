"""Robust equality checks for sympy expressions, and a small accumulator of sub-checks.

:func:`check_equal` first tries to reduce ``lhs - rhs`` to zero symbolically (``cancel``,
``trigsimp``, ``simplify``).  A simplifier that does not return zero proves nothing -- sympy often
fails to recognise zero -- so the checker then evaluates the difference at random points with
mpmath at 40 significant digits.  The result always says which of the two decided, because a
"passed" backed by random points is a weaker statement than a symbolic identity.

Expressions are built in Python code; strings are never parsed.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from . import Result

__all__ = [
    "DPS",
    "SIMPLIFY",
    "POINTS",
    "EqualityResult",
    "check_equal",
    "Checks",
]

DPS = 40
SIMPLIFY = "simplify"
POINTS = f"random high-precision points (mpmath, {DPS} digits)"
THEORY = "theory cross-check"


@dataclass(frozen=True)
class EqualityResult:
    """Outcome of :func:`check_equal`: ``ok``, the deciding ``method`` and a ``detail`` line."""

    ok: bool
    method: str
    detail: str


def _as_expr(value) -> sp.Expr:
    if isinstance(value, str):
        # Claims are written as Python/sympy code; parsing strings would hide typos and run eval.
        raise TypeError("check_equal takes sympy expressions or numbers, not strings")
    return value if isinstance(value, sp.Basic) else sp.S(value)


def _symbolic_zero(diff: sp.Expr) -> str | None:
    """Name of the first rewrite that reduces ``diff`` to 0, or None."""
    if diff == 0:
        return "automatic"
    attempts = (
        ("cancel", lambda e: sp.cancel(sp.together(e))),
        ("expand", sp.expand),
        ("trigsimp", sp.trigsimp),
        ("simplify", sp.simplify),
        ("expand_trig+simplify", lambda e: sp.simplify(sp.expand_trig(e))),
    )
    for name, fn in attempts:
        try:
            if fn(diff) == 0:
                return name
        except (TypeError, ValueError, NotImplementedError, AttributeError):
            # Rewrites occasionally choke on exotic expressions; the point check decides instead.
            continue
    return None


def _random_mpf(rng: np.random.Generator, lo, hi) -> mpmath.mpf:
    # Three 62-bit draws give ~56 random decimal digits: the point is "generic" at 40 digits.
    u = mpmath.mpf(0)
    for j in range(1, 4):
        u += mpmath.mpf(int(rng.integers(0, 2**62))) / mpmath.mpf(2) ** (62 * j)
    return mpmath.mpf(lo) + (mpmath.mpf(hi) - mpmath.mpf(lo)) * u


def _default_range(sym: sp.Symbol) -> tuple[float, float]:
    if sym.is_positive or sym.is_nonnegative:
        return (0.1, 3.0)
    return (-3.0, 3.0)


def check_equal(
    lhs,
    rhs,
    domain: dict | None = None,
    *,
    points: int = 8,
    seed: int = 0,
    symbolic: bool = True,
) -> EqualityResult:
    """Decide whether two sympy expressions are identical on a domain.

    Parameters
    ----------
    lhs, rhs : sympy expressions or numbers
    domain : dict, optional
        ``{symbol: (lo, hi)}`` sampling box for the point check; symbols not listed are drawn from
        ``(0.1, 3)`` if declared positive, else ``(-3, 3)``.  Use it to stay inside the claim's
        hypotheses (e.g. ``c > 1`` for the 2-cycle).
    points : int
        Number of random points for the fallback.
    seed : int
        Seed of the points (reproducible verdicts).
    symbolic : bool
        Try simplification first (False forces the point check, e.g. for expressions that are
        known to stall ``simplify``).

    Returns
    -------
    EqualityResult
        ``method`` is ``"simplify"`` when a rewrite reduced the difference to zero, otherwise the
        point check decided (``ok`` iff ``|lhs - rhs| <= 1e-30 max(1, |lhs| + |rhs|)`` at every
        point).

    Examples
    --------
    >>> x = sp.Symbol("x", real=True)
    >>> check_equal(sp.sin(x)**2 + sp.cos(x)**2, 1).method
    'simplify'
    """
    lhs, rhs = _as_expr(lhs), _as_expr(rhs)
    diff = lhs - rhs
    if symbolic:
        how = _symbolic_zero(diff)
        if how is not None:
            return EqualityResult(True, SIMPLIFY, f"difference reduced to 0 by {how}")
    syms = sorted(diff.free_symbols | lhs.free_symbols | rhs.free_symbols, key=str)
    if any(not isinstance(s, sp.Symbol) for s in syms):
        return EqualityResult(False, "inconclusive", "simplification failed and the expression "
                              "has non-numeric symbols (indexed); no point check possible")
    domain = dict(domain or {})
    rng = np.random.default_rng(seed)
    with mpmath.workdps(DPS + 10):
        f_lhs = sp.lambdify(syms, lhs, modules="mpmath")
        f_rhs = sp.lambdify(syms, rhs, modules="mpmath")
        tol = mpmath.mpf(10) ** (-(DPS - 10))
        worst = mpmath.mpf(0)
        done = tries = 0
        while done < points:
            tries += 1
            if tries > 20 * points:
                return EqualityResult(False, POINTS, "could not find points where both sides are "
                                      "finite")
            vals = [_random_mpf(rng, *domain.get(s, _default_range(s))) for s in syms]
            try:
                a, b = f_lhs(*vals), f_rhs(*vals)
            except (ZeroDivisionError, ValueError, OverflowError):
                continue  # a pole or a branch cut at this point: draw another
            if not (mpmath.isfinite(a) and mpmath.isfinite(b)):
                continue
            err = abs(a - b) / max(mpmath.mpf(1), abs(a) + abs(b))
            worst = max(worst, err)
            if err > tol:
                where = ", ".join(f"{s}={mpmath.nstr(v, 8)}" for s, v in zip(syms, vals, strict=True))
                where = where or "(no free symbols)"
                return EqualityResult(False, POINTS, f"differ by {mpmath.nstr(err, 5)} at {where}")
            done += 1
    return EqualityResult(True, POINTS, f"{points} points agree, worst relative error "
                          f"{mpmath.nstr(worst, 3)}")


class Checks:
    """Accumulates the sub-checks of one claim and turns them into a :class:`Result`.

    Example::

        chk = Checks()
        chk.equal("Pythagoras", sp.sin(x)**2 + sp.cos(x)**2, 1)
        chk.close("threshold", theory.threshold([1, 2]), 1/3, tol=1e-12)
        return chk.result()
    """

    def __init__(self) -> None:
        self.items: list[tuple[bool, str, str]] = []

    def record(self, label: str, ok: bool, method: str, detail: str = "") -> bool:
        """Record a sub-check decided by ``method``; returns ``ok``."""
        self.items.append((bool(ok), method, f"{label}: {detail}" if detail else label))
        return bool(ok)

    def equal(self, label: str, lhs, rhs, domain: dict | None = None, **kwargs) -> bool:
        """Symbolic identity ``lhs == rhs`` via :func:`check_equal`."""
        res = check_equal(lhs, rhs, domain, **kwargs)
        return self.record(label, res.ok, res.method, res.detail)

    def true(self, label: str, value, method: str = "sympy assumptions") -> bool:
        """A sympy fact that must be exactly ``True`` (None, i.e. "unknown", is a failure)."""
        return self.record(label, value is True or value == sp.true, method, f"got {value}")

    def close(self, label: str, got, expected, tol: float, method: str = THEORY) -> bool:
        """Numbers agree: ``max |got - expected| <= tol * max(1, |expected|)``."""
        got = np.asarray(got, dtype=complex if np.iscomplexobj(got) else float)
        expected = np.asarray(expected, dtype=complex if np.iscomplexobj(expected) else float)
        if got.shape != expected.shape:
            return self.record(label, False, method, f"shapes {got.shape} != {expected.shape}")
        scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
        err = float(np.max(np.abs(got - expected))) if got.size else 0.0
        ok = bool(np.isfinite(err) and err <= tol * scale)
        return self.record(label, ok, method, f"max error {err:.2e} (tol {tol:.0e})")

    def result(self) -> Result:
        """All sub-checks passed?  ``method`` lists the distinct deciding methods, in order.

        When a claim fails, ``method`` lists only the methods of the failing sub-checks.
        """
        ok = bool(self.items) and all(ok for ok, _, _ in self.items)
        # For a failure, the methods that decided are those of the failing sub-checks.
        deciding = self.items if ok else [it for it in self.items if not it[0]]
        methods: list[str] = []
        for _, m, _ in deciding:
            if m not in methods:
                methods.append(m)
        lines = [f"[{'ok' if ok_ else 'FAIL'}] {label} ({m})" for ok_, m, label in self.items]
        return Result(ok=ok, method="; ".join(methods), detail="\n".join(lines))
