"""Write the example notebooks of ``examples/`` (outputs stripped) from the cell sources below.

Run ``python examples/make_notebooks.py`` after editing a cell here; the notebooks are stored without
outputs and ``tests/test_notebooks.py`` executes each of them in a real kernel.  Every notebook reads
``TOYREGIMES_QUICK=1`` (set by the tests) to shrink its grids.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
import os

import matplotlib.pyplot as plt
import numpy as np

import toyregimes as tr

QUICK = os.environ.get("TOYREGIMES_QUICK") == "1"  # the test suite runs this notebook on small settings"""

THREE_REGIMES = [
    new_markdown_cell("""\
# The three regimes in ten minutes

A network with normalisation layers is **scale-invariant** (SI) in groups of its weights: multiplying a
group by a positive constant does not change the loss.  Training such a model on the unit sphere with a
fixed *effective learning rate* (ELR) `η` falls into one of three regimes — **convergence**, a
**chaotic equilibrium**, or (only as `η → ∞` in these toys) **divergence** to the random-direction loss.

`toyregimes` simulates this exactly on the *canonical toy* `F = Σ α_i sin²(φ_i)`: `n` groups in R², each
with its own sharpness `α_i`.  With `A = Σ α_i` everything depends on one number, **`k = η A`**; the
threshold is `k = 1`."""),
    new_code_cell(SETUP + """

alpha = [1.0, 2.0, 3.0]
A = sum(alpha)
toy = tr.toys.canonical(alpha)
STEPS = 3000 if QUICK else 20_000
print(f"A = {A}, threshold ELR 1/A = {tr.theory.threshold(alpha):.4f}, random-direction loss A/2 = {A / 2}")"""),
    new_markdown_cell("""\
## One run per regime

`tr.simulate` runs projected gradient descent on the sphere and returns an `xarray.Dataset` with the loss,
the squared group norms `r_i²`, the individual ELRs `η_i = η / r_i²` and more, step by step.
`tr.analysis.classify` labels the tail of a run.  Above the threshold the time-averaged loss follows the
closed form `A/2 − 1/(2η)`, whether the motion is periodic (just above `k = 1`) or chaotic."""),
    new_code_cell("""\
runs = {}
for k in (0.7, 1.3, 3.0, 30.0):
    run = tr.simulate(toy, elr=k / A, steps=STEPS, seed=0, lyapunov=True)
    label, ev = tr.analysis.classify(run)
    runs[k] = run
    theory = float(tr.theory.equilibrium_loss(alpha, k / A))
    lyap = "n/a" if ev["lyapunov"] is None else f"{ev['lyapunov']:+.3f}"
    print(f"k = {k:5.1f}: {label:12s}  tail loss {ev['mean_loss']:.3f}  (theory {theory:.3f}),  Lyapunov {lyap}")"""),
    new_markdown_cell("""\
## What a run looks like

Loss with its equilibrium level, the group norms with the equilibrium split `r_i² = α_i / A`, and the
individual ELRs with each group's own threshold `1/α_i` (dashed)."""),
    new_code_cell("""\
from toyregimes.plot import plot_individual_elrs, plot_phase_diagram, plot_run

plot_run(runs[1.3])
plt.show()"""),
    new_markdown_cell("""\
## Why the threshold is `k = 1`

A single group converges iff its individual ELR is below `1/α_i`.  The groups share one sphere, so
`Σ 1/η_i = 1/η`: below `k = 1` the norms can rearrange until *every* group is under its threshold;
above it some group is always over — the panels below show exactly that."""),
    new_code_cell("""\
plot_individual_elrs([runs[0.7], runs[1.3], runs[3.0]])
plt.show()"""),
    new_markdown_cell("""\
## The phase diagram

Many ELRs and seeds at once (`tr.sweep`, one parallel Numba kernel): tail mean loss, its spread, the
largest Lyapunov exponent and the cos-angle between steps, against `k`."""),
    new_code_cell("""\
num, seeds, steps, tail = (40, 2, 2000, 500) if QUICK else (200, 4, 20_000, 5_000)
phase = tr.sweep(toy, k=np.geomspace(0.1, 100, num), seeds=seeds, steps=steps, tail=tail, progress=False)
plot_phase_diagram(phase)
plt.show()"""),
    new_markdown_cell("""\
## And with weight decay?

Ordinary training (no constraint) with learning rate `lr` and weight decay `wd` keeps the norm in check;
at equilibrium only **`γ = lr · wd`** matters.  Two runs with the same `γ` end with the same sphere ELR
`lr / |w|²`."""),
    new_code_cell("""\
wd_steps = 4000 if QUICK else 20_000
for lr, wd in ((0.1, 0.01), (0.4, 0.0025)):
    run = tr.train(toy, lr=lr, wd=wd, steps=wd_steps, noise="tangent", noise_scale=0.5, seed=0)
    tail = run.isel(step=slice(-wd_steps // 4, None))
    print(f"lr = {lr}, wd = {wd}: gamma = {lr * wd:.4g}, tail sphere ELR {float(tail.sphere_elr.mean()):.4f}")"""),
    new_markdown_cell("""\
## Explore

Move the sliders: every change re-simulates and redraws (needs `pip install 'toyregimes[interactive]'`;
outside Jupyter, `toyregimes explore` opens the same explorer in a window)."""),
    new_code_cell("""\
try:
    from toyregimes.explore import explore
except ImportError:  # pragma: no cover - without the interactive extra
    explore = None
    print("pip install 'toyregimes[interactive]' for the interactive explorer")
ex = explore(alpha=alpha, k=1.3, steps=STEPS) if explore else None
ex"""),
]

