"""Sweeps over toy parameters stacked along named dimensions (:func:`sweep_grid`)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import xarray as xr

from toyregimes.sweep.run import sweep


def sweep_grid(make_toy, params: dict, elr=None, *, k=None, progress=None, **kwargs) -> xr.Dataset:
    """:func:`sweep` over the Cartesian product of toy parameters, stacked along named dimensions.

    Parameters
    ----------
    make_toy : callable
        ``make_toy(**combo) -> Toy`` for every combination of ``params``.
    params : dict of name -> 1-d sequence
        Each becomes a dimension (after ``elr`` or ``k`` and ``seed``), in the given order.
    elr, k : 1-d arrays
        Exactly one.  With ``k`` every toy gets ``elr = k / sum(alpha_eff)`` and the first
        dimension is ``k`` (``elr`` becomes a coordinate varying with the toy); with ``elr`` it is
        ``elr`` (and ``k`` is dropped, since it varies with the toy).
    **kwargs
        Passed to :func:`sweep` (seeds, steps, tail, constraint, lyapunov, kernel, ...).  The default
        ``kernel="exact"`` serves toys with any number of groups with one compiled kernel.

    Returns
    -------
    xarray.Dataset
        The variables of :func:`sweep` with dims ``(elr | k, seed, *params, group)``; ``group`` is
        padded with NaN where toys have fewer groups.  ``attrs["toy"]`` is a JSON list of the
        toy specs in C order of the grid, ``attrs["grid_params"]`` a JSON list of the grid dims.

    Examples
    --------
    A k x heterogeneity map of three groups:

    >>> ds = sweep_grid(lambda h: canonical(canonical_alpha(3, h)), {"heterogeneity": [0, 0.5, 1]},
    ...                 k=np.geomspace(0.5, 5, 40), seeds=4, steps=5000, tail=1000)  # doctest: +SKIP
    """
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a non-empty dict of name -> list of values")
    if kwargs.get("checkpoint") is not None:
        raise ValueError("checkpoint is not supported by sweep_grid (one checkpoint holds one sweep)")
    names = list(params)
    for name in names:
        if name in ("elr", "k", "seed", "group", "component", "tail_step"):
            raise ValueError(f"params name {name!r} is reserved")
    values = {name: list(np.atleast_1d(params[name]).tolist()) for name in names}
    for name, vals in values.items():
        if not vals:
            raise ValueError(f"params[{name!r}] must not be empty")
    combos = list(itertools.product(*(values[nm] for nm in names)))
    lead = "k" if k is not None else "elr"
    results, specs = [], []
    toys = [make_toy(**dict(zip(names, combo, strict=True))) for combo in combos]
    for toy in toys:
        ds = sweep(toy, elr=elr, k=k, progress=False if progress is None else progress, **kwargs)
        specs.append(json.loads(toy.spec_json))
        if lead == "k":
            ds = ds.swap_dims({"elr": "k"}).reset_coords("elr")
            ds = ds.rename({"elr": "elr_value"})
        else:
            ds = ds.drop_vars("k", errors="ignore")
        results.append(ds)
    stacked = xr.concat(results, dim="_combo", coords="different", compat="equals", join="outer",
                        combine_attrs="drop_conflicts")
    index = xr.Coordinates.from_pandas_multiindex(
        _multiindex(names, combos), "_combo"
    )
    stacked = stacked.assign_coords(index).unstack("_combo")
    order = [lead, "seed", *names]
    stacked = stacked.transpose(*order, ...)
    if lead == "k":
        stacked = stacked.rename({"elr_value": "elr"})
    for key in ("regime", "status"):
        stacked[key] = stacked[key].fillna("").astype(str)
    attrs = dict(results[0].attrs)
    attrs.update({
        "toyregimes_kind": "sweep_grid",
        "toy": json.dumps(specs),
        "grid_params": json.dumps(names),
        "grid_axis": lead,
    })
    for key in ("toy_kind", "dims", "alpha_eff", "random_level", "min_loss"):
        attrs.pop(key, None)
    kernels = {r.attrs.get("kernel") for r in results}
    attrs["kernel"] = kernels.pop() if len(kernels) == 1 else "mixed"
    stacked.attrs = attrs
    return stacked


def _multiindex(names, combos):
    import pandas as pd

    return pd.MultiIndex.from_tuples(combos, names=names)
