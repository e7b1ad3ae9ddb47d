"""Counter-based Gaussian numbers: the noise of step ``t``, component ``p`` of a run, from its key alone.

A sweep runs trajectories in any order, chunk and thread, so its noise cannot come from a sequential
generator shared by them.  Here the number for ``(key, t, p)`` is a pure function: the counter ``(t, p)``
and the run's 64-bit ``key`` are hashed by SplitMix64's finaliser (a bijection of 64-bit words with full
avalanche; Steele, Lea & Flood 2014) into two 53-bit uniforms, which the Box-Muller transform turns into a
standard normal.  ``simulate`` draws its gradient noise with the same function (:func:`fill_normals`), so a
noisy sweep point and the ``simulate`` run from the same seed see the same noise.  The tests check the
moments, the independence of neighbouring counters and of keys, and that the numbers do not depend on the
order in which they are drawn.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO_53 = 1.0 / 9007199254740992.0


@njit(cache=True)
def _mix(z):
    """SplitMix64 finaliser of a uint64 (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def normal(key, t, p):
    """Standard normal number of run ``key`` (uint64), step ``t``, component ``p`` (ints >= 0, p < 2^32)."""
    counter = (np.uint64(t) << np.uint64(32)) | np.uint64(p)
    h1 = _mix(key ^ _mix(counter * _GOLDEN + _GOLDEN))
    h2 = _mix(h1 + _GOLDEN)
    u1 = (np.float64(h1 >> np.uint64(11)) + 0.5) * _TWO_53  # in (0, 1): the log is finite
    u2 = np.float64(h2 >> np.uint64(11)) * _TWO_53
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def uniform(key, t, p):
    """Uniform number in [0, 1) of run ``key``, step ``t``, counter ``p`` (the hash of :func:`normal`)."""
    counter = (np.uint64(t) << np.uint64(32)) | np.uint64(p)
    return np.float64(_mix(key ^ _mix(counter * _GOLDEN + _GOLDEN)) >> np.uint64(11)) * _TWO_53


@njit(cache=True)
def minibatch_indices(key, steps, n_samples, batch):
    """``(steps, batch)`` sample indices: at every step ``batch`` distinct samples of ``n_samples``.

    Step ``t`` draws without replacement by a partial Fisher-Yates shuffle of ``0 .. n_samples - 1`` whose
    ``j``-th swap partner comes from :func:`uniform` ``(key, t, j)``: the minibatch of a step is a pure
    function of the key and the step, whatever order or chunk the runs are in.
    """
    out = np.empty((steps, batch), dtype=np.int64)
    perm = np.empty(n_samples, dtype=np.int64)
    for t in range(steps):
        for i in range(n_samples):
            perm[i] = i
        for j in range(batch):
            r = j + min(n_samples - j - 1, int(uniform(key, t, j) * (n_samples - j)))
            tmp = perm[j]
            perm[j] = perm[r]
            perm[r] = tmp
            out[t, j] = perm[j]
    return out


@njit(cache=True)
def fill_normals(key, steps, dim):
    """``(steps, dim)`` array of :func:`normal` numbers of run ``key``."""
    out = np.empty((steps, dim))
    for t in range(steps):
        for p in range(dim):
            out[t, p] = normal(key, t, p)
    return out


def run_key(seed) -> np.uint64:
    """The noise key of the run with this seed (from ``numpy.random.SeedSequence([seed, 2])``)."""
    return np.random.SeedSequence([int(seed), 2]).generate_state(1, np.uint64)[0]


def batch_key(seed) -> np.uint64:
    """The minibatch key of the run with this seed (``SeedSequence([seed, 3])``: independent of the noise)."""
    return np.random.SeedSequence([int(seed), 3]).generate_state(1, np.uint64)[0]