VERIFY = [
    new_markdown_cell("""\
# Verify the threshold yourself

**Claim.** PGD on the unit sphere at ELR `η` converges for the canonical toy `F = Σ α_i sin²(φ_i)` iff
`η < 1 / Σ α_i`, i.e. `k = η Σα < 1`; above it the loss settles at `A/2 − 1/(2η)`.

We check it three ways: the repository's symbolic derivations, a five-line sympy argument of our own, and
simulations on both sides of the threshold."""),
    new_code_cell(SETUP),
    new_markdown_cell("""\
## 1. The derivations

`derivations/` re-derives every closed form with sympy and cross-checks it numerically; `run_claims` runs
the ones about the threshold (the same as `toyregimes verify --claim ...`)."""),
    new_code_cell("""\
from toyregimes.derivations import negative_controls, run_claims
from toyregimes.derivations.report import format_table

names = ["elr_harmonic_sum", "threshold_split_exists", "threshold_every_split_unstable", "coupled_equilibrium"]
rows = run_claims(names)
print(format_table(rows))
assert all(row["status"] == "passed" for row in rows)"""),
    new_markdown_cell("""\
The checker can fail: a deliberately wrong threshold `2/A` is reported as failed."""),
    new_code_cell("""\
wrong = run_claims(["wrong_threshold_2_over_A"], claims=negative_controls())
print(wrong[0]["name"], "->", wrong[0]["status"])
assert wrong[0]["status"] == "failed\""""),
    new_markdown_cell("""\
## 2. By hand

With the split `r_i² = α_i / A` (which sums to one), the individual ELR of group `i` is `η_i = η / r_i²`
and its stability condition `η_i α_i < 1` becomes the same inequality for every group:"""),
    new_code_cell("""\
import sympy as sp

eta = sp.symbols("eta", positive=True)
a = sp.symbols("alpha1:4", positive=True)
A = sum(a)
r2 = [ai / A for ai in a]
print("sum of r_i^2 =", sp.simplify(sum(r2)))
for i, (ai, ri2) in enumerate(zip(a, r2, strict=True), start=1):
    print(f"eta_{i} * alpha_{i} = (eta / r_{i}^2) * alpha_{i} =", sp.simplify(eta / ri2 * ai))
# Conversely, if every eta_i * alpha_i <= 1 then r_i^2 >= eta alpha_i, and summing: 1 >= eta A.
print("sum_i 1/eta_i =", sp.simplify(sum(1 / (eta / ri2) for ri2 in r2)))"""),
    new_markdown_cell("""\
## 3. Simulate both sides

A fine grid of `k` around 1, many seeds: the fraction of runs that converge drops from 1 to 0 at `k = 1`."""),
    new_code_cell("""\
alpha = [1.0, 2.0, 3.0]
toy = tr.toys.canonical(alpha)
k = np.geomspace(0.8, 1.25, 16 if QUICK else 40)
seeds, steps = (6, 8000) if QUICK else (16, 40_000)
ds = tr.sweep(toy, k=k, seeds=seeds, steps=steps, tail=steps // 4, progress=False)
converged = (ds.regime.values == "convergence").mean(axis=1)

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(k, converged, "o-")
ax.axvline(1.0, color="C3", ls="--", label="theory: k = 1")
ax.set_xscale("log")
ax.set_xlabel("k = elr * sum(alpha)")
ax.set_ylabel("fraction converged")
ax.legend()
plt.show()
assert converged[k < 0.95].min() == 1.0 and converged[k > 1.05].max() == 0.0"""),
    new_markdown_cell("""\
## 4. Above the threshold: the equilibrium

Just above `k = 1` the runs sit on the exact period-2 orbit: loss `A/2 − 1/(2η)` and `cos ∠(θ_t, θ_{t+1}) =
1/k`."""),
    new_code_cell("""\
for kk in (1.1, 1.3, 1.5):
    elr = kk / sum(alpha)
    stats = tr.analysis.summary(tr.simulate(toy, elr=elr, steps=steps, seed=1), tail=steps // 4)
    print(f"k = {kk}: loss {stats['mean_loss']:.6f} vs {float(tr.theory.equilibrium_loss(alpha, elr)):.6f}; "
          f"cos angle {stats['mean_cos_angle']:.6f} vs {float(tr.theory.equilibrium_cos_angle(alpha, elr)):.6f}")"""),
]

