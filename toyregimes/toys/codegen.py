"""Kernels of expression toys as generated modules on disk, compiled once per machine.

Numba caches compiled code on disk only for functions defined in a file, and never for functions built at
run time (closures, rebound copies): an expression toy built in memory recompiled its kernels (6-12 s) in
every process and on every Dask worker.  Here the toy's kernels are written out as one Python module: the
value and gradient printed from the validated sympy tree (never the user's text), followed by the
source of the library's single-run and sweep kernels (:mod:`toyregimes.kernels.pgd`,
:mod:`toyregimes.kernels.user_batched`), all decorated ``@njit(cache=True)``.  The file is named by a
SHA-256 of everything that determines the compiled code (the module text, the source of the kernels it
imports, the Numba and Python versions), so a given expression compiles once per machine and a changed
library never meets stale code.  It is written atomically (concurrent processes may race to write the
same bytes) into :func:`cache_dir`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import pathlib
import sys
import tempfile

from toyregimes.kernels import _cache_guard, pgd, user_batched

_HEADER = '''"""Kernels of a toyregimes expression toy: generated, do not edit (see toyregimes.toys.codegen)."""
import math

import numpy as np
from numba import njit, prange

from toyregimes.kernels.noise import fill_normals, minibatch_indices
from toyregimes.kernels.periods import block_residuals, detect_period_rows
from toyregimes.kernels.pgd import FLOOR, FLOOR_EVERY, STATUS_NONFINITE, STATUS_OK
from toyregimes.kernels.user_batched import LYAP_BLOCKS, N_STATS

'''


# library kernels whose source is copied into the generated module (decorators stripped; bound below)
_KERNELS = (
    pgd._fd_hessian_impl, pgd._tangent_max_eigenvalue, pgd._sharpness_impl, pgd._floor_group,
    pgd._project_tangent, pgd._pgd_run_impl, user_batched._reduce_run_impl, user_batched._user_sweep_impl,
)

_BINDINGS = '''
value = njit(cache=True)(value)
gradient = njit(cache=True)(gradient)
_loss_grad = njit(cache=True)(_loss_grad_impl)
_hessian = njit(cache=True)(_fd_hessian_impl)
_tangent_max_eigenvalue_jit = njit(cache=True)(_tangent_max_eigenvalue)
_floor_group = njit(cache=True)(_floor_group)
_project_tangent = njit(cache=True)(_project_tangent)
_sharpness = njit(cache=True)(_sharpness_impl)
_pgd_run = njit(cache=True)(_pgd_run_impl)
_reduce_run = njit(cache=True)(_reduce_run_impl)
user_sweep = njit(cache=True, parallel=True)(_user_sweep_impl)
KERNELS = {"loss_grad": _loss_grad, "hessian": _hessian, "sharpness": _sharpness, "pgd_run": _pgd_run,
           "user_sweep": user_sweep}
'''


def cache_dir() -> pathlib.Path:
    """Where generated modules live: ``$TOYREGIMES_CACHE_DIR``, else ``$XDG_CACHE_HOME/toyregimes``, else
    ``~/.cache/toyregimes``."""
    if os.environ.get("TOYREGIMES_CACHE_DIR"):
        return pathlib.Path(os.environ["TOYREGIMES_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "toyregimes"


def _source_of(fn) -> str:
    """Source of a library kernel without its decorator lines."""
    lines = inspect.getsource(getattr(fn, "py_func", fn)).splitlines()
    while lines and lines[0].lstrip().startswith("@"):
        lines.pop(0)
    return "\n".join(lines) + "\n"


def module_source(functions_source: str) -> str:
    """The generated module's text, from the source of ``value``, ``gradient`` and ``_loss_grad_impl``
    (:func:`toyregimes.toys.expressions.function_source`)."""
    parts = [_HEADER, functions_source]
    parts += ["\n" + _source_of(fn) + "\n" for fn in _KERNELS]
    parts.append(_BINDINGS)
    return "".join(parts)


def _key(text: str) -> str:
    import numba

    h = hashlib.sha256(text.encode())
    # the generated module calls compiled kernels and reads constants (FLOOR, N_STATS, ...) of the kernel
    # modules, which are linked into its cache entries: every kernel source is part of the name
    h.update(_cache_guard.fingerprint().encode())
    h.update(f"numba {numba.__version__} python {sys.version}".encode())
    return h.hexdigest()[:32]


def load(text: str) -> dict:
    """Write (if absent) and import the generated module ``text``; its kernels, by name.

    The dict is the module's own (one per process), so kernels compiled later for the toy (the Lyapunov
    spectrum loop) can be kept in it.
    Raises ``OSError`` if the cache directory cannot be written.
    """
    key = _key(text)
    name = f"toyregimes_expr_{key}"
    if name in sys.modules:
        return sys.modules[name].KERNELS
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    if not path.exists() or path.read_text() != text:
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module.KERNELS
