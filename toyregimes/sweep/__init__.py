"""Grids of runs -> one summary ``xarray.Dataset`` (regime maps).

:func:`sweep` runs every (elr, seed) pair of one toy and reduces tail statistics in the kernel
(:mod:`toyregimes.kernels.batched` for the canonical toy; other toys loop the single-run kernel).
:func:`sweep_grid` repeats it over toy parameters (e.g. heterogeneity of alpha, number of groups)
and stacks the results along named dimensions; :func:`canonical_alpha` builds the alpha vectors.

Seeds: the point (elr_j, s) starts at ``toy.random_point(s)`` with tangent vector
``default_rng([s, 1]).standard_normal(D)`` projected and normalised, exactly as
``simulate(toy, elr_j, seed=s)``; every trajectory is computed independently, so a point's result is
the same bit for bit whatever the chunking, block size or thread count.

A sweep is three steps with one code path: :func:`make_plan` validates the inputs and derives every
per-point input (elr, initial point, tangent vector) deterministically; :func:`run_chunk` runs a
range of points through the kernel (a module-level function, so Dask workers import it); and
:func:`assemble` builds the Dataset from the chunks' raw results.  In process the chunks run in a
loop; with ``scheduler``/``local_cluster`` they run as Dask tasks (:mod:`toyregimes.sweep.distributed`,
imported only then); with ``checkpoint`` each finished chunk is stored (:mod:`toyregimes.sweep.checkpoints`)
so an interrupted sweep resumes.  Which process, order or chunking computed a point never changes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from dataclasses import dataclass, field

import numba
import numpy as np
import xarray as xr

from toyregimes import __version__, analysis, io
from toyregimes._progress import bar_disabled
from toyregimes._validate import as_constraint, as_float_array, as_int, as_positive, as_seed
from toyregimes.kernels import batched, pgd
from toyregimes.simulate import _check_toy
from toyregimes.sweep.checkpoints import ChunkStore
from toyregimes.toys import Toy

__all__ = ["sweep", "sweep_grid", "canonical_alpha", "SWEEP_VARIABLES", "SweepPlan", "make_plan", "run_chunk",
           "assemble"]

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


def canonical_alpha(n, heterogeneity=0.0, total=None) -> np.ndarray:
    """Alpha vector of ``n`` groups with a heterogeneity knob, deterministic.

    ``alpha_i = exp(h z_i)`` with ``z`` evenly spaced on ``[-1, 1]`` (``z = 0`` for ``n = 1``),
    rescaled so that ``sum(alpha) = total`` (default ``n``).  ``h = 0`` gives equal groups; the
    ratio of the largest to the smallest alpha is ``exp(2 h)``.  Keeping the sum fixed keeps the
    threshold ``1/sum(alpha)``, so ``k = elr * total`` is comparable across the map.

    Example: ``canonical_alpha(3, np.log(3) / 2) -> [0.5, 0.866, 1.5] * 3 / 2.866``.
    """
    n = as_int(n, "n", minimum=1)
    h = float(as_float_array(heterogeneity, "heterogeneity"))
    if h < 0:
        raise ValueError(f"heterogeneity must be >= 0, got {h}")
    total = float(n) if total is None else as_positive(total, "total")
    z = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
    alpha = np.exp(h * z)
    return alpha * (total / alpha.sum())


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
    for module in (batched, pgd):
        with open(module.__file__, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class SweepPlan:
    """Validated inputs of a sweep and everything derived from them deterministically (:func:`make_plan`).

    Point ``p`` is ``(elr[p // n_seeds], seeds[p % n_seeds])`` (seed fastest); chunk ``i`` is points
    ``i * chunk_size .. min(n_points, (i + 1) * chunk_size) - 1``.  ``arrays`` holds all that
    :func:`run_chunk` needs (numpy arrays and scalars; the toy itself only for the generic fallback), so
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
        }


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
    **criteria,
) -> SweepPlan:
    """Validate the inputs of :func:`sweep` (same arguments) and derive the per-seed initial points.

    Raises ``ValueError`` naming the argument on bad input; computes nothing expensive.
    Example: ``make_plan(canonical([1, 2]), k=[0.5, 2.0], seeds=2).n_points == 4``.
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
    seeds = _as_seeds(seeds)
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

    theta0, tang0 = _initial(toy, seeds, individual)
    fast = _is_canonical_like(toy)
    alpha = np.ascontiguousarray(toy.mats[:, 1, 1]) if fast else None
    # The generic fallback needs the toy.  Its Numba dispatchers would be rebuilt (and recompiled, cache
    # unused) when unpickled on a Dask worker, so the Rayleigh family's module-level kernels travel by name.
    shared = not fast and toy.kernels is pgd.RAYLEIGH_KERNELS
    generic_toy = None if fast else dataclasses.replace(toy, kernels={}) if shared else toy
    arrays = {
        "fast": fast, "elr": elr, "n_seeds": len(seeds), "theta0": theta0, "tang0": tang0, "alpha": alpha,
        "steps": steps, "tail": tail, "individual": individual, "lyapunov": lyapunov, "n_states": n_states,
        "max_period": max_period, "opts": opts, "record_states": record_states, "toy": generic_toy,
        "rayleigh_kernels": shared,
    }
    return SweepPlan(toy=toy, elr=elr, k=k_arr, seeds=seeds, steps=steps, tail=tail, constraint=constraint,
                     lyapunov=lyapunov, record_states=record_states, chunk_size=chunk_size, opts=opts,
                     n_states=n_states, fast=fast, arrays=arrays)


def run_chunk(arrays: dict, lo: int, hi: int, threads: int | None = None) -> dict:
    """Run points ``lo .. hi - 1`` of a plan (``SweepPlan.arrays``) and return their raw results.

    Module-level so that Dask workers import it.  Returns a dict of numpy arrays whose leading
    dimension is the ``hi - lo`` points (names and shapes: ``SweepPlan.chunk_spec``).  Every
    trajectory is computed independently, so the result for a point does not depend on ``lo``, ``hi``,
    the thread count or the process.  ``threads`` sets Numba's thread count for this call only (the
    Dask path uses 1: the cluster provides the parallelism).

    Example: ``run_chunk(make_plan(canonical([1]), elr=[0.1]).arrays, 0, 8)["mean_loss"].shape == (8,)``.
    """
    if threads is None:
        return _run_chunk(arrays, lo, hi)
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        return _run_chunk(arrays, lo, hi)
    finally:
        numba.set_num_threads(old)


def _run_chunk(arrays, lo, hi):
    n_s = arrays["n_seeds"]
    steps, tail, individual, lyapunov = arrays["steps"], arrays["tail"], arrays["individual"], arrays["lyapunov"]
    n_states, max_period, opts = arrays["n_states"], arrays["max_period"], arrays["opts"]
    alpha, record_states = arrays["alpha"], arrays["record_states"]
    idx = np.arange(lo, hi)
    e = np.ascontiguousarray(arrays["elr"][idx // n_s])
    th = arrays["theta0"][:, idx % n_s]
    tv = arrays["tang0"][:, idx % n_s]
    if arrays["fast"]:
        out = batched.canonical_sweep(
            np.ascontiguousarray(th[0::2]), np.ascontiguousarray(th[1::2]),
            np.ascontiguousarray(tv[0::2]), np.ascontiguousarray(tv[1::2]),
            e, alpha, steps, tail, individual, lyapunov, n_states, max_period,
            float(opts["period_tol"]), float(opts["period_rtol"]), BLOCK, bool(record_states),
        )
        ml, sl, mc, ma, msq, r2lo, r2hi, ly, per, stat, fx, fy, st, lse, lh1, lh2, rh, re = out
        chunk = dict(mean_loss=ml, std_loss=sl, mean_cos_angle=mc, rms_step=ma,
                     mean_sq_norm=msq.T, min_r2=r2lo.T, max_r2=r2hi.T, lyapunov=ly,
                     period=per, status=stat, lyapunov_se=lse, loss_first_half=lh1, loss_second_half=lh2,
                     residual_head=rh, residual_end=re, sharpness_c=np.full(hi - lo, np.nan))
        if record_states:
            final = np.empty((hi - lo, 2 * fx.shape[0]))
            final[:, 0::2] = fx.T
            final[:, 1::2] = fy.T
            chunk["states"] = st
            chunk["final"] = final
        return chunk
    toy = arrays["toy"]
    pgd_run = pgd.RAYLEIGH_KERNELS["pgd_run"] if arrays["rayleigh_kernels"] else toy.kernels["pgd_run"]
    states = np.full((hi - lo, n_states, toy.dim), np.nan) if record_states else None
    final = np.full((hi - lo, toy.dim), np.nan) if record_states else None
    chunk = _generic_chunk(toy, e, th, tv, steps, tail, individual, lyapunov, n_states, opts, states, final, 0,
                           pgd_run)
    if record_states:
        chunk["states"] = states
        chunk["final"] = final
    return chunk


def assemble(plan: SweepPlan, chunks) -> xr.Dataset:
    """The sweep Dataset from the results of every chunk of ``plan``, in chunk order.

    Regime labels, scores and ``c`` extremes are derived here from the raw per-point results, so they
    are the same whichever process computed the chunks.
    """
    chunks = list(chunks)
    if len(chunks) != plan.n_chunks:
        raise ValueError(f"chunks must hold the {plan.n_chunks} chunks of the plan, got {len(chunks)}")
    res = {name: np.concatenate([c[name] for c in chunks]) for name in plan.chunk_spec()}
    toy, elr, seeds, opts = plan.toy, plan.elr, plan.seeds, plan.opts
    steps, n_states, record_states = plan.steps, plan.n_states, plan.record_states
    n_e, n_s, n_g = elr.size, len(seeds), toy.n_groups
    n_pts = plan.n_points
    a_sum = float(np.sum(toy.alpha_eff))
    states = res.pop("states") if record_states else None
    final = res.pop("final") if record_states else None

    ok = res["status"] == batched.STATUS_OK
    # Period 1 with a non-negligible RMS move is not a fixed point (analysis.summary's rule, with the
    # chord |theta_{t+1} - theta_t| for the angle: they differ by a factor 1 + O(angle^2)).
    res["period"][(res["period"] == 1) & ~(res["rms_step"] < opts["period_tol"])] = 0
    res["period"][~ok] = 0
    elr_pt = elr[np.arange(n_pts) // n_s]
    a_eff = np.asarray(toy.alpha_eff, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        c_lo = elr_pt[:, None] * a_eff[None, :] / res["max_r2"]
        c_hi = elr_pt[:, None] * a_eff[None, :] / res["min_r2"]
    min_c = np.min(c_lo, axis=1)
    max_c = np.max(c_hi, axis=1)
    if not np.all(np.isfinite(a_eff)):  # toys without alpha_eff: half the sphere sharpness times elr
        max_c = res["sharpness_c"].copy()
    min_loss = toy.min_loss if np.isfinite(toy.min_loss) else 0.0
    criteria = {key: opts[key] for key in analysis.DEFAULTS if key != "max_period"}
    regime = np.array([
        analysis.classify_stats(
            status="ok" if ok[p] else "diverged_numerically",
            mean_loss=res["mean_loss"][p], mean_cos_angle=res["mean_cos_angle"][p],
            period=int(res["period"][p]), lyapunov=res["lyapunov"][p], lyapunov_se=res["lyapunov_se"][p],
            max_c=max_c[p], residual_head=res["residual_head"][p], residual_end=res["residual_end"][p],
            loss_first_half=res["loss_first_half"][p], loss_second_half=res["loss_second_half"][p],
            random_level=toy.random_level, min_loss=min_loss, **criteria,
        )
        for p in range(n_pts)
    ])
    shape = (n_e, n_s)
    status = np.where(ok, "ok", "diverged_numerically")
    data = {
        "mean_loss": (("elr", "seed"), res["mean_loss"].reshape(shape)),
        "std_loss": (("elr", "seed"), res["std_loss"].reshape(shape)),
        "mean_cos_angle": (("elr", "seed"), res["mean_cos_angle"].reshape(shape)),
        "rms_step": (("elr", "seed"), res["rms_step"].reshape(shape)),
        "mean_sq_norm": (("elr", "seed", "group"), res["mean_sq_norm"].reshape(*shape, n_g)),
        "min_c": (("elr", "seed"), min_c.reshape(shape)),
        "max_c": (("elr", "seed"), max_c.reshape(shape)),
        "lyapunov": (("elr", "seed"), res["lyapunov"].reshape(shape)),
        "period": (("elr", "seed"), res["period"].reshape(shape)),
        "status": (("elr", "seed"), status.reshape(shape)),
        "regime": (("elr", "seed"), regime.reshape(shape)),
        "score": (
            ("elr", "seed"),
            analysis.signed_score(
                mean_loss=res["mean_loss"], period=res["period"], max_c=max_c,
                random_level=toy.random_level, min_loss=min_loss, converged=regime == "convergence",
            ).reshape(shape),
        ),
        **{
            name: (("elr", "seed"), res[name].reshape(shape))
            for name in ("lyapunov_se", "residual_head", "residual_end", "loss_first_half", "loss_second_half")
        },
    }
    if record_states:
        data["tail_state"] = (("elr", "seed", "tail_step", "component"), states.reshape(*shape, n_states, toy.dim))
        data["final_state"] = (("elr", "seed", "component"), final.reshape(*shape, toy.dim))
    coords = {
        "elr": elr,
        "seed": np.asarray(seeds, dtype=np.int64),
        "group": np.arange(n_g, dtype=np.int64),
    }
    if plan.k is not None:
        coords["k"] = ("elr", plan.k)  # exactly as given: grids over toys must align on k
    elif np.isfinite(a_sum):
        coords["k"] = ("elr", elr * a_sum)
    if record_states:
        coords["tail_step"] = np.arange(steps - n_states, steps, dtype=np.int64)
    attrs = {
        "toyregimes_kind": "sweep",
        "toyregimes_version": __version__,
        "toy": toy.spec_json,
        "toy_kind": toy.kind,
        "dims": list(toy.dims),
        "alpha_eff": a_eff.tolist(),
        "random_level": toy.random_level,
        "min_loss": min_loss,
        "steps": steps,
        "tail": plan.tail,
        "constraint": plan.constraint,
        "lyapunov": int(plan.lyapunov),
        "seeds": list(seeds),
        "init": "random",
        "kernel": "canonical_batched" if plan.fast else "single_run_loop",
        **{f"criterion_{key}": val for key, val in opts.items()},
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _run_local(plan: SweepPlan, pending: list, finished) -> None:
    """Run the pending chunks in this process, calling ``finished(index, arrays)`` for each.

    Consecutive pending chunks share one kernel call until it holds at least one block per Numba
    thread, so small chunks (fine-grained checkpoints) still keep every thread busy; the call's
    results are split back into chunks (trajectories are independent: nothing changes).
    """
    target = BLOCK * numba.get_num_threads()
    i = 0
    while i < len(pending):
        lo, hi = plan.bounds(pending[i])
        j = i + 1
        while j < len(pending) and pending[j] == pending[j - 1] + 1 and hi - lo < target:
            hi = plan.bounds(pending[j])[1]
            j += 1
        out = run_chunk(plan.arrays, lo, hi)
        for index in pending[i:j]:
            a, b = plan.bounds(index)
            finished(index, {name: val[a - lo : b - lo] for name, val in out.items()})
        i = j


def _check_scheduler(scheduler, local_cluster) -> None:
    if local_cluster is not None:
        if scheduler is not None:
            raise ValueError("give at most one of scheduler and local_cluster")
        as_int(local_cluster, "local_cluster", minimum=1)
    if scheduler is None or (isinstance(scheduler, str) and scheduler.strip()):
        return
    if not (hasattr(scheduler, "submit") and hasattr(scheduler, "scatter")):
        raise ValueError(
            f"scheduler must be None, an address such as 'tcp://host:8786' or a dask.distributed.Client, "
            f"got {scheduler!r}"
        )


def _distributed_module():
    try:
        from toyregimes.sweep import distributed
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in ("dask", "distributed"):
            raise ImportError(
                f"running a sweep on Dask needs dask.distributed ({exc}); install it with "
                "pip install 'toyregimes[distributed]'"
            ) from exc
        raise
    return distributed


def sweep(
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
    progress=None,
    record_states: bool = False,
    scheduler=None,
    local_cluster=None,
    checkpoint=None,
    **criteria,
) -> xr.Dataset:
    """Run PGD on the sphere for every (elr, seed) pair and summarise the tail of each run.

    Parameters
    ----------
    toy : Toy
    elr : 1-d array of float > 0
        Effective learning rates (the ``elr`` dimension).  Alternatively give ``k``.
    seeds : int or list of int
        ``n`` -> seeds ``0 .. n-1``; a list -> those seeds.  Point (elr, s) starts where
        ``simulate(toy, elr, seed=s)`` does.
    steps : int >= 1
    tail : int, 1 <= tail <= steps
        Statistics are over the last ``tail`` steps (the first ``steps - tail`` are a transient).
    constraint : {"total", "individual"}
    lyapunov : bool
        Propagate a tangent vector with the exact Jacobian of the PGD step (costs ~2x).
    k : 1-d array of float > 0, optional
        Dimensionless ELR instead of ``elr``: ``elr = k / sum(alpha_eff)``.
    chunk_size : int
        Trajectories per chunk: the unit of a Dask task and of a checkpoint file (progress
        granularity and memory; never changes results).
    progress : bool or None
        tqdm bar over trajectories; None shows it only when stderr is a terminal.
    record_states : bool
        Also store the last ``2 * max_period`` states of every run (``tail_state``) and the final
        state (``final_state``).
    scheduler : None, str or dask.distributed.Client
        None runs in this process (Numba threads).  An address (``"tcp://host:8786"``) or a Client
        runs every chunk as a task on that Dask cluster (the ``distributed`` extra); the results are
        the same bit for bit.  A Client is used as is, an address is connected to and closed after.
    local_cluster : int >= 1, optional
        Start a ``dask.distributed.LocalCluster`` of this many worker processes (one thread each) for
        this sweep and close it after.  Exclusive with ``scheduler``.
    checkpoint : path or :class:`toyregimes.sweep.checkpoints.ChunkStore`, optional
        Directory where every finished chunk is written atomically; chunks already there (from an
        interrupted run with the same inputs) are loaded, checked and not recomputed.  A directory
        started with other inputs, or a corrupt or foreign chunk file, raises ``ValueError``.  The
        directory is left in place (the CLI deletes it once the result file is written).
    **criteria
        Regime criteria overriding :data:`toyregimes.analysis.DEFAULTS`.

    Returns
    -------
    xarray.Dataset
        Dims ``(elr, seed, group)``, coordinate ``k = elr * sum(alpha_eff)`` along ``elr``.
        ``mean_loss``, ``std_loss`` (population), ``mean_cos_angle``, ``rms_step`` (root mean square of
        the chord ``|theta_{t+1} - theta_t|``, ~ the RMS angular update) and ``mean_sq_norm`` (per group)
        over the tail;
        ``min_c``/``max_c``: extremes over the tail and the groups of ``c_i = elr * alpha_eff_i / r_i^2``;
        ``lyapunov`` (NaN unless computed);
        ``period`` (``analysis.detect_period`` of the last ``2 * max_period`` states, 0 = none);
        ``status`` (``"ok"`` / ``"diverged_numerically"``); ``regime`` from
        :func:`toyregimes.analysis.classify_stats`, with the evidence it was decided on:
        ``lyapunov_se`` (standard error of the exponent from 8 blocks of the tail),
        ``residual_head``/``residual_end`` (relative period residual at the detected period, at the
        head and at the end of the tail; NaN unless the period is >= 2), ``loss_first_half`` /
        ``loss_second_half`` (mean loss over the two halves of the tail) and ``max_c`` (stability of a
        minimum; for toys without ``alpha_eff`` half the largest recorded sphere sharpness times
        ``elr``); ``score`` the signed regime score of :func:`toyregimes.analysis.signed_score` (< 0 for
        runs labelled convergence, otherwise the fraction of the way to the random level).
        ``attrs`` hold every input.

    Example: ``res = sweep(canonical([1, 2, 3]), k=np.geomspace(0.1, 10, 50), seeds=4, steps=5000,
    tail=1000)``; on two local worker processes: add ``local_cluster=2``.
    """
    plan = make_plan(toy, elr, seeds, steps, tail, constraint, lyapunov, k=k, chunk_size=chunk_size,
                     record_states=record_states, **criteria)
    _check_scheduler(scheduler, local_cluster)
    store = None
    done = {}
    if checkpoint is not None:
        store = checkpoint if isinstance(checkpoint, ChunkStore) else ChunkStore(checkpoint)
        done = store.open(plan.fingerprint_params(), [plan.bounds(i) for i in range(plan.n_chunks)],
                          plan.chunk_spec())
    pending = [i for i in range(plan.n_chunks) if i not in done]
    resumed = sum(plan.bounds(i)[1] - plan.bounds(i)[0] for i in done)

    with _progress(plan.n_points, progress, "sweep", initial=resumed) as bar:

        def finished(index, arrays):
            if store is not None:
                store.write(index, arrays)
            done[index] = arrays
            lo, hi = plan.bounds(index)
            bar.update(hi - lo)

        if scheduler is None and local_cluster is None:
            _run_local(plan, pending, finished)
        elif pending:
            _distributed_module().run(plan, pending, finished, scheduler=scheduler, local_cluster=local_cluster)
    return assemble(plan, [done[i] for i in range(plan.n_chunks)])


def _generic_chunk(toy, e, th, tv, steps, tail, individual, lyapunov, n_states, opts, states, final, lo,
                   pgd_run=None):
    """Fallback for toys without a batched kernel: the single-run kernel, one trajectory at a time.

    Statistics and evidence are reduced from its per-step records with the same definitions as the
    batched kernel (population std, cos of the recorded angle, exponent = tail log growth / tail,
    block standard error, halves, head and end residuals); ``sharpness_c`` is half the largest
    recorded sphere sharpness over the tail times ``elr`` (the stability measure of toys without
    ``alpha_eff``).
    """
    m = e.size
    out = {name: np.full(m, np.nan) for name in ("mean_loss", "std_loss", "mean_cos_angle", "rms_step",
                                                   "lyapunov", *EVIDENCE)}
    out.update({
        "mean_sq_norm": np.full((m, toy.n_groups), np.nan), "min_r2": np.full((m, toy.n_groups), np.nan),
        "max_r2": np.full((m, toy.n_groups), np.nan), "period": np.zeros(m, dtype=np.int64),
        "status": np.zeros(m, dtype=np.int64),
    })
    head_start = min(steps - tail, steps - n_states)
    for c in range(m):
        rec = (pgd_run or toy.kernels["pgd_run"])(
            np.ascontiguousarray(th[:, c]), np.ascontiguousarray(tv[:, c]), float(e[c]), steps, 1, individual,
            lyapunov, n_states, toy.offsets, toy.mats, None, True, head_start,
        )
        loss, sq, _geff, angle, sharp, _tsh, growth, tail_states, theta, status, _fail, head_states = rec
        if states is not None:
            states[lo + c] = tail_states
            final[lo + c] = theta
        if status != batched.STATUS_OK:
            out["status"][c] = batched.STATUS_NONFINITE
            continue
        w = slice(steps - tail, steps)
        out["mean_loss"][c] = loss[w].mean()
        out["std_loss"][c] = loss[w].std()
        out["mean_cos_angle"][c] = np.cos(angle[w]).mean()
        out["rms_step"][c] = np.sqrt(np.mean((2.0 * np.sin(0.5 * angle[w])) ** 2))
        out["mean_sq_norm"][c] = sq[w].mean(axis=0)
        out["min_r2"][c] = sq[w].min(axis=0)
        out["max_r2"][c] = sq[w].max(axis=0)
        h = tail // 2
        out["loss_first_half"][c] = loss[w][:h].mean() if h else np.nan
        out["loss_second_half"][c] = loss[w][h:].mean()
        out["sharpness_c"][c] = 0.5 * float(e[c]) * np.max(sharp[w])
        if lyapunov:
            out["lyapunov"][c] = growth[w].sum() / tail
            out["lyapunov_se"][c] = analysis.block_exponents(growth[w])[1]
        p = analysis.detect_period(tail_states, opts["period_tol"], opts["period_rtol"], int(opts["max_period"]))
        out["period"][c] = p
        out["residual_head"][c] = analysis.relative_residual(head_states, p)
        out["residual_end"][c] = analysis.relative_residual(tail_states, p)
    return out


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
        Passed to :func:`sweep` (seeds, steps, tail, constraint, lyapunov, ...).

    Returns
    -------
    xarray.Dataset
        The variables of :func:`sweep` with dims ``(elr | k, seed, *params, group)``; ``group`` is
        padded with NaN where toys have fewer groups.  ``attrs["toy"]`` is a JSON list of the
        toy specs in C order of the grid, ``attrs["grid_params"]`` a JSON list of the grid dims.

    Example, a k x heterogeneity map of three groups::

        sweep_grid(lambda h: canonical(canonical_alpha(3, h)), {"heterogeneity": [0, 0.5, 1]},
                   k=np.geomspace(0.5, 5, 40), seeds=4, steps=5000, tail=1000)
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
    for combo in combos:
        toy = make_toy(**dict(zip(names, combo, strict=True)))
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
    for key in ("toy_kind", "dims", "alpha_eff", "random_level", "min_loss", "kernel"):
        attrs.pop(key, None)
    stacked.attrs = attrs
    return stacked


def _multiindex(names, combos):
    import pandas as pd

    return pd.MultiIndex.from_tuples(combos, names=names)
