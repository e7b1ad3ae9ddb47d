"""The route-to-chaos figure: rotation numbers, exponents, periods and onset against the resonances."""

from __future__ import annotations

import numpy as np

from toyregimes import theory
from toyregimes.plot.style import group_color, panels, unique_legend, unlabelled

__all__ = ["plot_route_to_chaos", "RESONANCES"]

# The low-order resonances drawn as reference lines: (label, k)
RESONANCES = [("1:2", theory.resonance_k(1, 2)[0]), ("2:5", theory.resonance_k(2, 5)[1]),
              ("3:8", theory.resonance_k(3, 8)[1]), ("1:3", theory.resonance_k(1, 3)[1]),
              ("1:4", theory.resonance_k(1, 4)[1])]


RESONANCE_LABEL = "resonance p:q (ρ = p/q), labelled on the axis"


def _resonance_lines(ax, vertical=True, labels=True, k_max=np.inf):
    for name, k in RESONANCES:
        if k > k_max:  # beyond the panel's range: its label would hang outside the axes
            continue
        if vertical:
            ax.axvline(k, color="0.55", ls=":", lw=0.9, label=RESONANCE_LABEL)
            if labels:
                ax.text(k, 1.0, name, transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                        fontsize="x-small", color="0.35")
        else:
            ax.axhline(k, color="0.55", ls=":", lw=0.9, label=RESONANCE_LABEL)
            if labels:
                ax.text(1.0, k, " " + name, transform=ax.get_yaxis_transform(), ha="left", va="center",
                        fontsize="x-small", color="0.35")


