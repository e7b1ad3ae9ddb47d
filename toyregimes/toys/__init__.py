"""Scale-invariant toy functions with ``n`` parameter groups.

A :class:`Toy` is ``F(theta) = sum_i f_i(theta_i)`` (or a user function), scale-invariant in each
group.  It exposes the value, gradient, Hessian and sphere sharpness at any point, its minima, and
the random-direction loss level, and carries the flat arrays and Numba functions the kernels use.

Constructors:

* :func:`canonical` -- ``f_i = alpha_i sin^2 phi_i`` in R^2 (SPEC section 2, exact theory);
* :func:`rayleigh` -- ``f_i = theta_i^T M_i theta_i / |theta_i|^2`` with spectra ``spec(M_i)``;
* :func:`custom` -- user-supplied Numba-compilable value and gradient, checked before use.

Layer: may import ``kernels`` (the Numba functions a toy carries) and the private helpers; the
expression parser lives in :mod:`toyregimes.toys.expressions`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from toyregimes._validate import as_alpha, as_float_array, as_int, as_seed
from toyregimes.kernels import pgd

__all__ = ["Toy", "canonical", "rayleigh", "custom", "from_expression"]


@dataclass(frozen=True, eq=False)
class Toy:
    """A scale-invariant function of ``n`` parameter groups.

    Attributes
    ----------
    kind : str
        ``"canonical"``, ``"rayleigh"`` or ``"custom"``.
    spec : dict
        JSON-serialisable description sufficient to rebuild the toy (stored in run attrs).
    dims : tuple of int
        Dimension ``d_i`` of every group.
    mats : ndarray, shape (n, dmax, dmax)
        Group matrices of the Rayleigh family (a dummy for custom toys).
    random_level : float
        Mean loss at a uniformly random direction in every group.
    min_loss : float
        Loss at the minima.
    alpha_eff : ndarray, shape (n,)
        Half the sphere sharpness of each group at its minimum at unit radius
        (``lambda_max - lambda_min``; ``alpha`` for the canonical toy).
    """

    kind: str
    spec: dict
    dims: tuple
    mats: np.ndarray
    random_level: float
    min_loss: float
    alpha_eff: np.ndarray
    kernels: dict = field(repr=False)
    samples: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ shape helpers
    @property
    def n_groups(self) -> int:
        return len(self.dims)

    @property
    def dim(self) -> int:
        return int(sum(self.dims))

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.dims)]).astype(np.int64)

    @property
    def spec_json(self) -> str:
        return json.dumps(self.spec, sort_keys=True)

    @property
    def alpha(self) -> np.ndarray:
        """Coefficients of the canonical toy (``alpha_eff`` for other toys)."""
        return np.asarray(self.alpha_eff, dtype=float)

    def flatten(self, theta, name: str = "theta") -> np.ndarray:
        """Flat float64 vector of length ``dim`` from a flat vector, an ``(n, d)`` array or a list of groups."""
        if isinstance(theta, list | tuple) and len(theta) == self.n_groups and all(
            np.ndim(g) == 1 for g in theta
        ):
            parts = [as_float_array(g, name) for g in theta]
            if tuple(p.size for p in parts) != self.dims:
                raise ValueError(
                    f"{name} groups must have sizes {self.dims}, got {tuple(p.size for p in parts)}"
                )
            return np.concatenate(parts)
        arr = as_float_array(theta, name)
        if arr.ndim == 2 and arr.shape == (self.n_groups, self.dims[0]) and len(set(self.dims)) == 1:
            return np.ascontiguousarray(arr.reshape(-1))
        if arr.ndim == 1 and arr.size == self.dim:
            return np.ascontiguousarray(arr)
        expected = f"({self.n_groups}, {self.dims[0]}) or " if len(set(self.dims)) == 1 else ""
        raise ValueError(f"{name} must have shape {expected}({self.dim},), got {arr.shape}")

    def split(self, theta) -> list:
        """Groups of a flat vector, as a list of arrays."""
        flat = np.asarray(theta, dtype=float)
        off = self.offsets
        return [flat[off[i] : off[i + 1]] for i in range(self.n_groups)]

    def to_rows(self, theta) -> np.ndarray:
        """Groups as rows of an ``(n, dmax)`` array, NaN-padded where a group is shorter."""
        out = np.full((self.n_groups, max(self.dims)), np.nan)
        for i, g in enumerate(self.split(theta)):
            out[i, : g.size] = g
        return out

    def from_rows(self, rows) -> np.ndarray:
        """Inverse of :meth:`to_rows`: the flat vector."""
        rows = np.asarray(rows, dtype=float)
        return np.concatenate([rows[i, :d] for i, d in enumerate(self.dims)])

    def sq_norms(self, theta) -> np.ndarray:
        """Squared group norms ``r_i^2``."""
        return np.array([float(g @ g) for g in self.split(self.flatten(theta))])

    def _checked(self, theta) -> np.ndarray:
        flat = self.flatten(theta)
        if np.any(self.sq_norms(flat) == 0):
            raise ValueError("theta has a group of zero norm, where a scale-invariant F is undefined")
        return flat

    # ------------------------------------------------------------------ evaluation
    def value(self, theta) -> float:
        """``F(theta)``.  Example: ``canonical([1]).value([1, 1]) == 0.5``."""
        flat = self._checked(theta)
        return float(self.kernels["loss_grad"](flat, self.offsets, self.mats, np.empty(self.dim)))

    def gradient(self, theta) -> np.ndarray:
        """Euclidean gradient ``grad F(theta)`` as a flat vector (orthogonal to every group)."""
        flat = self._checked(theta)
        grad = np.empty(self.dim)
        self.kernels["loss_grad"](flat, self.offsets, self.mats, grad)
        return grad

    def hessian(self, theta) -> np.ndarray:
        """Euclidean Hessian ``D x D`` (block-diagonal for separable toys)."""
        flat = self._checked(theta)
        out = np.empty((self.dim, self.dim))
        self.kernels["hessian"](flat, self.offsets, self.mats, out)
        return out

    def sharpness(self, theta, constraint: str = "total"):
        """Sphere sharpness at ``theta``: ``(per_group, total)``.

        Per group: largest eigenvalue of the Hessian restricted to the group's angular directions
        (``2 alpha_i / r_i^2`` at a minimum of the canonical toy).  Total: largest eigenvalue of the
        Riemannian Hessian on the total sphere (``constraint="total"``) or on the product of group
        spheres (``"individual"``, where it is the largest group value).
        """
        from toyregimes._validate import as_constraint

        individual = as_constraint(constraint) == "individual"
        flat = self._checked(theta)
        groups = np.empty(self.n_groups)
        hbuf = np.empty((self.dim, self.dim))
        total = self.kernels["sharpness"](flat, self.offsets, self.mats, individual, hbuf, groups)
        return groups, float(total)

    def minimum(self, sq_norms=None) -> np.ndarray:
        """A minimum of ``F`` on the unit sphere with the given group split (default: equal shares).

        Each group points along an eigenvector of its smallest eigenvalue (Rayleigh family).
        """
        if self.kind == "custom":
            raise ValueError("minima of a custom toy are unknown to toyregimes")
        if sq_norms is None:
            sq_norms = np.full(self.n_groups, 1.0 / self.n_groups)
        r2 = as_float_array(sq_norms, "sq_norms", ndim=1)
        if r2.size != self.n_groups or np.any(r2 <= 0):
            raise ValueError(f"sq_norms must be {self.n_groups} values > 0")
        r2 = r2 / r2.sum()
        parts = []
        for i, d in enumerate(self.dims):
            _, vecs = np.linalg.eigh(self.mats[i, :d, :d])
            parts.append(np.sqrt(r2[i]) * vecs[:, 0])
        return np.concatenate(parts)

    def random_point(self, seed=0) -> np.ndarray:
        """A uniformly random point of the unit sphere in ``R^D`` (the default initial point)."""
        rng = np.random.default_rng(as_seed(seed))
        x = rng.standard_normal(self.dim)
        return x / np.linalg.norm(x)


# ----------------------------------------------------------------------------- constructors
def _rayleigh_toy(kind: str, spec: dict, mats_list: list) -> Toy:
    dims = tuple(m.shape[0] for m in mats_list)
    dmax = max(dims)
    mats = np.zeros((len(dims), dmax, dmax))
    lo, hi, level = [], [], 0.0
    for i, m in enumerate(mats_list):
        mats[i, : dims[i], : dims[i]] = m
        eig = np.linalg.eigvalsh(m)
        lo.append(eig[0])
        hi.append(eig[-1])
        level += float(np.trace(m)) / dims[i]  # E[u^T M u] = tr(M)/d for uniform u
    return Toy(
        kind=kind,
        spec=spec,
        dims=dims,
        mats=mats,
        random_level=level,
        min_loss=float(np.sum(lo)),
        alpha_eff=np.array(hi) - np.array(lo),
        kernels=pgd.RAYLEIGH_KERNELS,
    )


def canonical(alpha) -> Toy:
    """The canonical toy: ``n`` groups in R^2, ``f_i = alpha_i sin^2 phi_i`` (``M_i = diag(0, alpha_i)``).

    Parameters
    ----------
    alpha : sequence of float > 0
        One coefficient per group.

    Example: ``toy = canonical([1, 2, 3])``; its threshold ELR is ``1 / 6``.
    """
    alpha = as_alpha(alpha)
    mats = [np.diag([0.0, a]) for a in alpha]
    toy = _rayleigh_toy("canonical", {"kind": "canonical", "alpha": alpha.tolist()}, mats)
    return toy


def _random_rotation(rng, d: int) -> np.ndarray:
    # Haar-distributed orthogonal matrix: QR of a Gaussian with the signs of R's diagonal fixed.
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def rayleigh(spectra, rotate: bool = False, seed=None) -> Toy:
    """Rayleigh groups ``f_i = theta_i^T M_i theta_i / |theta_i|^2`` with ``spec(M_i) = spectra[i]``.

    Parameters
    ----------
    spectra : list of lists of float
        Eigenvalues of each group's matrix; group ``i`` lives in ``R^{len(spectra[i])}`` (>= 2).
    rotate : bool
        Conjugate each ``diag(spectra[i])`` by a random (Haar) rotation, so the toy is not
        axis-aligned.
    seed : int or None
        Seed of the rotations (required when ``rotate`` is true, for reproducibility).

    Example: ``rayleigh([[0, 1, 3], [0, 2]], rotate=True, seed=0)``.
    """
    if isinstance(spectra, str) or not hasattr(spectra, "__len__") or len(spectra) == 0:
        raise ValueError("spectra must be a non-empty list of per-group eigenvalue lists")
    groups = []
    for i, s in enumerate(spectra):
        arr = as_float_array(s, f"spectra[{i}]")
        if arr.ndim != 1 or arr.size < 2:
            raise ValueError(f"spectra[{i}] must list at least 2 eigenvalues, got {s!r}")
        if np.ptp(arr) == 0:
            raise ValueError(f"spectra[{i}] must not be constant (the group would be flat)")
        groups.append(arr)
    if rotate and seed is None:
        raise ValueError("seed must be given when rotate=True (rotations must be reproducible)")
    rng = np.random.default_rng(as_seed(seed)) if rotate else None
    mats = []
    for arr in groups:
        m = np.diag(arr)
        if rotate:
            q = _random_rotation(rng, arr.size)
            m = q @ m @ q.T
            m = 0.5 * (m + m.T)
        mats.append(m)
    spec = {
        "kind": "rayleigh",
        "spectra": [g.tolist() for g in groups],
        "rotate": bool(rotate),
        "seed": None if seed is None else int(seed),
    }
    return _rayleigh_toy("rayleigh", spec, mats)


def custom(
    value,
    gradient,
    dims,
    *,
    name: str = "custom",
    random_level: float | None = None,
    check_points: int = 16,
    seed: int = 0,
    rtol: float = 1e-5,
) -> Toy:
    """A user-defined SI toy from Numba-compilable ``value(theta)`` and ``gradient(theta)``.

    Both take the flat parameter vector (float64, length ``sum(dims)``); ``gradient`` returns an
    array of the same length.  Plain Python functions are compiled with ``numba.njit``.  Before the
    toy is accepted it is checked at ``check_points`` random points for scale invariance in every
    group (``F(c_i theta_i) = F``), the Euler identity (``<grad F, theta_i> = 0``) and the gradient
    against central finite differences; any failure raises ``ValueError``.

    Parameters
    ----------
    value, gradient : callables (Numba-compilable)
    dims : sequence of int
        Dimension of each group (each >= 2: a 1-d SI function is constant up to sign).
    random_level : float, optional
        Mean loss at a random direction; estimated by Monte Carlo (4096 points, fixed seed) if not
        given.

    Example::

        @numba.njit
        def f(x): return x[1]**2 / (x[0]**2 + x[1]**2)
        @numba.njit
        def g(x):
            r2 = x[0]**2 + x[1]**2
            return np.array([-2*x[0]*x[1]**2, 2*x[1]*x[0]**2]) / r2**2
        toy = custom(f, g, dims=[2])
    """
    import numba

    dims_t = tuple(as_int(d, "dims", minimum=2) for d in np.atleast_1d(dims).tolist())
    if len(dims_t) == 0:
        raise ValueError("dims must list at least one group")
    value_jit = value if isinstance(value, numba.core.dispatcher.Dispatcher) else numba.njit(value)
    grad_jit = (
        gradient if isinstance(gradient, numba.core.dispatcher.Dispatcher) else numba.njit(gradient)
    )

    @numba.njit
    def loss_grad(theta, offsets, mats, grad):
        g = grad_jit(theta)
        for p in range(theta.size):
            grad[p] = g[p]
        return float(value_jit(theta))  # also refuses, at compile time, a value that is not a number

    kern = pgd.specialise(loss_grad)
    dim = sum(dims_t)
    offsets = np.concatenate([[0], np.cumsum(dims_t)]).astype(np.int64)
    dummy = np.zeros((len(dims_t), 1, 1))
    rng = np.random.default_rng(as_seed(seed))

    def evaluate(x):
        grad = np.empty(dim)
        try:
            f = kern["loss_grad"](x, offsets, dummy, grad)
        except Exception as exc:  # compilation or runtime failure of user code
            raise ValueError(f"custom toy {name!r}: value/gradient failed: {exc}") from None
        return float(f), grad

    for _ in range(as_int(check_points, "check_points", minimum=1)):
        x = rng.standard_normal(dim)
        f, g = evaluate(x)
        if not np.isfinite(f) or not np.all(np.isfinite(g)) or g.shape != (dim,):
            raise ValueError(f"custom toy {name!r}: non-finite value or wrong gradient shape")
        scale = np.repeat(np.exp(rng.uniform(-2, 2, len(dims_t))), dims_t)
        f_scaled, _ = evaluate(x * scale)
        tol = rtol * max(1.0, abs(f))
        if abs(f_scaled - f) > tol:
            raise ValueError(
                f"custom toy {name!r} is not scale-invariant per group: "
                f"F(c theta) - F(theta) = {f_scaled - f:.3g}"
            )
        gnorm = np.linalg.norm(g)
        for i in range(len(dims_t)):
            a, b = offsets[i], offsets[i + 1]
            euler = abs(g[a:b] @ x[a:b])
            if euler > rtol * max(1.0, gnorm * np.linalg.norm(x[a:b])):
                raise ValueError(
                    f"custom toy {name!r}: <grad F, theta_{i}> = {euler:.3g} != 0 "
                    "(gradient inconsistent with scale invariance)"
                )
        h = 1e-6 * np.linalg.norm(x)
        fd = np.empty(dim)
        for j in range(dim):
            e = np.zeros(dim)
            e[j] = h
            fd[j] = (evaluate(x + e)[0] - evaluate(x - e)[0]) / (2 * h)
        if np.linalg.norm(fd - g) > 10 * rtol * max(1.0, gnorm):
            raise ValueError(
                f"custom toy {name!r}: gradient disagrees with finite differences "
                f"(|error| = {np.linalg.norm(fd - g):.3g})"
            )

    if random_level is None:
        mc = np.random.default_rng(12345).standard_normal((4096, dim))
        random_level = float(np.mean([evaluate(x)[0] for x in mc]))
    return Toy(
        kind="custom",
        spec={"kind": "custom", "name": name, "dims": list(dims_t)},
        dims=dims_t,
        mats=dummy,
        random_level=float(random_level),
        min_loss=float("nan"),
        alpha_eff=np.full(len(dims_t), np.nan),
        kernels=kern,
    )


def from_spec(spec) -> Toy:
    """Rebuild a toy from its ``spec`` (dict or JSON string), as stored in a run's attrs."""
    if isinstance(spec, str):
        spec = json.loads(spec)
    kind = spec.get("kind")
    if kind == "canonical":
        return canonical(spec["alpha"])
    if kind == "rayleigh":
        return rayleigh(spec["spectra"], rotate=spec["rotate"], seed=spec["seed"])
    if kind == "expression":
        return from_expression(spec["expression"], spec["groups"], spec["params"], name=spec["name"])
    raise ValueError(f"cannot rebuild a toy of kind {kind!r} from its spec")


