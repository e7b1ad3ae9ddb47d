"""Front ends of the explorer: ipywidgets for Jupyter, matplotlib widgets for a plain window.

Both build the same models (:class:`toyregimes.explore.ExplorerModel`, :class:`~toyregimes.explore.WeightDecayModel`)
and views (:mod:`toyregimes.explore.views`) and route every control through
:meth:`toyregimes.explore.Controller.apply`, so a slider move is: validate, ``simulate`` (or ``train``), update
the artists in place, render.  ipywidgets is imported only by :class:`JupyterExplorer`.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from toyregimes.explore.model import (
    HETEROGENEITY_RANGE,
    K_RANGE,
    LR_RANGE,
    MAX_GROUPS,
    WD_RANGE,
    Controller,
    ExplorerModel,
    WeightDecayModel,
)
from toyregimes.explore.views import FAST_RC, SphereView, WeightDecayView, new_figure, png_bytes

__all__ = ["JupyterExplorer", "WindowExplorer", "format_alpha"]


def format_alpha(alpha) -> str:
    """``[1.0, 2.5] -> "1, 2.5"`` (what the alpha text box shows)."""
    return ", ".join(f"{a:.4g}" for a in np.asarray(alpha, dtype=float))


class _Syncing:
    """Re-entrancy guard: a control set by the program to mirror the model must not call the model again."""

    def __init__(self):
        self.active = False

    @contextmanager
    def __call__(self):
        self.active, previous = True, self.active
        try:
            yield
        finally:
            self.active = previous


class _Timed:
    """Wall time of the last update (settings -> simulate -> artists -> rendered image)."""

    last_update_seconds: float = float("nan")

    def _timed_apply(self, controller, **changes) -> bool:
        start = time.perf_counter()
        ok = controller.apply(**changes)
        self.last_update_seconds = time.perf_counter() - start
        return ok


# ----------------------------------------------------------------------------- Jupyter
class JupyterExplorer(_Timed):
    """The Jupyter explorer (see :func:`toyregimes.explore.explore`); displays itself as an ipywidgets Tab.

    Attributes: ``model``/``view``/``controller``/``fig`` (sphere tab), ``wd_model``/``wd_view``/
    ``wd_controller``/``wd_fig`` (weight-decay tab), ``controls`` (dict of the sphere widgets: ``alpha``,
    ``groups``, ``heterogeneity``, ``k``, ``k_text``, ``constraint``, ``seed``, ``steps``), ``wd_controls``
    (``lr``, ``wd``, ``steps``, ``seed``, ``noise``), ``status``/``wd_status`` (HTML lines showing errors),
    ``gamma`` (the ``gamma = lr wd`` readout), ``image``/``wd_image`` (the rendered figures), ``ui`` (the Tab).
    Setting a control's ``value`` from code runs the same callback as moving it by hand.
    """

    def __init__(self, toy=None, *, alpha=(1.0, 2.0, 3.0), k=1.5, constraint="total", seed=0, steps=5000, lr=0.1,
                 wd=0.01):
        import ipywidgets as w

        self._sync = _Syncing()
        self.model = ExplorerModel(toy, alpha=alpha, k=k, constraint=constraint, seed=seed, steps=steps)
        self.fig = new_figure()
        self.view = SphereView(self.fig)
        self.image = w.Image(format="png")
        self.status = w.HTML()
        self.controller = Controller(self.model, self.view, render=self._render,
                                     notify=lambda text, err: self._notify(self.status, text, err))

        self.wd_model = WeightDecayModel(self.model.toy, lr=lr, wd=wd, steps=steps, seed=seed)
        self.wd_fig = new_figure(figsize=(12.0, 4.4))
        self.wd_view = WeightDecayView(self.wd_fig, rect=(0.06, 0.12, 0.98, 0.86), factors=self.wd_model.factors)
        self.wd_image = w.Image(format="png")
        self.wd_status = w.HTML()
        self.gamma = w.HTML()
        self.wd_controller = Controller(self.wd_model, self.wd_view, render=self._render_wd,
                                        notify=lambda text, err: self._notify(self.wd_status, text, err))

        style = {"description_width": "90px"}
        narrow = w.Layout(width="230px")
        m = self.model
        n_groups = m.alpha.size
        self.controls = {
            "alpha": w.Text(value=format_alpha(m.alpha), description="α", continuous_update=False,
                            disabled=not m.editable_alpha, style=style, layout=w.Layout(width="320px")),
            "groups": w.IntSlider(value=n_groups, min=1, max=MAX_GROUPS, description="groups n",
                                  continuous_update=False, disabled=not m.editable_alpha, style=style),
            "heterogeneity": w.FloatSlider(value=0.0, min=HETEROGENEITY_RANGE[0], max=HETEROGENEITY_RANGE[1],
                                           step=0.05, description="heterogeneity", continuous_update=False,
                                           disabled=not m.editable_alpha, style=style),
            "k": w.FloatLogSlider(value=m.k, base=10, min=np.log10(K_RANGE[0]), max=np.log10(K_RANGE[1]),
                                  step=0.01, description="k = elr·Σα", readout_format=".3g",
                                  continuous_update=False, style=style, layout=w.Layout(width="480px")),
            "k_text": w.FloatText(value=m.k, description="k (typed)", style=style, layout=narrow),
            "constraint": w.ToggleButtons(options=["total", "individual"], value=m.constraint,
                                          description="constraint", style=style),
            "seed": w.IntText(value=m.seed, description="seed", style=style, layout=narrow),
            "steps": w.IntText(value=m.steps, description="steps", style=style, layout=narrow),
        }
        c = self.controls
        c["alpha"].observe(lambda ch: self._on_sphere(alpha=ch["new"]), names="value")
        c["groups"].observe(lambda ch: self._on_sphere(groups=ch["new"], heterogeneity=c["heterogeneity"].value),
                            names="value")
        c["heterogeneity"].observe(lambda ch: self._on_sphere(groups=c["groups"].value, heterogeneity=ch["new"]),
                                   names="value")
        c["k"].observe(lambda ch: self._on_sphere(k=ch["new"]), names="value")
        c["k_text"].observe(lambda ch: self._on_sphere(k=ch["new"]), names="value")
        for name in ("constraint", "seed", "steps"):
            c[name].observe(lambda ch, name=name: self._on_sphere(**{name: ch["new"]}), names="value")

        wm = self.wd_model
        self.wd_controls = {
            "lr": w.FloatLogSlider(value=wm.lr, base=10, min=np.log10(LR_RANGE[0]), max=np.log10(LR_RANGE[1]),
                                   step=0.02, description="lr η", readout_format=".3g", continuous_update=False,
                                   style=style, layout=w.Layout(width="420px")),
            "wd": w.FloatLogSlider(value=wm.wd, base=10, min=np.log10(WD_RANGE[0]), max=np.log10(WD_RANGE[1]),
                                   step=0.02, description="wd λ", readout_format=".3g", continuous_update=False,
                                   style=style, layout=w.Layout(width="420px")),
            "steps": w.IntText(value=wm.steps, description="steps", style=style, layout=narrow),
            "seed": w.IntText(value=wm.seed, description="seed", style=style, layout=narrow),
            "noise": w.ToggleButtons(options=["tangent", "none"], value=wm.noise, description="noise", style=style),
        }
        for name, ctl in self.wd_controls.items():
            ctl.observe(lambda ch, name=name: self._on_wd(**{name: ch["new"]}), names="value")

        sphere_box = w.VBox([
            w.HBox([c["alpha"], c["groups"], c["heterogeneity"]]),
            w.HBox([c["k"], c["k_text"]]),
            w.HBox([c["constraint"], c["seed"], c["steps"]]),
            self.status,
            self.image,
        ])
        wd_box = w.VBox([
            w.HBox([self.wd_controls["lr"], self.wd_controls["wd"], self.gamma]),
            w.HBox([self.wd_controls["noise"], self.wd_controls["steps"], self.wd_controls["seed"]]),
            self.wd_status,
            self.wd_image,
        ])
        self.ui = w.Tab(children=[sphere_box, wd_box])
        self.ui.titles = ("sphere (fixed ELR)", "weight decay")
        self._timed_apply(self.controller)
        self.wd_controller.apply()

    def _repr_mimebundle_(self, **kwargs):
        return self.ui._repr_mimebundle_(**kwargs)

    # ---------------------------------------------------------------- callbacks
    def _on_sphere(self, **changes) -> None:
        if self._sync.active:
            return
        alpha_before = self.model.alpha
        if not self._timed_apply(self.controller, **changes):
            return
        c, m = self.controls, self.model
        with self._sync():  # mirror the accepted settings in the other controls, without re-running
            c["k"].value = m.k
            c["k_text"].value = m.k
            c["alpha"].value = format_alpha(m.alpha)
            c["groups"].value = m.alpha.size
        if m.editable_alpha and not np.array_equal(alpha_before, m.alpha):
            self.wd_controller.apply(toy=m.toy)

    def _on_wd(self, **changes) -> None:
        if self._sync.active:
            return
        self._timed_apply(self.wd_controller, **changes)

    def _render(self) -> None:
        self.image.value = png_bytes(self.fig, self.view)

    def _render_wd(self) -> None:
        m = self.wd_model
        self.gamma.value = f"<b>γ = η·λ = {m.gamma:.3g}</b> &nbsp; (1/γ = {1 / m.gamma:.3g} steps)"
        self.wd_image.value = png_bytes(self.wd_fig)

    @staticmethod
    def _notify(label, text: str, error: bool) -> None:
        import html

        label.value = (f"<span style='color:#b00020'><b>{html.escape(text)}</b></span>" if error
                       else "<span style='color:#555'>ok</span>")


# ----------------------------------------------------------------------------- matplotlib window
class WindowExplorer(_Timed):
    """The explorer in one matplotlib figure with ``matplotlib.widgets`` controls (``toyregimes explore``).

    ``tab="sphere"``: ``controls`` holds ``alpha`` (TextBox), ``groups`` and ``heterogeneity`` (Slider),
    ``log_k`` (Slider over ``log10 k``; its readout shows ``k``), ``k`` (TextBox), ``constraint``
    (RadioButtons), ``seed`` and ``steps`` (TextBox).  ``tab="weight_decay"``: ``log_lr``, ``log_wd``
    (Sliders), ``steps``, ``seed``, ``alpha`` (TextBox), ``noise`` (RadioButtons).  Driving a widget from
    code (``slider.set_val``, ``textbox.set_val``, ``radio.set_active``) runs the same callbacks as the
    mouse.  Invalid input shows a red message under the panels.
    """

    def __init__(self, toy=None, *, tab="sphere", alpha=(1.0, 2.0, 3.0), k=1.5, constraint="total", seed=0,
                 steps=5000, lr=0.1, wd=0.01):
        import matplotlib.pyplot as plt

        if tab not in ("sphere", "weight_decay"):
            raise ValueError(f"tab must be 'sphere' or 'weight_decay', got {tab!r}")
        self.tab = tab
        self._sync = _Syncing()
        self.controls = {}
        if tab == "sphere":
            self.fig = plt.figure(figsize=(13.0, 9.5), dpi=80)
            self.model = ExplorerModel(toy, alpha=alpha, k=k, constraint=constraint, seed=seed, steps=steps)
            self.view = SphereView(self.fig, rect=(0.07, 0.29, 0.98, 0.92))
            self.controller = Controller(self.model, self.view, render=self._render)
            self._sphere_controls()
        else:
            self.fig = plt.figure(figsize=(13.0, 6.5), dpi=80)
            base = ExplorerModel(toy, alpha=alpha).toy
            self.model = WeightDecayModel(base, lr=lr, wd=wd, steps=steps, seed=seed)
            self.view = WeightDecayView(self.fig, rect=(0.07, 0.4, 0.98, 0.86), factors=self.model.factors)
            self._wd_controls(alpha)
            self.controller = Controller(self.model, self.view, render=self._render)
        self._timed_apply(self.controller)

    def show(self) -> None:
        import matplotlib.pyplot as plt

        plt.show()

    def _render(self) -> None:
        if self.tab == "weight_decay":
            m = self.model
            self.gamma.set_text(f"γ = η·λ = {m.gamma:.3g}   (1/γ = {1 / m.gamma:.3g} steps)")
        import matplotlib

        with matplotlib.rc_context(FAST_RC):  # Agg draws here; GUI backends later (the CLI sets the style)
            self.fig.canvas.draw_idle()

    def _slider(self, rect, label, lo, hi, init, fmt=None, valstep=None):
        from matplotlib.widgets import Slider

        s = Slider(self.fig.add_axes(rect), label, lo, hi, valinit=init, valstep=valstep)
        s.drawon = False  # the callback redraws the whole figure once; no second draw from the slider
        if fmt is not None:
            s.valtext.set_text(fmt(init))
        return s

    def _textbox(self, rect, label, text):
        from matplotlib.widgets import TextBox

        return TextBox(self.fig.add_axes(rect), label, initial=text, textalignment="left")

    def _radio(self, rect, labels, active, title):
        from matplotlib.widgets import RadioButtons

        ax = self.fig.add_axes(rect)
        ax.set_title(title, fontsize="small", loc="left")
        return RadioButtons(ax, labels, active=labels.index(active))

    @staticmethod
    def _k_text(log_k) -> str:
        return f"{10 ** log_k:.4g}"

    @staticmethod
    def _from_log(value) -> float:
        # 10**log10(3) is 2.9999999999999996: keep 10 significant digits so typed and slid values agree
        return float(f"{10 ** float(value):.10g}")

    def _sphere_controls(self) -> None:
        m, c = self.model, self.controls
        c["alpha"] = self._textbox([0.09, 0.205, 0.25, 0.04], "α ", ", ".join(f"{a:.4g}" for a in m.alpha))
        c["groups"] = self._slider([0.47, 0.215, 0.17, 0.025], "groups n", 1, MAX_GROUPS, m.alpha.size, valstep=1)
        c["heterogeneity"] = self._slider([0.79, 0.215, 0.15, 0.025], "heterogeneity", *HETEROGENEITY_RANGE, 0.0)
        c["log_k"] = self._slider([0.09, 0.15, 0.5, 0.025], "k = elr·Σα", np.log10(K_RANGE[0]),
                                  np.log10(K_RANGE[1]), np.log10(m.k), fmt=self._k_text)
        c["k"] = self._textbox([0.74, 0.14, 0.1, 0.04], "k (typed) ", f"{m.k:g}")
        c["constraint"] = self._radio([0.09, 0.03, 0.12, 0.08], ["total", "individual"], m.constraint, "constraint")
        c["seed"] = self._textbox([0.36, 0.06, 0.08, 0.04], "seed ", str(m.seed))
        c["steps"] = self._textbox([0.58, 0.06, 0.1, 0.04], "steps ", str(m.steps))
        if not m.editable_alpha:
            for name in ("alpha", "groups", "heterogeneity"):
                c[name].set_active(False)
        c["alpha"].on_submit(lambda text: self._on(alpha=text))
        c["groups"].on_changed(lambda v: self._on(groups=int(v), heterogeneity=c["heterogeneity"].val))
        c["heterogeneity"].on_changed(lambda v: self._on(groups=int(c["groups"].val), heterogeneity=v))
        c["log_k"].on_changed(lambda v: self._on(k=self._from_log(v)))
        c["k"].on_submit(lambda text: self._on(k=text))
        c["constraint"].on_clicked(lambda label: self._on(constraint=label))
        c["seed"].on_submit(lambda text: self._on(seed=text))
        c["steps"].on_submit(lambda text: self._on(steps=text))

    def _wd_controls(self, alpha) -> None:
        m, c = self.model, self.controls
        c["log_lr"] = self._slider([0.09, 0.25, 0.35, 0.03], "lr η", np.log10(LR_RANGE[0]), np.log10(LR_RANGE[1]),
                                   np.log10(m.lr), fmt=self._k_text)
        c["log_wd"] = self._slider([0.09, 0.19, 0.35, 0.03], "wd λ", np.log10(WD_RANGE[0]), np.log10(WD_RANGE[1]),
                                   np.log10(m.wd), fmt=self._k_text)
        self.gamma = self.fig.text(0.55, 0.215, "", fontsize="large", fontweight="bold")
        c["steps"] = self._textbox([0.36, 0.07, 0.1, 0.04], "steps ", str(m.steps))
        c["seed"] = self._textbox([0.56, 0.07, 0.08, 0.04], "seed ", str(m.seed))
        c["alpha"] = self._textbox([0.74, 0.07, 0.2, 0.04], "α ", ", ".join(f"{a:.4g}" for a in m.toy.alpha_eff))
        c["noise"] = self._radio([0.09, 0.03, 0.12, 0.1], ["tangent", "none"], m.noise, "noise")
        c["log_lr"].on_changed(lambda v: self._on(lr=self._from_log(v)))
        c["log_wd"].on_changed(lambda v: self._on(wd=self._from_log(v)))
        c["steps"].on_submit(lambda text: self._on(steps=text))
        c["seed"].on_submit(lambda text: self._on(seed=text))
        c["alpha"].on_submit(self._on_wd_alpha)
        c["noise"].on_clicked(lambda label: self._on(noise=label))

    def _on_wd_alpha(self, text) -> None:
        from toyregimes import toys
        from toyregimes.explore.model import parse_alpha

        try:
            toy = toys.canonical(parse_alpha(text))
        except ValueError as exc:
            self.controller._fail(str(exc))
            return
        self._on(toy=toy)

    def _on(self, **changes) -> None:
        if self._sync.active:
            return
        if not self._timed_apply(self.controller, **changes):
            return
        c, m = self.controls, self.model
        with self._sync():
            if self.tab == "sphere":
                c["log_k"].set_val(np.log10(m.k))
                c["log_k"].valtext.set_text(f"{m.k:.4g}")
                c["k"].set_val(f"{m.k:g}")
                c["alpha"].set_val(", ".join(f"{a:.4g}" for a in m.alpha))
                if int(c["groups"].val) != m.alpha.size:
                    c["groups"].set_val(m.alpha.size)
            else:
                c["log_lr"].valtext.set_text(f"{m.lr:.4g}")
                c["log_wd"].valtext.set_text(f"{m.wd:.4g}")
        self._render()

