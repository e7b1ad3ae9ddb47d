"""Symbolic verification of the threshold and regime theory of ``toyregimes``.

Every claim of the theory is a :class:`Claim`: a name, the family it belongs to, a statement in
words and a ``derive()`` callable that re-derives the statement with sympy and cross-checks it
numerically (against :mod:`toyregimes.theory` and, for claims about dynamics, a short simulation).
``derive()`` returns a :class:`Result` saying whether every check passed and which method decided.

One module per family of claims:

* :mod:`toyregimes.derivations.scale_invariance` -- Euler identity, homogeneity, norm growth, radius scaling;
* :mod:`toyregimes.derivations.elr_split` -- total vs individual ELR and the threshold ``1 / sum(alpha)``;
* :mod:`toyregimes.derivations.canonical` -- the canonical toy: step map, 2-cycle, coupled equilibrium;
* :mod:`toyregimes.derivations.weight_decay` -- reparametrisation, SGD equilibrium, exponential learning rate.

Example::

    from toyregimes.derivations import run_claims
    rows = run_claims(["euler_identity"])      # [{"name": ..., "status": "passed", ...}]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "Claim",
    "Result",
    "UnknownClaimError",
    "all_claims",
    "negative_controls",
    "run_claim",
    "run_claims",
    "select_claims",
]

FAMILY_MODULES = ("scale_invariance", "elr_split", "canonical", "neutral_modes", "weight_decay")


@dataclass(frozen=True)
class Result:
    """Outcome of a claim's derivation.

    Attributes
    ----------
    ok : bool
        True when every symbolic and numeric check of the claim passed.
    method : str
        The methods that decided, e.g. ``"simplify; theory cross-check"``; for a failed claim only the methods of the
        failing sub-checks.
    detail : str
        One line per sub-check, for the curious reader and for failures.
    """

    ok: bool
    method: str
    detail: str = ""


@dataclass(frozen=True)
class Claim:
    """A named statement of the theory with its derivation.

    Attributes
    ----------
    name : str
        Unique identifier, used by ``--claim NAME``.
    family : str
        Family of claims (the module it lives in).
    statement : str
        The claim in words, with its formula.
    derive : callable
        ``derive() -> Result``: sympy derivation plus numeric cross-checks.
    """

    name: str
    family: str
    statement: str
    derive: Callable[[], Result]


class UnknownClaimError(KeyError):
    """Raised by :func:`run_claims` for a name that is not in the registry."""


def all_claims() -> list[Claim]:
    """Every claim of the default registry, family by family, in a stable order."""
    import importlib

    claims: list[Claim] = []
    for mod in FAMILY_MODULES:
        claims.extend(importlib.import_module(f".{mod}", __name__).CLAIMS)
    names = [c.name for c in claims]
    # A duplicated name would make --claim ambiguous; fail loudly at import rather than silently.
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise RuntimeError(f"duplicated claim names: {sorted(dupes)}")
    return claims


def negative_controls() -> list[Claim]:
    """Deliberately wrong variants of real claims; each must be reported ``failed``.

    They are not in :func:`all_claims` -- they exist to show that the checker can fail.
    """
    from .negative import NEGATIVE_CONTROLS

    return list(NEGATIVE_CONTROLS)


def run_claim(claim: Claim) -> dict:
    """Run one claim and return its report row (see :func:`run_claims`).

    An exception inside a derivation is a failure of that claim, not of the whole run.
    """
    start = time.perf_counter()
    try:
        res = claim.derive()
        ok, method, detail = bool(res.ok), res.method, res.detail
    except Exception as exc:  # a crashing derivation must show up as FAILED, with the reason
        ok, method, detail = False, "error", f"{type(exc).__name__}: {exc}"
    return {
        "name": claim.name,
        "family": claim.family,
        "statement": claim.statement,
        "method": method,
        "status": "passed" if ok else "failed",
        "seconds": round(time.perf_counter() - start, 3),
        "detail": detail,
    }


def select_claims(names: Iterable[str] | None = None, claims: Iterable[Claim] | None = None) -> list[Claim]:
    """The Claim objects called ``names`` (all if None) from ``claims`` (default: the registry).

    Validates every name before anything runs; an unknown one raises :class:`UnknownClaimError`.
    """
    pool = list(all_claims() if claims is None else claims)
    if names is None:
        return pool
    by_name = {c.name: c for c in pool}
    names = list(names)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UnknownClaimError(f"unknown claim {unknown[0]!r}; known claims: {', '.join(by_name)}")
    return [by_name[n] for n in names]


def run_claims(names: Iterable[str] | None = None, claims: Iterable[Claim] | None = None) -> list[dict]:
    """Run claims and return one dict per claim.

    Parameters
    ----------
    names : iterable of str, optional
        Claim names to run (default: all).  An unknown name raises :class:`UnknownClaimError`.
    claims : iterable of Claim, optional
        Claim objects to choose from (default: :func:`all_claims`); e.g. :func:`negative_controls`.

    Returns
    -------
    list of dict
        Keys ``name, family, statement, method, status ("passed"/"failed"), seconds, detail``.

    Examples
    --------
    >>> run_claims(["elr_harmonic_sum"])[0]["status"]
    'passed'
    """
    return [run_claim(c) for c in select_claims(names, claims)]