def stochastic(base, n_samples: int = 32, spread: float = 0.5, seed: int = 0) -> Toy:
    """A stochastic toy: ``n_samples`` per-sample SI functions whose mean is the Rayleigh toy ``base``.

    Sample ``s`` has group matrices ``M_i^(s) = M_i + spread * (E_i^(s) - mean_s E_i^(s))`` with
    ``E_i^(s)`` symmetric Gaussian (``(G + G^T)/2``, ``G`` standard normal).  The Rayleigh quotient is
    linear in ``M``, so the full-batch loss is ``base`` (to rounding); every per-sample function is
    scale-invariant in each group, so minibatch gradient noise is orthogonal to ``theta_i`` and
    proportional to ``1/|theta_i|`` by construction.  ``samples`` has shape ``(n_samples, n, dmax, dmax)``;
    the kernels of the full-batch loss are those of ``base``.

    Parameters
    ----------
    base : Toy (canonical or rayleigh) or list of spectra (passed to :func:`rayleigh`)
    n_samples : int >= 2
    spread : float >= 0
        Size of the per-sample perturbation (0 gives identical samples: no noise).
    seed : int >= 0
        Seed of the perturbations.

    Example: ``toy = stochastic(canonical([1, 2, 3]), n_samples=64, spread=0.5, seed=0)``.
    """
    if not isinstance(base, Toy):
        base = rayleigh(base)
    if base.kind not in ("canonical", "rayleigh"):
        raise ValueError(f"base must be a canonical or rayleigh toy, got kind {base.kind!r}")
    n_samples = as_int(n_samples, "n_samples", minimum=2)
    spread_arr = as_float_array(spread, "spread")
    if spread_arr.ndim != 0 or spread_arr < 0:
        raise ValueError(f"spread must be a single number >= 0, got {spread!r}")
    spread = float(spread_arr)
    seed = as_seed(seed)
    rng = np.random.default_rng(seed)
    n, dmax = base.n_groups, max(base.dims)
    samples = np.zeros((n_samples, n, dmax, dmax))
    for i, d in enumerate(base.dims):
        g = rng.standard_normal((n_samples, d, d))
        e = 0.5 * (g + np.transpose(g, (0, 2, 1)))
        e -= e.mean(axis=0)  # centred over samples: the full-batch matrices are exactly M_i + O(ulp)
        samples[:, i, :d, :d] = base.mats[i, :d, :d] + spread * e
    spec = {"kind": "stochastic", "base": base.spec, "n_samples": n_samples, "spread": spread, "seed": seed}
    return Toy(
        kind="stochastic",
        spec=spec,
        dims=base.dims,
        mats=base.mats,
        random_level=base.random_level,
        min_loss=base.min_loss,
        alpha_eff=base.alpha_eff,
        kernels=base.kernels,
        samples=samples,
    )


