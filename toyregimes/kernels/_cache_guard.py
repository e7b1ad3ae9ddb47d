"""Drop Numba's cached kernels of this folder when any kernel source changed.

Numba validates a cached function against its own file only (the file's timestamp and size).  A kernel
that calls a function of another module carries that function's machine code in its cache entry, so
after an edit of, say, ``periods.py`` (a ``git pull``, an editable install) the sweep kernels of
``batched.py`` and ``rayleigh_batched.py`` would still run the old period detection.  This module keeps a
fingerprint of every kernel source (and the Numba version) beside the cache; when it differs, the cache
indexes (``*.nbi``) of the kernel modules are removed, so every kernel compiles afresh once and is cached
again.  Only index files are removed: a process that already read an index finds its data files intact.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pathlib
import tempfile

import numba
from numba import njit

MARKER = "toyregimes-kernels.sha256"
HERE = pathlib.Path(__file__).resolve().parent


@njit(cache=True)
def _probe():  # pragma: no cover - never called; its cache locator names the folder's cache directory
    return 0


def fingerprint(folder: pathlib.Path = HERE) -> str:
    """SHA-256 of the kernel sources of ``folder`` (names and bytes, sorted) and the Numba version.

    The kernels' own fingerprint is read once per process (the import guard and every expression toy ask).
    """
    return _kernels_fingerprint() if folder == HERE else _fingerprint_of(folder)


@functools.cache
def _kernels_fingerprint() -> str:
    return _fingerprint_of(HERE)


def _fingerprint_of(folder: pathlib.Path) -> str:
    h = hashlib.sha256(f"numba {numba.__version__}\n".encode())
    for path in sorted(folder.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_folder() -> pathlib.Path | None:
    """The directory where Numba caches the kernels of this folder (``None`` if Numba does not say)."""
    cache = getattr(_probe, "_cache", None)
    path = getattr(cache, "_cache_path", None)
    return pathlib.Path(path) if path else None


def clear_stale(folder: pathlib.Path, current: str, modules) -> int:
    """Remove the cache indexes of ``modules`` in ``folder`` unless its marker holds ``current``.

    Writes the marker afterwards (atomically: concurrent processes write the same text).  Returns the
    number of index files removed.  Errors of the file system are ignored (the cache is only an
    optimisation, and Numba itself falls back to compiling).
    """
    marker = folder / MARKER
    try:
        if marker.read_text() == current:
            return 0
    except OSError:
        pass
    removed = 0
    try:
        for path in folder.glob("*.nbi"):
            if path.name.split(".", 1)[0] in modules:
                try:
                    path.unlink()
                    removed += 1
                except OSError:
                    pass
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            fh.write(current)
        os.replace(tmp, marker)
    except OSError:
        pass
    return removed


def guard() -> int:
    """Apply :func:`clear_stale` to this folder's Numba cache; the number of stale indexes removed."""
    folder = cache_folder()
    if folder is None or not folder.is_dir():
        return 0
    modules = {path.stem for path in HERE.glob("*.py")}
    return clear_stale(folder, fingerprint(), modules)
