"""Figures tried as a reader would (issue #17 item 5): every line and colour named, one colour per name,
labelled panels, integer ticks on integer axes, no colliding or cropped text, print widths, vector output.

Every gallery figure is drawn once, in its quick variant, and audited by :mod:`toyregimes.plot.audit`;
the negative controls show that each check fails on a figure with the defect it looks for.
"""

import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import toyregimes as tr  # noqa: E402
from toyregimes.cli import main  # noqa: E402
from toyregimes.plot import audit, gallery, style  # noqa: E402
from toyregimes.plot import training as plot_training  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# Deliberately unlabelled artists of each figure beyond those its plotting code marks with
# ``style.unlabelled(artist, reason)`` (which the audit accepts and test_unlabelled_artists_say_why
# lists): label or gid -> why no legend entry is needed.  Empty: every figure names all it draws.
ALLOWED_UNLABELLED = {name: {} for name in gallery.FIGURES}


@pytest.fixture(scope="module")
def figures():
    figs = {name: gallery.render(name, quick=True) for name in gallery.FIGURES}
    yield figs
    for fig in figs.values():
        plt.close(fig)


@pytest.fixture(scope="module")
def grid():
    """A small k x groups sweep grid (one group included: its exponents are strongly negative)."""
    return tr.sweep_grid(lambda groups: tr.toys.canonical(tr.canonical_alpha(int(groups), 1.0)),
                         {"groups": np.arange(1, 5)}, k=np.geomspace(0.3, 30, 16), seeds=1, steps=1500, tail=500)


@pytest.mark.parametrize("name", list(gallery.FIGURES))
def test_every_line_and_colour_of_a_gallery_figure_is_named(figures, name):
    fig = figures[name]
    panels = [ax for ax in fig.axes if getattr(ax, "_colorbar", None) is None]
    assert panels and all(audit.data_artists(ax) for ax in panels), "a panel without data"
    assert audit.unexplained_artists(fig, allow=ALLOWED_UNLABELLED[name]) == []
    assert audit.inconsistent_colours(fig) == {}
    assert audit.unlabelled_axes(fig) == []


@pytest.mark.parametrize("name", list(gallery.FIGURES))
def test_no_gallery_figure_has_colliding_tick_labels_or_cropped_text(figures, name):
    fig = figures[name]  # drawn by gallery.render (finish), as it is saved
    assert audit.overlapping_tick_labels(fig, draw=False) == []
    assert audit.clipped_texts(fig, draw=False) == []
    assert audit.overlapping_texts(fig, draw=False) == []


def test_unlabelled_artists_say_why(figures):
    reasons = set()
    for fig in figures.values():
        for ax in fig.axes:
            for artist in audit.data_artists(ax):
                gid = artist.get_gid() or ""
                if gid.startswith(style.UNLABELLED):
                    reasons.add(gid[len(style.UNLABELLED):])
    assert reasons, "the gallery marks its zero lines and bands as deliberately unlabelled"
    assert all(len(r) > 15 for r in reasons), reasons
    with pytest.raises(ValueError, match="reason"):
        style.unlabelled(plt.Line2D([], []), "")


def test_negative_controls_each_check_catches_its_defect(grid):
    fig = tr.plot.plot_regime_map(grid, "groups")
    ax = fig.axes[0]
    assert audit.unexplained_artists(fig) == [] and audit.inconsistent_colours(fig) == {}
    # an unlabelled line, and a labelled one that no legend shows: both reported
    ax.plot([1, 2], [1, 2])
    ax.plot([1, 3], [2, 3], label="mystery")
    missing = audit.unexplained_artists(fig)
    assert len(missing) == 2 and any("mystery" in m for m in missing)
    # marked deliberately unlabelled, or allowed by label: accepted
    ax.lines[-2].set_gid(style.UNLABELLED + "negative control, marked on purpose")
    assert audit.unexplained_artists(fig, allow={"mystery"}) == []
    # the legend's name drawn in another colour elsewhere: inconsistent
    ax.plot([1, 2], [3, 3], color="C1", label="theory boundary k = 1")
    assert "theory boundary k = 1" in audit.inconsistent_colours(fig)
    # a panel without labels
    bare = fig.add_axes((0.4, 0.4, 0.1, 0.1))
    bare.plot([0, 1], [0, 1], label="theory boundary k = 1", color="k", ls="--")
    assert any("no y label" in m for m in audit.unlabelled_axes(fig))
    plt.close(fig)

    # colliding tick labels and a title running off the figure
    fig, ax = plt.subplots(figsize=(2, 2), layout="constrained")
    ax.plot([0, 1], [0, 1])
    ax.set_xticks(np.linspace(0, 1, 11), [f"label {i}" for i in range(11)])
    ax.set_title("a title far too long to fit a two-inch-wide figure without being wrapped somewhere")
    assert audit.overlapping_tick_labels(fig) and audit.clipped_texts(fig)
    style.finish(fig)  # wraps the title
    assert audit.clipped_texts(fig) == []
    # a note written where the legend sits
    ax.legend(["a line"], loc="lower right")
    ax.text(0.95, 0.05, "a note in the corner", transform=ax.transAxes, ha="right", va="bottom")
    assert any("a note in the corner" in pair for pair in audit.overlapping_texts(fig))
    plt.close(fig)


