"""Matplotlib views of the explorer: axes and artists created once, updated in place.

:class:`SphereView` draws :class:`toyregimes.explore.SphereData`, :class:`WeightDecayView` draws
:class:`toyregimes.explore.WeightDecayData`.  Each view lays its axes out inside a rectangle of a
figure it is given (so the matplotlib-widgets window can put its controls below) and never creates
axes after construction: an update is ``set_data``/``set_offsets``/``set_text`` on existing artists,
artists of absent groups are hidden (up to ``MAX_GROUPS`` are preallocated).
"""

from __future__ import annotations

import numpy as np

from toyregimes.explore.model import K_RANGE, MAX_GROUPS

__all__ = ["SphereView", "WeightDecayView", "new_figure", "png_bytes", "FAST_RC"]

# matplotlib's "fast" style: drop vertices that move the drawn path by less than a pixel.  The artists keep
# every data point (only the rasterised path is simplified); a chaotic 5000-step line draws 4x faster.
FAST_RC = {"path.simplify": True, "path.simplify_threshold": 1.0, "agg.path.chunksize": 10000}
CIRCLE_GAP = 2.7  # distance between the centres of the groups' unit circles
ROW_GAP = 3.4  # distance between rows of circles (room for the alpha labels under each row)
CIRCLES_PER_ROW = 5  # more groups wrap to a second row: ten circles in one row leave no room for labels
TAIL_DOTS = 64
MESSAGE_CHARS = 150  # the figure shows this much of an error; the Jupyter status line shows all of it
# ylabels of the step panels sit at this fixed distance (axes fraction) left of the axes: aligned with
# each other, and never pushed out of the figure by wide tick labels (those are kept short, _log_tick)
YLABEL_X = -0.1


def _superscript(n: int) -> str:
    return str(n).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _log_tick(y, _pos=None) -> str:
    """Short labels for a log axis: ``0.01 … 1000`` plainly, else ``10⁸`` (never wider than 5 characters).

    ``f"{y:g}"`` gives ``1e+08`` and ``10000``; with those the ``eta_i`` label was pushed out of the
    figure at large ``k``.  (Mathtext ``$10^{8}$`` would also be short but is slow to draw.)
    """
    if y <= 0 or not np.isfinite(y):
        return ""
    if 1e-2 <= y <= 1e3:
        return f"{y:g}"
    e = np.log10(y)
    if abs(e - round(e)) < 1e-9:
        return "10" + _superscript(int(round(e)))
    return f"{y:.0e}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")


