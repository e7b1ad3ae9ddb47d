"""Numba inner loops, and nothing else.

A toy reaches the kernels as flat arrays: the parameter vector ``theta`` of length ``D`` is the
concatenation of the groups, ``offsets`` (length ``n + 1``) marks where each group starts, and
``mats`` (``n x dmax x dmax``) holds the group matrices of the Rayleigh family
``f_i = theta_i^T M_i theta_i / |theta_i|^2`` (the canonical toy is ``M_i = diag(0, alpha_i)``).

Every toy provides two functions with a common signature:

* ``loss_grad(theta, offsets, mats, grad) -> loss`` writes the Euclidean gradient into ``grad``;
* ``hessian(theta, offsets, mats, out)`` writes the Euclidean Hessian (``D x D``) into ``out``.

The PGD loop below calls them through the module globals ``_loss_grad`` and ``_hessian``.  The
module-level kernels are compiled for the Rayleigh family and cached on disk; for a user-defined toy
:func:`specialise` makes an uncached copy of the same loop with the user's functions bound in its
globals, so there is one loop to test, not one per toy kind.  (Numba cannot cache closures or
functions taking other functions as arguments: both recompile in every process.)

Each kernel has a slow numpy twin in ``tests/reference.py``.
"""

from __future__ import annotations

import math
import types

import numpy as np
from numba import njit

from toyregimes.kernels.fused import fma

STATUS_OK = 0
STATUS_NONFINITE = 1

# Components of a state below FLOOR times their group's norm, and tangent-vector components below
# FLOOR, are raised to FLOOR (same sign): see _floor_group.  Only after every FLOOR_EVERY-th step
# (t % FLOOR_EVERY == FLOOR_EVERY - 1), as in the batched kernel: flooring every step cost ~30% of
# simulate's step, and between two floors a component shrinks by at most 7 steps' contraction.
FLOOR = 1e-60
FLOOR_EVERY = 8


# ----------------------------------------------------------------------------- Rayleigh family
@njit(cache=True)
def rayleigh_loss_grad(theta, offsets, mats, grad):
    """Loss ``sum_i theta_i^T M_i theta_i / r_i^2`` and its gradient ``2 (M_i theta_i - f_i theta_i) / r_i^2``.

    Per group, in this order: ``r^2`` and ``M theta`` (summed over components in order), ``q = theta . M
    theta``, ``inv = 1 / r^2``, ``f = q inv``, the gradient ``(2 inv)(M theta - f theta)``.  The sums and
    ``M theta - f theta`` are fused multiply-adds (:func:`~toyregimes.kernels.fused.fma`, one rounding
    each).  The batched kernel performs the same operations (:mod:`toyregimes.kernels.rayleigh_batched`).
    """
    loss = 0.0
    for i in range(offsets.size - 1):
        a = offsets[i]
        d = offsets[i + 1] - a
        r2 = 0.0
        for p in range(d):
            r2 = fma(theta[a + p], theta[a + p], r2)
        quad = 0.0
        for p in range(d):
            mp = 0.0
            for s in range(d):
                mp = fma(mats[i, p, s], theta[a + s], mp)
            grad[a + p] = mp  # holds M theta until f is known
            quad = fma(theta[a + p], mp, quad)
        # one division: 2 * (1 / r2) is 2 / r2 exactly, and a sweep kernel's division costs as much as a
        # d = 8 group's whole quadratic form
        inv = 1.0 / r2
        f = quad * inv
        scale = 2.0 * inv
        for p in range(d):
            grad[a + p] = scale * fma(-f, theta[a + p], grad[a + p])
        loss += f
    return loss


@njit(cache=True)
def rayleigh_hessian(theta, offsets, mats, out):
    """Block-diagonal Hessian: ``(2/r^2)(M - f I) - (2/r^2)(theta g^T + g theta^T)`` per group."""
    out[:, :] = 0.0
    grad = np.empty(theta.size)
    rayleigh_loss_grad(theta, offsets, mats, grad)
    for i in range(offsets.size - 1):
        a = offsets[i]
        d = offsets[i + 1] - a
        r2 = 0.0
        quad = 0.0
        for p in range(d):
            r2 += theta[a + p] * theta[a + p]
            for s in range(d):
                quad += theta[a + p] * mats[i, p, s] * theta[a + s]
        inv = 1.0 / r2
        f = quad * inv
        scale = 2.0 * inv
        for p in range(d):
            for s in range(d):
                h = mats[i, p, s] - (f if p == s else 0.0)
                h -= theta[a + p] * grad[a + s] + grad[a + p] * theta[a + s]
                out[a + p, a + s] = scale * h
    return out


