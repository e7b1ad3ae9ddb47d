"""Slow, obviously-correct numpy twin of the training kernels (used only by tests).

Written from the formulas of Li et al. 2025 and the PyTorch update rules, group by group with numpy
matrix algebra (the kernels use scalar loops), with the same pre-drawn noise arrays.
"""

from __future__ import annotations

import numpy as np


def group_slices(dims):
    off = np.concatenate([[0], np.cumsum(dims)])
    return [slice(off[i], off[i + 1]) for i in range(len(dims))]


def rayleigh(w, mats, dims):
    """``sum_i w_i^T M_i w_i / |w_i|^2`` and its gradient ``2 (M_i w_i - f_i w_i) / |w_i|^2``."""
    loss, grad = 0.0, np.empty_like(w)
    for i, sl in enumerate(group_slices(dims)):
        d = dims[i]
        m = mats[i, :d, :d]
        x = w[sl]
        r2 = x @ x
        f = x @ m @ x / r2
        loss += f
        grad[sl] = 2.0 * (m @ x - f * x) / r2
    return loss, grad


def stochastic_gradient(w, t, mats, dims, samples, noise, noise_scale, gauss, idx):
    loss, grad = rayleigh(w, mats, dims)
    if noise == "tangent":
        g = grad.copy()
        for sl in group_slices(dims):
            x = w[sl]
            u = x / np.linalg.norm(x)
            z = gauss[t, sl]
            xi = (z - (z @ u) * u) * noise_scale / (np.linalg.norm(x) * np.sqrt(x.size - 1))
            g[sl] += xi
        return loss, grad, g
    if noise == "minibatch":
        g = np.mean([rayleigh(w, samples[s], dims)[1] for s in idx[t]], axis=0)
        return loss, grad, g
    if noise == "isotropic":
        return loss, grad, grad + noise_scale * gauss[t]
    return loss, grad, grad.copy()


def train(w0, mats, dims, samples, etas, wd, optimizer, momentum, beta1, beta2, eps, noise, noise_scale,
          gauss, idx):
    """Per-step arrays ``(loss, sq_norm, angle, grad_sq, noise_sq)`` and the final weights."""
    w = np.array(w0, dtype=float)
    buf = np.zeros_like(w)
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    rec = {"loss": [], "sq_norm": [], "angle": [], "grad_sq": [], "noise_sq": []}
    for t, eta in enumerate(etas):
        loss, grad, g = stochastic_gradient(w, t, mats, dims, samples, noise, noise_scale, gauss, idx)
        if optimizer == "sgd":
            new = (1 - eta * wd) * w - eta * g
        elif optimizer == "sgdm":
            d = g + wd * w
            buf = d.copy() if t == 0 else momentum * buf + d
            new = w - eta * buf
        else:
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            m_hat = m / (1 - beta1 ** (t + 1))
            v_hat = v / (1 - beta2 ** (t + 1))
            new = (1 - eta * wd) * w - eta * m_hat / (np.sqrt(v_hat) + eps)
        rec["loss"].append(loss)
        rec["sq_norm"].append([w[sl] @ w[sl] for sl in group_slices(dims)])
        c = np.clip(w @ new / (np.linalg.norm(w) * np.linalg.norm(new)), -1, 1)
        rec["angle"].append(np.arccos(c))
        rec["grad_sq"].append(grad @ grad)
        rec["noise_sq"].append((g - grad) @ (g - grad))
        w = new
    return {k: np.array(val) for k, val in rec.items()}, w


def train_grid(w0, mats, dims, lrs, wds, steps, gauss):
    """The numpy baseline of the benchmark: plain SGD with tangent noise, vectorised over grid points.

    ``w`` is ``(P, D)``; returns the final loss of every point.  Single-group-of-2 friendly but general.
    """
    w = np.tile(w0, (lrs.size, 1))
    sls = group_slices(dims)
    gam = (lrs * wds)[:, None]
    eta = lrs[:, None]
    for t in range(steps):
        g = np.empty_like(w)
        for i, sl in enumerate(sls):
            d = dims[i]
            x = w[:, sl]
            r2 = np.einsum("pd,pd->p", x, x)[:, None]
            mx = x @ mats[i, :d, :d].T
            f = np.einsum("pd,pd->p", x, mx)[:, None] / r2
            z = gauss[t, sl][None, :]
            zt = z - (np.einsum("pd,pd->p", np.broadcast_to(z, x.shape), x)[:, None] / r2) * x
            g[:, sl] = 2 * (mx - f * x) / r2 + zt / (np.sqrt(r2) * np.sqrt(d - 1))
        w = (1 - gam) * w - eta * g
    loss = np.zeros(lrs.size)
    for i, sl in enumerate(sls):
        d = dims[i]
        x = w[:, sl]
        loss += np.einsum("pd,pd->p", x, x @ mats[i, :d, :d].T) / np.einsum("pd,pd->p", x, x)
    return loss
