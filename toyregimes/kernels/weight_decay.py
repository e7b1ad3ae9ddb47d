"""Numba loops of unconstrained training with weight decay (SGD, heavy-ball SGD, AdamW), and nothing else.

Arrays as in :mod:`toyregimes.kernels.pgd`: the weights ``w`` (length ``D``) are the concatenation of the
groups, ``offsets`` marks the groups, ``mats`` (``n x dmax x dmax``) are the Rayleigh matrices of the
full-batch loss ``F(w) = sum_i w_i^T M_i w_i / |w_i|^2``, and ``samples`` (``S x n x dmax x dmax``)
the per-sample matrices of a stochastic toy (``S = 0`` otherwise).

Noise is never drawn here.  The caller draws it with ``numpy.random.default_rng(seed)`` and passes
it in -- a raw Gaussian array ``gauss`` (``steps x D``) or minibatch indices ``idx`` (``steps x B``)
-- so that the noise sequence depends only on the seed, is shared by every ``(lr, wd)`` of a grid,
and the numpy twin (``tests/reference_train.py``) can use exactly the same numbers.

Both the single-run kernel :func:`train_run` and the grid kernel :func:`train_grid_run` advance the
weights with the same two helpers (:func:`stochastic_gradient`, :func:`optimizer_step`), so a grid
point is bit for bit the single run with the same inputs.  Grid points are independent (``prange``
over points, no shared accumulator), so the results do not depend on the number of threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from toyregimes.kernels.pgd import rayleigh_loss_grad

STATUS_OK = 0
STATUS_NONFINITE = 1

OPT_SGD = 0
OPT_SGDM = 1
OPT_ADAMW = 2

NOISE_NONE = 0
NOISE_TANGENT = 1
NOISE_MINIBATCH = 2
NOISE_ISOTROPIC = 3  # negative control: not scale-invariant


@njit(cache=True)
def stochastic_gradient(w, t, offsets, mats, samples, noise_kind, noise_scale, gauss, idx, grad, sgrad, tmp):
    """Full-batch loss (returned) and gradient ``grad``, and the stochastic gradient ``sgrad`` at step ``t``.

    * none: ``sgrad = grad``;
    * tangent: ``sgrad_i = grad_i + noise_scale * P_i z_i / (|w_i| sqrt(d_i - 1))`` with ``z = gauss[t]``
      and ``P_i`` the projection orthogonal to ``w_i`` -- orthogonal to ``w_i``, proportional to
      ``1/|w_i|``, and of mean square ``noise_scale^2`` at unit group norm;
    * minibatch: the mean of the per-sample gradients over the samples ``idx[t]``;
    * isotropic: ``sgrad = grad + noise_scale * z`` (not projected, not scaled: breaks scale invariance).
    """
    loss = rayleigh_loss_grad(w, offsets, mats, grad)
    dim = w.size
    if noise_kind == NOISE_TANGENT:
        for i in range(offsets.size - 1):
            a = offsets[i]
            b = offsets[i + 1]
            r2 = 0.0
            dot = 0.0
            for p in range(a, b):
                r2 += w[p] * w[p]
                dot += gauss[t, p] * w[p]
            coef = dot / r2
            scale = noise_scale / (math.sqrt(r2) * math.sqrt(b - a - 1.0))
            for p in range(a, b):
                sgrad[p] = grad[p] + scale * (gauss[t, p] - coef * w[p])
    elif noise_kind == NOISE_MINIBATCH:
        for p in range(dim):
            sgrad[p] = 0.0
        nb = idx.shape[1]
        for k in range(nb):
            rayleigh_loss_grad(w, offsets, samples[idx[t, k]], tmp)
            for p in range(dim):
                sgrad[p] += tmp[p]
        for p in range(dim):
            sgrad[p] /= nb
    elif noise_kind == NOISE_ISOTROPIC:
        for p in range(dim):
            sgrad[p] = grad[p] + noise_scale * gauss[t, p]
    else:
        for p in range(dim):
            sgrad[p] = grad[p]
    return loss


@njit(cache=True)
def optimizer_step(w, g, t, eta, wd, opt, momentum, beta1, beta2, eps, buf, m, v, out):
    """One optimiser step from ``w`` with stochastic gradient ``g`` into ``out`` (PyTorch conventions).

    * SGD: ``out = (1 - eta wd) w - eta g``;
    * heavy ball: ``d = g + wd w``; ``buf = d`` at ``t = 0``, else ``momentum buf + d``; ``out = w - eta buf``;
    * AdamW: ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``,
      ``out = (1 - eta wd) w - (eta / (1 - b1^(t+1))) m / (sqrt(v) / sqrt(1 - b2^(t+1)) + eps)``.
      A coordinate with ``v = 0`` (so also ``m = 0``) gets no update instead of ``0/0`` when ``eps = 0``.
    """
    dim = w.size
    if opt == OPT_SGD:
        decay = 1.0 - eta * wd
        for p in range(dim):
            out[p] = decay * w[p] - eta * g[p]
    elif opt == OPT_SGDM:
        for p in range(dim):
            d = g[p] + wd * w[p]
            if t == 0:
                buf[p] = d
            else:
                buf[p] = momentum * buf[p] + d
            out[p] = w[p] - eta * buf[p]
    else:
        decay = 1.0 - eta * wd
        bc1 = 1.0 - beta1 ** (t + 1)
        bc2 = math.sqrt(1.0 - beta2 ** (t + 1))
        step = eta / bc1
        for p in range(dim):
            m[p] = beta1 * m[p] + (1.0 - beta1) * g[p]
            v[p] = beta2 * v[p] + (1.0 - beta2) * g[p] * g[p]
            denom = math.sqrt(v[p]) / bc2 + eps
            if denom > 0.0:
                out[p] = decay * w[p] - step * (m[p] / denom)
            else:
                out[p] = decay * w[p]


@njit(cache=True)
def _angle(w, out):
    """Angle between ``w`` and ``out``: ``2 asin(|u' - u| / 2)`` of the unit vectors (accurate when tiny)."""
    n1 = 0.0
    n2 = 0.0
    for p in range(w.size):
        n1 += w[p] * w[p]
        n2 += out[p] * out[p]
    n1 = math.sqrt(n1)
    n2 = math.sqrt(n2)
    d2 = 0.0
    for p in range(w.size):
        diff = out[p] / n2 - w[p] / n1
        d2 += diff * diff
    return 2.0 * math.asin(min(1.0, 0.5 * math.sqrt(d2)))


@njit(cache=True)
def train_run(
    w0, offsets, mats, samples, etas, wd, opt, momentum, beta1, beta2, eps,
    noise_kind, noise_scale, gauss, idx, record_every,
):
    """Train from ``w0`` for ``etas.size`` steps with per-step learning rates ``etas``; record every r-th step.

    Records at ``t = 0, r, 2r, ... < steps`` (``w_t`` before step ``t``): full-batch loss ``F(w_t)``,
    squared group norms, angle between ``w_t`` and ``w_{t+1}``, squared full-batch gradient norm,
    and ``|g_t - grad F(w_t)|^2`` (a one-sample estimate of the noise trace).  A non-finite value
    stops the run (``status`` 1, ``fail_step`` the step; the remaining records are NaN).

    Returns ``(loss, sq_norm (n_rec, n), angle, grad_sq, noise_sq, w_final, status, fail_step)``.
    """
    dim = w0.size
    n = offsets.size - 1
    steps = etas.size
    n_rec = (steps + record_every - 1) // record_every
    loss_rec = np.full(n_rec, np.nan)
    sq_rec = np.full((n_rec, n), np.nan)
    angle_rec = np.full(n_rec, np.nan)
    gsq_rec = np.full(n_rec, np.nan)
    nsq_rec = np.full(n_rec, np.nan)
    w = w0.copy()
    out = np.empty(dim)
    grad = np.empty(dim)
    sgrad = np.empty(dim)
    tmp = np.empty(dim)
    buf = np.zeros(dim)
    m = np.zeros(dim)
    v = np.zeros(dim)
    status = STATUS_OK
    fail_step = -1
    for t in range(steps):
        loss = stochastic_gradient(w, t, offsets, mats, samples, noise_kind, noise_scale, gauss, idx, grad, sgrad, tmp)
        optimizer_step(w, sgrad, t, etas[t], wd, opt, momentum, beta1, beta2, eps, buf, m, v, out)
        nrm = 0.0
        for p in range(dim):
            nrm += out[p] * out[p]
        if not (math.isfinite(loss) and math.isfinite(nrm)) or nrm == 0.0:
            status = STATUS_NONFINITE
            fail_step = t
            break
        if t % record_every == 0:
            k = t // record_every
            loss_rec[k] = loss
            g2 = 0.0
            e2 = 0.0
            for p in range(dim):
                g2 += grad[p] * grad[p]
                e2 += (sgrad[p] - grad[p]) ** 2
            gsq_rec[k] = g2
            nsq_rec[k] = e2
            for i in range(n):
                s = 0.0
                for p in range(offsets[i], offsets[i + 1]):
                    s += w[p] * w[p]
                sq_rec[k, i] = s
            angle_rec[k] = _angle(w, out)
        w, out = out, w
    if status != STATUS_OK:
        w[:] = np.nan
    return loss_rec, sq_rec, angle_rec, gsq_rec, nsq_rec, w, status, fail_step


@njit(cache=True, parallel=True)
def train_grid_run(
    w0, offsets, mats, samples, mults, lrs, wds, opt, momentum, beta1, beta2, eps,
    noise_kind, noise_scale, gauss, idx, tail, sphere_power,
):
    """Train every grid point ``(lrs[j], wds[j])`` from the same ``w0`` with the same noise; reduce the tail.

    Point ``j`` uses learning rates ``lrs[j] * mults[t]`` and weight decay ``wds[j]``.  Over the last
    ``tail`` steps it accumulates the full-batch loss, ``|w_t|``, ``|w_t|^2``, the angle between
    ``w_t`` and ``w_{t+1}`` and the sphere ELR ``eta_t / |w_t|^sphere_power`` (2 for SGD, 1 for
    Adam).  ``prange`` runs over points; each point owns its scratch arrays, so its result does not
    depend on the thread that ran it.

    Returns ``(final_loss, mean_loss, std_loss, mean_norm, mean_sq_norm, mean_angle, mean_sphere_elr,
    final_w (P, D), status)``; ``final_loss`` is ``F`` at the last iterate ``w_steps``.
    """
    npts = lrs.size
    dim = w0.size
    steps = mults.size
    t0 = steps - tail
    final_loss = np.empty(npts)
    mean_loss = np.empty(npts)
    std_loss = np.empty(npts)
    mean_norm = np.empty(npts)
    mean_sq = np.empty(npts)
    mean_angle = np.empty(npts)
    mean_elr = np.empty(npts)
    final_w = np.empty((npts, dim))
    status = np.zeros(npts, dtype=np.int64)
    for j in prange(npts):
        w = w0.copy()
        out = np.empty(dim)
        grad = np.empty(dim)
        sgrad = np.empty(dim)
        tmp = np.empty(dim)
        buf = np.zeros(dim)
        m = np.zeros(dim)
        v = np.zeros(dim)
        lr = lrs[j]
        wd = wds[j]
        s_loss = 0.0
        s_loss2 = 0.0
        shift = 0.0  # first tail loss: the variance is accumulated about it (no cancellation)
        s_norm = 0.0
        s_sq = 0.0
        s_ang = 0.0
        s_elr = 0.0
        ok = True
        for t in range(steps):
            eta = lr * mults[t]
            loss = stochastic_gradient(
                w, t, offsets, mats, samples, noise_kind, noise_scale, gauss, idx, grad, sgrad, tmp
            )
            optimizer_step(w, sgrad, t, eta, wd, opt, momentum, beta1, beta2, eps, buf, m, v, out)
            if t >= t0:
                x2 = 0.0
                for p in range(dim):
                    x2 += w[p] * w[p]
                if t == t0:
                    shift = loss
                dl = loss - shift
                s_loss += dl
                s_loss2 += dl * dl
                s_norm += math.sqrt(x2)
                s_sq += x2
                s_elr += eta / (x2 if sphere_power == 2 else math.sqrt(x2))
                s_ang += _angle(w, out)
                if not (math.isfinite(loss) and math.isfinite(x2)):
                    ok = False
                    break
            w, out = out, w
        fin = rayleigh_loss_grad(w, offsets, mats, grad)
        if not ok or not math.isfinite(fin):
            status[j] = STATUS_NONFINITE
            final_loss[j] = np.nan
            mean_loss[j] = np.nan
            std_loss[j] = np.nan
            mean_norm[j] = np.nan
            mean_sq[j] = np.nan
            mean_angle[j] = np.nan
            mean_elr[j] = np.nan
            final_w[j, :] = np.nan
            continue
        final_loss[j] = fin
        mu = s_loss / tail
        mean_loss[j] = shift + mu
        std_loss[j] = math.sqrt(max(0.0, s_loss2 / tail - mu * mu))
        mean_norm[j] = s_norm / tail
        mean_sq[j] = s_sq / tail
        mean_angle[j] = s_ang / tail
        mean_elr[j] = s_elr / tail
        for p in range(dim):
            final_w[j, p] = w[p]
    return final_loss, mean_loss, std_loss, mean_norm, mean_sq, mean_angle, mean_elr, final_w, status
