"""Slow, obviously-correct numpy twins of the single-run kernels (used only by tests).

They are written from the closed forms of the theory with different algebra from the kernels where that
is possible (angles for the canonical toy, null-space bases for the sphere Hessian, finite
differences of the step map for the tangent map), so agreement is evidence, not an echo.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import null_space


def canonical_loss_grad(theta, alpha):
    """``F = sum alpha_i sin^2 phi_i`` in angle form; gradient from d/dx, d/dy of ``alpha y^2/(x^2+y^2)``."""
    th = np.asarray(theta, dtype=float).reshape(-1, 2)
    x, y = th[:, 0], th[:, 1]
    r2 = x**2 + y**2
    phi = np.arctan2(y, x)
    loss = float(np.sum(alpha * np.sin(phi) ** 2))
    grad = np.stack([-2 * alpha * x * y**2 / r2**2, 2 * alpha * y * x**2 / r2**2], axis=1)
    return loss, grad.reshape(-1)


def rayleigh_loss_grad(theta, mats_list):
    """``sum theta_i^T M_i theta_i / |theta_i|^2`` and its gradient, group by group."""
    loss, grads, a = 0.0, [], 0
    for m in mats_list:
        d = m.shape[0]
        t = theta[a : a + d]
        r2 = t @ t
        f = t @ m @ t / r2
        loss += f
        grads.append(2 * (m @ t - f * t) / r2)
        a += d
    return loss, np.concatenate(grads)


def group_slices(dims):
    off = np.concatenate([[0], np.cumsum(dims)])
    return [slice(off[i], off[i + 1]) for i in range(len(dims))]


def pgd_step(theta, grad, elr, constraint, radii, dims):
    """One PGD step: normalise the whole vector, or every group back to its radius."""
    y = theta - elr * grad
    if constraint == "total":
        return y / np.linalg.norm(y)
    out = y.copy()
    for sl, r in zip(group_slices(dims), radii, strict=True):
        out[sl] = r * y[sl] / np.linalg.norm(y[sl])
    return out


def fd_hessian(loss_grad, theta, h=1e-5):
    """Central finite differences of the gradient, symmetrised."""
    d = theta.size
    hess = np.empty((d, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = h
        hess[:, j] = (loss_grad(theta + e)[1] - loss_grad(theta - e)[1]) / (2 * h)
    return 0.5 * (hess + hess.T)


def sphere_sharpness(hess, theta, dims, constraint):
    """Per-group and total top eigenvalue of the Hessian on an orthonormal tangent basis."""
    groups = []
    for sl in group_slices(dims):
        basis = null_space(theta[sl][None, :])
        groups.append(np.linalg.eigvalsh(basis.T @ hess[sl, sl] @ basis)[-1])
    if constraint == "individual":
        total = max(groups)
    else:
        basis = null_space(theta[None, :])
        total = np.linalg.eigvalsh(basis.T @ hess @ basis)[-1]
    return np.array(groups), total


def angle_between(a, b):
    """Angle via atan2(|b - (a.b) a|, a.b) for unit a: accurate for small and large angles."""
    dot = a @ b
    return float(np.arctan2(np.linalg.norm(b - dot * a), dot))


def tangent_noise(theta, xi, dims):
    """SI-consistent gradient noise: per group, xi projected orthogonal to theta_i, / (|theta_i| sqrt(d_i - 1))."""
    out = np.empty_like(theta)
    for sl in group_slices(dims):
        t = theta[sl]
        proj = xi[sl] - (xi[sl] @ t) / (t @ t) * t
        out[sl] = proj / (np.linalg.norm(t) * np.sqrt(t.size - 1))
    return out


def run(loss_grad, theta0, elr, steps, constraint, dims, noise=None):
    """Record loss, squared group norms, angle and effective gradient norm at every step.

    ``noise`` (``steps x D`` standard normals, pre-scaled) adds :func:`tangent_noise` to the gradient.
    """
    theta = np.array(theta0, dtype=float)
    radii = [np.linalg.norm(theta[sl]) for sl in group_slices(dims)]
    rec = {"loss": [], "sq_norm": [], "angle": [], "eff_grad_norm": []}
    for t in range(steps):
        loss, grad = loss_grad(theta)
        step_grad = grad if noise is None else grad + tangent_noise(theta, noise[t], dims)
        nxt = pgd_step(theta, step_grad, elr, constraint, radii, dims)
        rec["loss"].append(loss)
        rec["sq_norm"].append([theta[sl] @ theta[sl] for sl in group_slices(dims)])
        rec["angle"].append(angle_between(theta, nxt))
        rec["eff_grad_norm"].append(np.linalg.norm(grad) * np.linalg.norm(theta))
        theta = nxt
    return {k: np.array(v) for k, v in rec.items()}, theta


def tangent_log_growth_fd(loss_grad, theta0, v0, elr, steps, constraint, dims, h=1e-7):
    """Per-step log growth of a renormalised tangent vector, the Jacobian-vector product of the
    step taken by central differences of the step map (its mean is the Lyapunov exponent)."""
    theta = np.array(theta0, dtype=float)
    radii = [np.linalg.norm(theta[sl]) for sl in group_slices(dims)]

    def step(x):
        return pgd_step(x, loss_grad(x)[1], elr, constraint, radii, dims)

    v = np.array(v0, dtype=float)
    if constraint == "total":
        v -= (v @ theta) * theta
    else:
        for sl in group_slices(dims):
            v[sl] -= (v[sl] @ theta[sl]) / (theta[sl] @ theta[sl]) * theta[sl]
    v /= np.linalg.norm(v)
    logs = []
    for _ in range(steps):
        jv = (step(theta + h * v) - step(theta - h * v)) / (2 * h)
        norm = np.linalg.norm(jv)
        logs.append(np.log(norm))
        v = jv / norm
        theta = step(theta)
    return np.array(logs)