_loss_grad = rayleigh_loss_grad
_hessian = rayleigh_hessian


# ----------------------------------------------------------------------------- generic pieces
def _fd_hessian_impl(theta, offsets, mats, out):
    """Central finite-difference Hessian of ``_loss_grad`` (for toys without an analytic one)."""
    dim = theta.size
    gp = np.empty(dim)
    gm = np.empty(dim)
    x = theta.copy()
    norm = math.sqrt(np.sum(theta * theta))
    h = 1e-5 * norm
    for j in range(dim):
        x[j] = theta[j] + h
        _loss_grad(x, offsets, mats, gp)
        x[j] = theta[j] - h
        _loss_grad(x, offsets, mats, gm)
        x[j] = theta[j]
        for p in range(dim):
            out[p, j] = (gp[p] - gm[p]) / (2.0 * h)
    for p in range(dim):  # symmetrise: the exact Hessian is symmetric
        for j in range(p + 1, dim):
            m = 0.5 * (out[p, j] + out[j, p])
            out[p, j] = m
            out[j, p] = m
    return out


def _tangent_max_eigenvalue(hmat, u):
    """Largest eigenvalue of ``hmat`` restricted to the complement of the unit vector ``u``.

    ``P hmat P - shift u u^T`` with ``P = I - u u^T`` has the tangent eigenvalues and one far
    below them (``-shift``) along ``u``, so the top eigenvalue is the tangent one even at a maximum,
    where every tangent eigenvalue is negative.
    """
    d = u.size
    proj = np.eye(d) - np.outer(u, u)
    shift = 1.0 + np.sum(np.abs(hmat))
    b = proj @ hmat @ proj - shift * np.outer(u, u)
    return np.linalg.eigvalsh(b)[d - 1]


_tangent_max_eigenvalue_jit = njit(cache=True)(_tangent_max_eigenvalue)


def _sharpness_impl(theta, offsets, mats, individual, hbuf, group_out):
    """Sphere sharpness: per group (angular directions of group i) and total.

    Total constraint: top eigenvalue of the Riemannian Hessian on the unit sphere, ``P H P`` on
    ``theta^perp`` (``<grad F, theta> = 0`` removes the curvature term).  Individual constraint:
    the manifold is a product of spheres, so the total is the largest group value.
    """
    _hessian(theta, offsets, mats, hbuf)
    n = offsets.size - 1
    for i in range(n):
        a = offsets[i]
        b = offsets[i + 1]
        block = np.ascontiguousarray(hbuf[a:b, a:b])
        u = theta[a:b] / math.sqrt(np.sum(theta[a:b] * theta[a:b]))
        group_out[i] = _tangent_max_eigenvalue_jit(block, u)
    if individual:
        return np.max(group_out)
    u = theta / math.sqrt(np.sum(theta * theta))
    return _tangent_max_eigenvalue_jit(hbuf, u)


@njit(cache=True)
def _floor_group(theta, a, b):
    """Raise components of ``theta[a:b]`` below ``FLOOR |theta[a:b]|`` in magnitude to that value.

    A component that decays towards a minimum (``y_i`` of a converging canonical group) would
    otherwise pass through the subnormal range, where arithmetic is ~100x slower, and reach exactly 0,
    where it is frozen: the gradient of that component is proportional to it, so a group at exactly
    ``y_i = 0`` can never leave a minimum that later becomes unstable (``c_i > 1`` when the total
    constraint shrinks its radius).  At ``1e-60`` of the group norm the component is 44 orders of
    magnitude below the rounding of the others, so nothing observable changes while the minimum is
    stable, and the group leaves it (as any perturbed system would) once it is not.  The sign is
    kept; NaN passes through (``NaN < lim`` is false).
    """
    r2 = 0.0
    for p in range(a, b):
        r2 += theta[p] * theta[p]
    lim = FLOOR * math.sqrt(r2)
    for p in range(a, b):
        if abs(theta[p]) < lim:
            theta[p] = math.copysign(lim, theta[p])


