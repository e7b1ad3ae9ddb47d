"""User toys from formula text, parsed without ``eval``.

``sympy.sympify`` evaluates its input string as Python, so it must never see user text.  Here the
text is parsed by Python's :mod:`ast` and only a whitelist of node types is turned into a sympy
expression by hand: numbers, the declared symbols, ``+ - * / **``, unary minus and a few named
functions.  Anything else (attributes, subscripts, keyword arguments, comprehensions, other names)
is refused with a ``ValueError`` naming what was found.  The value and the sympy gradient are then
printed as Python source (:func:`function_source`) and compiled with Numba in a generated module cached
on disk (:mod:`toyregimes.toys.codegen`); that source is generated from the validated expression tree,
never copied from the user's text.
"""

from __future__ import annotations

import ast
import keyword
import math

import sympy as sp

__all__ = ["parse_expression", "FUNCTIONS"]

FUNCTIONS = {
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "tanh": sp.tanh,
    "atan": sp.atan,
    "atan2": sp.atan2,
    "abs": sp.Abs,
}
_RESERVED = {"theta", "out", "math", "np", *FUNCTIONS}
_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
MAX_LENGTH = 10_000
# Constant arithmetic is exact in sympy: "9**9**9" is an integer of 370 million digits that takes hours to
# build.  A constant must fit in a float anyway (the toy is compiled to float64), so constants are bounded
# by their size in bits before they are computed, and every exponent by MAX_EXPONENT.
MAX_CONSTANT_BITS = 1100  # a little past the float64 range (2**1024)
MAX_EXPONENT = 1000


def parse_expression(text: str, symbols) -> sp.Expr:
    """Parse ``text`` into a sympy expression over ``symbols`` (names), with a restricted grammar.

    Allowed: numbers, the given symbol names, ``+ - * / **`` (``^`` is read as ``**``), unary
    ``+``/``-``, parentheses and calls of :data:`FUNCTIONS` with positional arguments.

    Examples
    --------
    >>> parse_expression("a * y**2 / (x**2 + y**2)", ["x", "y", "a"])
    a*y**2/(x**2 + y**2)
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("expression must be a non-empty string")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"expression is longer than {MAX_LENGTH} characters")
    names = list(symbols)
    for name in names:
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"symbol names must be Python identifiers, got {name!r}")
        if name in _RESERVED:
            raise ValueError(f"symbol name {name!r} is reserved; choose another")
    if len(set(names)) != len(names):
        raise ValueError(f"symbol names must be distinct, got {names}")
    table = {name: sp.Symbol(name, real=True) for name in names}
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"expression is not valid syntax: {exc.msg} (column {exc.offset})") from None
    return _convert(tree.body, table)


def _convert(node, table):
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return sp.nsimplify(node.value) if isinstance(node.value, float) else sp.Integer(node.value)
    if isinstance(node, ast.Name):
        if node.id in table:
            return table[node.id]
        if node.id == "pi":
            return sp.pi
        raise ValueError(f"unknown name {node.id!r} in expression (declared symbols: {sorted(table)})")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _convert(node.left, table), _convert(node.right, table)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _check_constant(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _convert(node.operand, table)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        if node.keywords:
            raise ValueError(f"{node.func.id}() takes positional arguments only")
        return FUNCTIONS[node.func.id](*(_convert(arg, table) for arg in node.args))
    raise ValueError(f"{type(node).__name__} is not allowed in an expression")


def _bits(value: sp.Expr) -> float:
    """log2 of the magnitude of a sympy number (exact for integers and rationals of any size)."""
    if value.is_Rational:
        p, q = abs(int(value.p)), int(value.q)
        return (math.log2(p) if p else -math.inf) - math.log2(q)
    v = abs(float(value))
    return math.log2(v) if v > 0 else -math.inf


def _check_power(base: sp.Expr, exponent: sp.Expr) -> None:
    """Refuse ``base ** exponent`` before it is computed when the exponent or a constant result is too large."""
    if exponent.is_Number:
        if not exponent.is_finite or abs(float(exponent)) > MAX_EXPONENT:
            raise ValueError(
                f"exponent {exponent} is too large in an expression (allowed: |exponent| <= {MAX_EXPONENT})"
            )
        if base.is_Number and base != 0:
            bits = float(exponent) * _bits(base)
            if abs(bits) > MAX_CONSTANT_BITS:
                raise ValueError(
                    f"constant {sp.N(base, 4)}**{sp.N(exponent, 4)} is too large (about 2**{bits:.3g}); "
                    "constants must fit in a float64"
                )


def _check_constant(value: sp.Expr) -> sp.Expr:
    if value.is_Number and (not value.is_finite or abs(_bits(value)) > MAX_CONSTANT_BITS):
        raise ValueError("a constant in the expression is too large or too small to fit in a float64")
    return value


def function_source(expr: sp.Expr, groups) -> str:
    """Python source of ``value(theta)``, ``gradient(theta)`` and the kernels' ``_loss_grad_impl(theta,
    offsets, mats, grad)`` of ``expr`` over the flat vector of ``groups``.

    Printed from the sympy tree (``math.*`` calls only; symbols are checked identifiers), never copied
    from the user's text; compiled by Numba in the generated module of :mod:`toyregimes.toys.codegen`.
    ``_loss_grad_impl`` (what every step calls) computes the value and the gradient together, with their
    common subexpressions evaluated once (``sympy.cse``), and writes the gradient into ``grad``.
    """
    from sympy.printing.pycode import pycode

    def code(e):
        return pycode(e, fully_qualified_modules=True)

    flat = [sp.Symbol(name, real=True) for group in groups for name in group]
    unpack = "".join(f"    {s.name} = theta[{i}]\n" for i, s in enumerate(flat))
    grads = [sp.diff(expr, s) for s in flat]
    value_src = f"def value(theta):\n{unpack}    return {code(expr)}\n"
    grad_lines = "".join(f"    out[{i}] = {code(g)}\n" for i, g in enumerate(grads))
    grad_src = f"\n\ndef gradient(theta):\n{unpack}    out = np.empty({len(flat)})\n{grad_lines}    return out\n"
    # names of the subexpressions: a prefix that no coordinate name starts with
    prefix = "_cse"
    while any(s.name.startswith(prefix) for s in flat):
        prefix += "_"
    subs, (value_r, *grads_r) = sp.cse([expr, *grads], symbols=sp.numbered_symbols(prefix, real=True))
    body = "".join(f"    {sym.name} = {code(val)}\n" for sym, val in subs)
    body += "".join(f"    grad[{i}] = {code(g)}\n" for i, g in enumerate(grads_r))
    loss_grad_src = (f"\n\ndef _loss_grad_impl(theta, offsets, mats, grad):\n{unpack}{body}"
                     f"    return float({code(value_r)})\n")
    return value_src + grad_src + loss_grad_src