def test_regime_map_groups_axis_has_integer_ticks_and_the_legend_clears_k1(figures):
    fig = figures["regime_map_groups"]
    ax = next(a for a in fig.axes if a.get_ylabel().startswith("number of groups"))
    lo, hi = sorted(ax.get_ylim())
    ticks = [t for t in ax.get_yticks() if lo <= t <= hi]
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = fig.findobj(matplotlib.legend.Legend)
    boundary = [line for a in fig.axes for line in a.lines if "k = 1" in line.get_label()]
    assert legends and boundary
    for line in boundary:
        for legend in legends:
            assert not legend.get_window_extent(renderer).overlaps(line.get_window_extent(renderer))


def test_lyapunov_colours_scale_each_sign_so_chaotic_cells_are_saturated(grid):
    fig = tr.plot.plot_regime_map(grid, "groups")
    mesh = next(c for c in fig.axes[1].collections if c.get_array() is not None)
    values = grid["lyapunov"].mean("seed").values
    pos = values[values > 0]
    assert values.min() < -3 * pos.max(), "the control needs n = 1 exponents far below the chaotic ones"
    # a 99th-percentile chaotic cell reaches the end of the red scale, whatever the negative range
    assert mesh.norm(np.percentile(pos, 99)) == pytest.approx(1.0)
    assert mesh.norm(0.0) == pytest.approx(0.5)
    bar = next(a for a in fig.axes if getattr(a, "_colorbar", None) is not None and a._colorbar.mappable is mesh)
    assert "signs scaled separately" in bar.get_ylabel()
    plt.close(fig)


def test_figure_size_and_paper_width_draw_at_a_column_width_with_print_fonts(grid):
    assert style.figure_size("single", aspect=0.5) == (3.5, 1.75)
    assert style.figure_size("double")[0] == 7.2 and style.figure_size("4.5")[0] == 4.5
    for bad in ("triple", 0.2, "nan"):
        with pytest.raises(ValueError, match="width"):
            style.figure_size(bad)
    with style.paper_width("single"):  # checked as saved: inside the width's print style
        grid_map = style.finish(tr.plot.plot_regime_map(grid, "groups"))
        for fig in (grid_map, gallery.render("train_equilibrium", quick=True, width="single")):  # restacked rows
            assert fig.get_figwidth() == pytest.approx(3.5)
            assert audit.unexplained_artists(fig) == [] and audit.unlabelled_axes(fig) == []
            assert audit.overlapping_tick_labels(fig) == [] and audit.clipped_texts(fig) == []
            assert audit.overlapping_texts(fig, draw=False) == []
            sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
            assert min(sizes) >= style.MIN_PRINT_POINTS
            plt.close(fig)
    assert style.current_width() is None  # the width does not leak out of the block


def test_log_limits_ignore_zeros_and_subnormal_underflow():
    values = np.array([0.0, 5e-324, 1e-315, 1e-12, 1.0, 1e14, np.nan, -1.0])
    lo, hi = style.log_limits(values, pad=1.0)
    assert (lo, hi) == (1e-12, 1e14)
    assert style.log_limits(values, decades=6, pad=1.0) == (1e8, 1e14)
    assert style.log_limits([0.0, 1e-320]) is None


