"""Saving and loading results as NetCDF (``engine="scipy"``: no extra dependency, never pickle).

Loading checks the schema of the file and says exactly what is missing, so a foreign or truncated
file is refused instead of being half-used.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["save", "load", "SCHEMAS"]

# kind -> (required dims, required variables with their dims, required attrs)
SCHEMAS = {
    "run": (
        ("step", "group"),
        {
            "loss": ("step",),
            "sq_norm": ("step", "group"),
            "individual_elr": ("step", "group"),
            "angle": ("step",),
            "eff_grad_norm": ("step",),
            "sharpness": ("step", "group"),
            "total_sharpness": ("step",),
            "initial_state": ("group", "component"),
            "final_state": ("group", "component"),
            "tail_state": ("tail_step", "group", "component"),
            "tangent_log_growth": ("step",),
        },
        ("elr", "steps", "constraint", "seed", "record_every", "toy", "status"),
    ),
}


def register_schema(kind: str, dims, variables: dict, attrs) -> None:
    """Declare the schema of another kind of result (used by the sweep module)."""
    SCHEMAS[kind] = (tuple(dims), dict(variables), tuple(attrs))


def check_schema(ds: xr.Dataset, source: str = "dataset") -> str:
    """Raise ``ValueError`` naming what is wrong if ``ds`` is not a toyregimes result; return its kind."""
    kind = ds.attrs.get("toyregimes_kind")
    if kind not in SCHEMAS:
        raise ValueError(
            f"{source} is not a toyregimes result (attrs['toyregimes_kind'] = {kind!r}, "
            f"expected one of {sorted(SCHEMAS)})"
        )
    dims, variables, attrs = SCHEMAS[kind]
    missing_dims = [d for d in dims if d not in ds.dims]
    if missing_dims:
        raise ValueError(f"{source}: {kind} result lacks dimension(s) {missing_dims}")
    for name, vdims in variables.items():
        if name not in ds.variables:
            raise ValueError(f"{source}: {kind} result lacks variable {name!r}")
        if tuple(ds[name].dims) != tuple(vdims):
            raise ValueError(
                f"{source}: variable {name!r} has dims {tuple(ds[name].dims)}, expected {vdims}"
            )
    missing_attrs = [a for a in attrs if a not in ds.attrs]
    if missing_attrs:
        raise ValueError(f"{source}: {kind} result lacks attribute(s) {missing_attrs}")
    return kind


def save(ds: xr.Dataset, path) -> Path:
    """Write a run or sweep to NetCDF atomically (temporary file, then rename)."""
    check_schema(ds)
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    ds.to_netcdf(tmp, engine="scipy")
    os.replace(tmp, path)
    return path


def load(path) -> xr.Dataset:
    """Read a result written by :func:`save`, checking its schema.

    NetCDF-3 stores 64-bit integers as 32-bit ones; they are widened back so a round trip is
    lossless in value and dtype.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no such file: {path}")
    try:
        ds = xr.load_dataset(path, engine="scipy")
    except Exception as exc:  # not NetCDF at all
        raise ValueError(f"{path} is not a readable NetCDF file ({exc})") from None
    check_schema(ds, str(path))
    for name in list(ds.variables):
        if np.issubdtype(ds[name].dtype, np.integer):
            ds[name] = ds[name].astype(np.int64)
    for key, value in list(ds.attrs.items()):
        if isinstance(value, np.ndarray):
            ds.attrs[key] = value.tolist()
        elif isinstance(value, np.integer):
            ds.attrs[key] = int(value)
        elif isinstance(value, np.floating):
            ds.attrs[key] = float(value)
    return ds
