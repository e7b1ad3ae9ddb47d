"""One run of projected gradient descent on the sphere -> a per-step ``xarray.Dataset``."""

from __future__ import annotations

import numpy as np
import xarray as xr

from toyregimes._budget import (
    DEFAULT_MAX_MEMORY,
    DEFAULT_MAX_SECONDS,
    SECONDS_PER_COORD_STEP,
    SECONDS_PER_SHARPNESS_COORD,
    check_budget,
)
from toyregimes._validate import as_constraint, as_float_array, as_int, as_positive, as_seed
from toyregimes._version import __version__
from toyregimes.kernels import pgd
from toyregimes.kernels.noise import batch_key, fill_normals, minibatch_indices, run_key
from toyregimes.toys import Toy

__all__ = ["simulate", "initial_point", "state_vector"]

TAIL_STATES = 128  # states kept at the end of a run: enough to detect periods up to 64


def _check_toy(toy) -> Toy:
    if not isinstance(toy, Toy):
        raise ValueError(f"toy must be a toyregimes Toy (e.g. toys.canonical([1, 2])), got {toy!r}")
    return toy


def initial_point(toy: Toy, seed=0, init=None) -> np.ndarray:
    """The starting point of a run: ``init`` normalised to unit total norm, or a random one.

    ``init`` may be an ``(n, d)`` array, a flat vector or a list of groups.  Every group must have
    a non-zero norm: a scale-invariant function is undefined at the origin of a group.  Under the
    individual constraint the group norms of this point are the ones held fixed.
    """
    _check_toy(toy)
    if init is None:
        return toy.random_point(seed)
    flat = toy.flatten(init, "init")
    if np.any(toy.sq_norms(flat) == 0):
        raise ValueError("init must have a non-zero norm in every group")
    return flat / np.linalg.norm(flat)


