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

from toyregimes.explore.controller import BUSY, Controller
from toyregimes.explore.model import (
    HETEROGENEITY_RANGE,
    K_RANGE,
    LR_RANGE,
    MAX_GROUPS,
    WD_RANGE,
    ExplorerModel,
    WeightDecayModel,
    round_k,
)
from toyregimes.explore.views import FAST_RC, SphereView, WeightDecayView, new_figure, png_bytes

__all__ = ["JupyterExplorer", "WindowExplorer", "format_alpha", "FINE_K_SPAN"]

FINE_K_SPAN = 1.25  # the fine k slider spans k / 1.25 .. k * 1.25 around the last coarse value


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
    ``groups``, ``heterogeneity``, ``k`` (log slider over the whole range), ``k_fine`` (log slider over
    ``k / FINE_K_SPAN .. k * FINE_K_SPAN``, re-centred when ``k`` is set another way), ``k_text``,
    ``constraint``, ``seed``, ``steps``), ``wd_controls`` (``lr``, ``wd``, ``steps``, ``seed``, ``noise``),
    ``status``/``wd_status`` (HTML lines: ``computing…`` while a change runs, then ``ok`` or the error in
    red), ``gamma`` (the ``gamma = lr wd`` readout), ``image``/``wd_image`` (the rendered figures), ``ui``
    (the Tab).  Setting a control's ``value`` from code runs the same callback as moving it by hand; a
    rejected value is replaced in its box by the value that runs.
    """

    def __init__(self, toy=None, *, alpha=(1.0, 2.0, 3.0), k=1.5, constraint="total", seed=0, steps=5000, lr=0.1,
                 wd=0.01):
        import ipywidgets as w

        self._sync = _Syncing()
        self.model = ExplorerModel(toy, alpha=alpha, k=k, constraint=constraint, seed=seed, steps=steps)
        self.fig = new_figure()
        self.view = SphereView(self.fig)
        # the figure shrinks with a narrow notebook instead of scrolling it sideways
        # (no margin: 100 % plus ipywidgets' 2 px margins would overflow the tab by 4 px, with a scroll bar)
        image_layout = {"width": "100%", "max_width": f"{int(self.fig.bbox.width)}px", "height": "auto",
                        "margin": "0"}
        self.image = w.Image(format="png", layout=w.Layout(**image_layout))
        self.status = w.HTML()
        self.controller = Controller(self.model, self.view, render=self._render,
                                     notify=lambda text, err: self._notify(self.status, text, err))

        self.wd_model = WeightDecayModel(self.model.toy, lr=lr, wd=wd, steps=steps, seed=seed)
        self.wd_fig = new_figure(figsize=(12.0, 4.8))
        self.wd_view = WeightDecayView(self.wd_fig, factors=self.wd_model.factors)
        self.wd_image = w.Image(format="png", layout=w.Layout(**image_layout))
        self.wd_status = w.HTML()
        # its own row and a fixed width: a longer readout must not wrap or push the sliders around
        self.gamma = w.HTML(layout=w.Layout(width="420px", overflow="hidden"))
        self.wd_controller = Controller(self.wd_model, self.wd_view, render=self._render_wd,
                                        notify=lambda text, err: self._notify(self.wd_status, text, err))

        m = self.model
        editable = m.editable_alpha
        lk = np.log10(K_RANGE)
        self.controls = {
            "alpha": w.Text(value=format_alpha(m.alpha), description="α", continuous_update=False,
                            disabled=not editable, **_box("α", 330)),
            "groups": w.IntSlider(value=m.alpha.size, min=1, max=MAX_GROUPS, description="groups n",
                                  continuous_update=False, disabled=not editable, **_box("groups n", 300)),
            "heterogeneity": w.FloatSlider(value=0.0, min=HETEROGENEITY_RANGE[0], max=HETEROGENEITY_RANGE[1],
                                           step=0.05, description="heterogeneity", continuous_update=False,
                                           disabled=not editable, **_box("heterogeneity", 330)),
            # the whole range on one log slider, finely stepped (0.2 % of k per arrow key) ...
            "k": w.FloatLogSlider(value=m.k, base=10, min=lk[0], max=lk[1], step=0.001, description="k = elr·Σα",
                                  readout_format=".4g", continuous_update=False, **_box("k = elr·Σα", 480)),
            # ... and a fine slider around the current k: a drag across it changes k by at most FINE_K_SPAN²
            "k_fine": w.FloatLogSlider(value=m.k, base=10, min=lk[0], max=lk[1], step=0.0005,
                                       description="k fine", readout_format=".4g", continuous_update=False,
                                       **_box("k fine", 400)),
            "k_text": w.FloatText(value=m.k, description="k (typed)", **_box("k (typed)", 200)),
            "constraint": w.ToggleButtons(options=["total", "individual"], value=m.constraint,
                                          description="constraint", **_toggles("constraint", ["total", "individual"])),
            "seed": w.IntText(value=m.seed, description="seed", **_box("seed", 170)),
            "steps": w.IntText(value=m.steps, description="steps", **_box("steps", 180)),
        }
        c = self.controls
        self._centre_fine_k()
        c["alpha"].observe(lambda ch: self._on_sphere(alpha=ch["new"]), names="value")
        c["groups"].observe(lambda ch: self._on_sphere(groups=ch["new"], heterogeneity=c["heterogeneity"].value),
                            names="value")
        c["heterogeneity"].observe(lambda ch: self._on_sphere(groups=c["groups"].value, heterogeneity=ch["new"]),
                                   names="value")
        c["k"].observe(lambda ch: self._on_sphere(k=round_k(ch["new"])), names="value")
        c["k_fine"].observe(lambda ch: self._on_sphere(_fine=True, k=round_k(ch["new"])), names="value")
        c["k_text"].observe(lambda ch: self._on_sphere(k=ch["new"]), names="value")
        for name in ("constraint", "seed", "steps"):
            c[name].observe(lambda ch, name=name: self._on_sphere(**{name: ch["new"]}), names="value")

        wm = self.wd_model
        self.wd_controls = {
            "lr": w.FloatLogSlider(value=wm.lr, base=10, min=np.log10(LR_RANGE[0]), max=np.log10(LR_RANGE[1]),
                                   step=0.005, description="lr η", readout_format=".3g", continuous_update=False,
                                   **_box("lr η", 420)),
            "wd": w.FloatLogSlider(value=wm.wd, base=10, min=np.log10(WD_RANGE[0]), max=np.log10(WD_RANGE[1]),
                                   step=0.005, description="wd λ", readout_format=".3g", continuous_update=False,
                                   **_box("wd λ", 420)),
            "steps": w.IntText(value=wm.steps, description="steps", **_box("steps", 180)),
            "seed": w.IntText(value=wm.seed, description="seed", **_box("seed", 170)),
            "noise": w.ToggleButtons(options=["tangent", "none"], value=wm.noise, description="noise",
                                     **_toggles("noise", ["tangent", "none"])),
        }
        for name, ctl in self.wd_controls.items():
            ctl.observe(lambda ch, name=name: self._on_wd(**{name: ch["new"]}), names="value")

        # rows wrap instead of scrolling sideways when the notebook is narrow (e.g. a 1024 px screen)
        def row(*children):
            return w.HBox(list(children), layout=w.Layout(flex_flow="row wrap", align_items="center"))

        wc = self.wd_controls
        sphere_box = w.VBox([
            row(c["alpha"], c["groups"], c["heterogeneity"]),
            row(c["k"], c["k_fine"], c["k_text"]),
            row(c["constraint"], c["seed"], c["steps"]),
            self.status,
            self.image,
        ])
        wd_box = w.VBox([
            row(wc["lr"], wc["wd"]),
            row(self.gamma),
            row(wc["noise"], wc["steps"], wc["seed"]),
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
    def _on_sphere(self, _fine=False, **changes) -> None:
        if self._sync.active:
            return
        alpha_before = self.model.alpha
        ok = self._timed_apply(self.controller, **changes)
        # accepted or not, every box shows the setting that runs (a rejected value does not stay in its box)
        self._mirror_sphere(centre_fine=not _fine)
        if ok and self.model.editable_alpha and not np.array_equal(alpha_before, self.model.alpha):
            self.wd_controller.apply(toy=self.model.toy)
            self._mirror_wd()

    def _on_wd(self, **changes) -> None:
        if self._sync.active:
            return
        self._timed_apply(self.wd_controller, **changes)
        self._mirror_wd()

    def _mirror_sphere(self, centre_fine=True) -> None:
        c, m = self.controls, self.model
        with self._sync():  # set the controls without re-running
            c["k"].value = m.k
            c["k_text"].value = m.k
            if centre_fine:
                self._centre_fine_k()
            else:
                c["k_fine"].value = m.k
            c["alpha"].value = format_alpha(m.alpha)
            c["groups"].value = m.alpha.size
            c["constraint"].value = m.constraint
            c["seed"].value = m.seed
            c["steps"].value = m.steps

    def _centre_fine_k(self) -> None:
        """Give the fine k slider the range ``k / FINE_K_SPAN .. k * FINE_K_SPAN`` (within K_RANGE), at ``k``."""
        fine, k = self.controls["k_fine"], self.model.k
        lo = max(np.log10(K_RANGE[0]), np.log10(k / FINE_K_SPAN))
        hi = min(np.log10(K_RANGE[1]), np.log10(k * FINE_K_SPAN))
        with self._sync():
            # widen first: narrowing around a value outside the old range would clamp it on the way
            fine.min, fine.max = np.log10(K_RANGE[0]), np.log10(K_RANGE[1])
            fine.value = k
            fine.min, fine.max = lo, hi

    def _mirror_wd(self) -> None:
        c, m = self.wd_controls, self.wd_model
        with self._sync():
            c["lr"].value = m.lr
            c["wd"].value = m.wd
            c["steps"].value = m.steps
            c["seed"].value = m.seed
            c["noise"].value = m.noise

    def _render(self) -> None:
        self.image.value = png_bytes(self.fig, self.view)

    def _render_wd(self) -> None:
        m = self.wd_model
        self.gamma.value = (f"<span style='white-space:nowrap'><b>γ = η·λ = {m.gamma:.3g}</b> &nbsp; "
                            f"(1/γ = {1 / m.gamma:.3g} steps)</span>")
        self.wd_image.value = png_bytes(self.wd_fig)

    @staticmethod
    def _notify(label, text: str, error: bool) -> None:
        import html

        if error:
            label.value = f"<span style='color:#b00020'><b>{html.escape(text)}</b></span>"
        elif text == BUSY:  # sent to the browser at once, before the run: the user sees that work is going on
            label.value = f"<span style='color:#1f5fbf'>⏳ {html.escape(text)}</span>"
        else:
            label.value = "<span style='color:#555'>ok</span>"


def _label_px(description: str) -> str:
    # JupyterLab draws widget labels in 13 px sans-serif: < 8 px a character, plus the label's padding
    return f"{8 * len(description) + 12}px"


def _toggles(description: str, options) -> dict:
    """``style``/``layout`` of ToggleButtons: buttons wide enough for their longest option, label and buttons
    on one line (a too narrow box put the label above the buttons and cut "individual" to "individ…")."""
    import ipywidgets as w

    button = 9 * max(len(o) for o in options) + 24  # button text is 13 px too, plus its padding
    # ipywidgets 8 draws ToggleButtons as a block (its label above the buttons): a flex row keeps them on one line
    return {"style": {"description_width": _label_px(description), "button_width": f"{button}px"},
            "layout": w.Layout(width="auto", flex="0 0 auto", display="flex", align_items="center")}


def _box(description: str, width: int) -> dict:
    """``style``/``layout`` keywords of a control: a label wide enough for ``description`` (never truncated)
    and a fixed width that neither shrinks nor grows (rows wrap instead)."""
    import ipywidgets as w

    return {"style": {"description_width": _label_px(description)},
            "layout": w.Layout(width=f"{width}px", flex="0 0 auto")}


# ----------------------------------------------------------------------------- matplotlib window
class WindowExplorer(_Timed):
    """The explorer in one matplotlib figure with ``matplotlib.widgets`` controls (``toyregimes explore``).

    ``tab="sphere"``: ``controls`` holds ``alpha`` (TextBox), ``groups`` and ``heterogeneity`` (Slider),
    ``log_k`` (Slider over ``log10 k``; its readout shows ``k``), ``log_k_fine`` (the same over
    ``k / FINE_K_SPAN .. k * FINE_K_SPAN``, re-centred by the other controls), ``k`` (TextBox), ``constraint``
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
            self.view = SphereView(self.fig, rect=(0.085, 0.31, 0.98, 0.88))
            self.controller = Controller(self.model, self.view, render=self._render, notify=self._busy_cursor)
            self._sphere_controls()
        else:
            self.fig = plt.figure(figsize=(13.0, 6.5), dpi=80)
            base = ExplorerModel(toy, alpha=alpha).toy
            self.model = WeightDecayModel(base, lr=lr, wd=wd, steps=steps, seed=seed)
            self.view = WeightDecayView(self.fig, rect=(0.07, 0.4, 0.98, 0.85), factors=self.model.factors)
            self._wd_controls(alpha)
            self.controller = Controller(self.model, self.view, render=self._render, notify=self._busy_cursor)
        self._timed_apply(self.controller)

    def show(self) -> None:
        import matplotlib.pyplot as plt

        plt.show()

    def _busy_cursor(self, text: str, error: bool) -> None:
        """A wait cursor while a change runs (GUI backends; Agg ignores it)."""
        from matplotlib.backend_tools import Cursors

        self.busy_shown = text == BUSY
        try:
            self.fig.canvas.set_cursor(Cursors.WAIT if self.busy_shown else Cursors.POINTER)
        except Exception:  # pragma: no cover - a backend without cursors: the message line still works
            pass

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
        c["log_k"] = self._slider([0.09, 0.165, 0.5, 0.022], "k = elr·Σα", np.log10(K_RANGE[0]),
                                  np.log10(K_RANGE[1]), np.log10(m.k), fmt=self._k_text)
        # as in Jupyter: a fine slider over k / FINE_K_SPAN .. k * FINE_K_SPAN, re-centred by every other control
        c["log_k_fine"] = self._slider([0.09, 0.128, 0.5, 0.022], "k fine", np.log10(m.k / FINE_K_SPAN),
                                       np.log10(m.k * FINE_K_SPAN), np.log10(m.k), fmt=self._k_text)
        self._centre_fine_k()
        c["k"] = self._textbox([0.74, 0.14, 0.1, 0.04], "k (typed) ", f"{m.k:g}")
        c["constraint"] = self._radio([0.09, 0.026, 0.12, 0.072], ["total", "individual"], m.constraint, "constraint")
        c["seed"] = self._textbox([0.36, 0.06, 0.08, 0.04], "seed ", str(m.seed))
        c["steps"] = self._textbox([0.58, 0.06, 0.1, 0.04], "steps ", str(m.steps))
        if not m.editable_alpha:
            for name in ("alpha", "groups", "heterogeneity"):
                c[name].set_active(False)
        c["alpha"].on_submit(lambda text: self._on(alpha=text))
        c["groups"].on_changed(lambda v: self._on(groups=int(v), heterogeneity=c["heterogeneity"].val))
        c["heterogeneity"].on_changed(lambda v: self._on(groups=int(c["groups"].val), heterogeneity=v))
        c["log_k"].on_changed(lambda v: self._on(k=round_k(10 ** float(v))))
        c["log_k_fine"].on_changed(lambda v: self._on(_fine=True, k=round_k(10 ** float(v))))
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
        c["alpha"] = self._textbox([0.74, 0.07, 0.2, 0.04], "α ", format_alpha(m.toy.alpha_eff))
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

        if self._sync.active:
            return
        try:
            toy = toys.canonical(parse_alpha(text))
        except ValueError as exc:
            self.controller._fail(str(exc))
            with self._sync():  # the box shows the alpha that runs, not the rejected text
                self.controls["alpha"].set_val(format_alpha(self.model.toy.alpha_eff))
            self._render()
            return
        self._on(toy=toy)

    def _centre_fine_k(self) -> None:
        """Range of the fine k slider: ``k / FINE_K_SPAN .. k * FINE_K_SPAN`` within K_RANGE, handle at ``k``."""
        s, k = self.controls["log_k_fine"], self.model.k
        lo = max(np.log10(K_RANGE[0]), np.log10(k / FINE_K_SPAN))
        hi = min(np.log10(K_RANGE[1]), np.log10(k * FINE_K_SPAN))
        s.valmin, s.valmax = lo, hi
        s.ax.set_xlim(lo, hi)
        s.poly.set_x(lo)  # the filled bar starts at the slider's minimum
        with self._sync():
            s.set_val(np.log10(k))
        s.valtext.set_text(f"{k:.4g}")

    def _on(self, _fine=False, **changes) -> None:
        if self._sync.active:
            return
        self._timed_apply(self.controller, **changes)
        # accepted or not, every box shows the setting that runs (a rejected value does not stay in its box)
        c, m = self.controls, self.model
        with self._sync():
            if self.tab == "sphere":
                c["log_k"].set_val(np.log10(m.k))
                c["log_k"].valtext.set_text(f"{m.k:.4g}")
                if _fine:
                    c["log_k_fine"].valtext.set_text(f"{m.k:.4g}")
                else:
                    self._centre_fine_k()
                c["k"].set_val(f"{m.k:g}")
                c["alpha"].set_val(format_alpha(m.alpha))
                if int(c["groups"].val) != m.alpha.size:
                    c["groups"].set_val(m.alpha.size)
                c["seed"].set_val(str(m.seed))
                c["steps"].set_val(str(m.steps))
            else:
                c["log_lr"].valtext.set_text(f"{m.lr:.4g}")
                c["log_wd"].valtext.set_text(f"{m.wd:.4g}")
                c["steps"].set_val(str(m.steps))
                c["seed"].set_val(str(m.seed))
        self._render()

