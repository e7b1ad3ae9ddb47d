"""toyregimes: training scale-invariant toy models on the sphere, and the regimes it falls into.

>>> import toyregimes as tr
>>> toy = tr.toys.canonical(alpha=[1, 2, 3])
>>> run = tr.simulate(toy, elr=0.25, steps=2000)       # per-step xarray.Dataset
>>> tr.theory.equilibrium_loss([1, 2, 3], 0.25)         # closed form, A/2 - 1/(2 elr)
"""

__version__ = "0.1.0"

from toyregimes import analysis, theory, toys  # noqa: E402
from toyregimes import explore as explore_module  # noqa: E402
from toyregimes import simulate as simulate_module  # noqa: E402
from toyregimes import train as train_module  # noqa: E402
from toyregimes.explore import explore  # noqa: E402
from toyregimes.io import load, save  # noqa: E402
from toyregimes.orbits import orbit_diagram  # noqa: E402
from toyregimes.simulate import simulate  # noqa: E402
from toyregimes.sweep import canonical_alpha, sweep, sweep_grid  # noqa: E402
from toyregimes.train import train, train_grid  # noqa: E402

__all__ = [
    "analysis",
    "canonical_alpha",
    "explore",
    "explore_module",
    "load",
    "orbit_diagram",
    "save",
    "simulate",
    "simulate_module",
    "sweep",
    "sweep_grid",
    "theory",
    "toys",
    "train",
    "train_grid",
    "train_module",
    "__version__",
]
