"""The guard against stale Numba caches of kernels whose callees changed (toyregimes.kernels._cache_guard)."""

from __future__ import annotations

import shutil

from toyregimes.kernels import _cache_guard as cg

MODULES = {"periods", "rayleigh_batched"}


def _fill(folder):
    names = ["rayleigh_batched._run_block-335.py311.nbi", "rayleigh_batched._run_block-335.py311.1.nbc",
             "periods.block_periods-83.py311.nbi", "other.f-1.py311.nbi", "rayleigh_batched.cpython-311.pyc"]
    for name in names:
        (folder / name).write_text("x")
    return names


def test_a_changed_source_removes_the_indexes_of_the_kernel_modules_only(tmp_path):
    _fill(tmp_path)
    assert cg.clear_stale(tmp_path, "old", MODULES) == 2  # no marker yet: the cache's origin is unknown
    left = sorted(p.name for p in tmp_path.iterdir())
    assert "rayleigh_batched._run_block-335.py311.nbi" not in left
    assert "periods.block_periods-83.py311.nbi" not in left
    # data files, other modules' caches and bytecode stay
    assert {"rayleigh_batched._run_block-335.py311.1.nbc", "other.f-1.py311.nbi",
            "rayleigh_batched.cpython-311.pyc"} <= set(left)
    assert (tmp_path / cg.MARKER).read_text() == "old"

    _fill(tmp_path)
    assert cg.clear_stale(tmp_path, "old", MODULES) == 0  # same sources: the cache is kept
    assert (tmp_path / "periods.block_periods-83.py311.nbi").exists()
    assert cg.clear_stale(tmp_path, "new", MODULES) == 2  # a source changed
    assert not (tmp_path / "periods.block_periods-83.py311.nbi").exists()
    assert (tmp_path / cg.MARKER).read_text() == "new"


def test_the_fingerprint_covers_every_kernel_source(tmp_path):
    for path in cg.HERE.glob("*.py"):
        shutil.copy(path, tmp_path / path.name)
    base = cg.fingerprint(tmp_path)
    assert base == cg.fingerprint(cg.HERE)
    for name in ("periods.py", "noise.py", "pgd.py"):  # callees inlined into other modules' cache entries
        path = tmp_path / name
        text = path.read_bytes()
        path.write_bytes(text + b"\n# edited\n")
        assert cg.fingerprint(tmp_path) != base, name
        path.write_bytes(text)
    assert cg.fingerprint(tmp_path) == base


def test_importing_the_kernels_records_the_fingerprint_of_this_checkout():
    folder = cg.cache_folder()
    assert folder is not None and folder.is_dir()
    assert (folder / cg.MARKER).read_text() == cg.fingerprint()


def test_an_unwritable_cache_is_ignored(tmp_path):
    missing = tmp_path / "absent"
    assert cg.clear_stale(missing, "x", MODULES) == 0  # no error: Numba compiles without a cache
