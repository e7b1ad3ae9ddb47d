"""Orbit (bifurcation) diagrams: the values a run visits after its transient, against the ELR.

As in ChaosTools' ``orbitdiagram``, each ELR can be seeded with the final state of the previous
one (``continuation=True``), which follows one attractor through the parameter range instead of
sampling a new basin at every point.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from toyregimes._progress import bar_disabled
from toyregimes._validate import as_constraint, as_float_array, as_int, as_seed
from toyregimes._version import __version__
from toyregimes.io import register_schema
from toyregimes.simulate import TAIL_STATES, _check_toy, simulate, state_vector

__all__ = ["orbit_diagram"]

register_schema(
    "orbit",
    ("elr", "sample", "group"),
    {"loss": ("elr", "sample"), "angle": ("elr", "sample", "group")},
    ("steps", "constraint", "seed", "continuation", "toy"),
)


def orbit_diagram(
    toy,
    elr,
    steps: int = 2000,
    keep: int = 64,
    constraint: str = "total",
    seed: int = 0,
    continuation: bool = True,
    perturbation: float = 1e-9,
    progress: bool | None = None,
) -> xr.Dataset:
    """Tail values of the loss and of each group's angle over a range of ELRs.

    Parameters
    ----------
    toy : Toy
    elr : 1-d array of float > 0
        ELRs in the order they are visited (continuation follows this order).
    steps : int
        Steps per ELR; the last ``keep`` are kept (``keep <= 128``).
    continuation : bool
        Start each ELR from the previous ELR's final state (the first from ``seed``), displaced by
        a random vector of norm ``perturbation``.  The displacement matters: a converged state of
        the canonical toy lies *exactly* on a minimum (``y_i = 0``), an invariant set that exact
        arithmetic never leaves, so without it the orbit would stay on the unstable minimum
        above ``k = 1``.
    perturbation : float >= 0
        Norm of that displacement (seeded, so the diagram is reproducible).

    Returns
    -------
    xarray.Dataset with ``loss (elr, sample)`` and ``angle (elr, sample, group)``: the angle
    ``atan2(theta_i[1], theta_i[0])`` of each group's first two components (the canonical toy's
    ``phi_i``), folded to ``[0, pi)`` because ``theta_i`` and ``-theta_i`` are equivalent.

    Examples
    --------
    >>> ds = orbit_diagram(canonical([1, 2, 3]), np.linspace(0.1, 0.6, 200))  # doctest: +SKIP
    """
    toy = _check_toy(toy)
    elrs = as_float_array(elr, "elr", ndim=1)
    if np.any(elrs <= 0):
        raise ValueError("elr must have every entry > 0")
    steps = as_int(steps, "steps", minimum=1)
    keep = as_int(keep, "keep", minimum=1)
    if keep > min(steps, TAIL_STATES):
        raise ValueError(f"keep must be <= min(steps, {TAIL_STATES}), got {keep}")
    constraint = as_constraint(constraint)
    seed = as_seed(seed)
    loss = np.empty((elrs.size, keep))
    angle = np.empty((elrs.size, keep, toy.n_groups))
    perturbation = float(as_float_array(perturbation, "perturbation"))
    if perturbation < 0:
        raise ValueError(f"perturbation must be >= 0, got {perturbation}")
    kicks = np.random.default_rng([seed, 3]).standard_normal((elrs.size, toy.dim))
    kicks *= perturbation / np.linalg.norm(kicks, axis=1, keepdims=True)
    init = None
    for j, e in enumerate(tqdm(elrs, desc="orbit diagram", disable=bar_disabled(progress))):
        run = simulate(toy, elr=float(e), steps=steps, constraint=constraint, seed=seed, init=init)
        loss[j] = run.loss.values[-keep:]
        states = run.tail_state.values[-keep:]  # (keep, group, component)
        angle[j] = np.mod(np.arctan2(states[:, :, 1], states[:, :, 0]), np.pi)
        if continuation and run.attrs["status"] == "ok":
            init = state_vector(toy, run.final_state.values) + kicks[j]
    return xr.Dataset(
        {"loss": (("elr", "sample"), loss), "angle": (("elr", "sample", "group"), angle)},
        coords={"elr": elrs, "group": np.arange(toy.n_groups, dtype=np.int64)},
        attrs={
            "toyregimes_kind": "orbit",
            "toyregimes_version": __version__,
            "steps": steps,
            "keep": keep,
            "constraint": constraint,
            "seed": seed,
            "continuation": int(bool(continuation)),
            "perturbation": perturbation,
            "toy": toy.spec_json,
            "alpha_eff": toy.alpha_eff.tolist(),
            "random_level": toy.random_level,
        },
    )
