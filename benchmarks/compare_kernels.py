"""The exact and the fast sweep kernel of the canonical toy, side by side: time and label agreement.

Run: ``python benchmarks/compare_kernels.py``.  For three held-out α (none of them used to calibrate the
label criteria), 57 k in [0.4, 3.2] and 8 seeds each, 20 000 steps with tail 5 000 and the tangent map,
the same sweep runs with ``kernel="exact"`` (the default: ``simulate``'s trajectories bit for bit) and
``kernel="fast"`` (the canonical toy's own kernel), each after a small warm-up call so that compilation is
not timed.  Prints the wall-time ratio, the number of points whose labels agree, the k values where they
differ and the most common pairs of differing labels (fast, exact).  The two kernels round differently, so
labels may only differ where rounding differences grow: chaotic and mixed bands, and boundaries.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

import toyregimes as tr

CASES = [((0.4, 1.1, 2.2), range(700, 708)), ((1.0, 3.0), range(900, 908)), ((0.2, 0.9, 1.6, 3.1), range(1200, 1208))]
K = np.linspace(0.4, 3.2, 57)


def main():
    total = agree_total = 0
    for alpha, seeds in CASES:
        toy = tr.toys.canonical(alpha)
        seeds = list(seeds)
        out, seconds = {}, {}
        for kernel in ("fast", "exact"):
            tr.sweep(toy, k=K[:2], seeds=seeds[:1], steps=100, tail=50, progress=False, kernel=kernel)  # compile
            t = time.perf_counter()
            out[kernel] = tr.sweep(toy, k=K, seeds=seeds, steps=20_000, tail=5_000, progress=False, kernel=kernel)
            seconds[kernel] = time.perf_counter() - t
        fast, exact = out["fast"].regime.values, out["exact"].regime.values
        agree = fast == exact
        total += agree.size
        agree_total += int(agree.sum())
        k_diff = sorted({round(float(k), 2) for k in np.broadcast_to(K[:, None], agree.shape)[~agree]})
        pairs = Counter(zip(fast[~agree].tolist(), exact[~agree].tolist(), strict=True)).most_common(4)
        print(f"alpha = {alpha}: fast {seconds['fast']:.2f} s, exact {seconds['exact']:.2f} s "
              f"(exact/fast time {seconds['exact'] / seconds['fast']:.2f}); labels agree at "
              f"{int(agree.sum())}/{agree.size}; differ at k = {k_diff}; (fast, exact): {pairs}")
    print(f"overall: labels agree at {agree_total}/{total}")


if __name__ == "__main__":
    main()