__all__.append("stochastic")


def from_expression(text: str, groups, params=None, *, name: str | None = None, **checks) -> Toy:
    """A user toy from a formula, e.g. ``"2*y1**2/(x1**2 + y1**2) + sin(atan2(y2, x2))**2"``.

    The text is parsed by a restricted parser (:func:`toyregimes.toys.expressions.parse_expression`; no
    ``eval``/``sympify`` of the text), the gradient is derived with sympy, both are compiled with
    Numba, and the result goes through :func:`custom`'s checks (scale invariance per group, Euler
    identity, finite differences) before it is accepted.

    Parameters
    ----------
    text : str
        The loss ``F`` in the coordinates of ``groups`` (and the names of ``params``).
    groups : list of lists of str
        Coordinate names of each group, e.g. ``[["x1", "y1"], ["x2", "y2"]]``.
    params : dict of str -> float, optional
        Named constants substituted before differentiation.
    **checks
        Passed to :func:`custom` (``random_level``, ``check_points``, ``seed``, ``rtol``).

    Example: ``from_expression("a*y**2/(x**2+y**2)", [["x", "y"]], {"a": 3.0})``.
    """
    from toyregimes.toys import expressions

    if isinstance(groups, str) or not groups or any(isinstance(g, str) or len(g) < 2 for g in groups):
        raise ValueError("groups must be a list of lists of at least 2 coordinate names each")
    params = dict(params or {})
    for key, value in params.items():
        if not np.isfinite(float(value)):
            raise ValueError(f"params[{key!r}] must be finite, got {value!r}")
    coords = [c for g in groups for c in g]
    expr = expressions.parse_expression(text, [*coords, *params])
    expr = expr.subs({expressions.sp.Symbol(k, real=True): float(v) for k, v in params.items()})
    stray = sorted(str(s) for s in expr.free_symbols if str(s) not in coords)
    if stray:
        raise ValueError(f"expression uses symbols that are neither coordinates nor params: {stray}")
    value, gradient = expressions.compile_toy_functions(expr, groups)
    toy = custom(value, gradient, dims=[len(g) for g in groups], name=name or text, **checks)
    toy.spec.update(
        {"kind": "expression", "expression": text, "groups": [list(g) for g in groups], "params": params}
    )
    return toy
