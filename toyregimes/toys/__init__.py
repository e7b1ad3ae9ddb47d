"""Scale-invariant toy functions with ``n`` parameter groups.

A :class:`Toy` is ``F(theta) = sum_i f_i(theta_i)`` (or a user function), scale-invariant in each
group.  It exposes the value, gradient, Hessian and sphere sharpness at any point, its minima, and
the random-direction loss level, and carries the flat arrays and Numba functions the kernels use.

Constructors:

* :func:`canonical` -- ``f_i = alpha_i sin^2 phi_i`` in R^2 (exact theory, Kodryan et al. 2022);
* :func:`rayleigh` -- ``f_i = theta_i^T M_i theta_i / |theta_i|^2`` with spectra ``spec(M_i)``;
* :func:`custom` -- user-supplied Numba-compilable value and gradient, checked before use;
* :func:`from_expression` -- a formula, parsed without ``eval`` and compiled;
* :func:`stochastic` -- per-sample SI functions for minibatch noise;
* :func:`from_spec` -- rebuild a toy from the spec stored in a result.

One module per constructor (``base`` holds :class:`Toy`).

Layer: may import ``kernels`` (the Numba functions a toy carries) and the private helpers; the
expression parser lives in :mod:`toyregimes.toys.expressions`.
"""

from toyregimes.toys.base import Toy
from toyregimes.toys.canonical import canonical
from toyregimes.toys.custom import custom
from toyregimes.toys.from_expression import from_expression
from toyregimes.toys.rayleigh import rayleigh
from toyregimes.toys.spec import from_spec
from toyregimes.toys.stochastic import stochastic

__all__ = ["Toy", "canonical", "rayleigh", "custom", "from_expression", "stochastic", "from_spec"]
