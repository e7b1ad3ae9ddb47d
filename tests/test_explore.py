"""The explorer: models, the ipywidgets front end driven from code, the matplotlib window headless (Agg)."""

import json
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

import toyregimes as tr
from toyregimes.cli.explore import add_explore_parser
from toyregimes.explore import (
    K_RANGE,
    ExplorerModel,
    WeightDecayModel,
    explore,
    explore_window,
    parse_alpha,
)
from toyregimes.sweep import canonical_alpha

STEPS = 2000


def _sim(alpha, k, steps=STEPS, seed=0, constraint="total"):
    alpha = np.asarray(alpha, dtype=float)
    return tr.simulate(tr.toys.canonical(alpha), elr=k / alpha.sum(), steps=steps, seed=seed,
                       constraint=constraint)


@pytest.fixture(scope="module")
def ex():
    return explore(alpha=[1, 2, 3], k=1.5, steps=STEPS)


@pytest.fixture
def window():
    win = explore_window(alpha=[1, 2, 3], k=1.5, steps=STEPS, show=False)
    yield win
    plt.close(win.fig)


# ----------------------------------------------------------------------------- model
def test_model_data_is_simulate_with_theory_levels():
    m = ExplorerModel(alpha=[1, 2, 3], k=1.3, steps=STEPS, seed=2)
    d = m.compute()
    run = _sim([1, 2, 3], 1.3, seed=2)
    np.testing.assert_array_equal(d.loss, run.loss.values)
    np.testing.assert_array_equal(d.sq_norm, run.sq_norm.values)
    np.testing.assert_array_equal(d.individual_elr, run.individual_elr.values)
    assert d.eq_loss == pytest.approx(float(tr.theory.equilibrium_loss([1, 2, 3], 1.3 / 6)))
    np.testing.assert_allclose(d.thresholds, [1, 1 / 2, 1 / 3])
    np.testing.assert_allclose(d.eq_sq_norm, [1 / 6, 2 / 6, 3 / 6])
    assert np.cos(2 * d.phi_star) == pytest.approx(1 / 1.3)
    assert d.directions.shape[1:] == (3, 2)
    np.testing.assert_allclose(np.linalg.norm(d.directions, axis=2), 1.0)
    assert d.summary["regime"] == "periodic" and "periodic" in d.title
    # the current point sits on the theory curve of the phase diagram (period-2 orbit, exact)
    assert d.current_level == pytest.approx(1 - 1 / 1.3, abs=1e-3)


def test_model_rejects_bad_settings_atomically():
    m = ExplorerModel(alpha=[1, 2, 3], k=1.5, steps=STEPS)
    before = m.settings()
    for bad in ({"k": 0}, {"k": K_RANGE[1] * 2}, {"k": "abc"}, {"alpha": "1, 0, 3"}, {"alpha": "a b"},
                {"alpha": ""}, {"steps": 0}, {"steps": "many"}, {"seed": -1}, {"constraint": "both"},
                {"groups": 0}, {"heterogeneity": -1}, {"k": 2.0, "steps": 3}, {"speed": 1}):
        with pytest.raises(ValueError):
            m.set(**bad)
        assert m.settings() == before, bad
    m.set(groups=4, heterogeneity=0.5)
    np.testing.assert_allclose(m.alpha, canonical_alpha(4, 0.5))
    m.set(elr=0.5)
    assert m.k == pytest.approx(0.5 * 4)
    assert parse_alpha("(1; 2  3)").tolist() == [1.0, 2.0, 3.0]


def test_model_with_a_fixed_rayleigh_toy_and_refuses_custom_toys():
    toy = tr.toys.rayleigh([[0, 1, 3], [0, 2]], rotate=True, seed=0)
    m = ExplorerModel(toy, k=2.0, steps=500)
    d = m.compute()
    assert d.directions is None and np.isnan(d.eq_loss)
    np.testing.assert_array_equal(d.loss, tr.simulate(toy, elr=2.0 / toy.alpha_eff.sum(), steps=500).loss.values)
    with pytest.raises(ValueError, match="alpha is fixed"):
        m.set(alpha=[1, 2])
    with pytest.raises(ValueError, match="toy"):
        ExplorerModel("canonical")