def test_train_plot_axes_hold_meaningful_values_and_every_panel_is_labelled():
    run = tr.train(tr.toys.canonical([1, 2, 3]), lr=0.5, wd=0.0, steps=2000)
    loss = run.loss.values.copy()
    loss[-5:] = [1e-315, 0.0, 5e-324, 1e-310, 0.0]  # underflow into subnormals, as long runs do
    run["loss"] = ("step", loss)
    fig = plot_training.plot_train_run(run)
    for ax in fig.axes:
        assert ax.get_ylabel() and ax.get_title()
        if ax.get_yscale() == "log":
            lo, hi = ax.get_ylim()
            assert lo > sys.float_info.min and hi / lo < 1e18, (ax.get_title(), lo, hi)
    assert audit.unexplained_artists(fig) == [] and audit.unlabelled_axes(fig) == []
    plt.close(fig)


def test_the_cli_figures_of_single_results_pass_the_audit():
    # what `run --plot`, `train --plot` and `plot grid.nc` draw: not gallery entries, same standard
    toy = tr.toys.canonical([1, 2, 3])
    figs = [tr.plot.plot_run(tr.simulate(toy, elr=0.3, steps=600, constraint=c)) for c in ("total", "individual")]
    figs.append(plot_training.plot_train_run(tr.train(toy, lr=0.1, wd=0.01, steps=600, noise="tangent")))
    figs.append(plot_training.plot_train_grid(tr.train_grid(tr.toys.canonical([1, 2]), np.geomspace(0.05, 0.5, 4),
                                                               np.geomspace(1e-3, 1e-2, 3), 300)))
    for fig in figs:
        style.finish(fig)
        assert audit.unexplained_artists(fig) == [] and audit.inconsistent_colours(fig) == {}
        assert audit.unlabelled_axes(fig) == [] and audit.overlapping_tick_labels(fig) == []
        assert audit.clipped_texts(fig, draw=False) == [] and audit.overlapping_texts(fig, draw=False) == []
        plt.close(fig)


def test_plot_and_figures_write_valid_vector_files_at_a_column_width(tmp_path):
    grid = tr.sweep_grid(lambda heterogeneity: tr.toys.canonical(tr.canonical_alpha(3, heterogeneity)),
                         {"heterogeneity": [0.0, 1.0]},
                         k=np.geomspace(0.5, 5, 5), seeds=1, steps=800, tail=200)
    tr.save(grid, tmp_path / "grid.nc")
    pdf, svg = tmp_path / "map.pdf", tmp_path / "map.svg"
    assert main(["plot", str(tmp_path / "grid.nc"), "--out", str(pdf), "--width", "single"]) == 0
    assert main(["plot", str(tmp_path / "grid.nc"), "--out", str(svg), "--width", "7"]) == 0
    assert pdf.read_bytes()[:5] == b"%PDF-" and b"%%EOF" in pdf.read_bytes()[-64:]
    text = svg.read_text()
    assert "<svg" in text and text.rstrip().endswith("</svg>")
    width_pt = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', text).group(1))
    assert width_pt == pytest.approx(7 * 72, rel=1e-3)
    out = tmp_path / "figs"
    assert main(["figures", "--only", "train_reparametrisation", "--quick", "--format", "pdf", "--width", "double",
                 "--out", str(out), "--quiet"]) == 0
    assert (out / "train_reparametrisation.pdf").read_bytes()[:5] == b"%PDF-"
    assert main(["plot", str(tmp_path / "grid.nc"), "--out", str(pdf), "--width", "huge"]) == 2


def test_statements_cite_papers_or_derivations_not_a_spec_file():
    # the papers (arXiv:2209.03695, arXiv:2509.25049) or a claim of `toyregimes verify` prove each statement
    cited = []
    for path in [ROOT / "README.md", *(ROOT / "toyregimes").rglob("*.py"), *(ROOT / "derivations").rglob("*.py"),
                 *(ROOT / "docs").rglob("*.md"), *(ROOT / "tests").rglob("*.py")]:
        if path.name == "test_figures.py":
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bSPEC(\.md|\b(?!TRA))", line):
                cited.append(f"{path.relative_to(ROOT)}:{i}")
    assert cited == []
