"""What a sweep is: its validated inputs and everything derived from them (:func:`make_plan`), the variables
of its result and their schema, and :func:`canonical_alpha`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from toyregimes import analysis, io
from toyregimes._budget import DEFAULT_MAX_MEMORY, DEFAULT_MAX_SECONDS, SECONDS_PER_BATCHED_COORD_STEP, check_budget
from toyregimes._progress import bar_disabled
from toyregimes._validate import as_constraint, as_float_array, as_int, as_positive, as_seed
from toyregimes._version import __version__
from toyregimes.kernels import batched, noise, periods, pgd, rayleigh_batched, tail_stats, user_batched
from toyregimes.kernels.noise import batch_key, run_key
from toyregimes.lyapunov import initial_vectors, tangent_dimension
from toyregimes.simulate import _check_toy, stochastic_options
from toyregimes.toys import Toy

BLOCK = 256  # trajectories per parallel block: the block's state stays in L1

SWEEP_VARIABLES = {
    "mean_loss": ("elr", "seed"),
    "std_loss": ("elr", "seed"),
    "mean_cos_angle": ("elr", "seed"),
    "rms_step": ("elr", "seed"),
    "mean_sq_norm": ("elr", "seed", "group"),
    "min_c": ("elr", "seed"),
    "max_c": ("elr", "seed"),
    "lyapunov": ("elr", "seed"),
    "period": ("elr", "seed"),
    "status": ("elr", "seed"),
    "regime": ("elr", "seed"),
    "score": ("elr", "seed"),
    "lyapunov_se": ("elr", "seed"),
    "residual_head": ("elr", "seed"),
    "residual_end": ("elr", "seed"),
    "loss_first_half": ("elr", "seed"),
    "loss_second_half": ("elr", "seed"),
}
# Raw per-point evidence of the regime label (see toyregimes.analysis), besides the statistics above.
EVIDENCE = ("lyapunov_se", "loss_first_half", "loss_second_half", "residual_head", "residual_end", "sharpness_c")
_ATTRS = ("toy", "steps", "tail", "constraint", "lyapunov", "seeds")

io.register_schema("sweep", ("elr", "seed", "group"), SWEEP_VARIABLES, _ATTRS)
# A grid adds toy-parameter dimensions after (elr or k, seed); their names are the user's.
io.register_schema("sweep_grid", ("seed",), {}, (*_ATTRS, "grid_params"))


MAX_HETEROGENEITY = 300.0


def canonical_alpha(n, heterogeneity=0.0, total=None) -> np.ndarray:
    """Alpha vector of ``n`` groups with a heterogeneity knob, deterministic.

    ``alpha_i = exp(h z_i)`` with ``z`` evenly spaced on ``[-1, 1]`` (``z = 0`` for ``n = 1``),
    rescaled so that ``sum(alpha) = total`` (default ``n``).  ``h = 0`` gives equal groups; the
    ratio of the largest to the smallest alpha is ``exp(2 h)``.  Keeping the sum fixed keeps the
    threshold ``1/sum(alpha)``, so ``k = elr * total`` is comparable across the map.

    Examples
    --------
    With ``h = ln(3) / 2`` the ratios are ``1/sqrt(3) : 1 : sqrt(3)``, rescaled to the sum 3:

    >>> canonical_alpha(3, np.log(3) / 2).round(4)
    array([0.5234, 0.9065, 1.5701])
    """
    n = as_int(n, "n", minimum=1)
    h = float(as_float_array(heterogeneity, "heterogeneity"))
    # exp(h) overflows past h ~ 709 (alpha becomes inf/inf = NaN), and the ratio exp(2 h) of the extreme
    # coefficients must stay a finite float: h <= MAX_HETEROGENEITY keeps every alpha finite and > 0.
    if not 0 <= h <= MAX_HETEROGENEITY:
        raise ValueError(f"heterogeneity must be in [0, {MAX_HETEROGENEITY:g}], got {h}")
    total = float(n) if total is None else as_positive(total, "total")
    z = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
    alpha = np.exp(h * z)
    return alpha * (total / alpha.sum())


def _count_seeds(seeds) -> int:
    """How many seeds ``seeds`` stands for (an int n, or a list), without building anything."""
    if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
        return as_int(seeds, "seeds", minimum=1)
    return len(_as_seeds(seeds))


def _as_seeds(seeds) -> list:
    if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
        return list(range(as_int(seeds, "seeds", minimum=1)))
    try:
        seq = list(seeds)
    except TypeError:
        raise ValueError(f"seeds must be an int >= 1 or a list of ints >= 0, got {seeds!r}") from None
    if not seq:
        raise ValueError("seeds must not be empty")
    out = [as_seed(s) for s in seq]
    if len(set(out)) != len(out):
        raise ValueError(f"seeds must be distinct, got {out}")
    return out


def _is_canonical_like(toy: Toy) -> bool:
    """True if every group is ``diag(0, a)`` in R^2: then the batched kernel is bit-compatible."""
    if toy.kind == "custom" or any(d != 2 for d in toy.dims):
        return False
    m = toy.mats
    return bool(np.all(m[:, 0, 0] == 0) and np.all(m[:, 0, 1] == 0) and np.all(m[:, 1, 0] == 0)
                and np.all(m[:, 1, 1] > 0))


def _initial(toy: Toy, seeds: list, individual: bool):
    """Initial points and projected unit tangent vectors, ``(D, n_seeds)`` each, as ``simulate``."""
    theta = np.stack([toy.random_point(s) for s in seeds], axis=1)
    tang = np.stack([np.random.default_rng([s, 1]).standard_normal(toy.dim) for s in seeds], axis=1)
    off = toy.offsets
    for c in range(len(seeds)):
        th, v = theta[:, c], tang[:, c]
        if individual:
            for i in range(toy.n_groups):
                sl = slice(off[i], off[i + 1])
                v[sl] -= (v[sl] @ th[sl]) / (th[sl] @ th[sl]) * th[sl]
        else:
            v -= (v @ th) / (th @ th) * th
        tang[:, c] = v / np.linalg.norm(v)
    return theta, tang


def _progress(total, progress, desc, initial=0):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=bar_disabled(progress), desc=desc, unit="traj")


def _canon(value):
    """Canonical JSON value of an input: floats as their exact ``repr`` (round-trips), arrays as lists."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {str(key): _canon(val) for key, val in value.items()}
    if isinstance(value, np.ndarray):
        return [_canon(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    raise TypeError(f"cannot canonicalise {type(value).__name__}")


def _kernel_source_sha256() -> str:
    h = hashlib.sha256()
    for module in (batched, pgd, periods, rayleigh_batched, user_batched, noise, tail_stats):
        with open(module.__file__, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class SweepPlan:
    """Validated inputs of a sweep and everything derived from them deterministically (:func:`make_plan`).

    Point ``p`` is ``(elr[p // n_seeds], seeds[p % n_seeds])`` (seed fastest); chunk ``i`` is points
    ``i * chunk_size .. min(n_points, (i + 1) * chunk_size) - 1``.  ``arrays`` holds all that
    :func:`run_chunk` needs (numpy arrays and scalars; the toy itself for the kernels of non-canonical toys), so
    it can be shipped once to Dask workers.
    """

    toy: Toy
    elr: np.ndarray
    k: np.ndarray | None
    seeds: list
    steps: int
    tail: int
    constraint: str
    lyapunov: bool
    record_states: bool
    chunk_size: int
    opts: dict
    n_states: int
    fast: bool
    arrays: dict = field(repr=False)
    n_exponents: int = 0

    @property
    def n_points(self) -> int:
        return self.elr.size * len(self.seeds)

    @property
    def n_chunks(self) -> int:
        return -(-self.n_points // self.chunk_size)

    def bounds(self, index: int) -> tuple[int, int]:
        """Point range ``[lo, hi)`` of chunk ``index``."""
        lo = index * self.chunk_size
        return lo, min(self.n_points, lo + self.chunk_size)

    def chunk_spec(self) -> dict:
        """``name -> (dtype, trailing shape)`` of the arrays :func:`run_chunk` returns (leading dim = points)."""
        f8, i8 = np.dtype(np.float64), np.dtype(np.int64)
        n_g = self.toy.n_groups
        spec = {name: (f8, ()) for name in ("mean_loss", "std_loss", "mean_cos_angle", "rms_step", "lyapunov",
                                             *EVIDENCE)}
        spec.update({name: (f8, (n_g,)) for name in ("mean_sq_norm", "min_r2", "max_r2")})
        spec.update({"period": (i8, ()), "status": (i8, ())})
        if self.record_states:
            spec.update({"states": (f8, (self.n_states, self.toy.dim)), "final": (f8, (self.toy.dim,))})
        if self.n_exponents:
            spec["lyapunov_spectrum"] = (f8, (self.n_exponents,))
        return spec

    def fingerprint_params(self) -> dict:
        """Canonical record of every input that affects results, and of the chunk layout.

        Floats are stored as their exact ``repr``; the toy by its spec, dims and a SHA-256 of its group
        matrices.  The package version and a SHA-256 of the kernel modules' source are included: chunks
        computed by two versions of the kernels (a release, or an edited checkout) are never mixed.
        """
        return {
            "toyregimes_version": __version__,
            "kernel_sha256": _kernel_source_sha256(),
            "toy": _canon(json.loads(self.toy.spec_json)),
            "toy_dims": [int(d) for d in self.toy.dims],
            "toy_mats_sha256": hashlib.sha256(np.ascontiguousarray(self.toy.mats, dtype=float).tobytes()).hexdigest(),
            "elr": _canon(self.elr),
            "k": None if self.k is None else _canon(self.k),
            "seeds": [int(s) for s in self.seeds],
            "steps": self.steps,
            "tail": self.tail,
            "constraint": self.constraint,
            "lyapunov": self.lyapunov,
            "record_states": self.record_states,
            "criteria": _canon(self.opts),
            "chunk_size": self.chunk_size,
            "n_points": self.n_points,
            "n_exponents": self.n_exponents,
            "kernel": "canonical" if self.fast else "exact",
            "noise_scale": _canon(self.arrays["noise_scale"]),
            "batch": int(self.arrays["batch"]),
        }


def sweep_cost(toy: Toy, n_points: int, steps: int, lyapunov: bool, record_states: bool, n_states: int,
               n_exponents: int):
    """Estimated ``(bytes, seconds)`` of a sweep.

    Memory: the per-point results (about 12 + 3 n_groups floats, plus the states when recorded) held three
    times over (finished chunks, assembled arrays, the Dataset with its label strings); a chunk's working
    memory is bounded by ``chunk_size`` and negligible beside it.  Time: the batched kernel's cost per
    coordinate and step, over the Numba threads (twice with the tangent map).
    """
    import numba

    per_point = 12 + 3 * toy.n_groups + (n_states * toy.dim + toy.dim if record_states else 0) + n_exponents
    nbytes = 3 * 8.0 * n_points * per_point
    work = float(n_points) * steps * toy.dim * (2 if lyapunov else 1) * (1 + n_exponents)
    return nbytes, SECONDS_PER_BATCHED_COORD_STEP * work / max(1, numba.get_num_threads())


def check_sweep_budget(toy: Toy, n_elr: int, n_seeds: int, steps: int, lyapunov: bool = True,
                       record_states: bool = False, n_states: int = 0, n_exponents: int = 0,
                       max_memory=DEFAULT_MAX_MEMORY, max_seconds=DEFAULT_MAX_SECONDS) -> None:
    """The size guard of a sweep of ``n_elr x n_seeds`` trajectories (:func:`sweep_cost`), callable before
    any grid is built (the CLI calls it before it makes its ``k`` grid)."""
    n_points = int(n_elr) * int(n_seeds)
    check_budget(f"sweep of {n_elr} x {n_seeds} = {n_points} trajectories of {steps} steps",
                 *sweep_cost(toy, n_points, steps, lyapunov, record_states, n_states, n_exponents),
                 max_memory, max_seconds)


def make_plan(
    toy: Toy,
    elr=None,
    seeds=8,
    steps: int = 20_000,
    tail: int = 5_000,
    constraint: str = "total",
    lyapunov: bool = True,
    *,
    k=None,
    chunk_size: int = 4096,
    record_states: bool = False,
    n_exponents: int = 0,
    kernel: str = "exact",
    noise_scale: float = 0.0,
    batch=None,
    max_memory=DEFAULT_MAX_MEMORY,
    max_seconds=DEFAULT_MAX_SECONDS,
    **criteria,
) -> SweepPlan:
    """Validate the inputs of :func:`sweep` (same arguments) and derive the per-seed initial points.

    Raises ``ValueError`` naming the argument on bad input, or when the estimated memory or time of the
    sweep exceeds ``max_memory`` (bytes) or ``max_seconds`` (None: no limit; :mod:`toyregimes._budget`);
    computes nothing expensive.

    Examples
    --------
    >>> from toyregimes.toys import canonical
    >>> make_plan(canonical([1, 2]), k=[0.5, 2.0], seeds=2).n_points
    4
    """
    toy = _check_toy(toy)
    opts = analysis.check_criteria(criteria)
    if (elr is None) == (k is None):
        raise ValueError("give exactly one of elr and k")
    a_sum = float(np.sum(toy.alpha_eff))
    k_arr = None
    if k is not None:
        k_arr = np.atleast_1d(as_positive(k, "k")).astype(float)
        if k_arr.ndim != 1:
            raise ValueError("k must be a 1-d array")
        if not np.isfinite(a_sum):
            raise ValueError("k needs a toy with known alpha_eff; give elr instead")
        elr = k_arr / a_sum
    elr = np.atleast_1d(as_positive(elr, "elr")).astype(float)
    if elr.ndim != 1:
        raise ValueError(f"elr must be a 1-d array, got shape {elr.shape}")
    if np.unique(elr).size != elr.size:  # a duplicate would be a duplicate coordinate of the result
        name = "k" if k_arr is not None else "elr"
        values = k_arr if k_arr is not None else elr
        uniq, counts = np.unique(values, return_counts=True)
        raise ValueError(f"{name} values must be distinct, got duplicates {uniq[counts > 1].tolist()}")
    n_seeds = _count_seeds(seeds)  # the size guard comes before a list of 10^13 seeds is built
    steps = as_int(steps, "steps", minimum=1)
    tail = as_int(tail, "tail", minimum=1)
    if tail > steps:
        raise ValueError(f"tail must be <= steps ({steps}), got {tail}")
    constraint = as_constraint(constraint)
    individual = constraint == "individual"
    lyapunov = bool(lyapunov)
    record_states = bool(record_states)
    chunk_size = as_int(chunk_size, "chunk_size", minimum=1)
    max_period = opts["max_period"]
    n_states = min(steps, 2 * max_period)
    n_exponents = as_int(n_exponents, "n_exponents", minimum=0)
    if n_exponents > tangent_dimension(toy, individual):
        raise ValueError(f"n_exponents must be <= {tangent_dimension(toy, individual)} (the dimension of the "
                         f"constraint set), got {n_exponents}")

    check_sweep_budget(toy, elr.size, n_seeds, steps, lyapunov, record_states, n_states, n_exponents, max_memory,
                       max_seconds)
    seeds = _as_seeds(seeds)
    theta0, tang0 = _initial(toy, seeds, individual)
    if kernel not in ("exact", "fast"):
        raise ValueError(f"kernel must be 'exact' or 'fast', got {kernel!r}")
    noise_scale, batch = stochastic_options(toy, noise_scale, batch, lyapunov)
    # the canonical kernel has no noise: noisy sweeps of canonical toys run the exact kernel
    fast = _is_canonical_like(toy) and kernel == "fast" and noise_scale == 0 and not batch
    alpha = np.ascontiguousarray(toy.mats[:, 1, 1]) if fast else None
    # Kernels other than the canonical one need the toy.  Numba dispatchers would be rebuilt (and recompiled,
    # cache unused) when unpickled on a Dask worker, so the Rayleigh family's module-level kernels travel by
    # name and an expression toy's by the source of its generated module (cached on disk where it runs).
    shared = not fast and toy.kernels is pgd.RAYLEIGH_KERNELS  # (a minibatch sweep runs them per trajectory)
    if fast:
        generic_toy = None
    elif shared:
        generic_toy = dataclasses.replace(toy, kernels={})
    elif "module_source" in toy.kernels:
        generic_toy = dataclasses.replace(toy, kernels={"module_source": toy.kernels["module_source"]})
    else:
        generic_toy = toy
    arrays = {
        "fast": fast, "elr": elr, "n_seeds": len(seeds), "theta0": theta0, "tang0": tang0, "alpha": alpha,
        "steps": steps, "tail": tail, "individual": individual, "lyapunov": lyapunov, "n_states": n_states,
        "max_period": max_period, "opts": opts, "record_states": record_states, "toy": generic_toy,
        "rayleigh_kernels": shared, "n_exponents": n_exponents, "noise_scale": noise_scale,
        "noise_keys": np.array([run_key(s) for s in seeds], dtype=np.uint64),
        "batch": batch, "batch_keys": np.array([batch_key(s) for s in seeds], dtype=np.uint64),
        "spectrum_vectors": np.stack([initial_vectors(toy.dim, s, n_exponents) for s in seeds])
        if n_exponents else None,
    }
    return SweepPlan(toy=toy, elr=elr, k=k_arr, seeds=seeds, steps=steps, tail=tail, constraint=constraint,
                     lyapunov=lyapunov, record_states=record_states, chunk_size=chunk_size, opts=opts,
                     n_states=n_states, fast=fast, arrays=arrays, n_exponents=n_exponents)