def test_weight_decay_model_family_has_equal_gamma():
    m = WeightDecayModel(tr.toys.canonical([1, 2, 3]), lr=0.2, wd=0.005, steps=1500, seed=1)
    d = m.compute()
    assert d.gamma == pytest.approx(1e-3)
    kw = {"noise": "tangent", "noise_scale": 0.5, "seed": 1}
    np.testing.assert_array_equal(d.loss, tr.train(tr.toys.canonical([1, 2, 3]), 0.2, 0.005, 1500, **kw).loss.values)
    c = d.factors[-1]
    member = tr.train(tr.toys.canonical([1, 2, 3]), c * 0.2, 0.005 / c, 1500, **kw)
    np.testing.assert_array_equal(d.family_sphere_elr[-1], member.sphere_elr.values)
    assert d.eq_angle == pytest.approx(np.arccos(1 - 1e-3))
    for bad in ({"lr": 0}, {"wd": 1.0}, {"noise": "pink"}, {"steps": -5}):
        with pytest.raises(ValueError):
            m.set(**bad)


# ----------------------------------------------------------------------------- Jupyter front end
def test_jupyter_k_slider_redraws_simulate(ex):
    png_before = ex.image.value
    ex.controls["k"].value = 3.0
    assert ex.controller.message == "ok" and "ok" in ex.status.value
    run = _sim([1, 2, 3], 3.0)
    v = ex.view
    np.testing.assert_array_equal(v.loss_line.get_ydata(), run.loss.values)
    np.testing.assert_array_equal(v.loss_line.get_xdata(), run.step.values)
    for i in range(3):
        np.testing.assert_array_equal(v.r2_lines[i].get_ydata(), run.sq_norm.values[:, i])
        np.testing.assert_array_equal(v.eta_lines[i].get_ydata(), run.individual_elr.values[:, i])
        assert v.eta_thr[i].get_ydata()[0] == pytest.approx(1 / (i + 1))
        assert v.eta_lines[i].get_visible() and not v.eta_lines[i + 3].get_visible()
    assert v.eq_line.get_ydata()[0] == pytest.approx(float(tr.theory.equilibrium_loss([1, 2, 3], 0.5)))
    assert v.k_line.get_xdata()[0] == 3.0 and v.current.get_xdata()[0] == 3.0
    assert ex.controls["k_text"].value == 3.0
    assert ex.image.value != png_before and ex.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    # the final directions drawn on the circles are the run's final state
    fin = run.final_state.values[1]
    x, y = v.arrows[1].get_data()
    np.testing.assert_allclose([x[1] - x[0], y[1] - y[0]], fin / np.linalg.norm(fin))


def test_jupyter_invalid_input_shows_a_message_and_keeps_the_last_run(ex):
    ex.controls["k"].value = 2.0
    lines = ex.view.loss_line.get_ydata().copy()
    for name, bad, expected in (("k_text", -1.0, "k must be in"), ("k_text", 1e6, "k must be in"),
                                ("alpha", "1, 0, 3", "alpha must have every entry > 0"),
                                ("alpha", "1, two", "alpha must be numbers"), ("steps", 0, "steps must be"),
                                ("seed", -3, "seed must be")):
        ex.controls[name].value = bad  # never raises: the callback catches and shows the reason
        assert expected in ex.controller.message
        assert "color:#b00020" in ex.status.value and expected.split()[0] in ex.status.value
        assert expected in ex.view.message.get_text()
        np.testing.assert_array_equal(ex.view.loss_line.get_ydata(), lines)
        assert ex.model.k == 2.0 and ex.model.steps == STEPS
    ex.controls["k"].value = 2.5  # a valid move clears the message
    assert ex.controller.message == "ok" and ex.view.message.get_text() == ""
    ex.controls["seed"].value = 0
    ex.controls["steps"].value = STEPS
    ex.controls["alpha"].value = "1, 2, 3"


