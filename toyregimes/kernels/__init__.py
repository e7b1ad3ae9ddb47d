"""Numba inner loops and nothing else.

May import only numpy, numba and the standard library (a test checks it), so every kernel can be
read, compiled and cached on its own.  Every kernel has a slow numpy twin in ``tests/``.

* :mod:`~toyregimes.kernels.pgd` -- one PGD run on the sphere (Rayleigh family; user toys through
  :func:`~toyregimes.kernels.pgd.specialise`), with its diagnostics; twin ``tests/reference.py``.
* :mod:`~toyregimes.kernels.batched` -- many runs of the canonical toy at once with in-kernel tail
  statistics (the sweep engine); twin ``tests/reference_batched.py``.
* :mod:`~toyregimes.kernels.rayleigh_batched` -- the same for every Rayleigh toy (any n, any d_i,
  rotated), trajectories bit-identical to ``pgd``; twin ``tests/reference_rayleigh_batched.py``.
* :mod:`~toyregimes.kernels.user_batched` -- sweeps of user toys: their single-run kernel per
  trajectory in ``prange``, tail statistics in-kernel; reference ``tests/reference_user_chunk.py``.
* :mod:`~toyregimes.kernels.periods`, :mod:`~toyregimes.kernels.tail_stats` -- period detection and
  block standard errors shared by the sweep kernels; :mod:`~toyregimes.kernels.noise` -- counter-based
  Gaussian numbers (the gradient noise of ``simulate`` and of noisy sweeps).
* :mod:`~toyregimes.kernels.weight_decay` -- unconstrained SGD / momentum / AdamW with weight decay;
  twin ``tests/reference_train.py``.
"""

from toyregimes.kernels._cache_guard import guard as _guard_cache

# a kernel's cache entry holds the code of the kernels it calls, which Numba does not check: start afresh
# whenever any kernel source changed (see toyregimes.kernels._cache_guard)
_guard_cache()