def _project_tangent(theta, offsets, individual, radii, v):
    """Remove from ``v`` its components normal to the constraint set at ``theta`` (in place)."""
    n = offsets.size - 1
    if individual:
        for i in range(n):
            a = offsets[i]
            b = offsets[i + 1]
            dot = 0.0
            for p in range(a, b):
                dot += v[p] * theta[p]
            dot /= radii[i] * radii[i]
            for p in range(a, b):
                v[p] -= dot * theta[p]
    else:
        dot = 0.0
        nrm = 0.0
        for p in range(theta.size):
            dot += v[p] * theta[p]
            nrm += theta[p] * theta[p]
        for p in range(theta.size):
            v[p] -= dot / nrm * theta[p]


def _pgd_run_impl(
    theta0, tangent0, elr, steps, record_every, individual, lyapunov, tail_len, offsets, mats, noise=None,
    with_sharpness=True, head_start=-1, samples=None, batch_idx=None, chord_records=False,
):
    """Projected gradient descent on the sphere, recording diagnostics every ``record_every`` steps.

    Step: ``y = theta - elr * grad F(theta)``; total constraint ``theta' = y / |y|``, individual
    constraint ``theta_i' = R_i y_i / |y_i|`` with ``R_i`` the initial group norms.  ``theta0`` must
    already lie on the constraint set (unit total norm).

    Records at ``t = 0, r, 2r, ... < steps``: loss, squared group norms, effective gradient norm ``|grad F|
    |theta|``, angle between ``theta_t`` and ``theta_{t+1}``, per-group and total sphere sharpness, and (if
    ``lyapunov``) the summed log growth of a tangent vector over the ``record_every`` steps starting at ``t``.  The
    tangent map of one step is ``v -> (I - y^ y^T)(v - elr H v) / |y|`` (per group, times ``R_i``, under the
    individual constraint), the tangent vector renormalised after each step.  The last ``tail_len`` states are kept
    for period detection.  ``noise`` (optional, ``steps x D`` standard normals) adds SI-consistent gradient noise
    ``P_i xi_i / (|theta_i| sqrt(d_i - 1))`` to each group's gradient (``P_i`` the projection orthogonal to
    ``theta_i``), so its mean square is ``1/r_i^2``; it is pre-scaled by the caller and excluded from the tangent
    map (an array of 0 rows: no noise).  A non-finite value stops the run: the remaining records are NaN and the
    status says at which step it happened.  With ``head_start >= 0`` the ``tail_len`` states from
    ``theta_{head_start}`` on are kept too (the head of the tail window, for the trend of the period residual).
    After every ``FLOOR_EVERY``-th step every group is floored (:func:`_floor_group`), and so are tangent components
    below ``FLOOR``.  With ``samples`` (``(N, n, dmax, dmax)`` per-sample group matrices of a stochastic Rayleigh
    toy) and ``batch_idx`` (``(steps, B)`` sample indices) the step uses the minibatch gradient: the gradient of the
    Rayleigh quotient of the mean of the ``B`` matrices (the quotient is linear in the matrix, so this is the mean
    of the per-sample gradients); ``batch_idx`` of 0 rows: the full gradient.  The recorded loss and gradient norm
    stay the full-batch ones.  With ``chord_records`` the angle records hold the squared chord ``|theta_{t+1} -
    theta_t|^2`` instead (what the sweeps reduce; it spares an ``asin`` per step and the sweep's ``sin`` to undo
    it, which cost more than a step of a small toy).
    """
    dim = theta0.size
    n = offsets.size - 1
    n_rec = (steps + record_every - 1) // record_every
    loss_rec = np.full(n_rec, np.nan)
    sq_rec = np.full((n_rec, n), np.nan)
    geff_rec = np.full(n_rec, np.nan)
    angle_rec = np.full(n_rec, np.nan)
    sharp_rec = np.full((n_rec, n), np.nan)
    tsharp_rec = np.full(n_rec, np.nan)
    growth_rec = np.full(n_rec, np.nan)
    tail_buf = np.full((tail_len, dim), np.nan)
    head_buf = np.full((tail_len if head_start >= 0 else 0, dim), np.nan)

    theta = theta0.copy()
    nxt = np.empty(dim)
    grad = np.empty(dim)
    hbuf = np.empty((dim, dim))
    gsharp = np.empty(n)
    radii = np.empty(n)
    ynorm = np.empty(n)
    for i in range(n):
        radii[i] = math.sqrt(np.sum(theta[offsets[i] : offsets[i + 1]] ** 2))
    v = tangent0.copy()
    hv = np.empty(dim)
    # An empty noise array (0 rows) or index array is the same as None: callers pass empty arrays so that
    # simulate and every sweep share one compiled signature (each costs tens of seconds for a user toy).
    minibatch = False
    if batch_idx is not None:  # (a None argument prunes this branch at compile time)
        minibatch = batch_idx.shape[0] > 0
    noisy = False
    if noise is not None:
        noisy = noise.shape[0] > 0
    mbar = np.zeros_like(mats)
    bgrad = np.empty(dim)
    if lyapunov:
        _project_tangent(theta, offsets, individual, radii, v)
        v /= math.sqrt(np.sum(v * v))

    status = STATUS_OK
    fail_step = -1
    growth = 0.0
    for t in range(steps):
        if tail_len > 0:
            tail_buf[t % tail_len, :] = theta
        if head_start >= 0 and head_start <= t < head_start + tail_len:
            head_buf[t - head_start, :] = theta
        loss = _loss_grad(theta, offsets, mats, grad)
        if minibatch:
            nb = batch_idx.shape[1]
            mbar[:] = 0.0
            for q in range(nb):
                mbar += samples[batch_idx[t, q]]
            mbar /= nb
            _loss_grad(theta, offsets, mbar, bgrad)
            for p in range(dim):
                nxt[p] = theta[p] - elr * bgrad[p]
        else:
            for p in range(dim):
                nxt[p] = theta[p] - elr * grad[p]
        if noise is not None:  # (a None argument prunes this branch at compile time)
            if noisy:
                for i in range(n):
                    a = offsets[i]
                    b = offsets[i + 1]
                    dot = 0.0
                    r2 = 0.0
                    for p in range(a, b):
                        dot += noise[t, p] * theta[p]
                        r2 += theta[p] * theta[p]
                    scale = elr / (math.sqrt(r2) * math.sqrt(b - a - 1.0))
                    for p in range(a, b):
                        nxt[p] -= scale * (noise[t, p] - dot / r2 * theta[p])
        ok = math.isfinite(loss)
        if individual:
            for i in range(n):
                ny = 0.0
                for p in range(offsets[i], offsets[i + 1]):
                    ny += nxt[p] * nxt[p]
                ok = ok and math.isfinite(ny)
                ynorm[i] = math.sqrt(ny)
                scale = radii[i] / ynorm[i]
                for p in range(offsets[i], offsets[i + 1]):
                    nxt[p] *= scale
        else:
            ny = 0.0
            for p in range(dim):
                ny += nxt[p] * nxt[p]
            ok = ok and math.isfinite(ny)
            ynorm[0] = math.sqrt(ny)
            scale = 1.0 / ynorm[0]
            for p in range(dim):
                nxt[p] *= scale
        if not ok:
            status = STATUS_NONFINITE
            fail_step = t
            if t % record_every == 0:
                # theta_t itself is finite (only the step from it failed): its loss and norms are real data,
                # so a run that fails at step 0 still reports F(theta_0) rather than NaN.
                loss_rec[t // record_every] = loss
                for i in range(n):
                    s = 0.0
                    for p in range(offsets[i], offsets[i + 1]):
                        s += theta[p] * theta[p]
                    sq_rec[t // record_every, i] = s
            break
        floor = t % FLOOR_EVERY == FLOOR_EVERY - 1
        if floor:
            for i in range(n):
                _floor_group(nxt, offsets[i], offsets[i + 1])
        if lyapunov:
            _hessian(theta, offsets, mats, hbuf)
            for p in range(dim):
                acc = 0.0
                for s in range(dim):
                    acc += hbuf[p, s] * v[s]
                hv[p] = v[p] - elr * acc
            # hv = (I - elr H) v; then project onto the tangent space at the new point, y^ = nxt
            # (up to the radius), and divide by |y| (times R_i for the individual constraint).
            _project_tangent(nxt, offsets, individual, radii, hv)
            if individual:
                for i in range(n):
                    for p in range(offsets[i], offsets[i + 1]):
                        hv[p] *= radii[i] / ynorm[i]
            else:
                for p in range(dim):
                    hv[p] /= ynorm[0]
            vn = math.sqrt(np.sum(hv * hv))
            growth += math.log(vn) if vn > 0.0 else -math.inf
            if vn > 0.0:
                for p in range(dim):
                    v[p] = hv[p] / vn
                    if floor and abs(v[p]) < FLOOR:
                        v[p] = math.copysign(FLOOR, v[p])
        if t % record_every == 0:
            k = t // record_every
            loss_rec[k] = loss
            g2 = 0.0
            x2 = 0.0
            d2 = 0.0
            for p in range(dim):
                g2 += grad[p] * grad[p]
                x2 += theta[p] * theta[p]
                d2 += (nxt[p] - theta[p]) ** 2
            geff_rec[k] = math.sqrt(g2 * x2)
            # 2 asin(|x' - x| / 2) is accurate for tiny angles, where acos(x . x') is not.
            angle_rec[k] = d2 if chord_records else 2.0 * math.asin(min(1.0, 0.5 * math.sqrt(d2)))
            for i in range(n):
                s = 0.0
                for p in range(offsets[i], offsets[i + 1]):
                    s += theta[p] * theta[p]
                sq_rec[k, i] = s
            if with_sharpness:  # an eigen-solve per record: the costliest diagnostic, optional
                tsharp_rec[k] = _sharpness(theta, offsets, mats, individual, hbuf, gsharp)
                for i in range(n):
                    sharp_rec[k, i] = gsharp[i]
        if lyapunov and (t % record_every == record_every - 1 or t == steps - 1):
            growth_rec[t // record_every] = growth
            growth = 0.0
        theta, nxt = nxt, theta
    if status != STATUS_OK:
        theta[:] = np.nan
    # unroll the ring buffer so that row j holds theta_{steps - tail_len + j}
    tail = np.empty_like(tail_buf)
    for j in range(tail_len):
        tail[j, :] = tail_buf[(steps + j) % tail_len, :]
    return (
        loss_rec, sq_rec, geff_rec, angle_rec, sharp_rec, tsharp_rec, growth_rec, tail, theta,
        status, fail_step, head_buf,
    )


_project_tangent = njit(cache=True)(_project_tangent)
_sharpness = njit(cache=True)(_sharpness_impl)
pgd_run = njit(cache=True)(_pgd_run_impl)
sharpness = _sharpness


def no_noise(dim):
    """The ``noise`` argument of :func:`pgd_run` for a run without noise (0 rows: one signature with noisy runs)."""
    return np.empty((0, dim))


def no_samples(mats):
    """The ``samples`` argument of :func:`pgd_run` for a full-batch run (0 samples of the shape of ``mats``)."""
    return np.empty((0,) + mats.shape)


def no_batch():
    """The ``batch_idx`` argument of :func:`pgd_run` for a full-batch run (0 steps of indices)."""
    return np.empty((0, 0), dtype=np.int64)


# ----------------------------------------------------------------------------- user toys
def _rebind(fn, namespace):
    """A copy of ``fn`` whose globals are ``namespace`` (Numba reads globals at compile time)."""
    return types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)


def specialise(loss_grad, hessian=None):
    """Kernels for a user toy: the same loop and sharpness code with the toy's functions bound.

    Parameters
    ----------
    loss_grad : numba dispatcher with signature ``(theta, offsets, mats, grad) -> float``.
    hessian : numba dispatcher ``(theta, offsets, mats, out)``, or None for finite differences.

    Returns
    -------
    dict with jitted ``loss_grad``, ``hessian``, ``sharpness`` and ``pgd_run`` (not disk-cached).
    """
    namespace = dict(globals())
    namespace["_loss_grad"] = loss_grad
    if hessian is None:
        hessian = njit(_rebind(_fd_hessian_impl, namespace))
    namespace["_hessian"] = hessian
    sharp = njit(_rebind(_sharpness_impl, namespace))
    namespace["_sharpness"] = sharp
    run = njit(_rebind(_pgd_run_impl, namespace))
    return {"loss_grad": loss_grad, "hessian": hessian, "sharpness": sharp, "pgd_run": run}


RAYLEIGH_KERNELS = {
    "loss_grad": rayleigh_loss_grad,
    "hessian": rayleigh_hessian,
    "sharpness": _sharpness,
    "pgd_run": pgd_run,
}