def test_jupyter_groups_heterogeneity_constraint(ex):
    ex.controls["k"].value = 1.5
    ex.controls["heterogeneity"].value = 1.0
    ex.controls["groups"].value = 4
    alpha = canonical_alpha(4, 1.0)
    np.testing.assert_allclose(ex.model.alpha, alpha)
    assert ex.controls["alpha"].value == ", ".join(f"{a:.4g}" for a in alpha)
    assert sum(line.get_visible() for line in ex.view.r2_lines) == 4
    np.testing.assert_array_equal(ex.view.loss_line.get_ydata(), _sim(alpha, 1.5).loss.values)
    # the weight-decay tab follows the toy
    assert json.loads(ex.wd_model.toy.spec_json)["alpha"] == pytest.approx(alpha.tolist())
    ex.controls["constraint"].value = "individual"
    run = _sim(alpha, 1.5, constraint="individual")
    np.testing.assert_array_equal(ex.view.loss_line.get_ydata(), run.loss.values)
    limit = tr.theory.individual_limit_loss(alpha, 1.5 / alpha.sum(), run.sq_norm.values[0])
    assert ex.view.eq_line.get_ydata()[0] == pytest.approx(limit)
    assert not ex.view.theory_line.get_visible()
    ex.controls["constraint"].value = "total"
    ex.controls["alpha"].value = "1, 2, 3"
    assert ex.controls["groups"].value == 3 and ex.model.alpha.tolist() == [1, 2, 3]


def test_jupyter_weight_decay_tab(ex):
    ex.wd_controls["lr"].value = 0.05
    ex.wd_controls["wd"].value = 0.02
    assert ex.wd_controller.message == "ok"
    assert "γ = η·λ = 0.001" in ex.gamma.value
    run = tr.train(ex.wd_model.toy, 0.05, 0.02, STEPS, noise="tangent", noise_scale=0.5, seed=0)
    v = ex.wd_view
    np.testing.assert_array_equal(v.run_lines[0].get_ydata(), run.loss.values)
    np.testing.assert_array_equal(v.run_lines[2].get_ydata(), run.sphere_elr.values)
    c = ex.wd_model.factors[0]
    member = tr.train(ex.wd_model.toy, c * 0.05, 0.02 / c, STEPS, noise="tangent", noise_scale=0.5, seed=0)
    np.testing.assert_array_equal(v.family[0][0].get_ydata(), member.loss.values)
    assert v.gamma_lines[0].get_xdata()[0] == pytest.approx(1000.0)
    ex.wd_controls["steps"].value = -1
    assert "steps must be" in ex.wd_controller.message and "color:#b00020" in ex.wd_status.value
    ex.wd_controls["steps"].value = STEPS
    ex.wd_controls["noise"].value = "none"
    assert ex.wd_controller.message == "ok" and not v.eq_angle.get_visible()


def test_jupyter_display_and_slider_moves_without_recompilation(ex):
    # The update time itself is a benchmark (benchmarks/bench_explore.py), not a test assertion.
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    kernel = ex.model.toy.kernels["pgd_run"]
    n_signatures = len(kernel.signatures)
    for k in (0.5, 1.2, 3.0, 10.0, 2.0):
        ex.controls["k"].value = k
        assert ex.controller.message == "ok"
        np.testing.assert_array_equal(ex.view.loss_line.get_ydata(), _sim([1, 2, 3], k).loss.values)
    ex.controls["constraint"].value = "individual"
    ex.controls["constraint"].value = "total"
    assert len(kernel.signatures) == n_signatures  # slider moves never compile


