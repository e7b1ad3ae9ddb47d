"""toyregimes: training scale-invariant toy models on the sphere, and the regimes it falls into.

The public API, re-exported from the layers (each a sub-package or module named after its concept;
data flows one way, and ``tests/test_architecture.py`` checks the layers and the absence of cycles):
``kernels`` (Numba loops) < ``toys``, ``io`` < ``analysis`` < ``simulate``, ``train`` < ``sweep``,
``orbits`` < ``studies`` < ``plot`` < ``explore`` < this facade < ``cli``.  ``theory`` is plain numpy.

>>> import toyregimes as tr
>>> toy = tr.toys.canonical(alpha=[1, 2, 3])
>>> run = tr.simulate(toy, elr=0.25, steps=2000)       # per-step xarray.Dataset
>>> float(tr.theory.equilibrium_loss([1, 2, 3], 0.25))  # closed form, A/2 - 1/(2 elr)
1.0
"""

from toyregimes import analysis, studies, theory, toys  # noqa: I001  (the version first: every layer imports it)
from toyregimes._version import __version__
from toyregimes.explore import explore
from toyregimes.io import load, save
from toyregimes.lyapunov import lyapunov_spectrum
from toyregimes.orbits import orbit_diagram
from toyregimes.simulate import simulate
from toyregimes.sweep import canonical_alpha, sweep, sweep_grid
from toyregimes.train import train, train_grid

__all__ = [
    "analysis",
    "canonical_alpha",
    "explore",
    "load",
    "lyapunov_spectrum",
    "orbit_diagram",
    "save",
    "simulate",
    "sweep",
    "studies",
    "sweep_grid",
    "theory",
    "toys",
    "train",
    "train_grid",
    "__version__",
]
