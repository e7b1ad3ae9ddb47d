"""Conventional (unconstrained) training with weight decay on SI toys -> ``xarray.Dataset`` (Li et al. 2025).

Optimisers follow the PyTorch conventions:

* ``"sgd"``: ``w <- (1 - eta lambda) w - eta g``;
* ``"sgdm"`` (heavy ball, ``torch.optim.SGD(momentum=beta, weight_decay=lambda)``): ``d = g + lambda w``,
  ``buf = d`` at the first step and ``beta buf + d`` after, ``w <- w - eta buf``;
* ``"adamw"`` (decoupled): ``w <- (1 - eta lambda) w``, then Adam's bias-corrected
  ``w <- w - eta m_hat / (sqrt(v_hat) + eps)``.

``eta`` is the learning rate of the step (``lr`` times the schedule's multiplier), so the decay factor
``gamma_t = eta_t lambda`` follows the schedule, as in PyTorch.

Randomness.  The initial direction is ``toy.random_point(seed)`` (the one ``simulate`` uses);
``init_norm`` only scales it.  The noise is drawn before the kernel from
``numpy.random.default_rng([seed, 7])`` -- a raw Gaussian ``(steps, D)`` array for tangent and
isotropic noise, sample indices ``(steps, batch)`` (without replacement within a step) for
minibatches -- so it depends only on the seed and ``steps``, never on ``lr``, ``wd``, ``init_norm``
or the optimiser.  Memory: ``8 steps D`` bytes of noise.

Noise models (``noise=``):

* ``None``: full batch;
* ``"tangent"``: the gradient plus, per group, ``noise_scale * P_i z_i / (|w_i| sqrt(d_i - 1))``
  (``P_i`` projects out ``w_i``): orthogonal to ``w_i``, proportional to ``1/|w_i|``, mean square
  ``noise_scale^2`` at unit group norm -- the cheap SI-consistent model;
* ``"minibatch"``: true sampling of ``batch`` of the per-sample functions of a
  :func:`toyregimes.toys.stochastic` toy (SI by construction; ``noise_scale`` is ignored);
* ``"isotropic"``: the gradient plus ``noise_scale * z`` -- *not* scale-invariant, a negative control
  under which the exact reparametrisation breaks.

Supported toys: canonical, rayleigh and stochastic (the Rayleigh family).  A custom toy raises
``ValueError("train supports ...")``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from toyregimes._budget import DEFAULT_MAX_MEMORY, DEFAULT_MAX_SECONDS, SECONDS_PER_COORD_STEP, check_budget
from toyregimes._validate import as_float_array, as_int, as_seed
from toyregimes._version import __version__
from toyregimes.io import register_schema
from toyregimes.kernels import weight_decay as tk
from toyregimes.simulate import as_batch
from toyregimes.toys import Toy

__all__ = [
    "train",
    "train_grid",
    "lr_multipliers",
    "initial_weights",
    "draw_noise",
    "grad_sq_at_unit_norm",
    "sgd_equilibrium_group_sq_norms",
    "OPTIMIZERS",
    "NOISES",
]

OPTIMIZERS = ("sgd", "sgdm", "adamw")
NOISES = (None, "tangent", "minibatch", "isotropic")
SUPPORTED_TOYS = ("canonical", "rayleigh", "stochastic")
WSD_WARMUP = 0.05  # fraction of steps of linear warm-up in the "wsd" schedule
WSD_DECAY = 0.20  # fraction of steps of linear decay at its end
NOISE_STREAM = 7  # the noise generator is default_rng([seed, NOISE_STREAM])

_OPT_CODE = {"sgd": tk.OPT_SGD, "sgdm": tk.OPT_SGDM, "adamw": tk.OPT_ADAMW}
_NOISE_CODE = {None: tk.NOISE_NONE, "tangent": tk.NOISE_TANGENT, "minibatch": tk.NOISE_MINIBATCH,
               "isotropic": tk.NOISE_ISOTROPIC}


# ----------------------------------------------------------------------------- validation helpers
def _check_toy(toy) -> Toy:
    if not isinstance(toy, Toy) or toy.kind not in SUPPORTED_TOYS:
        kind = toy.kind if isinstance(toy, Toy) else type(toy).__name__
        raise ValueError(f"train supports toys of kind {SUPPORTED_TOYS} (the Rayleigh family), got {kind!r}")
    return toy


def _scalar(value, name: str, lo: float, hi: float = np.inf, *, lo_open=False, hi_open=True) -> float:
    arr = as_float_array(value, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single number, got shape {arr.shape}")
    x = float(arr)
    bad_lo = x <= lo if lo_open else x < lo
    bad_hi = x >= hi if hi_open else x > hi
    if bad_lo or bad_hi:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        raise ValueError(f"{name} must be in {left}{lo:g}, {hi:g}{right}, got {value!r}")
    return x


def lr_multipliers(schedule, steps: int) -> np.ndarray:
    """Per-step learning-rate multipliers of a schedule (``eta_t = lr * multiplier_t``).

    ``"constant"``: all ones.  ``"wsd"`` (warmup-stable-decay): linear warm-up ``(t + 1) / W`` over the
    first ``W = ceil(0.05 steps)`` steps, then 1, then linear decay ``(steps - t) / K`` over the last
    ``K = ceil(0.2 steps)`` steps (never exactly 0).  An array of ``steps`` finite values ``>= 0`` is
    used as given.

    Examples
    --------
    >>> lr_multipliers("wsd", 100)[[0, 50, 99]]
    array([0.2 , 1.  , 0.05])
    """
    steps = as_int(steps, "steps", minimum=1)
    if isinstance(schedule, str):
        if schedule == "constant":
            return np.ones(steps)
        if schedule == "wsd":
            mult = np.ones(steps)
            nw = int(np.ceil(WSD_WARMUP * steps))
            nd = int(np.ceil(WSD_DECAY * steps))
            t = np.arange(steps)
            mult[:nw] = (t[:nw] + 1.0) / nw
            mult[steps - nd :] = (steps - t[steps - nd :]) / nd
            return mult
        raise ValueError(f"schedule must be 'constant', 'wsd' or an array of {steps} multipliers, got {schedule!r}")
    arr = as_float_array(schedule, "schedule", ndim=1)
    if arr.size != steps:
        raise ValueError(f"schedule must have one multiplier per step ({steps}), got {arr.size}")
    if np.any(arr < 0):
        raise ValueError("schedule multipliers must be >= 0")
    return np.ascontiguousarray(arr)


def _hparams(toy, optimizer, momentum, betas, eps, noise, batch, noise_scale, init_norm):
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {NOISES}, got {noise!r}")
    momentum = _scalar(momentum, "momentum", 0.0, 1.0)
    if isinstance(betas, str) or np.ndim(betas) != 1 or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2) in [0, 1), got {betas!r}")
    beta1 = _scalar(betas[0], "betas[0]", 0.0, 1.0)
    beta2 = _scalar(betas[1], "betas[1]", 0.0, 1.0)
    eps = _scalar(eps, "eps", 0.0)
    noise_scale = _scalar(noise_scale, "noise_scale", 0.0)
    init_norm = _scalar(init_norm, "init_norm", 0.0, lo_open=True)
    if noise == "minibatch":
        if toy.samples is None:
            raise ValueError("noise='minibatch' needs a stochastic toy (toys.stochastic(...))")
        if batch is None:
            raise ValueError(f"batch must be given for noise='minibatch' (1 <= batch <= {toy.samples.shape[0]})")
        batch = as_batch(toy, batch)
    elif batch is not None:  # it would be silently ignored: a batch size means minibatch noise was meant
        raise ValueError(f"batch applies only to noise='minibatch', got batch={batch!r} with noise={noise!r}")
    return optimizer, momentum, beta1, beta2, eps, noise, batch, noise_scale, init_norm


def _check_gamma(lr_max: float, wd_max: float) -> None:
    if lr_max * wd_max >= 1.0:
        raise ValueError(
            f"lr * wd (times the largest schedule multiplier) must be < 1 so that the decay factor "
            f"1 - lr * wd stays positive, got {lr_max * wd_max:g}"
        )


def initial_weights(toy: Toy, seed=0, init_norm=1.0, init=None) -> np.ndarray:
    """Initial weights: the unit direction ``init`` (or ``toy.random_point(seed)``) times ``init_norm``.

    Examples
    --------
    >>> from toyregimes.toys import canonical
    >>> float(np.linalg.norm(initial_weights(canonical([1, 2]), seed=0, init_norm=2.0)))
    2.0
    """
    init_norm = _scalar(init_norm, "init_norm", 0.0, lo_open=True)
    if init is None:
        u = toy.random_point(as_seed(seed))
    else:
        u = toy.flatten(init, "init")
        if np.any(toy.sq_norms(u) == 0):
            raise ValueError("init must have a non-zero norm in every group")
        u = u / np.linalg.norm(u)
    return u * init_norm


def draw_noise(toy: Toy, steps: int, noise=None, batch=None, seed=0):
    """The noise arrays of a run: ``(gauss (steps, D) or (0, D), idx (steps, batch) or (0, 1))``.

    Drawn from ``default_rng([seed, 7])``; they depend only on the seed, the noise model, ``steps``,
    ``batch`` and the toy's sizes.
    """
    rng = np.random.default_rng([as_seed(seed), NOISE_STREAM])
    gauss = np.zeros((0, toy.dim))
    idx = np.zeros((0, 1), dtype=np.int64)
    if noise in ("tangent", "isotropic"):
        gauss = rng.standard_normal((steps, toy.dim))
    elif noise == "minibatch":
        n_samples = toy.samples.shape[0]
        idx = np.empty((steps, batch), dtype=np.int64)
        for t in range(steps):  # a fresh permutation per step: sampling without replacement
            idx[t] = rng.permutation(n_samples)[:batch]
    return gauss, idx


def _samples(toy):
    if toy.samples is None:
        return np.zeros((0,) + toy.mats.shape)
    return toy.samples


def _common_attrs(toy, optimizer, momentum, beta1, beta2, eps, noise, batch, noise_scale, seed, init_norm,
                  init, steps, schedule):
    attrs = {
        "toyregimes_version": __version__,
        "steps": steps,
        "optimizer": optimizer,
        "momentum": momentum,
        "beta1": beta1,
        "beta2": beta2,
        "eps": eps,
        "noise": "none" if noise is None else noise,
        "batch": -1 if batch is None else batch,
        "noise_scale": noise_scale,
        "seed": seed,
        "init_norm": init_norm,
        "init": "random" if init is None else "given",
        "schedule": schedule if isinstance(schedule, str) else "custom",
        "wsd_fractions": [WSD_WARMUP, WSD_DECAY],
        "toy": toy.spec_json,
        "toy_kind": toy.kind,
        "dims": list(toy.dims),
        "alpha_eff": toy.alpha_eff.tolist(),
        "random_level": toy.random_level,
        "min_loss": toy.min_loss,
    }
    return attrs


# ----------------------------------------------------------------------------- one run
def train(
    toy: Toy,
    lr,
    wd,
    steps,
    optimizer: str = "sgd",
    momentum=0.9,
    betas=(0.9, 0.999),
    eps=0.0,
    schedule="constant",
    noise=None,
    batch=None,
    noise_scale=1.0,
    seed=0,
    init_norm=1.0,
    init=None,
    record_every=1,
    *,
    max_memory=DEFAULT_MAX_MEMORY,
    max_seconds=DEFAULT_MAX_SECONDS,
) -> xr.Dataset:
    """Train ``toy`` without constraint, with learning rate ``lr`` and weight decay ``wd``.

    Parameters
    ----------
    toy : Toy
        canonical, rayleigh or stochastic.
    lr : float > 0
        Peak learning rate ``eta``; step ``t`` uses ``eta_t = lr * schedule_t``.
    wd : float >= 0
        Weight decay ``lambda``; ``lr * wd * max(schedule)`` must be < 1.
    steps : int >= 1
    optimizer : {"sgd", "sgdm", "adamw"}
    momentum : float in [0, 1)
        Heavy-ball coefficient (``"sgdm"``).
    betas : (float, float) in [0, 1)
        Adam's ``(beta1, beta2)``.
    eps : float >= 0
        Adam's epsilon (0 makes AdamW exactly reparametrisation-invariant).
    schedule : "constant", "wsd" or array of ``steps`` multipliers
    noise : None, "tangent", "minibatch" or "isotropic"
        See the module docstring.
    batch : int
        Minibatch size, ``1 <= batch <= toy.samples.shape[0]`` (``"minibatch"`` only; refused otherwise).
    noise_scale : float >= 0
        RMS of tangent noise at unit group norm (std of isotropic noise).
    seed : int >= 0
        Seed of the initial direction and of the noise.
    init_norm : float > 0
        Norm of the initial weights (only scales the direction).
    init : array, optional
        Initial direction (normalised; overrides the seed's direction).
    record_every : int, 1 <= record_every <= steps
        Record diagnostics at ``t = 0, r, 2r, ... < steps``.
    max_memory, max_seconds : float or None
        Size guard (:mod:`toyregimes._budget`): refuse, before allocating, a run whose estimated memory
        (bytes) or time (seconds) exceeds these; None lifts a limit.

    Returns
    -------
    xarray.Dataset
        Dims ``(step, group)``.  ``loss`` = full-batch ``F(w_t)``; ``norm`` = ``|w_t|``; ``sq_norm`` =
        ``|w_{t,i}|^2``; ``eta`` = ``eta_t``; ``gamma`` = ``eta_t lambda``; ``sphere_elr`` = ``eta_t / |w_t|^2``
        (SGD, SGDM) or ``eta_t / |w_t|`` (AdamW); ``angle`` = angle between ``w_t`` and ``w_{t+1}``;
        ``grad_norm`` = ``|grad F(w_t)|`` (raw, not gamma-invariant) and ``scale_free_grad_norm`` =
        ``|w_t| |grad F(w_t)|``; ``noise_trace`` = ``|g_t - grad F(w_t)|^2`` (one-sample estimate of
        ``tr Sigma``, 0 without noise) and ``scale_free_noise_trace`` = that times ``|w_t|^2``;
        ``initial_state``/``final_state`` (w_0 and
        w_steps, dims ``(group, component)``, NaN-padded).  ``attrs`` hold every input, the status and
        the step at which a run diverged numerically (-1 if not).

    Examples
    --------
    >>> run = train(canonical([1, 2, 3]), lr=0.1, wd=1e-3, steps=5000, noise="tangent")  # doctest: +SKIP
    """
    toy = _check_toy(toy)
    steps = as_int(steps, "steps", minimum=1)
    record_every = as_int(record_every, "record_every", minimum=1)
    lr = _scalar(lr, "lr", 0.0, lo_open=True)
    wd = _scalar(wd, "wd", 0.0)
    seed = as_seed(seed)
    optimizer, momentum, beta1, beta2, eps, noise, batch, noise_scale, init_norm = _hparams(
        toy, optimizer, momentum, betas, eps, noise, batch, noise_scale, init_norm
    )
    if record_every > steps:
        raise ValueError(f"record_every must be <= steps ({steps}), got {record_every}")
    n_rec = -(-steps // record_every)
    per_step = 2 + (toy.dim if noise in ("tangent", "isotropic") else 0) + (batch if noise == "minibatch" else 0)
    check_budget(f"train (steps = {steps})", 8.0 * steps * per_step + 2 * 8.0 * n_rec * (10 + 2 * toy.n_groups),
                 SECONDS_PER_COORD_STEP * steps * toy.dim * (1 + (batch or 0)), max_memory, max_seconds)
    mults = lr_multipliers(schedule, steps)
    _check_gamma(lr * float(mults.max()), wd)
    etas = lr * mults
    w0 = initial_weights(toy, seed, init_norm, init)
    gauss, idx = draw_noise(toy, steps, noise, batch, seed)
    out = tk.train_run(
        w0, toy.offsets, toy.mats, _samples(toy), etas, wd, _OPT_CODE[optimizer], momentum, beta1, beta2,
        eps, _NOISE_CODE[noise], noise_scale, gauss, idx, record_every,
    )
    loss, sq, angle, gsq, nsq, final, status, fail_step = out
    rec = np.arange(0, steps, record_every, dtype=np.int64)
    sq_total = sq.sum(axis=1)
    norm = np.sqrt(sq_total)
    eta_rec = etas[rec]
    sphere = eta_rec / (norm if optimizer == "adamw" else sq_total)
    attrs = _common_attrs(toy, optimizer, momentum, beta1, beta2, eps, noise, batch, noise_scale, seed,
                          init_norm, init, steps, schedule)
    attrs.update({
        "toyregimes_kind": "train",
        "lr": lr,
        "wd": wd,
        "record_every": record_every,
        "status": "ok" if status == tk.STATUS_OK else "diverged_numerically",
        "diverged_at_step": int(fail_step),
    })
    if not isinstance(schedule, str):
        attrs["schedule_multipliers"] = mults.tolist()
    return xr.Dataset(
        {
            "loss": ("step", loss),
            "norm": ("step", norm),
            "sq_norm": (("step", "group"), sq),
            "eta": ("step", eta_rec),
            "gamma": ("step", eta_rec * wd),
            "sphere_elr": ("step", sphere),
            "angle": ("step", angle),
            "grad_norm": ("step", np.sqrt(gsq)),
            "scale_free_grad_norm": ("step", np.sqrt(gsq) * norm),
            "noise_trace": ("step", nsq),
            "scale_free_noise_trace": ("step", nsq * sq_total),
            "initial_state": (("group", "component"), toy.to_rows(w0)),
            "final_state": (("group", "component"), toy.to_rows(final)),
        },
        coords={"step": rec, "group": np.arange(toy.n_groups, dtype=np.int64)},
        attrs=attrs,
    )


# ----------------------------------------------------------------------------- grids
def train_grid(
    toy: Toy,
    lr,
    wd,
    steps,
    tail=None,
    optimizer: str = "sgd",
    momentum=0.9,
    betas=(0.9, 0.999),
    eps=0.0,
    schedule="constant",
    noise=None,
    batch=None,
    noise_scale=1.0,
    seed=0,
    init_norm=1.0,
    init=None,
) -> xr.Dataset:
    """Train every ``(lr[a], wd[b])`` of a grid from a common initial point with a common noise sequence.

    One parallel Numba kernel (``prange`` over grid points, tail statistics reduced in-kernel, nothing
    stored per step); a grid point is bit for bit :func:`train` with the same arguments, whatever the
    number of threads.

    Parameters
    ----------
    lr, wd : 1-d arrays (lr > 0, wd >= 0, every lr * wd * max(schedule) < 1)
    tail : int, optional
        Length of the window of tail statistics (default: the last half of the run).
    Other parameters as in :func:`train`.

    Returns
    -------
    xarray.Dataset
        Dims ``(lr, wd)``.  ``final_loss`` = F(w_steps); over the tail: ``mean_loss``, ``std_loss``,
        ``mean_norm`` (``|w|``), ``mean_sq_norm`` (``|w|^2``), ``mean_angle`` (between consecutive weights),
        ``mean_sphere_elr``; ``gamma`` = lr wd; ``status`` (0 ok, 1 diverged numerically).

    Examples
    --------
    >>> ds = train_grid(canonical([1, 2, 3]), lr=np.geomspace(0.01, 1, 8), wd=np.geomspace(1e-4, 1e-2, 8),
    ...                 steps=20_000, noise="tangent")  # doctest: +SKIP
    """
    toy = _check_toy(toy)
    steps = as_int(steps, "steps", minimum=1)
    tail = max(1, steps // 2) if tail is None else as_int(tail, "tail", minimum=1)
    if tail > steps:
        raise ValueError(f"tail must be in [1, steps={steps}], got {tail}")
    lrs = as_float_array(lr, "lr")
    wds = as_float_array(wd, "wd")
    lrs, wds = np.atleast_1d(lrs), np.atleast_1d(wds)
    if lrs.ndim != 1 or wds.ndim != 1:
        raise ValueError("lr and wd must be 1-d arrays of grid values")
    if np.any(lrs <= 0):
        raise ValueError(f"lr must be > 0 everywhere, got min {lrs.min():g}")
    if np.any(wds < 0):
        raise ValueError(f"wd must be >= 0 everywhere, got min {wds.min():g}")
    seed = as_seed(seed)
    optimizer, momentum, beta1, beta2, eps, noise, batch, noise_scale, init_norm = _hparams(
        toy, optimizer, momentum, betas, eps, noise, batch, noise_scale, init_norm
    )
    mults = lr_multipliers(schedule, steps)
    _check_gamma(float(lrs.max()) * float(mults.max()), float(wds.max()))
    w0 = initial_weights(toy, seed, init_norm, init)
    gauss, idx = draw_noise(toy, steps, noise, batch, seed)
    lr_flat = np.ascontiguousarray(np.repeat(lrs, wds.size))
    wd_flat = np.ascontiguousarray(np.tile(wds, lrs.size))
    out = tk.train_grid_run(
        w0, toy.offsets, toy.mats, _samples(toy), mults, lr_flat, wd_flat, _OPT_CODE[optimizer], momentum,
        beta1, beta2, eps, _NOISE_CODE[noise], noise_scale, gauss, idx, tail, 1 if optimizer == "adamw" else 2,
    )
    final_loss, mean_loss, std_loss, mean_norm, mean_sq, mean_angle, mean_elr, _final_w, status = out
    shape = (lrs.size, wds.size)
    attrs = _common_attrs(toy, optimizer, momentum, beta1, beta2, eps, noise, batch, noise_scale, seed,
                          init_norm, init, steps, schedule)
    attrs.update({"toyregimes_kind": "train_grid", "tail": tail})
    if not isinstance(schedule, str):
        attrs["schedule_multipliers"] = mults.tolist()
    dims = ("lr", "wd")
    return xr.Dataset(
        {
            "final_loss": (dims, final_loss.reshape(shape)),
            "mean_loss": (dims, mean_loss.reshape(shape)),
            "std_loss": (dims, std_loss.reshape(shape)),
            "mean_norm": (dims, mean_norm.reshape(shape)),
            "mean_sq_norm": (dims, mean_sq.reshape(shape)),
            "mean_angle": (dims, mean_angle.reshape(shape)),
            "mean_sphere_elr": (dims, mean_elr.reshape(shape)),
            "gamma": (dims, np.outer(lrs, wds)),
            "status": (dims, status.reshape(shape)),
        },
        coords={"lr": lrs, "wd": wds},
        attrs=attrs,
    )


# ----------------------------------------------------------------------------- theory support
def grad_sq_at_unit_norm(toy: Toy, noise=None, noise_scale=1.0, batch=None, n_dirs=4096, seed=12345):
    """``L_i = E |g_i|^2`` per group at unit group norm, over uniformly random directions (Monte Carlo).

    Independent of any training run: the full-batch part is averaged over ``n_dirs`` uniform
    directions; tangent noise adds exactly ``noise_scale^2`` per group (its mean square at unit
    norm); minibatch noise is sampled (one random batch per direction); isotropic noise adds
    ``noise_scale^2 d_i``.  Valid for the equilibrium formulas when the stationary distribution of
    directions is close to uniform (noise-dominated runs); otherwise it is an upper bound in
    practice, as the dynamics concentrate near minima where the gradient is small.

    Examples
    --------
    About ``1 + 0.1**2 / 2``:

    >>> from toyregimes.toys import canonical
    >>> grad_sq_at_unit_norm(canonical([0.1]), noise="tangent").round(3)
    array([1.005])
    """
    toy = _check_toy(toy)
    rng = np.random.default_rng(seed)
    off = toy.offsets
    out = np.zeros(toy.n_groups)
    grad = np.empty(toy.dim)
    for _ in range(n_dirs):
        u = rng.standard_normal(toy.dim)
        for i in range(toy.n_groups):
            u[off[i] : off[i + 1]] /= np.linalg.norm(u[off[i] : off[i + 1]])
        if noise == "minibatch":
            pick = rng.permutation(toy.samples.shape[0])[:batch]
            grad = np.mean([_sample_grad(toy, u, toy.samples[s]) for s in pick], axis=0)
        else:
            grad = _sample_grad(toy, u, toy.mats)
        for i in range(toy.n_groups):
            out[i] += grad[off[i] : off[i + 1]] @ grad[off[i] : off[i + 1]]
    out /= n_dirs
    if noise == "tangent":
        out += noise_scale**2
    elif noise == "isotropic":
        out += noise_scale**2 * np.asarray(toy.dims, dtype=float)
    return out


def _sample_grad(toy, u, mats):
    from toyregimes.kernels.pgd import rayleigh_loss_grad

    g = np.empty(toy.dim)
    rayleigh_loss_grad(u, toy.offsets, np.ascontiguousarray(mats), g)
    return g


def sgd_equilibrium_group_sq_norms(lr, wd, group_grad_sq):
    """Per-group SGD equilibrium ``|w_i*|^2 = sqrt(eta L_i / (lambda (2 - eta lambda)))``.

    The norm recursion ``|w_i'|^2 = (1 - gamma)^2 |w_i|^2 + eta^2 |g_i|^2`` (``g_i`` orthogonal to
    ``w_i``, ``|g_i|^2 = L_i / |w_i|^2``) holds group by group, so the closed form ``|w*|^4 = eta L /
    (lambda (2 - gamma))`` applies to each SI group; the total is the sum over groups.

    Example: ``sgd_equilibrium_group_sq_norms(0.1, 0.01, [1.0])``.
    """
    from toyregimes import theory

    return np.array([theory.sgd_equilibrium_sq_norm(lr, wd, li) for li in np.atleast_1d(group_grad_sq)])


# ----------------------------------------------------------------------------- schemas and CLI
register_schema(
    "train",
    ("step", "group"),
    {
        "loss": ("step",),
        "norm": ("step",),
        "sq_norm": ("step", "group"),
        "eta": ("step",),
        "gamma": ("step",),
        "sphere_elr": ("step",),
        "angle": ("step",),
        "grad_norm": ("step",),
        "scale_free_grad_norm": ("step",),
        "noise_trace": ("step",),
        "scale_free_noise_trace": ("step",),
        "initial_state": ("group", "component"),
        "final_state": ("group", "component"),
    },
    ("lr", "wd", "steps", "optimizer", "noise", "seed", "init_norm", "schedule", "toy", "status"),
)
register_schema(
    "train_grid",
    ("lr", "wd"),
    {name: ("lr", "wd") for name in ("final_loss", "mean_loss", "std_loss", "mean_norm", "mean_sq_norm",
                                     "mean_angle", "mean_sphere_elr", "gamma", "status")},
    ("steps", "tail", "optimizer", "noise", "seed", "init_norm", "schedule", "toy"),
)
