"""Shared test settings: a deterministic hypothesis profile and a non-interactive backend."""

import os

import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

# Numba compiles on first use, which hypothesis would count against its deadline.
settings.register_profile(
    "toyregimes", deadline=None, max_examples=40, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("toyregimes")