GALLERY = [
    new_markdown_cell("""\
# Reproduce the gallery

Every figure of the README is a function in `toyregimes.plot.gallery` (the computation and the plot).
`toyregimes figures --out figures/` draws them all at full resolution (several minutes); here we draw them
into a temporary directory — with `QUICK` only three, on small grids."""),
    new_code_cell("""\
import os

from toyregimes.plot import gallery

QUICK = os.environ.get("TOYREGIMES_QUICK") == "1"  # the test suite runs this notebook on small settings

for fig in gallery.FIGURES.values():
    print(f"{fig.name}: {fig.caption[:110]}...")"""),
    new_code_cell("""\
import tempfile

from IPython.display import Image, Markdown, display

OUT = tempfile.mkdtemp(prefix="toyregimes-gallery-")  # or "../figures" to overwrite the committed PNGs
names = ["phase_diagram", "individual_elrs", "constraints"] if QUICK else list(gallery.FIGURES)
for name in names:
    path = gallery.draw(name, OUT, quick=QUICK)
    display(Markdown(f"**{name}** — {gallery.FIGURES[name].caption}"))
    display(Image(filename=str(path), width=640))"""),
    new_markdown_cell("""\
The README's gallery section is generated from the same registry:"""),
    new_code_cell("""\
print(gallery.markdown()[:600])"""),
]

NOTEBOOKS = {
    "01_three_regimes.ipynb": THREE_REGIMES,
    "02_verify_threshold.ipynb": VERIFY,
    "03_reproduce_gallery.ipynb": GALLERY,
}


def build(name: str):
    nb = new_notebook(cells=NOTEBOOKS[name])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(name).stem.split('_')[0]}-{i:02d}"  # stable ids: regenerating gives no diff
    return nb


def main() -> None:
    for name in NOTEBOOKS:
        nb = build(name)
        nbformat.validate(nb)
        nbformat.write(nb, HERE / name)
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
