"""Input validation: every public entry point checks its arguments here, before any Numba code.

Each helper raises ``ValueError`` naming the argument and the allowed range, so that the CLI can
print one line and exit 2, and so that no bad value reaches a kernel.
"""

from __future__ import annotations

import numbers

import numpy as np

CONSTRAINTS = ("total", "individual")


def _has_text_or_bool(value) -> bool:
    """True if ``value`` is, or (in nested lists/tuples) holds, a string, bytes or a bool.

    numpy converts ``"0.25"`` and ``True`` to floats without complaint; a numeric argument given as
    text or as a flag is almost always a mistake (``elr="0.25"`` from a config file, ``elr=True``
    from a mixed-up keyword), so they are refused instead of silently coerced.
    """
    if isinstance(value, str | bytes | bool | np.bool_):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "bUS" or (
            value.dtype.kind == "O" and any(_has_text_or_bool(v) for v in value.ravel().tolist())
        )
    if isinstance(value, list | tuple):
        return any(_has_text_or_bool(v) for v in value)
    return False


def as_float_array(value, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Convert to a float64 array, rejecting strings, bools, non-numeric and non-finite entries."""
    if _has_text_or_bool(value):
        raise ValueError(f"{name} must be numeric (not a string or bool), got {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got {value!r}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def as_positive(value, name: str):
    """A finite, strictly positive float (scalar or array)."""
    arr = as_float_array(value, name)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return float(arr) if arr.ndim == 0 else arr


def as_alpha(alpha) -> np.ndarray:
    """The canonical toy's coefficients: a non-empty 1-d array of finite values > 0."""
    arr = as_float_array(alpha, "alpha")
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"alpha must be a 1-d list of coefficients, got shape {arr.shape}")
    if np.any(arr <= 0):
        raise ValueError(f"alpha must have every entry > 0, got {arr.tolist()}")
    return arr


def as_int(value, name: str, *, minimum: int) -> int:
    """An integer >= minimum (bools and non-integral floats are rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral | np.integer):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def as_seed(seed) -> int:
    """A non-negative integer seed for ``numpy.random.default_rng``."""
    return as_int(seed, "seed", minimum=0)


def as_constraint(constraint) -> str:
    """One of ``'total'`` or ``'individual'``."""
    if constraint not in CONSTRAINTS:
        raise ValueError(f"constraint must be one of {CONSTRAINTS}, got {constraint!r}")
    return constraint
