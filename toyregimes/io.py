"""Saving and loading results as NetCDF (``engine="scipy"``: no extra dependency, never pickle).

Loading checks the schema of the file and says exactly what is missing, so a foreign or truncated
file is refused instead of being half-used.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["save", "load", "SCHEMAS", "check_output_path", "check_output_dir"]

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
    if not isinstance(ds, xr.Dataset):
        raise ValueError(
            f"{source} must be an xarray.Dataset returned by toyregimes (simulate, sweep, train, ...), "
            f"got {type(ds).__name__}"
        )
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


def _probe_directory(directory: Path, what: str, path) -> None:
    """Create and delete a temporary file in ``directory``: the only reliable test of writability
    (``os.access`` answers yes to root, and knows nothing of read-only mounts or quotas)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".toyregimes-probe-", dir=directory)
    except OSError as exc:
        raise ValueError(f"{what} {str(path)!r} is not writable ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)


def check_output_path(path, what: str = "output file") -> Path:
    """Check, before anything is computed, that a file can be written at ``path``.

    Refuses (``ValueError`` naming ``what`` and the path) a path that is an existing directory, whose
    parent directory does not exist or is not a directory, or where no file can be created.  Nothing
    is left behind.  Example: ``check_output_path("run.nc", "--out")``.
    """
    if not isinstance(path, str | os.PathLike) or not str(path).strip():
        raise ValueError(f"{what} must be a non-empty file path, got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is an existing directory; give a file name")
    parent = path.parent
    if not parent.exists():
        raise ValueError(f"{what} {str(path)!r}: directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise ValueError(f"{what} {str(path)!r}: {str(parent)!r} is not a directory")
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"{what} {str(path)!r} exists and is not writable")
    _probe_directory(parent, what, path)
    return path


def check_output_dir(path, what: str = "output directory") -> Path:
    """Check that ``path`` is, or can be created as, a writable directory (created if missing)."""
    if not isinstance(path, str | os.PathLike) or not str(path).strip():
        raise ValueError(f"{what} must be a non-empty directory path, got {path!r}")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{what} {str(path)!r} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{what} {str(path)!r} cannot be created ({exc.strerror or exc})") from None
    _probe_directory(path, what, path)
    return path


def save(ds: xr.Dataset, path) -> Path:
    """Write a result to NetCDF atomically (temporary ``<path>.part``, then rename).

    The path is checked first (:func:`check_output_path`), and a failed write removes its ``.part``
    file: an error never leaves a partial file behind.
    """
    check_schema(ds)
    path = check_output_path(path, "output file")
    tmp = path.with_name(path.name + ".part")
    try:
        ds.to_netcdf(tmp, engine="scipy")
        os.replace(tmp, path)
    except BaseException:  # also KeyboardInterrupt: never leave a stale .part
        tmp.unlink(missing_ok=True)
        raise
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
