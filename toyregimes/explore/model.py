"""Interactive exploration: the models behind the Jupyter explorer and the ``toyregimes explore`` window.

Two pure-Python models hold the settings, validate them and compute everything the panels draw:

* :class:`ExplorerModel` -- PGD on the sphere at fixed ELR (:func:`toyregimes.simulate`): the loss with
  its equilibrium level ``A/2 - 1/(2 elr)``, squared group norms ``r_i^2`` with the split
  ``alpha_i / A``, individual ELRs ``eta_i = elr / r_i^2`` with their thresholds ``1/alpha_i``, the
  groups' directions on their circles (canonical toy) and the current point on the 1-D phase diagram
  (a small :func:`toyregimes.sweep` computed once per toy and constraint, then cached);
* :class:`WeightDecayModel` -- unconstrained training with weight decay (:func:`toyregimes.train`):
  the run and its equal-``gamma`` family ``(c lr, wd / c)``, ``gamma = lr wd``.

The matplotlib views (:mod:`toyregimes.explore.views`) update their artists in place; the front ends
(:mod:`toyregimes.explore.widgets`) are :func:`explore` (ipywidgets, the ``interactive`` extra) and
:func:`explore_window` (matplotlib widgets, no extra dependency).  Both drive the same
:class:`~toyregimes.explore.controller.Controller`, which turns invalid input into a visible message
instead of an exception.

Example (Jupyter)::

    import toyregimes as tr
    tr.explore()                        # or tr.explore(tr.toys.canonical([1, 5]), k=2.5)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from toyregimes._validate import as_alpha, as_constraint, as_float_array, as_int, as_seed

__all__ = [
    "ExplorerModel",
    "WeightDecayModel",
    "SphereData",
    "PhaseBackground",
    "WeightDecayData",
    "parse_alpha",
    "format_signed",
    "round_k",
    "K_RANGE",
    "STEPS_RANGE",
    "MAX_GROUPS",
]

K_RANGE = (0.02, 50.0)  # dimensionless ELR k = elr * sum(alpha); the threshold is k = 1
STEPS_RANGE = (10, 200_000)
MAX_GROUPS = 10  # artists are preallocated for this many groups (no axes are created on updates)
HETEROGENEITY_RANGE = (0.0, 3.0)
LR_RANGE = (1e-3, 1.0)
WD_RANGE = (1e-5, 0.1)
EQUAL_GAMMA_FACTORS = (0.25, 0.5, 2.0, 4.0)
# The phase-diagram background: small enough to be computed in well under a second, once per toy.
PHASE_K = np.geomspace(*K_RANGE, 120)
PHASE_SEEDS, PHASE_STEPS, PHASE_TAIL = 2, 3000, 1000
PHASE_GENERIC = (40, 1, 2000, 700)  # (num k, seeds, steps, tail) for non-canonical toys (slower kernel)


def parse_alpha(text) -> np.ndarray:
    """Coefficients alpha from ``"1, 2, 3"`` / ``"1 2 3"`` or a sequence; ``ValueError`` names the problem.

    Examples
    --------
    >>> parse_alpha("1, 2 3")
    array([1., 2., 3.])
    """
    if isinstance(text, str):
        parts = [p for p in re.split(r"[,\s;]+", text.strip().strip("()[]")) if p]
        if not parts:
            raise ValueError("alpha must list at least one coefficient, e.g. '1, 2, 3'")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"alpha must be numbers separated by commas or spaces, got {text!r}") from None
    else:
        values = text
    alpha = as_alpha(values)
    if alpha.size > MAX_GROUPS:
        raise ValueError(f"alpha may have at most {MAX_GROUPS} groups in the explorer, got {alpha.size}")
    return alpha


def format_signed(x: float, digits: int = 3) -> str:
    """``x`` with its sign and ``digits`` decimals, never ``-0.000``: tiny values keep their significant digits.

    A Lyapunov exponent of ``-3e-5`` (a quasi-periodic orbit) printed as ``-0.000`` reads like a typo;
    ``-3.0e-05`` says what was measured.

    Examples
    --------
    >>> format_signed(0.4271), format_signed(-3e-5), format_signed(0.0)
    ('+0.427', '-3.0e-05', '0')
    """
    x = float(x)
    if x == 0.0 or not np.isfinite(x):
        return f"{x:g}" if x != 0.0 else "0"
    if abs(x) < 0.5 * 10.0**-digits:  # would round to (-)0.000
        return f"{x:+.1e}"
    return f"{x:+.{digits}f}"


def round_k(k: float) -> float:
    """``k`` from a log slider (``10**x``, e.g. 2.3988329190194904) rounded to 4 significant digits (2.399).

    The explorer runs the rounded value, so the number shown in every box is the one simulated.
    """
    return float(f"{float(k):.4g}")


def _in_range(value, name: str, lo: float, hi: float) -> float:
    arr = as_float_array(value, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single number, got {value!r}")
    x = float(arr)
    if not lo <= x <= hi:
        raise ValueError(f"{name} must be in [{lo:g}, {hi:g}], got {x:g}")
    return x


def _int_in_range(value, name: str, lo: int, hi: int) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}") from None
    x = as_int(value, name, minimum=lo)
    if x > hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {x}")
    return x


def _number(value, name: str):
    """Text boxes hand over strings: turn them into numbers with a message naming the field."""
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    return value


# ----------------------------------------------------------------------------- sphere model
@dataclass
class PhaseBackground:
    """The 1-D phase diagram behind the current point: tail mean loss over the random level vs ``k``."""

    k: np.ndarray  # (num,)
    level: np.ndarray  # (num, seeds): mean loss / random level (0 at the minima, 1 at random directions)
    regime: np.ndarray  # (num, seeds) labels of toyregimes.analysis
    theory_k: np.ndarray
    theory_level: np.ndarray | None  # max(0, 1 - 1/k) under the total constraint, else None


@dataclass
class SphereData:
    """Everything the sphere panels draw for one setting (see :meth:`ExplorerModel.compute`)."""

    alpha: np.ndarray
    k: float
    elr: float
    constraint: str
    step: np.ndarray
    loss: np.ndarray
    sq_norm: np.ndarray  # (steps, n)
    individual_elr: np.ndarray  # (steps, n)
    eq_loss: float  # theory level of the loss (NaN when there is none)
    random_level: float
    eq_sq_norm: np.ndarray | None  # alpha_i / A under the total constraint (canonical-like toys)
    thresholds: np.ndarray  # 1 / alpha_i
    directions: np.ndarray | None  # (tail, n, 2) unit directions of the last states (2-d groups)
    final_direction: np.ndarray | None  # (n, 2)
    phi_star: float  # angle of the 2-cycle, cos 2 phi* = 1/k (NaN if k <= 1 or not total)
    phase: PhaseBackground
    current_level: float  # this run's tail mean loss / random level
    summary: dict
    title: str


class ExplorerModel:
    """Settings of the sphere explorer, their validation, and the data of every panel.

    Parameters
    ----------
    toy : Toy, optional
        A canonical toy (its alpha can then be changed) or a Rayleigh toy (fixed; alpha means
        ``alpha_eff``).  Default: ``canonical(alpha)``.
    alpha : sequence of float > 0 or str
        Coefficients of the canonical toy (ignored when ``toy`` is given).
    k : float in K_RANGE
        Dimensionless ELR, ``elr = k / sum(alpha)``.
    constraint : {"total", "individual"}
    seed : int >= 0
    steps : int in STEPS_RANGE

    Examples
    --------
    >>> m = ExplorerModel(alpha=[1, 2, 3], k=1.5)
    >>> m.set(k=3)
    >>> data = m.compute()  # doctest: +SKIP
    """

    def __init__(self, toy=None, alpha=(1.0, 2.0, 3.0), k=1.5, constraint="total", seed=0, steps=5000):
        from toyregimes import toys

        if toy is not None:
            if not isinstance(toy, toys.Toy):
                raise ValueError(f"toy must be a toyregimes Toy (e.g. toys.canonical([1, 2])), got {toy!r}")
            if not np.all(np.isfinite(toy.alpha_eff)):
                raise ValueError("explore needs a toy with known alpha_eff (canonical or rayleigh), not a custom toy")
            if toy.n_groups > MAX_GROUPS:
                raise ValueError(f"explore draws at most {MAX_GROUPS} groups, the toy has {toy.n_groups}")
            if toy.kind == "canonical":
                alpha = toy.spec["alpha"]
        self.fixed_toy = toy if toy is not None and toy.kind != "canonical" else None
        self._phase_cache: dict = {}
        self._toy_cache: dict = {}
        self.alpha = parse_alpha(alpha) if self.fixed_toy is None else np.asarray(toy.alpha_eff, dtype=float)
        self.k = _in_range(k, "k", *K_RANGE)
        self.constraint = as_constraint(constraint)
        self.seed = as_seed(seed)
        self.steps = _int_in_range(steps, "steps", *STEPS_RANGE)

    # ---------------------------------------------------------------- settings
    @property
    def editable_alpha(self) -> bool:
        """False for a fixed (non-canonical) toy."""
        return self.fixed_toy is None

    @property
    def toy(self):
        if self.fixed_toy is not None:
            return self.fixed_toy
        key = tuple(self.alpha.tolist())
        if key not in self._toy_cache:
            from toyregimes import toys

            self._toy_cache[key] = toys.canonical(self.alpha)
        return self._toy_cache[key]

    @property
    def elr(self) -> float:
        """``elr = k / sum(alpha)``."""
        return self.k / float(np.sum(self.alpha))

    def settings(self) -> dict:
        return {"alpha": self.alpha.tolist(), "k": self.k, "constraint": self.constraint, "seed": self.seed,
                "steps": self.steps}

    def set(self, **changes) -> None:
        """Validate and apply ``alpha``, ``groups``/``heterogeneity``, ``k``, ``elr``, ``constraint``, ``seed``,
        ``steps``; all or nothing: an invalid value raises ``ValueError`` and changes nothing.

        ``groups`` and ``heterogeneity`` (given together or one with the current other) set
        ``alpha = canonical_alpha(groups, heterogeneity)`` (sum ``groups``).
        """
        allowed = {"alpha", "groups", "heterogeneity", "k", "elr", "constraint", "seed", "steps"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"unknown explorer settings {sorted(unknown)}; allowed {sorted(allowed)}")
        new = {}
        if {"alpha", "groups", "heterogeneity"} & set(changes) and not self.editable_alpha:
            raise ValueError(f"alpha is fixed by the {self.fixed_toy.kind} toy given to the explorer")
        if "alpha" in changes:
            new["alpha"] = parse_alpha(changes["alpha"])
        if "groups" in changes or "heterogeneity" in changes:
            from toyregimes.sweep import canonical_alpha

            n = _int_in_range(changes.get("groups", self.alpha.size), "groups", 1, MAX_GROUPS)
            h = _in_range(_number(changes.get("heterogeneity", 0.0), "heterogeneity"), "heterogeneity",
                          *HETEROGENEITY_RANGE)
            new["alpha"] = canonical_alpha(n, h)
        alpha = new.get("alpha", self.alpha)
        if "k" in changes and "elr" in changes:
            raise ValueError("give k or elr, not both")
        if "k" in changes:
            new["k"] = _in_range(_number(changes["k"], "k"), "k", *K_RANGE)
        if "elr" in changes:
            a_sum = float(np.sum(alpha))
            elr = _in_range(_number(changes["elr"], "elr"), "elr", K_RANGE[0] / a_sum, K_RANGE[1] / a_sum)
            new["k"] = elr * a_sum
        if "constraint" in changes:
            new["constraint"] = as_constraint(changes["constraint"])
        if "seed" in changes:
            seed = changes["seed"]
            new["seed"] = as_seed(_int_in_range(seed, "seed", 0, 2**63 - 1) if isinstance(seed, str) else seed)
        if "steps" in changes:
            new["steps"] = _int_in_range(changes["steps"], "steps", *STEPS_RANGE)
        for key, value in new.items():
            setattr(self, key, value)

    # ---------------------------------------------------------------- computation
    def run(self):
        """The current run, :func:`toyregimes.simulate` with the current settings (and ``lyapunov=True``)."""
        from toyregimes.simulate import simulate

        # no panel shows the sharpness: skipping its per-step eigen-solve halves the update time
        return simulate(self.toy, elr=self.elr, steps=self.steps, constraint=self.constraint, seed=self.seed,
                        lyapunov=True, sharpness=False)

    def phase_background(self) -> PhaseBackground:
        """Small sweep over ``k`` (cached per toy and constraint): the phase diagram behind the current point."""
        toy = self.toy
        key = (toy.spec_json, self.constraint)
        if key not in self._phase_cache:
            from toyregimes.sweep import sweep

            if toy.kind == "canonical":
                k, seeds, steps, tail = PHASE_K, PHASE_SEEDS, PHASE_STEPS, PHASE_TAIL
            else:
                num, seeds, steps, tail = PHASE_GENERIC
                k = np.geomspace(*K_RANGE, num)
            # the exact kernel: one compiled kernel for every number of groups, so a new n on the groups
            # slider costs no compilation (the fast canonical kernel compiles per n, 20-60 s)
            ds = sweep(toy, k=k, seeds=seeds, steps=steps, tail=tail, constraint=self.constraint, lyapunov=True,
                       progress=False, kernel="exact")
            half = toy.random_level - (toy.min_loss if np.isfinite(toy.min_loss) else 0.0)
            theory_k = np.geomspace(*K_RANGE, 400)
            theory_level = np.clip(1.0 - 1.0 / theory_k, 0.0, None) if self._exact_theory() else None
            self._phase_cache[key] = PhaseBackground(
                k=np.asarray(k, dtype=float), level=(ds["mean_loss"].values - toy.min_loss) / half,
                regime=ds["regime"].values, theory_k=theory_k, theory_level=theory_level,
            )
        return self._phase_cache[key]

    def _exact_theory(self) -> bool:
        # The closed forms A/2 - 1/(2 elr), r_i^2 = alpha_i / A hold for the canonical toy, total constraint.
        return self.toy.kind == "canonical" and self.constraint == "total"

    def compute(self, run=None) -> SphereData:
        """Run :meth:`run` (unless given) and return the data of every panel."""
        from toyregimes import analysis, theory
        from toyregimes.plot import toy_label

        toy = self.toy
        run = self.run() if run is None else run
        alpha = self.alpha
        exact = self._exact_theory()
        tail = max(1, self.steps // 2)
        stats = analysis.summary(run, tail)
        if exact:
            eq_loss = float(theory.equilibrium_loss(alpha, self.elr))
        elif toy.kind == "canonical":
            eq_loss = theory.individual_limit_loss(alpha, self.elr, run.sq_norm.values[0])
        else:
            eq_loss = float("nan")
        directions = final = None
        if toy.kind == "canonical":
            tail_states = run.tail_state.values[-64:]  # (t, n, 2)
            directions = tail_states / np.linalg.norm(tail_states, axis=2, keepdims=True)
            fin = run.final_state.values
            final = fin / np.linalg.norm(fin, axis=1, keepdims=True)
        phi_star = float(0.5 * np.arccos(1.0 / self.k)) if exact and self.k > 1 else float("nan")
        half = toy.random_level - (toy.min_loss if np.isfinite(toy.min_loss) else 0.0)
        min_loss = toy.min_loss if np.isfinite(toy.min_loss) else 0.0
        lyap = stats["lyapunov"]
        period = f", period {stats['period']}" if stats["period"] else ""
        # two lines: with 10 groups the alpha list alone fills the figure's width
        label = (f"canonical toy, α = ({', '.join(f'{a:.3g}' for a in alpha)})" if toy.kind == "canonical"
                 else toy_label(toy.spec_json))
        title = (
            f"{label}, {self.constraint} constraint, seed {self.seed}\n"
            f"k = {self.k:.4g}, elr = {self.elr:.4g} → {stats['regime'].replace('_', ' ')}{period}"
            + ("" if lyap is None else f", Lyapunov {format_signed(lyap)}")
        )
        return SphereData(
            alpha=alpha, k=self.k, elr=self.elr, constraint=self.constraint,
            step=run.step.values, loss=run.loss.values, sq_norm=run.sq_norm.values,
            individual_elr=run.individual_elr.values, eq_loss=eq_loss, random_level=toy.random_level,
            eq_sq_norm=alpha / alpha.sum() if exact else None, thresholds=1.0 / alpha,
            directions=directions, final_direction=final, phi_star=phi_star, phase=self.phase_background(),
            current_level=(stats["mean_loss"] - min_loss) / half, summary=stats, title=title,
        )


# ----------------------------------------------------------------------------- weight-decay model
@dataclass
class WeightDecayData:
    """The weight-decay panels: the run and its equal-gamma family ``(c lr, wd / c)``."""

    lr: float
    wd: float
    gamma: float
    step: np.ndarray
    loss: np.ndarray
    angle: np.ndarray  # angle between w_t and w_{t+1}
    sphere_elr: np.ndarray
    factors: tuple
    family_loss: np.ndarray  # (len(factors), steps)
    family_angle: np.ndarray
    family_sphere_elr: np.ndarray
    eq_angle: float  # SGD equilibrium angular update arccos(1 - gamma) (with noise; NaN for full batch)
    threshold_elr: float  # 1 / sum(alpha): the sphere's convergence threshold
    title: str


class WeightDecayModel:
    """Settings of the weight-decay tab: SGD with learning rate ``lr`` and weight decay ``wd`` on a toy.

    The run is drawn over its equal-``gamma`` family ``(c lr, wd / c)`` for ``c`` in ``factors``, all
    from the same initial point with the same noise: the members differ early (t << 1/gamma) and
    agree late (t >> 1/gamma) in every scale-free quantity (loss, angular update, sphere ELR
    ``lr/|w|^2``), because only ``gamma = lr wd`` matters at equilibrium (the norm itself scales
    with ``sqrt(c)``).

    Example: ``WeightDecayModel(canonical([1, 2, 3]), lr=0.1, wd=1e-3).compute().gamma == 1e-4``.
    """

    def __init__(self, toy=None, lr=0.1, wd=0.01, steps=5000, seed=0, noise="tangent", noise_scale=0.5,
                 factors=EQUAL_GAMMA_FACTORS):
        from toyregimes import toys

        self.toy = toys.canonical([1.0, 2.0, 3.0]) if toy is None else toy
        self.factors = tuple(float(c) for c in factors)
        self.noise_scale = float(noise_scale)
        self.lr, self.wd, self.steps, self.seed, self.noise = 0.1, 0.01, 5000, 0, "tangent"
        self.set(lr=lr, wd=wd, steps=steps, seed=seed, noise=noise)

    @property
    def gamma(self) -> float:
        return self.lr * self.wd

    def set(self, **changes) -> None:
        """Validate and apply ``lr``, ``wd``, ``steps``, ``seed``, ``noise`` (``"tangent"`` or ``"none"``), ``toy``."""
        allowed = {"lr", "wd", "steps", "seed", "noise", "toy"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"unknown weight-decay settings {sorted(unknown)}; allowed {sorted(allowed)}")
        new = {}
        if "lr" in changes:
            new["lr"] = _in_range(_number(changes["lr"], "lr"), "lr", *LR_RANGE)
        if "wd" in changes:
            new["wd"] = _in_range(_number(changes["wd"], "wd"), "wd", *WD_RANGE)
        if "steps" in changes:
            new["steps"] = _int_in_range(changes["steps"], "steps", *STEPS_RANGE)
        if "seed" in changes:
            seed = changes["seed"]
            new["seed"] = as_seed(_int_in_range(seed, "seed", 0, 2**63 - 1) if isinstance(seed, str) else seed)
        if "noise" in changes:
            noise = changes["noise"]
            if noise in (None, "none"):
                noise = "none"
            elif noise != "tangent":
                raise ValueError(f"noise must be 'tangent' or 'none', got {noise!r}")
            new["noise"] = noise
        if "toy" in changes:
            new["toy"] = changes["toy"]
        lr, wd = new.get("lr", self.lr), new.get("wd", self.wd)
        if lr * wd >= 1.0:  # every member of the equal-gamma family has the same lr * wd
            raise ValueError(f"lr * wd must be < 1 (got {lr * wd:g})")
        for key, value in new.items():
            setattr(self, key, value)

    def _kw(self) -> dict:
        noise = None if self.noise == "none" else self.noise
        return {"noise": noise, "noise_scale": self.noise_scale, "seed": self.seed}

    def run(self, lr=None, wd=None):
        """:func:`toyregimes.train` (SGD) at ``(lr, wd)`` (default: the current settings)."""
        from toyregimes.train import train

        lr = self.lr if lr is None else lr
        wd = self.wd if wd is None else wd
        return train(self.toy, lr, wd, self.steps, **self._kw())

    def compute(self) -> WeightDecayData:
        from toyregimes import theory
        from toyregimes.plot import toy_label

        run = self.run()
        fam = [self.run(c * self.lr, self.wd / c) for c in self.factors]
        gamma = self.gamma
        noise = "full batch" if self.noise == "none" else f"{self.noise} noise {self.noise_scale:g}"
        label = (f"canonical toy, α = ({', '.join(f'{a:.3g}' for a in self.toy.spec['alpha'])})"
                 if self.toy.kind == "canonical" else toy_label(self.toy.spec_json))
        title = (f"SGD on the {label}, {noise}\nlr = {self.lr:.3g}, wd = {self.wd:.3g}, "
                 f"γ = lr·wd = {gamma:.3g} (1/γ = {1 / gamma:.3g} steps)")
        return WeightDecayData(
            lr=self.lr, wd=self.wd, gamma=gamma, step=run.step.values, loss=run.loss.values,
            angle=run.angle.values, sphere_elr=run.sphere_elr.values, factors=self.factors,
            family_loss=np.stack([r.loss.values for r in fam]), family_angle=np.stack([r.angle.values for r in fam]),
            family_sphere_elr=np.stack([r.sphere_elr.values for r in fam]),
            eq_angle=float("nan") if self.noise == "none" else float(np.arccos(theory.sgd_equilibrium_cos_angle(
                self.lr, self.wd))),
            threshold_elr=1.0 / float(np.sum(self.toy.alpha_eff)), title=title,
        )