def simulate(
    toy: Toy,
    elr,
    steps,
    constraint: str = "total",
    seed=0,
    init=None,
    record_every=1,
    lyapunov: bool = False,
    noise_scale: float = 0.0,
    sharpness: bool = True,
    tail=None,
    *,
    batch=None,
    max_memory=DEFAULT_MAX_MEMORY,
    max_seconds=DEFAULT_MAX_SECONDS,
) -> xr.Dataset:
    """Run PGD on the unit sphere with fixed effective learning rate ``elr``.

    Step: ``theta <- (theta - elr grad F) / |theta - elr grad F|`` (total constraint), or each group
    projected back to its own initial radius (individual constraint).

    Parameters
    ----------
    toy : Toy
        From :mod:`toyregimes.toys`.
    elr : float > 0
        Effective (total) learning rate on the unit sphere.
    steps : int >= 1
        Number of PGD steps.
    constraint : {"total", "individual"}
    seed : int >= 0
        Seed of the random initial point (ignored when ``init`` is given, but recorded).
    init : array, optional
        Initial point, ``(n, d)`` or flat; normalised to unit total norm.
    record_every : int >= 1
        Record diagnostics at ``t = 0, r, 2r, ... < steps``.
    lyapunov : bool
        Also propagate a tangent vector with the exact Jacobian of the PGD step and record its
        log growth (``tangent_log_growth``, summed over each recording interval), from which
        :func:`toyregimes.analysis.lyapunov` computes the largest Lyapunov exponent.
    noise_scale : float >= 0
        Stochastic gradients: add ``noise_scale`` times SI-consistent Gaussian noise to the gradient
        of every group, orthogonal to the group and of mean square ``noise_scale^2 / r_i^2`` (as a
        gradient of an SI function scales).  The noise is drawn from its own counter-based stream of
        ``seed`` (:mod:`toyregimes.kernels.noise`), so it depends only on the seed, and a noisy
        :func:`toyregimes.sweep` point with this seed sees the same noise.  Not combinable with
        ``lyapunov`` (the exponent of a random dynamical system is not what the tangent map of the
        deterministic step measures).
    sharpness : bool
        Record the sphere sharpness (one small eigen-solve per record, the costliest diagnostic);
        with False, ``sharpness`` and ``total_sharpness`` are NaN.
    tail : int, optional
        The tail window that :func:`toyregimes.analysis.classify` summarises by default (the last
        ``tail`` steps; default ``steps // 2``, at least 1).  The run keeps the ``min(steps, 128)``
        states from step ``min(steps - tail, steps - 128)`` on (``head_state``) as well as the last
        ones, so the classification can tell a period residual that shrinks (approach to a
        neutrally stable orbit) from one that does not.  ``record_every`` must be <= ``tail``, so that
        the window holds a record.
    batch : int, optional
        Minibatch size for a stochastic toy (:func:`toyregimes.toys.stochastic`): every step uses the
        gradient of the mean of ``batch`` distinct per-sample functions, drawn afresh at each step from a
        counter-based stream of ``seed`` (:func:`toyregimes.kernels.noise.minibatch_indices`), so a
        :func:`toyregimes.sweep` point with this seed sees the same minibatches.  None (default): the
        full-batch gradient.  Not combinable with ``lyapunov``.
    max_memory, max_seconds : float or None
        Size guard (:mod:`toyregimes._budget`): the estimated memory (bytes) and time (seconds) of the
        run must stay below these, else ``ValueError`` before anything is allocated; None lifts a limit.

    Returns
    -------
    xarray.Dataset
        Dims ``(step, group)``.  Variables: ``loss`` = F(theta_t); ``sq_norm`` = r_i^2;
        ``individual_elr`` = elr / r_i^2; ``angle`` = angle between theta_t and theta_{t+1};
        ``eff_grad_norm`` = ``|grad F| |theta|``; ``sharpness`` (per group) and ``total_sharpness``
        (sphere Hessian, see :meth:`Toy.sharpness`); ``initial_state`` and ``final_state``
        (``theta_0`` and ``theta_steps``, dims ``(group, component)``, NaN-padded for ragged
        groups); ``tail_state`` (the last ``min(steps, 128)`` states ``theta_t``, dims
        ``(tail_step, group, component)``) for period detection and ``head_state`` (as many from the
        head of the tail window, dims ``(head_step, group, component)``); ``tangent_log_growth``
        (NaN unless ``lyapunov``).  ``attrs`` hold every input and ``status`` (``"ok"`` or
        ``"diverged_numerically"``, with ``diverged_at_step``).

    Examples
    --------
    >>> from toyregimes.toys import canonical
    >>> run = simulate(canonical([1, 2, 3]), elr=0.25, steps=2000)
    >>> run.sizes["step"], run.sizes["group"]
    (2000, 3)
    """
    toy = _check_toy(toy)
    elr = as_positive(elr, "elr")
    if np.ndim(elr) != 0:
        raise ValueError("elr must be a single number (use sweep for many)")
    steps = as_int(steps, "steps", minimum=1)
    record_every = as_int(record_every, "record_every", minimum=1)
    constraint = as_constraint(constraint)
    seed = as_seed(seed)
    lyapunov = bool(lyapunov)
    noise_scale, batch = stochastic_options(toy, noise_scale, batch, lyapunov)
    theta0 = initial_point(toy, seed, init)
    # The tangent vector is drawn after the initial point from its own stream, so switching the
    # Lyapunov estimate on never changes the trajectory.
    tangent0 = np.random.default_rng([seed, 1]).standard_normal(toy.dim)
    tail_len = min(steps, TAIL_STATES)
    tail = max(1, steps // 2) if tail is None else as_int(tail, "tail", minimum=1)
    if tail > steps:
        raise ValueError(f"tail must be <= steps ({steps}), got {tail}")
    if record_every > tail:  # else the tail window holds no record and has no statistics
        raise ValueError(f"record_every must be <= tail ({tail} steps; default steps // 2), got {record_every}")
    check_budget(f"simulate (steps = {steps}, record_every = {record_every})",
                 *run_cost(toy, steps, record_every, lyapunov, noise_scale > 0, sharpness, batch), max_memory,
                 max_seconds)
    head_start = min(steps - tail, steps - tail_len)

    args = (theta0, tangent0, elr, steps, record_every, constraint == "individual", lyapunov, tail_len,
            toy.offsets, toy.mats)
    # empty arrays mean "no noise" and "full batch": the sweeps pass the same types, so one compiled
    # signature of the single-run kernel serves simulate and every sweep (see kernels.pgd._pgd_run_impl)
    noise, samples, batch_idx = pgd.no_noise(toy.dim), pgd.no_samples(toy.mats), pgd.no_batch()
    if noise_scale > 0:
        # counter-based numbers (kernels/noise.py): a sweep point with this seed sees the same noise
        noise = noise_scale * fill_normals(run_key(seed), steps, toy.dim)
    if batch:
        samples, batch_idx = toy.samples, minibatch_indices(batch_key(seed), steps, toy.samples.shape[0], batch)
    out = toy.kernels["pgd_run"](*args, noise, bool(sharpness), head_start, samples, batch_idx, False)
    loss, sq, geff, angle, sharp, tsharp, growth, last, final, status, fail_step, head = out
    record_steps = np.arange(0, steps, record_every, dtype=np.int64)
    with np.errstate(over="ignore", divide="ignore"):  # elr ~ 1e308 over r_i^2 < 1: inf is the true value
        individual_elr = elr / sq
    attrs = {
        "toyregimes_kind": "run",
        "toyregimes_version": __version__,
        "elr": elr,
        "steps": steps,
        "tail": tail,
        "constraint": constraint,
        "seed": seed,
        "init": "random" if init is None else "given",
        "record_every": record_every,
        "lyapunov": int(lyapunov),
        "noise_scale": noise_scale,
        "batch": batch,
        "sharpness": int(bool(sharpness)),
        "toy": toy.spec_json,
        "toy_kind": toy.kind,
        "dims": list(toy.dims),
        "alpha_eff": toy.alpha_eff.tolist(),
        "random_level": toy.random_level,
        "min_loss": toy.min_loss,
        "status": "ok" if status == pgd.STATUS_OK else "diverged_numerically",
        "diverged_at_step": int(fail_step),
    }
    return xr.Dataset(
        {
            "loss": ("step", loss),
            "sq_norm": (("step", "group"), sq),
            "individual_elr": (("step", "group"), individual_elr),
            "angle": ("step", angle),
            "eff_grad_norm": ("step", geff),
            "sharpness": (("step", "group"), sharp),
            "total_sharpness": ("step", tsharp),
            "initial_state": (("group", "component"), toy.to_rows(theta0)),
            "final_state": (("group", "component"), toy.to_rows(final)),
            "tail_state": (
                ("tail_step", "group", "component"),
                np.stack([toy.to_rows(row) for row in last]),
            ),
            "head_state": (
                ("head_step", "group", "component"),
                np.stack([toy.to_rows(row) for row in head]),
            ),
            "tangent_log_growth": ("step", growth),
        },
        coords={
            "step": record_steps,
            "group": np.arange(toy.n_groups, dtype=np.int64),
            "tail_step": np.arange(steps - tail_len, steps, dtype=np.int64),
            "head_step": np.arange(head_start, head_start + tail_len, dtype=np.int64),
        },
        attrs=attrs,
    )


def stochastic_options(toy: Toy, noise_scale, batch, lyapunov: bool) -> tuple[float, int]:
    """Validated ``(noise_scale, batch)`` of :func:`simulate` and :func:`toyregimes.sweep`.

    Neither kind of stochastic gradient combines with ``lyapunov``: the exponent of a random dynamical
    system is not what the tangent map of the deterministic step measures.
    """
    noise_scale = float(as_float_array(noise_scale, "noise_scale"))
    if not noise_scale >= 0:
        raise ValueError(f"noise_scale must be >= 0, got {noise_scale}")
    if noise_scale > 0 and lyapunov:
        raise ValueError("noise_scale > 0 cannot be combined with lyapunov=True (give lyapunov=False)")
    batch = as_batch(toy, batch)
    if batch and lyapunov:
        raise ValueError("batch (minibatch gradients) cannot be combined with lyapunov=True (give lyapunov=False)")
    return noise_scale, batch


def as_batch(toy: Toy, batch) -> int:
    """Validated minibatch size (0 for full batch): ``1 <= batch <= n_samples`` of a stochastic toy."""
    if batch is None:
        return 0
    if toy.samples is None:
        raise ValueError(f"batch needs a stochastic toy (toys.stochastic(...)), got a {toy.kind} toy")
    n_samples = toy.samples.shape[0]
    batch = as_int(batch, "batch", minimum=1)
    if batch > n_samples:
        raise ValueError(f"batch must be in [1, {n_samples}] (the number of samples), got {batch}")
    return batch


def run_cost(toy: Toy, steps: int, record_every: int, lyapunov: bool, noise: bool, sharpness: bool, batch: int = 0):
    """Estimated ``(bytes, seconds)`` of :func:`simulate`: its records (14 + 4 n_groups floats each, twice
    over while the Dataset is built), the noise and minibatch-index arrays, and the per-step cost of the kernel."""
    n_rec = -(-steps // record_every)
    nbytes = 2 * 8.0 * n_rec * (14 + 4 * toy.n_groups) + (8.0 * steps * toy.dim if noise else 0.0)
    nbytes += 8.0 * steps * batch
    per_step = toy.dim * (toy.dim if lyapunov else 1) + batch * toy.mats[0].size * toy.n_groups
    seconds = SECONDS_PER_COORD_STEP * steps * per_step
    if sharpness:
        seconds += SECONDS_PER_SHARPNESS_COORD * n_rec * toy.dim
    return nbytes, seconds


def state_vector(toy: Toy, padded) -> np.ndarray:
    """The flat vector of a run's ``initial_state``/``final_state`` (``(group, component)`` rows)."""
    return toy.from_rows(padded)
