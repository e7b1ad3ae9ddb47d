"""Size guard: estimate the memory and time of a run or sweep and refuse, before computing, past a limit.

Without it ``simulate(steps=10**13)`` dies in a ``MemoryError`` while allocating its records, and a sweep of
10^5 x 10^5 trajectories starts and grows until the machine swaps.  The estimates are rough (a factor of
two either way) but cheap; the limits are generous, so no sensible computation meets them, and every public
entry point that takes a size accepts ``max_memory=None`` / ``max_seconds=None`` to lift them (the CLI's
``--force``).
"""

from __future__ import annotations

import numbers

__all__ = ["DEFAULT_MAX_MEMORY", "DEFAULT_MAX_SECONDS", "check_budget", "format_bytes", "format_seconds"]

DEFAULT_MAX_MEMORY = 8 * 2**30  # bytes: far above any figure of the gallery, below a laptop's RAM + swap
DEFAULT_MAX_SECONDS = 24 * 3600.0  # a day: past this a typo (an extra zero) is far likelier than intent
# Costs per coordinate and step on one core, a few times below those measured (simulate without sharpness:
# 7e-8 s; a sweep with the tangent map: 4.5e-8 s per trajectory and coordinate over 1600 trajectories), so
# that the guard never refuses something that would in fact finish within its limit.
SECONDS_PER_COORD_STEP = 1e-8
SECONDS_PER_BATCHED_COORD_STEP = 5e-9
SECONDS_PER_SHARPNESS_COORD = 2e-6  # simulate's eigen-solve per record (measured 33 us for 3 groups in R^2)


def format_bytes(n: float) -> str:
    """``1.5 GiB`` style."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover


def format_seconds(s: float) -> str:
    """``3.2 h`` style."""
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.3g} s"


def _limit(value, name: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be None (no limit) or a number > 0, got {value!r}")
    return float(value)


def check_budget(what: str, nbytes: float, seconds: float, max_memory=DEFAULT_MAX_MEMORY,
                 max_seconds=DEFAULT_MAX_SECONDS) -> None:
    """Raise ``ValueError`` if the estimated memory or time of ``what`` exceeds its limit.

    Parameters
    ----------
    what : str
        Names the computation in the message, e.g. ``"simulate (steps = 10000000000000)"``.
    nbytes, seconds : float
        Estimates of the peak memory and the run time.
    max_memory : float > 0 or None
        Limit in bytes (None: no limit).
    max_seconds : float > 0 or None
        Limit in seconds (None: no limit).

    Example: ``check_budget("simulate", 8e12, 1e4)`` raises (8 TB > 8 GiB).
    """
    max_memory = _limit(max_memory, "max_memory")
    max_seconds = _limit(max_seconds, "max_seconds")
    remedy = "reduce the size, or lift the limit with max_memory=None / max_seconds=None (CLI: --force)"
    if max_memory is not None and nbytes > max_memory:
        raise ValueError(f"{what} would need about {format_bytes(nbytes)} of memory, more than the limit "
                         f"max_memory = {format_bytes(max_memory)}; {remedy}")
    if max_seconds is not None and seconds > max_seconds:
        raise ValueError(f"{what} would take about {format_seconds(seconds)}, more than the limit "
                         f"max_seconds = {format_seconds(max_seconds)}; {remedy}")