def circle_centres(n: int) -> np.ndarray:
    """Centres ``(n, 2)`` of the groups' unit circles: one row up to ``CIRCLES_PER_ROW``, then rows below."""
    rows = -(-n // CIRCLES_PER_ROW)
    cols = -(-n // rows)  # balanced rows: 10 groups are two rows of 5, 7 groups 4 + 3
    i = np.arange(n)
    return np.column_stack([CIRCLE_GAP * (i % cols), -ROW_GAP * (i // cols)]).astype(float)


def new_figure(figsize=(12.0, 7.4), dpi=80):
    """A figure outside pyplot (no window, no inline auto-display), with an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig, view=None) -> bytes:
    """The figure rendered as PNG bytes (what the Jupyter front end shows in an ``ipywidgets.Image``).

    With ``view`` (a :class:`SphereView`) only its changing artists are redrawn over a cached
    background (:meth:`SphereView.render`); the pixels are then encoded with fast PNG compression.
    """
    import io

    import matplotlib
    from PIL import Image

    with matplotlib.rc_context(FAST_RC):
        if view is not None:
            view.render()
        else:
            fig.canvas.draw()
    width, height = fig.canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    image.save(buf, format="png", compress_level=1)
    return buf.getvalue()


def _set_message(artist, text: str, error: bool) -> None:
    # one line: a wrapped message would grow upwards into the "step" label
    text = " ".join(text.split())
    artist.set_text(text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…")
    artist.set_color("C3" if error else "0.3")


def _colors():
    import matplotlib.pyplot as plt

    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return [cycle[i % len(cycle)] for i in range(MAX_GROUPS)]


class SphereView:
    """Panels of the sphere explorer in ``rect = (left, bottom, right, top)`` (figure fractions) of ``fig``.

    Left column: loss vs step with its equilibrium and random levels; squared group norms ``r_i^2``
    with ``alpha_i / A``; individual ELRs ``eta_i`` (log) with the thresholds ``1/alpha_i``.  Right: the
    groups' directions on their unit circles (last 64 states, final direction, minima x, 2-cycle o),
    and the 1-D phase diagram (tail mean loss / random level vs ``k``, coloured by regime) with the
    current run marked.  Group colours are the same in every panel.
    """

    def __init__(self, fig, rect=(0.085, 0.12, 0.98, 0.87)):
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        from toyregimes.plot import REGIME_COLORS

        self.fig = fig
        left, bottom, right, top = rect
        gs = fig.add_gridspec(3, 2, left=left, right=right, bottom=bottom, top=top, width_ratios=(1.3, 1.0),
                              hspace=0.32, wspace=0.22)
        colors = _colors()
        self.ax_loss = fig.add_subplot(gs[0, 0])
        self.ax_r2 = fig.add_subplot(gs[1, 0], sharex=self.ax_loss)
        self.ax_eta = fig.add_subplot(gs[2, 0], sharex=self.ax_loss)
        self.ax_dir = fig.add_subplot(gs[0, 1])
        self.ax_phase = fig.add_subplot(gs[1:, 1])
        # two title lines (toy; setting and outcome) above the directions panel's own title
        self.title = fig.text(0.5 * (left + right), top + 0.05, "", ha="center", va="bottom", fontsize="medium")
        # the message goes under the "step" label (rect's bottom leaves the room), never over it
        self.message = fig.text(0.01, 0.008, "", ha="left", va="bottom", color="C3", fontsize="medium",
                                fontweight="bold")

        ax = self.ax_loss
        (self.loss_line,) = ax.plot([], [], color="k", lw=0.6, label="F")
        self.eq_line = ax.axhline(0.0, color="C3", ls="--", lw=1.0, label="theory: A/2 − 1/(2 elr)")
        self.random_line = ax.axhline(0.0, color="0.5", ls=":", lw=1.0, label="random direction A/2")
        ax.set_ylabel("loss F")
        ax.legend(loc="upper right", fontsize="x-small")
        self._loss_legend = ax.get_legend()
        plt_setp = {"visible": False}

        self.r2_lines, self.r2_eq, self.eta_lines, self.eta_thr = [], [], [], []
        for i in range(MAX_GROUPS):
            (line,) = self.ax_r2.plot([], [], color=colors[i], lw=0.8, **plt_setp)
            self.r2_lines.append(line)
            self.r2_eq.append(self.ax_r2.axhline(0.0, color=colors[i], ls="--", lw=1.2, zorder=3, **plt_setp))
            (line,) = self.ax_eta.plot([], [], color=colors[i], lw=0.8, **plt_setp)
            self.eta_lines.append(line)
            self.eta_thr.append(self.ax_eta.axhline(1.0, color=colors[i], ls="--", lw=1.2, zorder=3, **plt_setp))
        # short ylabels (a long one ran past the panel's height); the dashed lines are named inside the panel
        self.ax_r2.set_ylabel("r_i²")
        self.ax_eta.set_ylabel("η_i = elr/r_i²")
        key = {"ha": "left", "va": "top", "fontsize": "x-small", "color": "0.25",
               "bbox": {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8}}
        self.r2_key = self.ax_r2.text(0.01, 0.97, "dashed: α_i/A", transform=self.ax_r2.transAxes, **key)
        self.ax_eta.text(0.01, 0.97, "dashed: thresholds 1/α_i", transform=self.ax_eta.transAxes, **key)
        self.ax_eta.set_yscale("log")
        from matplotlib.ticker import FuncFormatter, NullFormatter, NullLocator

        # plain "0.3", "1", "10³" labels: log-axis minor labels in mathtext are unreadable here (and slow)
        self.ax_eta.yaxis.set_major_formatter(FuncFormatter(_log_tick))
        self.ax_eta.yaxis.set_minor_formatter(NullFormatter())
        # no minor ticks: up to ~80 tick lines over 16 decades, redrawn on every update, for no information
        self.ax_eta.yaxis.set_minor_locator(NullLocator())
        for ax in (self.ax_loss, self.ax_r2, self.ax_eta):
            ax.yaxis.set_label_coords(YLABEL_X, 0.5)
        self.ax_eta.set_xlabel("step")
        for ax in (self.ax_loss, self.ax_r2):
            ax.tick_params(labelbottom=False)  # shared step axis: one set of labels is enough (and cheaper)

        ax = self.ax_dir
        ax.set_aspect("equal", adjustable="box")
        ax.set_axis_off()
        ax.set_title("directions θ_i/|θ_i| (last 64 steps; x minima, o 2-cycle)", fontsize="small")
        t = np.linspace(0.0, 2.0 * np.pi, 181)
        self._circle = np.stack([np.cos(t), np.sin(t)])
        self.circles, self.dots, self.arrows, self.minima, self.cycle_pts, self.labels = [], [], [], [], [], []
        for i in range(MAX_GROUPS):  # placed by _update_directions (the layout depends on the number of groups)
            (c,) = ax.plot([], [], color="0.6", lw=0.8, **plt_setp)
            (d,) = ax.plot([], [], ls="none", marker=".", ms=4, color=colors[i], **plt_setp)
            (a,) = ax.plot([], [], color=colors[i], lw=1.8, **plt_setp)
            (m,) = ax.plot([], [], ls="none", marker="x", ms=6, color="k", **plt_setp)
            (p,) = ax.plot([], [], ls="none", marker="o", ms=7, mfc="none", mec="C3", **plt_setp)
            lab = ax.text(0.0, 0.0, "", ha="center", va="top", fontsize="small", color=colors[i], **plt_setp)
            for lst, art in zip((self.circles, self.dots, self.arrows, self.minima, self.cycle_pts, self.labels),
                                (c, d, a, m, p, lab), strict=True):
                lst.append(art)
        self.dir_note = ax.text(0.5, 0.5, "", ha="center", va="center", transform=ax.transAxes, fontsize="small")

        ax = self.ax_phase
        self.phase_dots = ax.scatter(np.full(1, np.nan), np.full(1, np.nan), s=9, lw=0, zorder=3)
        (self.theory_line,) = ax.plot([], [], color="0.2", lw=1.0, zorder=2, label="theory max(0, 1 − 1/k)")
        ax.axvline(1.0, color="0.3", ls=":", lw=1.0)
        self.k_line = ax.axvline(1.0, color="k", lw=0.8, alpha=0.6)
        (self.current,) = ax.plot([], [], ls="none", marker="*", ms=16, mfc="gold", mec="k", zorder=4,
                                  label="this run")
        ax.set_xscale("log")
        ax.set_xlim(*K_RANGE)
        ax.set_ylim(-0.05, 1.15)
        ax.set_xlabel("k = elr · Σα   (threshold k = 1)")
        ax.set_ylabel("tail mean loss / random level")
        handles = [Patch(color=c, label=n.replace("_", " ")) for n, c in REGIME_COLORS.items()
                   if n not in ("aperiodic", "diverged_numerically")]
        handles += [Line2D([], [], color="0.2", lw=1.0, label="theory"),
                    Line2D([], [], ls="none", marker="*", ms=10, mfc="gold", mec="k", label="this run")]
        ax.legend(handles=handles, loc="upper left", fontsize="x-small", ncol=2)
        self._regime_colors = REGIME_COLORS
        self._phase_shown = None
        self._background = None  # cached pixels of the parts that do not change between updates
        self._dynamic = [self.ax_loss, self.ax_r2, self.ax_eta, self.ax_dir, self.k_line, self.current, self.title,
                         self.message]

    # ---------------------------------------------------------------- update
    def update(self, data) -> None:
        """Redraw every panel from ``data`` (:class:`toyregimes.explore.SphereData`) without new axes."""
        n = data.alpha.size
        step = data.step
        self.title.set_text(data.title)
        self.loss_line.set_data(step, data.loss)
        self._hline(self.eq_line, data.eq_loss)
        self._hline(self.random_line, data.random_level)
        self.eq_line.set_label("theory: A/2 − 1/(2 elr)" if data.constraint == "total" else
                               "theory: Σα_i(1 − 1/c_i)₊/2")
        self._loss_legend.get_texts()[1].set_text(self.eq_line.get_label())
        for i in range(MAX_GROUPS):
            on = i < n
            for art in (self.r2_lines[i], self.eta_lines[i], self.eta_thr[i]):
                art.set_visible(on)
            self.r2_eq[i].set_visible(on and data.eq_sq_norm is not None)
            if not on:
                continue
            self.r2_lines[i].set_data(step, data.sq_norm[:, i])
            self.eta_lines[i].set_data(step, data.individual_elr[:, i])
            self.eta_thr[i].set_ydata([data.thresholds[i]] * 2)
            if data.eq_sq_norm is not None:
                self.r2_eq[i].set_ydata([data.eq_sq_norm[i]] * 2)
        self.r2_key.set_visible(data.eq_sq_norm is not None)
        self.ax_loss.set_xlim(0, max(1, step[-1]))
        for ax in (self.ax_loss, self.ax_r2, self.ax_eta):
            ax.relim(visible_only=True)
            ax.autoscale_view(scalex=False)
        self._update_directions(data, n)
        self._update_phase(data)

    @staticmethod
    def _hline(line, y) -> None:
        ok = bool(np.isfinite(y))
        line.set_visible(ok)
        line.set_ydata([y, y] if ok else [0.0, 0.0])

    def _update_directions(self, data, n: int) -> None:
        drawn = data.directions is not None
        self.dir_note.set_text("" if drawn else "directions are drawn for the canonical toy (groups in R²)")
        phi = data.phi_star
        centres = circle_centres(n)
        # more than one row shrinks the circles: shorter, smaller labels keep neighbours apart
        one_row = n <= CIRCLES_PER_ROW
        fmt = "α{i} = {a:.3g}" if one_row else "α{i}={a:.2g}"
        for i in range(MAX_GROUPS):
            on = drawn and i < n
            for lst in (self.circles, self.dots, self.arrows, self.minima, self.labels):
                lst[i].set_visible(on)
            self.cycle_pts[i].set_visible(on and np.isfinite(phi))
            if not on:
                continue
            cx, cy = centres[i]
            self.circles[i].set_data(self._circle[0] + cx, self._circle[1] + cy)
            self.minima[i].set_data([cx - 1, cx + 1], [cy, cy])
            d = data.directions[-TAIL_DOTS:, i, :]
            self.dots[i].set_data(d[:, 0] + cx, d[:, 1] + cy)
            f = data.final_direction[i]
            self.arrows[i].set_data([cx, cx + f[0]], [cy, cy + f[1]])
            self.labels[i].set_position((cx, cy - 1.3))
            self.labels[i].set_text(fmt.format(i=i + 1, a=data.alpha[i]))
            self.labels[i].set_fontsize("small" if one_row else "x-small")
            if np.isfinite(phi):
                c, s = np.cos(phi), np.sin(phi)
                self.cycle_pts[i].set_data([cx + c, cx + c, cx - c, cx - c], [cy + s, cy - s, cy + s, cy - s])
        if drawn:
            self.ax_dir.set_xlim(-1.4, centres[:, 0].max() + 1.4)
            self.ax_dir.set_ylim(centres[:, 1].min() - 1.9, 1.3)

    def _update_phase(self, data) -> None:
        bg = data.phase
        if bg is not self._phase_shown:  # the background changes only with the toy or the constraint
            kk = np.repeat(bg.k[:, None], bg.level.shape[1], axis=1)
            self.phase_dots.set_offsets(np.column_stack([kk.ravel(), bg.level.ravel()]))
            self.phase_dots.set_facecolors([self._regime_colors.get(r, "k") for r in bg.regime.ravel()])
            if bg.theory_level is None:
                self.theory_line.set_visible(False)
            else:
                self.theory_line.set_visible(True)
                self.theory_line.set_data(bg.theory_k, bg.theory_level)
            self._phase_shown = bg
            self._background = None
        self.k_line.set_xdata([data.k, data.k])
        self.current.set_data([data.k], [data.current_level])

    def show_message(self, text: str, error: bool = True) -> None:
        """The status line under the panels (red for errors), cut to one line of ``MESSAGE_CHARS``."""
        _set_message(self.message, text, error)

    def render(self) -> None:
        """Render into the figure's Agg buffer, redrawing only what changes between updates (blitting).

        The phase-diagram background (scatter, theory, legend) is drawn once per toy and constraint and its
        pixels cached; an update restores them and draws the step panels, the directions, the k marker and
        the texts on top.  ``fig.savefig`` is unaffected (it always draws everything).
        """
        canvas = self.fig.canvas
        size = canvas.get_width_height(physical=True)
        if self._background is None or self._background[0] != size:
            for art in self._dynamic:
                art.set_animated(True)
            try:
                canvas.draw()
                self._background = (size, canvas.copy_from_bbox(self.fig.bbox))
            finally:
                for art in self._dynamic:
                    art.set_animated(False)
        canvas.restore_region(self._background[1])
        renderer = canvas.get_renderer()
        for art in self._dynamic:
            art.draw(renderer)


class WeightDecayView:
    """Weight-decay panels in ``rect`` of ``fig``: loss, angular update and sphere ELR ``lr/|w|^2`` vs step.

    The run (black) over its equal-gamma family ``(c lr, wd / c)`` (thin coloured lines), the time
    ``1/gamma`` (dotted), the SGD equilibrium angle ``arccos(1 - gamma)`` (with noise) and the sphere
    threshold ``1/A``.
    """

    def __init__(self, fig, rect=(0.07, 0.17, 0.98, 0.84), factors=(0.25, 0.5, 2.0, 4.0)):
        self.fig = fig
        left, bottom, right, top = rect
        gs = fig.add_gridspec(1, 3, left=left, right=right, bottom=bottom, top=top, wspace=0.3)
        self.axes = [fig.add_subplot(gs[0, j]) for j in range(3)]
        self.title = fig.text(0.5 * (left + right), top + 0.04, "", ha="center", va="bottom", fontsize="medium")
        self.message = fig.text(0.01, 0.008, "", ha="left", va="bottom", color="C3", fontsize="medium",
                                fontweight="bold")
        self.factors = tuple(factors)
        cmap = __import__("matplotlib").colormaps["viridis"]
        self.family, self.run_lines, self.gamma_lines = [], [], []
        for ax in self.axes:
            lines = []
            for j, c in enumerate(self.factors):
                (line,) = ax.plot([], [], lw=0.7, alpha=0.8, color=cmap(j / max(1, len(self.factors) - 1)),
                                  label=f"(lr·{c:g}, wd/{c:g})")
                lines.append(line)
            self.family.append(lines)
            (run,) = ax.plot([], [], color="k", lw=1.0, label="this run (lr, wd)")
            self.run_lines.append(run)
            self.gamma_lines.append(ax.axvline(1.0, color="0.3", ls=":", lw=1.0, label="t = 1/γ"))
            ax.set_xscale("log")
            ax.set_xlabel("step + 1")
        self.eq_angle = self.axes[1].axhline(1.0, color="C3", ls="--", lw=1.0, label="SGD equilibrium arccos(1 − γ)")
        self.threshold = self.axes[2].axhline(1.0, color="C3", ls="--", lw=1.0, label="sphere threshold 1/A")
        self.axes[0].set_ylabel("loss F")
        self.axes[1].set_ylabel("angular update ∠(w_t, w_t+1)")
        self.axes[1].set_yscale("log")
        self.axes[2].set_ylabel("sphere ELR lr/|w|²")
        self.axes[2].set_yscale("log")
        self.axes[0].legend(loc="upper right", fontsize="x-small")
        self.axes[1].legend(handles=[self.eq_angle], loc="upper right", fontsize="x-small")
        self.axes[2].legend(handles=[self.threshold], loc="upper right", fontsize="x-small")

    def update(self, data) -> None:
        """Redraw from ``data`` (:class:`toyregimes.explore.WeightDecayData`)."""
        t = data.step + 1.0
        series = ((data.loss, data.family_loss), (data.angle, data.family_angle),
                  (data.sphere_elr, data.family_sphere_elr))
        self.title.set_text(data.title)
        for ax, lines, run, gline, (y, fam) in zip(self.axes, self.family, self.run_lines, self.gamma_lines, series,
                                                   strict=True):
            for line, row in zip(lines, fam, strict=True):
                line.set_data(t, row)
            run.set_data(t, y)
            gline.set_xdata([1.0 / data.gamma] * 2)
            gline.set_visible(1.0 / data.gamma <= t[-1])
            ax.set_xlim(1.0, t[-1])
            ax.relim(visible_only=True)
            ax.autoscale_view(scalex=False)
        SphereView._hline(self.eq_angle, data.eq_angle)
        SphereView._hline(self.threshold, data.threshold_elr)
        for ax in self.axes[1:]:
            ax.relim(visible_only=True)
            ax.autoscale_view(scalex=False)

    def show_message(self, text: str, error: bool = True) -> None:
        """The status line under the panels (red for errors), cut to one line of ``MESSAGE_CHARS``."""
        _set_message(self.message, text, error)
