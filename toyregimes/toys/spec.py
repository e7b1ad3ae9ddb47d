"""Rebuilding a toy from the spec stored in a result's attrs."""

from __future__ import annotations

import json

from toyregimes.toys.base import Toy
from toyregimes.toys.canonical import canonical
from toyregimes.toys.from_expression import from_expression
from toyregimes.toys.rayleigh import rayleigh


def from_spec(spec) -> Toy:
    """Rebuild a toy from its ``spec`` (dict or JSON string), as stored in a run's attrs."""
    if isinstance(spec, str):
        spec = json.loads(spec)
    kind = spec.get("kind")
    if kind == "canonical":
        return canonical(spec["alpha"])
    if kind == "rayleigh":
        return rayleigh(spec["spectra"], rotate=spec["rotate"], seed=spec["seed"])
    if kind == "expression":
        return from_expression(spec["expression"], spec["groups"], spec["params"], name=spec["name"])
    raise ValueError(f"cannot rebuild a toy of kind {kind!r} from its spec")
