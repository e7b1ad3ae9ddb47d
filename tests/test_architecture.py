"""The package's architecture: layers that import only downwards, no import cycles, pure kernels.

The import graph is built from the source (``ast``), counting every import, also those inside
functions (a lazy import is still a dependency).  Importing ``a.b.c`` is an edge to ``a.b.c`` only
(the implicit execution of the parent packages' ``__init__`` is not counted, as in import-linter).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "toyregimes"

# Layer of every module, by the longest matching prefix: a module may import modules of its own layer or
# of a lower one, never of a higher one.
LAYERS = {
    "toyregimes._version": 0,
    "toyregimes._validate": 0,
    "toyregimes._progress": 0,
    "toyregimes._budget": 0,
    "toyregimes.theory": 0,
    "toyregimes.kernels": 0,
    "toyregimes.io": 1,
    "toyregimes.toys": 1,
    "toyregimes.analysis": 2,
    "toyregimes.simulate": 3,
    "toyregimes.train": 3,
    "toyregimes.lyapunov": 3,
    "toyregimes.sweep": 4,
    "toyregimes.orbits": 4,
    "toyregimes.studies": 5,
    "toyregimes.plot": 6,
    "toyregimes.explore": 7,
    "toyregimes": 9,  # the public facade (__init__): re-exports the layers above
    "toyregimes.cli": 10,  # the command line is a client of the public API
}
KERNEL_IMPORTS = {"numpy", "numba"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, modules: dict) -> tuple[set, set]:
    """(toyregimes modules imported, top-level names of other imports) of one file, lazy imports included."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    ours, others = set(), set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # "from pkg import mod" imports the module pkg.mod when there is one, else names of pkg
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == "toyregimes":
                while target not in modules:  # "toyregimes.x.name" -> the module that defines it
                    target = target.rpartition(".")[0]
                ours.add(target)
            else:
                others.add(target.split(".")[0])
    ours.discard(name)
    return ours, others


def _graph():
    modules = _modules()
    return {name: _imports(path, modules) for name, path in modules.items()}


def _layer(name: str) -> int:
    best = max((p for p in LAYERS if name == p or name.startswith(p + ".")), key=len)
    return LAYERS[best]


def _cycles(edges: dict) -> list:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer_and_every_package_a_docstring():
    for name, path in _modules().items():
        assert _layer(name) is not None
        if path.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(path.read_text()))
            assert doc and len(doc) > 40, f"{name}: a package says what lives there and what it may import"


def test_no_import_cycles():
    graph = _graph()
    assert _cycles({name: ours for name, (ours, _) in graph.items()}) == []


def test_layers_import_only_downwards():
    bad = [f"{name} (layer {_layer(name)}) imports {dep} (layer {_layer(dep)})"
           for name, (ours, _) in _graph().items() for dep in sorted(ours) if _layer(dep) > _layer(name)]
    assert bad == []


def test_kernels_import_only_numpy_numba_and_the_standard_library():
    for name, (ours, others) in _graph().items():
        if name == "toyregimes.kernels" or name.startswith("toyregimes.kernels."):
            assert all(dep.startswith("toyregimes.kernels.") for dep in ours), (name, ours)
            assert others <= KERNEL_IMPORTS | set(sys.stdlib_module_names), (name, others)


def test_the_checks_can_fail():
    # negative controls: a cycle, an upward import and a kernel importing xarray are all caught
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _layer("toyregimes.sweep.distributed") > _layer("toyregimes.simulate")
    modules = _modules()
    fake = PACKAGE / "kernels" / "__fake_for_test__.py"
    try:
        fake.write_text("import xarray\nfrom toyregimes import plot\nfrom toyregimes.sweep import sweep\n")
        ours, others = _imports(fake, {**modules, _module_name(fake): fake})
    finally:
        fake.unlink()
    assert ours == {"toyregimes.plot", "toyregimes.sweep"} and "xarray" in others


@pytest.mark.parametrize("path", ["toyregimes.sweep.distributed", "toyregimes.kernels.batched",
                                  "toyregimes.explore.views", "toyregimes.studies.divergence",
                                  "toyregimes.plot.gallery", "toyregimes.cli.train", "toyregimes.sweep.plan",
                                  "toyregimes.explore.model", "toyregimes.cli.explore"])
def test_modules_are_reachable_by_their_paths(path):
    import importlib

    assert importlib.import_module(path).__name__ == path


def test_public_api_has_no_module_aliases():
    import toyregimes as tr

    assert not [name for name in tr.__all__ if name.endswith("_module")]
    for name in ("simulate", "sweep", "sweep_grid", "train", "explore", "orbit_diagram", "load", "save"):
        assert callable(getattr(tr, name)), name
    for name in ("toys", "analysis", "theory"):
        assert hasattr(getattr(tr, name), "__path__") or hasattr(getattr(tr, name), "__file__"), name


def test_numba_disk_cache_is_used_by_a_second_process():
    # the kernels moved into toyregimes/kernels/: a fresh process must load them from Numba's on-disk cache
    # (the first process compiles them if the cache is cold, e.g. on a new machine)
    code = (
        "import toyregimes as tr\n"
        "from toyregimes.kernels import batched, pgd, rayleigh_batched\n"
        "toy = tr.toys.canonical([1.0, 2.0])\n"
        "tr.sweep(toy, elr=[0.1], seeds=1, steps=20, tail=10, progress=False)\n"
        "tr.sweep(toy, elr=[0.1], seeds=1, steps=20, tail=10, progress=False, kernel='fast')\n"
        "tr.simulate(toy, elr=0.1, steps=20)\n"
        "kernels = (rayleigh_batched._rayleigh_sweep, batched._canonical_sweep, pgd.pgd_run)\n"
        "print(sum(sum(d.stats.cache_hits.values()) for d in kernels),\n"
        "      sum(sum(d.stats.cache_misses.values()) for d in kernels))\n"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            for _ in range(2)]
    first, second = (tuple(int(v) for v in r.stdout.split()) for r in runs)
    assert sum(first) >= 3  # each kernel was either compiled or loaded
    assert second == (3, 0)  # the second process recompiles nothing
