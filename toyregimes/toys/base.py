"""The :class:`Toy` (a scale-invariant function with its kernels and known levels) and the builder of
Rayleigh-family toys shared by :func:`~toyregimes.toys.canonical` and :func:`~toyregimes.toys.rayleigh`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from toyregimes._validate import as_float_array, as_seed
from toyregimes.kernels import pgd


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
