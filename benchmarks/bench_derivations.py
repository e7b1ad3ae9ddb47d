"""Time of every derivation claim (``toyregimes verify``), slowest first, and the total.

Run: ``python benchmarks/bench_derivations.py``.  Target: the whole verification under a minute (it
replaced a timing assertion in the tests, which failed under load on a shared 2-core machine).
"""

from __future__ import annotations

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from toyregimes.derivations import run_claims  # noqa: E402


def main():
    start = time.perf_counter()
    rows = run_claims()
    total = time.perf_counter() - start
    for row in sorted(rows, key=lambda r: -r["seconds"]):
        print(f"{row['name']:<36} {row['status']:<8} {row['seconds']:7.2f} s")
    print(f"{'total':<36} {'':<8} {total:7.2f} s")


if __name__ == "__main__":
    main()
