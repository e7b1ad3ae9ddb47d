"""User-defined toys: Numba-compilable value and gradient, checked for scale invariance before use."""

from __future__ import annotations

import numpy as np

from toyregimes._validate import as_int, as_seed
from toyregimes.kernels import pgd, user_batched
from toyregimes.toys.base import Toy


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

    Examples
    --------
    ``sin^2`` of the angle of one group in R^2 (compiling it takes a few seconds):

    >>> import numba
    >>> @numba.njit
    ... def f(x):
    ...     return x[1]**2 / (x[0]**2 + x[1]**2)
    >>> @numba.njit
    ... def g(x):
    ...     r2 = x[0]**2 + x[1]**2
    ...     return np.array([-2*x[0]*x[1]**2, 2*x[1]*x[0]**2]) / r2**2
    >>> toy = custom(f, g, dims=[2])  # doctest: +SKIP
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

    _check_gradient_shape(grad_jit, np.random.default_rng(as_seed(seed)).standard_normal(sum(dims_t)), sum(dims_t),
                          name)
    kern = pgd.specialise(loss_grad)
    kern["user_sweep"] = user_batched.specialise(kern["pgd_run"], kern["sharpness"])
    return checked_toy(kern, dims_t, name=name, random_level=random_level, check_points=check_points, seed=seed,
                       rtol=rtol)


def checked_toy(kern: dict, dims, *, name: str, random_level=None, check_points: int = 16, seed: int = 0,
                rtol: float = 1e-5) -> Toy:
    """The :class:`Toy` of a user toy's kernels, after :func:`custom`'s checks (same parameters).

    ``kern`` holds the jitted ``loss_grad``, ``hessian``, ``sharpness``, ``pgd_run`` and ``user_sweep``
    (from :func:`custom`, or from the generated module of an expression toy).
    """
    dims_t = tuple(dims)
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

    group_grad = np.zeros(len(dims_t))  # largest scale-free gradient norm |g_i| |theta_i| seen per group
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
            group_grad[i] = max(group_grad[i], np.linalg.norm(g[a:b]) * np.linalg.norm(x[a:b]))
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

    # A group on which F is constant has no dynamics (its gradient is zero everywhere); rayleigh refuses
    # constant spectra for the same reason, so custom refuses it too rather than simulate a dead group.
    flat = [i for i in range(len(dims_t)) if group_grad[i] <= 1e-12 * max(1.0, group_grad.max())]
    if flat:
        raise ValueError(
            f"custom toy {name!r}: group(s) {flat} are flat (the gradient vanishes at every check point: F does "
            "not depend on their direction); drop them or make F depend on them"
        )
    _check_defined_on_sphere(evaluate, rng, dims_t, offsets, name)

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


def _check_gradient_shape(grad_jit, x, dim: int, name: str) -> None:
    """The gradient must return ``dim`` numbers; found once here, so the error says so (the kernel copies
    exactly ``dim`` entries and would otherwise read past a short array and fail the FD check instead)."""
    try:
        g = np.asarray(grad_jit(x))
    except Exception as exc:  # compilation or runtime failure of user code
        raise ValueError(f"custom toy {name!r}: gradient failed: {exc}") from None
    if g.shape != (dim,):
        raise ValueError(
            f"custom toy {name!r}: gradient must return an array of shape ({dim},) (= sum(dims)), got shape {g.shape}"
        )


def _check_defined_on_sphere(evaluate, rng, dims, offsets, name: str) -> None:
    """F and its gradient must be finite on the whole sphere, not only at random points.

    A continuous SI function is bounded (the product of spheres is compact); functions such as ``x / y``
    are undefined, and unbounded, where a coordinate vanishes.  Random points miss that set, so probe it:
    every coordinate set to zero in turn, and every axis direction of every group.
    """
    dim = int(offsets[-1])
    probes = []
    for j in range(dim):
        x = rng.standard_normal(dim)
        x[j] = 0.0
        probes.append((x, f"coordinate {j} = 0"))
    for i, d in enumerate(dims):
        for j in range(d):
            x = rng.standard_normal(dim)
            x[offsets[i] : offsets[i + 1]] = 0.0
            x[offsets[i] + j] = 1.0
            probes.append((x, f"group {i} along its axis {j}"))
    for x, where in probes:
        try:
            f, g = evaluate(x)
            ok = np.isfinite(f) and np.all(np.isfinite(g))
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"custom toy {name!r} is not defined (or not finite) at the point of the sphere where {where}: an "
                "SI loss must be finite and bounded on the whole sphere (e.g. x/y is not; y**2/(x**2+y**2) is)"
            )
