"""Fused multiply-add, ``a * b + c`` rounded once, for Numba code.

The Rayleigh family's gradient (:func:`toyregimes.kernels.pgd.rayleigh_loss_grad`) and its batched sweep
kernel accumulate their sums with :func:`fma`: written out in both, the operation is part of the
definition of a run, so a sweep point stays ``simulate``'s run bit for bit (a compiler's fast-math
contraction would fuse some operations in one and not in the other).  A fused multiply-add is one
instruction where a multiply and an add were two, which makes the d = 8 mat-vec of a sweep ~1.15x
faster.  It is the IEEE 754 ``fusedMultiplyAdd``, correctly rounded; where the CPU has no FMA unit LLVM
calls the C library's ``fma``, slower but with the same results.
"""

from __future__ import annotations

from numba import njit, types, vectorize
from numba.extending import intrinsic


@intrinsic
def _llvm_fma(typingctx, a, b, c):
    """``llvm.fma.f64``: the correctly rounded ``a * b + c``."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return sig, codegen


@njit(cache=True, inline="always")
def fma(a, b, c):
    """``a * b + c`` with a single rounding (float64)."""
    return _llvm_fma(float(a), float(b), float(c))


@vectorize(["float64(float64, float64, float64)"], cache=True)
def fma_ufunc(a, b, c):
    """:func:`fma` as a numpy ufunc (for the numpy twins of the kernels)."""
    return _llvm_fma(a, b, c)


def fma_exact(a, b, c):
    """Reference ``a * b + c`` rounded once, in exact rational arithmetic (slow; for tests)."""
    from fractions import Fraction

    return float(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c)))

