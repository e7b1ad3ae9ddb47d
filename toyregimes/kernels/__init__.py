"""Numba inner loops and nothing else.

May import only numpy, numba and the standard library (a test checks it), so every kernel can be
read, compiled and cached on its own.  Every kernel has a slow numpy twin in ``tests/``.

* :mod:`~toyregimes.kernels.pgd` -- one PGD run on the sphere (Rayleigh family; user toys through
  :func:`~toyregimes.kernels.pgd.specialise`), with its diagnostics; twin ``tests/reference.py``.
* :mod:`~toyregimes.kernels.batched` -- many runs of the canonical toy at once with in-kernel tail
  statistics (the sweep engine); twin ``tests/reference_batched.py``.
* :mod:`~toyregimes.kernels.weight_decay` -- unconstrained SGD / momentum / AdamW with weight decay;
  twin ``tests/reference_train.py``.
"""