def plot_route_to_chaos(rotation, scan, windows=(), by_groups=None, fig=None):
    """Four panels from :mod:`toyregimes.studies.route_to_chaos` results.

    (a) rotation number measured near the 2-cycle (markers, one colour per alpha) against
    ``theory.rotation_number`` (line); (b) mean largest exponent over seeds (band: +- one standard
    deviation) against ``k`` for each heterogeneity; (c) the majority period of the non-chaotic seeds
    at each ``k`` (log scale), the periodic windows marked with their resonance; (d) the onset of chaos
    (first ``k`` where most seeds are significantly chaotic, error bar = spread of the seeds' first
    ``k``) and the sustained onset, against heterogeneity, and (``by_groups``, top axis) against the
    number of groups.  Dotted lines: resonances ``p:q`` of the
    neutral eigenvalues (:func:`toyregimes.theory.resonance_k`).  Returns the figure.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if fig is None:
        fig, grid = panels((11.0, 8.4), 2, 2)
    else:
        grid = fig.subplots(2, 2)
    (ax_a, ax_b), (ax_c, ax_d) = grid
    k_fine = np.linspace(1.0, float(rotation.k.max()), 400)
    ax_a.plot(k_fine, theory.rotation_number(k_fine), color="k", lw=1.2, label="theory cos ω = 1 − 8(k²−1)/k⁴")
    for i, name in enumerate(rotation.alpha.values):  # decreasing sizes: the measurements coincide (rho needs no alpha)
        ax_a.plot(rotation.k.values, rotation.rho_measured.values[i], "o", ms=7.0 - 2.0 * i, color=group_color(i),
                  label=f"measured, α = {name}")
    _resonance_lines(ax_a, k_max=float(rotation.k.max()) * 1.02)
    ax_a.set(xlabel="k", ylabel="rotation number ρ = ω / 2π")
    unique_legend(ax_a, loc="lower right")
    ax_a.set_title("(a) neutral eigenvalues: measured near the 2-cycle vs theory", fontsize="small", loc="left",
                   pad=14)
    ax_a.set_xlim(1.0, float(rotation.k.max()) * 1.02)

    ks = scan.k.values
    for i, h in enumerate(scan.heterogeneity.values):
        m, sd = scan.mean_lyapunov.values[i], scan.sd_lyapunov.values[i]
        (line,) = ax_b.plot(ks, m, lw=1.0, color=group_color(i), label=f"h = {h:g}")
        unlabelled(ax_b.fill_between(ks, m - sd, m + sd, color=line.get_color(), alpha=0.2, lw=0),
                   "± sd band of the line of the same colour (the axis label says so)")
        per = scan.period.values[i].astype(float)
        keep = per >= 2
        ax_c.plot(ks[keep], per[keep], "o", ms=2.5, color=line.get_color(), label=f"h = {h:g}")
    unlabelled(ax_b.axhline(0, color="0.3", lw=0.8), "zero of the exponent axis (chaos above it)")
    _resonance_lines(ax_b)
    ax_b.set(xlabel="k", ylabel="largest Lyapunov exponent\n(mean ± sd over seeds)")
    # the legend sits in a band below 0, where only brief dips reach: over the curves it would hide them
    top = ax_b.get_ylim()[1]
    ax_b.set_ylim(bottom=min(ax_b.get_ylim()[0], -0.4 * top))
    legend_b = unique_legend(ax_b, exclude=[RESONANCE_LABEL], loc="lower center", ncol=4)
    legend_b.set_title("heterogeneity (colours of b and c)", prop={"size": "small"})
    ax_b.set_title(f"(b) exponents, {scan.attrs['n_groups']} groups, {scan.attrs['seeds']} seeds", fontsize="small",
                   loc="left", pad=14)
    done = set()
    for w in windows:  # one label per (period, resonance)
        if w["resonance"] and (w["period"], w["resonance"]) not in done:
            done.add((w["period"], w["resonance"]))
            ax_c.annotate(f"{w['period']} ↔ {w['resonance']}", (w["k_hi"], w["period"]), fontsize="x-small",
                          xytext=(3, 3), textcoords="offset points")
    ax_c.set_yscale("log")
    # periods are integers: plain labels at 1, 2, 5 x 10^n, no minor labels (they collide on a short axis)
    ax_c.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax_c.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax_c.yaxis.set_minor_formatter(NullFormatter())
    ax_c.set(xlabel="k", ylabel="majority period of the non-chaotic seeds")
    _resonance_lines(ax_c)
    ax_c.set_title("(c) periods found; windows labelled period 2q ↔ nearest resonance p:q",
                   fontsize="small", loc="left", pad=14)

    hs = scan.heterogeneity.values
    ax_d.errorbar(hs, scan.onset.values, yerr=scan.onset_sd.values, fmt="o-", ms=4, capsize=3, color="k",
                  label="first k with most seeds chaotic (± sd), vs h")
    ax_d.plot(hs, scan.sustained_onset.values, "s--", ms=4, color="0.5",
              label="sustained onset (5 consecutive k), vs h")
    axes_d = [ax_d]
    if by_groups is not None:
        ax_n = ax_d.twiny()
        ax_n.errorbar(by_groups.n_groups.values, by_groups.onset.values, yerr=by_groups.onset_sd.values, fmt="^:",
                      color="#D55E00", ms=4, capsize=3, label="first k with most seeds chaotic, vs n (top)")
        ax_n.plot(by_groups.n_groups.values, by_groups.sustained_onset.values, "v", color="#CC79A7", ms=4,
                  label="sustained onset, vs n (top)")
        ax_n.set_xlabel(f"number of groups n (h = {by_groups.attrs['heterogeneity']:g})")
        ax_n.set_xticks(by_groups.n_groups.values)
        axes_d.append(ax_n)
    _resonance_lines(ax_d, vertical=False)
    ax_d.set(xlabel="heterogeneity h (max α / min α = e^{2h})", ylabel="onset of chaos k_c")
    unique_legend(ax_d, axes=axes_d, exclude=[RESONANCE_LABEL], loc="best")
    ax_d.set_title("(d) onset of chaos vs heterogeneity (and n), with the resonances", fontsize="small", loc="left",
                   pad=24 if by_groups is not None else 6)
    return fig