def test_core_import_does_not_need_ipywidgets():
    code = ("import sys, matplotlib; matplotlib.use('Agg'); import toyregimes, toyregimes.explore, "
            "toyregimes.explore.views, toyregimes.explore.widgets; from toyregimes.explore import explore_window; "
            "w = explore_window(steps=200, show=False); assert w.controller.message == 'ok'; "
            "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# ----------------------------------------------------------------------------- matplotlib window (Agg)
def test_window_slider_drives_the_same_code(window):
    window.controls["log_k"].set_val(np.log10(3.0))
    assert window.model.k == 3.0 and window.controller.message == "ok"
    run = _sim([1, 2, 3], 3.0)
    np.testing.assert_array_equal(window.view.loss_line.get_ydata(), run.loss.values)
    np.testing.assert_array_equal(window.view.r2_lines[2].get_ydata(), run.sq_norm.values[:, 2])
    assert window.controls["log_k"].valtext.get_text() == "3"
    assert window.controls["k"].text == "3"
    window.controls["k"].set_val("0.5")
    assert window.model.k == 0.5 and window.controls["log_k"].val == pytest.approx(np.log10(0.5))
    np.testing.assert_array_equal(window.view.loss_line.get_ydata(), _sim([1, 2, 3], 0.5).loss.values)
    window.controls["constraint"].set_active(1)
    assert window.model.constraint == "individual"
    window.controls["groups"].set_val(5)
    np.testing.assert_allclose(window.model.alpha, canonical_alpha(5, 0.0))
    assert sum(line.get_visible() for line in window.view.eta_lines) == 5
    window.controls["seed"].set_val("7")
    assert window.model.seed == 7


def test_window_invalid_text_shows_message(window):
    for name, bad, expected in (("steps", "abc", "steps must be an integer"), ("alpha", "1, -2", "alpha must have"),
                                ("k", "1e9", "k must be in"), ("seed", "x", "seed must be")):
        window.controls[name].set_val(bad)
        assert expected in window.view.message.get_text()
        assert window.view.message.get_color() == "C3"
    window.controls["log_k"].set_val(0.0)
    assert window.view.message.get_text() == "" and window.model.k == 1.0


def test_window_weight_decay():
    win = explore_window(tab="weight_decay", lr=0.1, wd=0.01, steps=STEPS, show=False)
    try:
        win.controls["log_wd"].set_val(-3.0)
        assert win.model.wd == 0.001 and "γ = η·λ = 0.0001" in win.gamma.get_text()
        run = tr.train(win.model.toy, 0.1, 0.001, STEPS, noise="tangent", noise_scale=0.5, seed=0)
        np.testing.assert_array_equal(win.view.run_lines[0].get_ydata(), run.loss.values)
        win.controls["alpha"].set_val("1, 5")
        assert win.model.toy.spec["alpha"] == [1.0, 5.0]
        win.controls["alpha"].set_val("1, x")
        assert "alpha must be numbers" in win.view.message.get_text()
        win.controls["noise"].set_active(1)
        assert win.model.noise == "none" and win.controller.message == "ok"
    finally:
        plt.close(win.fig)


def test_cli_hook_saves_a_snapshot_and_rejects_bad_values(tmp_path):
    import argparse

    parser = argparse.ArgumentParser(prog="toyregimes")
    add_explore_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "explore.png"
    args = parser.parse_args(["explore", "--alpha", "1", "2", "--k", "2.5", "--steps", "500", "--save", str(out)])
    assert args.handler(args) == 0 and out.read_bytes()[:4] == b"\x89PNG"
    out_wd = tmp_path / "wd.png"
    args = parser.parse_args(["explore", "--weight-decay", "--lr", "0.2", "--wd", "0.001", "--steps", "500",
                              "--save", str(out_wd)])
    assert args.handler(args) == 0 and out_wd.exists()
    for bad in (["--alpha", "1", "0"], ["--k", "-2"], ["--steps", "0"]):
        args = parser.parse_args(["explore", *bad, "--save", str(tmp_path / "x.png")])
        with pytest.raises(ValueError):  # cli.main turns it into one stderr line and exit status 2
            args.handler(args)
    plt.close("all")


# ----------------------------------------------------------------------------- review fixes (issue #17 item 6)
def _red_pixels(png: bytes, band=0.06) -> int:
    """Pixels of the error colour (C3, #d62728) in the bottom ``band`` of a PNG, where the message is drawn."""
    import io

    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    bottom = img[int(img.shape[0] * (1 - band)):]
    return int(np.sum(np.abs(bottom - [214, 39, 40]).sum(axis=2) < 60))


def test_jupyter_error_leaves_the_image_on_the_next_valid_change(ex):
    ex.controls["k"].value = 2.0
    assert _red_pixels(ex.image.value) == 0
    ex.controls["steps"].value = 5
    assert _red_pixels(ex.image.value) > 50  # the message is in the figure ...
    ex.controls["k"].value = 2.5
    assert ex.controller.message == "ok" and _red_pixels(ex.image.value) == 0  # ... and gone with the next run
    ex.wd_controls["steps"].value = 5
    assert _red_pixels(ex.wd_image.value) > 50
    ex.wd_controls["lr"].value = 0.2
    assert _red_pixels(ex.wd_image.value) == 0


def test_jupyter_rejected_values_are_replaced_by_the_running_ones(ex):
    ex.controls["k"].value = 2.0
    for name, bad in (("steps", 5), ("seed", -3), ("k_text", -1.0), ("k_text", 1e6), ("alpha", "1, two"),
                      ("alpha", "1, 0, 3")):
        ex.controls[name].value = bad
        assert ex.controller.error
        assert ex.controls["steps"].value == ex.model.steps == STEPS  # not 5 while 5000 runs
        assert ex.controls["seed"].value == ex.model.seed
        assert ex.controls["k_text"].value == ex.model.k == 2.0
        assert ex.controls["alpha"].value == "1, 2, 3"
    ex.wd_controls["steps"].value = 3
    assert ex.wd_controller.error and ex.wd_controls["steps"].value == ex.wd_model.steps == STEPS
    ex.wd_controls["lr"].value = 0.2
    ex.controls["k"].value = 2.5
    assert not ex.controller.error


def test_window_rejected_text_is_replaced_by_the_running_value(window):
    for name, bad, shown in (("steps", "5", str(STEPS)), ("seed", "x", "0"), ("k", "1e9", "1.5"),
                             ("alpha", "1, -2", "1, 2, 3")):
        window.controls[name].set_val(bad)
        assert window.controller.error and window.controls[name].text == shown


def test_titles_never_read_minus_zero():
    from toyregimes.explore.model import format_signed

    assert [format_signed(x) for x in (0.4271, -0.4271, -3e-5, 4.9e-4, 0.0, -0.0)] == [
        "+0.427", "-0.427", "-3.0e-05", "+4.9e-04", "0", "0"]
    assert all(format_signed(x) not in ("-0.000", "+0.000") for x in np.linspace(-1e-3, 1e-3, 41))
    # a quasi-periodic run (Lyapunov exponent ~ 0) in the canonical toy
    d = ExplorerModel(alpha=[1, 2, 3], k=1.5, steps=STEPS).compute()
    assert "0.000" not in d.title and "Lyapunov" in d.title


def test_k_from_the_slider_is_rounded_everywhere(ex):
    ex.controls["k"].value = 10**0.38  # 2.3988329190194904, what a log slider hands over
    assert ex.model.k == 2.399 and ex.controls["k_text"].value == 2.399
    assert "k = 2.399," in ex.view.title.get_text()
    np.testing.assert_array_equal(ex.view.loss_line.get_ydata(), _sim([1, 2, 3], 2.399).loss.values)


def test_fine_k_slider_moves_k_a_little(ex):
    from toyregimes.explore.widgets import FINE_K_SPAN

    ex.controls["k"].value = 2.4
    fine = ex.controls["k_fine"]
    assert fine.value == 2.4
    assert 10**fine.min == pytest.approx(2.4 / FINE_K_SPAN) and 10**fine.max == pytest.approx(2.4 * FINE_K_SPAN)
    # the issue: an 80 px drag moved k from 2.4 to 20.  A drag over 80 px of the fine slider's track
    # (at least 250 px long at its 400 px width) is under a third of its range: k changes by < 20 %.
    third = 10 ** (fine.min + (fine.max - fine.min) * (0.5 + 1 / 3))
    assert third / 2.4 < 1.2
    fine.value = third
    assert ex.model.k == pytest.approx(third, rel=1e-3) and ex.controller.message == "ok"
    assert ex.controls["k"].value == ex.model.k
    assert 10**fine.min == pytest.approx(2.4 / FINE_K_SPAN)  # not re-centred under the user's hand
    ex.controls["k_text"].value = 40.0  # a jump elsewhere re-centres it (within the range of k)
    assert fine.value == 40.0 and 10**fine.max == pytest.approx(K_RANGE[1])
    # the coarse slider is finely stepped too: one arrow key is 0.2 % of k
    assert 10 ** ex.controls["k"].step < 1.003


def test_jupyter_shows_busy_while_it_computes(ex):
    from toyregimes.explore.controller import BUSY

    seen = []
    ex.status.observe(lambda ch: seen.append((ch["new"], ex.controller.busy, ex.image.value)), names="value")
    image_before = ex.image.value
    ex.controls["k"].value = 3.3
    busy = [s for s in seen if BUSY in s[0]]
    assert busy and busy[0][1] and busy[0][2] is image_before  # shown before the new image, while busy
    assert "ok" in seen[-1][0] and not ex.controller.busy
    ex.status.unobserve_all()


def test_controls_are_laid_out_to_wrap_not_scroll(ex):
    import ipywidgets as w

    rows = [r for tab in ex.ui.children for r in tab.children if isinstance(r, w.HBox)]
    controls = [*ex.controls.values(), *ex.wd_controls.values()]
    assert {id(c) for r in rows for c in r.children} >= {id(c) for c in controls}
    for r in rows:
        assert r.layout.flex_flow == "row wrap"
    for c in controls:  # fixed widths that neither shrink (collapsed sliders) nor exceed a narrow notebook
        assert c.layout.flex == "0 0 auto" and (c.layout.width == "auto" or int(c.layout.width.rstrip("px")) <= 500)
        # labels in 13 px sans-serif are < 8 px a character: this width never truncates them
        assert int(c.style.description_width.rstrip("px")) >= 8 * len(c.description), c.description
    # the gamma readout is alone in its row with a fixed width: its length never moves the sliders
    (gamma_row,) = [r for r in rows if ex.gamma in r.children]
    assert gamma_row.children == (ex.gamma,) and ex.gamma.layout.width.endswith("px")
    assert ex.image.layout.width == "100%"  # the figure scales down instead of scrolling


def test_window_fine_k_slider(window):
    from toyregimes.explore.widgets import FINE_K_SPAN

    fine = window.controls["log_k_fine"]
    window.controls["log_k"].set_val(np.log10(2.4))
    assert window.model.k == 2.4 and fine.val == pytest.approx(np.log10(2.4))
    assert (fine.valmin, fine.valmax) == pytest.approx((np.log10(2.4 / FINE_K_SPAN), np.log10(2.4 * FINE_K_SPAN)))
    assert fine.ax.get_xlim() == pytest.approx((fine.valmin, fine.valmax))
    fine.set_val(np.log10(2.6))
    assert window.model.k == 2.6 and window.controls["log_k"].val == pytest.approx(np.log10(2.6))
    assert fine.valmin == pytest.approx(np.log10(2.4 / FINE_K_SPAN))  # not re-centred under the user's hand
    assert fine.valtext.get_text() == "2.6" and window.controls["k"].text == "2.6"
    np.testing.assert_array_equal(window.view.loss_line.get_ydata(), _sim([1, 2, 3], 2.6).loss.values)
    window.controls["k"].set_val("45")  # a jump re-centres it, within the range of k
    assert fine.val == pytest.approx(np.log10(45)) and fine.valmax == pytest.approx(np.log10(K_RANGE[1]))
