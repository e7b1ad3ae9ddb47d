"""Rotation number of motion near a neutrally stable periodic orbit, measured from a run."""

from __future__ import annotations

import numpy as np
import xarray as xr

from toyregimes._validate import as_int


def rotation_number_of_series(x) -> float:
    """Rotation number ``rho = omega / (2 pi)`` in ``[0, 1/2]`` of a sequence oscillating at one angle ``omega``.

    ``x`` holds one (vector) sample per application of the map (rows).  For ``x_t = Re(c e^{i omega t})``
    with any vector ``c`` -- every combination of modes that share the angle ``omega``, as the ``n - 1``
    neutral pairs of the coupled 2-cycle all do -- ``x_{t+1} + x_{t-1} = 2 cos(omega) x_t`` exactly, and
    with a constant offset ``m`` (the orbit) ``x_{t+1} + x_{t-1} = 2 cos(omega) x_t + 2 (1 - cos omega) m``;
    ``cos omega`` is the least-squares solution of that regression (both sides centred over ``t``), exact
    for any window length.  Decaying modes (the real eigenvalue) bias it only while they last.

    Examples
    --------
    >>> round(rotation_number_of_series(np.cos(2 * np.pi * 0.3 * np.arange(100))), 9)
    0.3
    """
    x = np.asarray(x, dtype=float)
    x = x.reshape(x.shape[0], -1)
    if x.shape[0] < 3 or not np.all(np.isfinite(x)):
        return float("nan")
    mid = x[1:-1] - x[1:-1].mean(axis=0)
    both = x[2:] + x[:-2]
    both = both - both.mean(axis=0)
    den = 2.0 * np.sum(mid * mid)
    if den == 0.0:
        return float("nan")
    cos_omega = np.sum(both * mid) / den
    return float(np.arccos(np.clip(cos_omega, -1.0, 1.0)) / (2.0 * np.pi))


def rotation_number(run: xr.Dataset, tail=None, period: int = 2) -> float:
    """Rotation number of a run near a neutrally stable periodic orbit of period ``period`` (default 2).

    The observable is the vector of squared group norms ``r_i^2`` over the tail (default: the run's own
    ``attrs["tail"]``, else its last half), sampled once per ``period`` steps, so that the map is the
    ``period``-step map whose neutral eigenvalues ``e^{+-i omega}`` the theory gives
    (:func:`toyregimes.theory.rotation_number`); see :func:`rotation_number_of_series`.  Needs every
    step recorded (``record_every = 1``).  Meaningful only near the orbit (linear regime): check the
    period residual first; in chaotic motion the number is not defined.

    Example: ``rotation_number(simulate(canonical([1, 2, 3]), 1.2 / 6, 20_000, init=near_cycle))``
    ~ ``theory.rotation_number(1.2)``.
    """
    if not isinstance(run, xr.Dataset) or run.attrs.get("toyregimes_kind") != "run":
        raise ValueError("run must be a Dataset returned by toyregimes.simulate")
    if int(run.attrs.get("record_every", 1)) != 1:
        raise ValueError("rotation_number needs every step recorded (simulate with record_every=1)")
    period = as_int(period, "period", minimum=1)
    steps = int(run.attrs["steps"])
    if tail is None:
        tail = int(run.attrs.get("tail", max(1, steps // 2)))
    tail = as_int(tail, "tail", minimum=3 * period)
    if tail > steps:
        raise ValueError(f"tail must be <= steps ({steps}), got {tail}")
    sq = run.sq_norm.values[steps - tail:]
    return rotation_number_of_series(sq[::period])
