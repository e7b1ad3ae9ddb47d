"""The example notebooks: stored without outputs, in sync with their generator, and executed in a real kernel."""

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", EXAMPLES / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_three_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == sorted(_generator().NOTEBOOKS)
    assert len(NOTEBOOKS) == 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_without_outputs_and_in_sync_with_the_generator(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs not stripped"
    assert nb == _generator().build(path.name), f"{path.name}: run python examples/make_notebooks.py"


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """Environment of the notebook kernels: small settings, the inline backend, a python3 kernelspec."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOYREGIMES_QUICK", "1")
        # the kernel inherits the environment; conftest's MPLBACKEND=Agg would make plt.show() warn there
        mp.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        # jupyter_core warns (DeprecationWarning) about its path migration unless this is set
        mp.setenv("JUPYTER_PLATFORM_DIRS", "1")
        try:
            KernelSpecManager().get_kernel_spec("python3")
        except NoSuchKernel:  # a fresh machine without a registered kernel: install one for this process only
            from ipykernel.kernelspec import install

            prefix = tmp_path_factory.mktemp("jupyter")
            install(prefix=str(prefix))
            mp.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
        yield


def _outputs(nb) -> tuple[str, set]:
    text, kinds = [], set()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                text.append(out.text)
            kinds.update(out.get("data", {}))
    return "".join(text), kinds


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_executes_top_to_bottom(path, kernel_env):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, if any cell fails
    text, kinds = _outputs(nb)
    assert "image/png" in kinds
    if path.name.startswith("01"):
        assert "periodic" in text and "chaotic" in text
        assert "application/vnd.jupyter.widget-view+json" in kinds  # the explorer ran in the kernel
    elif path.name.startswith("02"):
        assert "PASSED" in text and "FAILED" not in text and "wrong_threshold_2_over_A -> failed" in text
    else:
        assert "phase_diagram" in text
