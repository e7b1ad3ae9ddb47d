"""Toys from a formula: parsed by the restricted parser, differentiated by sympy, compiled by Numba once per
machine (the kernels are a generated module cached on disk, :mod:`toyregimes.toys.codegen`)."""

from __future__ import annotations

import numpy as np

from toyregimes.toys.base import Toy
from toyregimes.toys.custom import checked_toy


def from_expression(text: str, groups, params=None, *, name: str | None = None, **checks) -> Toy:
    """A user toy from a formula, e.g. ``"2*y1**2/(x1**2 + y1**2) + sin(atan2(y2, x2))**2"``.

    The text is parsed by a restricted parser (:func:`toyregimes.toys.expressions.parse_expression`; no
    ``eval``/``sympify`` of the text), the gradient is derived with sympy, both are compiled with
    Numba together with the single-run and sweep kernels in a module cached on disk (so the same
    expression compiles once per machine, not once per process or Dask worker), and the result goes
    through :func:`custom`'s checks (scale invariance per group, Euler identity, finite differences)
    before it is accepted.

    Parameters
    ----------
    text : str
        The loss ``F`` in the coordinates of ``groups`` (and the names of ``params``).
    groups : list of lists of str
        Coordinate names of each group, e.g. ``[["x1", "y1"], ["x2", "y2"]]``.
    params : dict of str -> float, optional
        Named constants substituted before differentiation.
    **checks
        Passed to :func:`custom` (``random_level``, ``check_points``, ``seed``, ``rtol``).

    Examples
    --------
    >>> toy = from_expression("a*y**2/(x**2+y**2)", [["x", "y"]], {"a": 3.0})  # doctest: +SKIP
    """
    from toyregimes.toys import expressions

    if isinstance(groups, str) or not groups or any(isinstance(g, str) or len(g) < 2 for g in groups):
        raise ValueError("groups must be a list of lists of at least 2 coordinate names each")
    params = dict(params or {})
    for key, value in params.items():
        if not np.isfinite(float(value)):
            raise ValueError(f"params[{key!r}] must be finite, got {value!r}")
    coords = [c for g in groups for c in g]
    expr = expressions.parse_expression(text, [*coords, *params])
    expr = expr.subs({expressions.sp.Symbol(k, real=True): float(v) for k, v in params.items()})
    used = {str(s) for s in expr.free_symbols}
    stray = sorted(used - set(coords))
    if stray:
        raise ValueError(f"expression uses symbols that are neither coordinates nor params: {stray}")
    # A group whose coordinates do not appear is flat (F is constant on it); an expression without any
    # coordinate is a constant: there is nothing to train.  Refused here, with the names, before compiling.
    if not used:
        raise ValueError(f"expression {text!r} is a constant: it must depend on the coordinates {coords}")
    absent = [list(g) for g in groups if not used & set(g)]
    if absent:
        raise ValueError(f"expression does not depend on group(s) {absent}: every group must appear (a group "
                         "F does not depend on is flat)")
    from toyregimes.toys import codegen

    source = codegen.module_source(expressions.function_source(expr, groups))
    kern = codegen.load(source)
    kern["module_source"] = source  # how a Dask worker rebuilds (and finds cached) kernels
    toy = checked_toy(kern, [len(g) for g in groups], name=name or text, **checks)
    toy.spec.update(
        {"kind": "expression", "expression": text, "groups": [list(g) for g in groups], "params": params}
    )
    return toy
