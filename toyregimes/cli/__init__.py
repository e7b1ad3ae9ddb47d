"""The ``toyregimes`` command line.

Every subcommand validates its inputs and its output paths (:mod:`~toyregimes.cli.checks`) before it
computes.  :func:`main` is the one error boundary: a ``ValueError`` or ``OSError`` from anywhere is one
line on stderr and exit status 2; Ctrl-C is one line and exit status 130 (a sweep keeps its finished
chunks); anything else is a bug, reported in one line that asks for a bug report, with the traceback
only under ``--debug``.  Heavy imports happen inside the subcommands so that ``--help`` and the start
of a run stay fast.

One module per sub-command family: run, sweep, plot, verify and figures here, ``train`` in
:mod:`~toyregimes.cli.train`, ``explore`` in :mod:`~toyregimes.cli.explore`.  Layer: the outermost;
a client of the public API (``import toyregimes``).
"""

from __future__ import annotations

import argparse
import sys

from toyregimes.cli.checks import add_force, add_width, budget, image_file, json_line, output_file, width_of

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C
EXIT_BUG = 1
ISSUES = "the toyregimes issue tracker"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (argparse's default prints the usage too)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_run(sub) -> None:
    p = sub.add_parser(
        "run",
        help="simulate PGD on the canonical toy at one ELR",
        description="Projected gradient descent on the unit sphere for the canonical toy "
        "F = sum_i alpha_i sin^2(phi_i) at a fixed effective learning rate.",
        epilog="example: toyregimes run --alpha 1 2 3 --elr 0.25 --steps 20000 --seed 0 --summary",
    )
    p.add_argument("--alpha", type=float, nargs="+", required=True, help="coefficients alpha_i > 0, one per group")
    lr = p.add_mutually_exclusive_group(required=True)
    lr.add_argument("--elr", type=float, help="effective learning rate on the unit sphere")
    lr.add_argument("--k", type=float, help="dimensionless ELR k = elr * sum(alpha) (threshold at k = 1)")
    p.add_argument("--steps", type=int, default=20_000, help="number of steps (default 20000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random initial point (default 0)")
    p.add_argument("--constraint", choices=["total", "individual"], default="total")
    p.add_argument("--record-every", type=int, default=1, help="record every r-th step (default 1)")
    p.add_argument("--tail", type=int, default=None, help="tail window for the summary (default: last half)")
    p.add_argument("--lyapunov", action="store_true", help="also estimate the largest Lyapunov exponent")
    p.add_argument("--out", help="write the per-step Dataset to this NetCDF file")
    p.add_argument("--plot", help="draw loss, group norms and individual ELRs to this image file (png, pdf, svg)")
    add_width(p)
    p.add_argument(
        "--summary",
        action="store_true",
        help="print one JSON object (strict JSON, null for non-finite values): mean_loss, std_loss, "
        "mean_cos_angle, final_sq_norm, regime, ... and diverged_at_step / diverged_reason",
    )
    add_force(p)
    p.set_defaults(handler=_cmd_run)


def _cmd_run(args) -> int:
    import numpy as np

    import toyregimes as tr

    out = output_file(args.out, "--out") if args.out else None  # before the simulation, not after
    plot_path = image_file(args.plot, "--plot") if args.plot else None
    width = width_of(args)
    toy = tr.toys.canonical(args.alpha)
    if args.k is not None:
        elr = tr._validate.as_positive(args.k, "k") / float(np.sum(toy.alpha))
    else:
        elr = args.elr
    run = tr.simulate(
        toy,
        elr=elr,
        steps=args.steps,
        constraint=args.constraint,
        seed=args.seed,
        record_every=args.record_every,
        lyapunov=args.lyapunov,
        tail=args.tail,
        **budget(args),
    )
    stats = tr.analysis.summary(run)
    if out:
        tr.save(run, out)
    if plot_path:
        import matplotlib

        matplotlib.use("Agg")
        from toyregimes.plot import paper_width, plot_run, save_figure

        with paper_width(width):
            save_figure(plot_run(run), plot_path)
    if args.summary:
        print(json_line(stats))
    else:
        k = elr * float(np.sum(toy.alpha))
        print(f"k = elr * sum(alpha) = {k:.6g}  (threshold k = 1, elr = {elr:.6g})")
        print(f"regime: {stats['regime']}  (period {stats['period']}, status {stats['status']})")
        print(f"tail mean loss {stats['mean_loss']:.6g} +- {stats['std_loss']:.3g}; "
              f"mean cos angle {stats['mean_cos_angle']:.6g}")
        if args.constraint == "total" and k > 1:
            print(f"theory (k > 1): F_eq = {float(tr.theory.equilibrium_loss(toy.alpha, elr)):.6g}, "
                  f"cos angle = {1 / k:.6g}")
        if stats["lyapunov"] is not None:
            print(f"largest Lyapunov exponent {stats['lyapunov']:.4g}")
        if stats["diverged_reason"]:
            print(f"diverged: {stats['diverged_reason']}")
    return 0


def _add_verify(sub) -> None:
    p = sub.add_parser(
        "verify",
        help="prove the threshold and regime claims with sympy (derivations/)",
        description="Run the symbolic derivations with their numeric cross-checks and print a table "
        "(claim, statement, method, status, seconds). Exit status 1 if any claim fails.",
        epilog="example: toyregimes verify --claim coupled_equilibrium --json",
    )
    p.add_argument("--claim", action="append", help="run only this claim (repeatable)")
    p.add_argument("--json", action="store_true", help='print {"claims": [...]} instead of a table')
    p.set_defaults(handler=_cmd_verify)


def _cmd_verify(args) -> int:
    from toyregimes.derivations.report import verify

    return verify(args.claim, as_json=args.json)


def _add_sweep(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="sweep the canonical toy over k = elr * sum(alpha) and seeds (a phase diagram's data)",
        description="Run every (k, seed) pair in the batched kernel and store tail statistics, the largest "
        "Lyapunov exponent, the period, the regime label and the signed score in a NetCDF file. Finished chunks "
        "are kept in OUT.chunks/ until OUT is written: re-running the same command after a crash or Ctrl-C "
        "computes only the missing chunks. With --local-cluster or --scheduler the chunks run on Dask workers "
        "(pip install 'toyregimes[distributed]'); the file is the same bit for bit.",
        epilog="example: toyregimes sweep --alpha 1 2 3 --k-min 0.1 --k-max 100 --num 400 --seeds 8 --out sweep.nc "
        "[--local-cluster 4 | --scheduler tcp://host:8786]",
    )
    p.add_argument("--alpha", type=float, nargs="+", required=True, help="coefficients alpha_i > 0")
    p.add_argument("--k-min", type=float, default=0.1, help="smallest k (default 0.1)")
    p.add_argument("--k-max", type=float, default=100.0, help="largest k (default 100)")
    p.add_argument("--num", type=int, default=400, help="number of k values, log-spaced (default 400)")
    p.add_argument("--seeds", type=int, default=8, help="seeds 0..N-1 per k (default 8)")
    p.add_argument("--steps", type=int, default=20_000, help="steps per run (default 20000)")
    p.add_argument("--tail", type=int, default=5_000, help="tail window for statistics (default 5000)")
    p.add_argument("--constraint", choices=["total", "individual"], default="total")
    p.add_argument("--no-lyapunov", action="store_true", help="skip the tangent map (about 1.5x faster)")
    p.add_argument("--kernel", choices=["exact", "fast"], default="exact",
                   help="exact (default): every run is simulate's bit for bit, one compiled kernel for every n; "
                   "fast: the canonical toy's own kernel, 1.5-3x faster, compiled once per n (about a minute)")
    p.add_argument("--out", required=True, help="NetCDF file to write (finished chunks wait in OUT.chunks/)")
    p.add_argument(
        "--chunk-size",
        type=int,
        default=4096,
        help="trajectories per chunk: the unit of a Dask task and of resuming (default 4096; never changes results)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDR", help="run the chunks on this Dask scheduler, e.g. tcp://host:8786")
    where.add_argument(
        "--local-cluster", type=int, metavar="N", help="start a local Dask cluster of N worker processes"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_force(p)
    p.set_defaults(handler=_cmd_sweep)


def _k_grid(k_min, k_max, num):
    import numpy as np

    from toyregimes._validate import as_int, as_positive

    k_min, k_max = as_positive(k_min, "k-min"), as_positive(k_max, "k-max")
    if k_max <= k_min:
        raise ValueError(f"k-max must be > k-min, got {k_max} <= {k_min}")
    return np.geomspace(k_min, k_max, as_int(num, "num", minimum=1))


def _cmd_sweep(args) -> int:
    import toyregimes as tr
    from toyregimes.sweep import make_plan
    from toyregimes.sweep.checkpoints import ChunkStore

    out = output_file(args.out, "--out")
    toy = tr.toys.canonical(args.alpha)
    from toyregimes._validate import as_int
    from toyregimes.sweep.plan import check_sweep_budget

    # the size guard before the k grid is allocated (--num 10**13 would fail in numpy first)
    check_sweep_budget(toy, as_int(args.num, "num", minimum=1), as_int(args.seeds, "seeds", minimum=1),
                       as_int(args.steps, "steps", minimum=1), not args.no_lyapunov, **budget(args))
    inputs = dict(k=_k_grid(args.k_min, args.k_max, args.num), seeds=args.seeds, steps=args.steps, tail=args.tail,
                  constraint=args.constraint, lyapunov=not args.no_lyapunov, chunk_size=args.chunk_size,
                  kernel=args.kernel, **budget(args))
    make_plan(toy, **inputs)  # every input and the size guard, before the chunk folder is created
    store = ChunkStore(f"{out}.chunks")
    store.lock()  # held until the result is written and the chunks removed: one sweep per output
    try:
        ds = tr.sweep(toy, progress=False if args.quiet else None, scheduler=args.scheduler,
                      local_cluster=args.local_cluster, checkpoint=store, **inputs)
        tr.save(ds, out)
        store.remove()  # only once the result is safely written
    except ImportError as exc:  # the distributed extra is missing: a usage error, one line
        raise ValueError(str(exc)) from None
    except KeyboardInterrupt:
        kept = len(store.resumed) + len(store.computed)
        print(f"toyregimes sweep: interrupted; {kept} of {store.n_chunks} chunks are kept in {store.path}; "
              "re-run the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        store.unlock()
    print(f"computed {len(store.computed)} of {store.n_chunks} chunks ({len(store.resumed)} resumed)")
    counts = {name: int((ds.regime.values == name).sum()) for name in tr.analysis.REGIMES}
    summary = ", ".join(f"{n} {c}" for n, c in counts.items() if c)
    print(f"wrote {out}: {ds.sizes['elr']} k values x {ds.sizes['seed']} seeds ({summary})")
    return 0


def _add_plot(sub) -> None:
    p = sub.add_parser(
        "plot",
        help="draw any saved result: run, sweep, sweep grid, orbit diagram, noisy sweep, training run or grid, "
        "weight-decay experiment",
        description="Draw a NetCDF result written by toyregimes: a run (loss, norms, individual ELRs), a sweep "
        "(1-D phase diagram), a sweep grid (2-D regime maps), an orbit diagram, a noisy sweep (divergence), a "
        "weight-decay training run or (lr, wd) grid, or a weight-decay experiment (toyregimes.plot.plot_result).",
        epilog="example: toyregimes plot sweep.nc --out phase.pdf --width single",
    )
    p.add_argument("file", help="NetCDF file written by toyregimes")
    p.add_argument("--out", required=True, help="image file to write (png, pdf, svg)")
    p.add_argument("--y", help="for a sweep grid only: the parameter on the vertical axis (default: the first)")
    add_width(p)
    p.set_defaults(handler=_cmd_plot)


def _cmd_plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import toyregimes as tr
    from toyregimes import plot

    out = image_file(args.out, "--out")  # the real file: matplotlib adds .png to a name without suffix
    with plot.paper_width(width_of(args)):  # the format follows the suffix: .pdf and .svg are vector files
        fig = plot.plot_result(tr.load(args.file), y=args.y)
        plot.save_figure(fig, out)
    print(f"wrote {out}")
    return 0


def _add_figures(sub) -> None:
    p = sub.add_parser(
        "figures",
        help="regenerate the figure gallery",
        description="Draw every figure of the README's gallery (or those named with --only) as PNG files "
        "(or PDF/SVG with --format), at each figure's own size or at a journal column's --width.",
        epilog="example: toyregimes figures --out figures/ --only phase_diagram orbit_diagram",
    )
    p.add_argument("--out", default="figures", help="output directory (default figures/)")
    p.add_argument("--only", nargs="+", help="names of the figures to draw (default: all)")
    p.add_argument("--quick", action="store_true", help="small grids, for a fast preview")
    add_width(p)
    p.add_argument("--format", default="png", choices=["png", "pdf", "svg"],
                   help="file format (default png; pdf and svg are vector files)")
    p.add_argument("--list", action="store_true", help="list the figures and what they show")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_figures)


def _cmd_figures(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from toyregimes.plot import gallery

    if args.list:
        for fig in gallery.FIGURES.values():
            print(f"{fig.name}: {fig.caption}")
        return 0
    unknown = [n for n in args.only or [] if n not in gallery.FIGURES]
    if unknown:
        raise ValueError(f"--only: unknown figure(s) {unknown}; known: {', '.join(gallery.FIGURES)}")
    from toyregimes.io import check_output_dir

    check_output_dir(args.out, "--out")  # before drawing: a gallery takes minutes
    width = width_of(args)
    for path in gallery.draw_all(args.out, args.only, quick=args.quick, progress=False if args.quiet else None,
                                 width=width, fmt=args.format):
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="toyregimes",
        description="Training scale-invariant toy models on the sphere: simulate, sweep, plot, verify.",
        epilog="example: toyregimes run --alpha 1 2 3 --k 1.5 --summary",
    )
    from toyregimes._version import __version__

    parser.add_argument("--version", action="version", version=f"toyregimes {__version__}")
    parser.add_argument("--debug", action="store_true", help="print the traceback of any error")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_run(sub)
    _add_sweep(sub)
    _add_plot(sub)
    _add_figures(sub)
    _add_verify(sub)
    from toyregimes.cli.explore import add_explore_parser
    from toyregimes.cli.train import add_train_parser

    add_train_parser(sub)
    add_explore_parser(sub)
    for command in sub.choices.values():  # also accepted after the sub-command, where users put it
        command.add_argument("--debug", dest="debug_command", action="store_true",
                             help="print the traceback of any error")
    return parser


def _caused_by_interrupt(exc: BaseException) -> bool:
    """True if a ``KeyboardInterrupt`` is in the chain of ``exc`` (``__cause__`` / ``__context__``)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv=None) -> int:
    """Entry point of the ``toyregimes`` console script; returns the exit status.

    The one error boundary of the command line (exit statuses: 0 success, 1 a failed ``verify`` claim or
    a bug, 2 bad input or an unusable file, 130 interrupted).  Example: ``main(["run", "--alpha", "1",
    "--k", "1.5", "--steps", "100", "--summary"])``.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: argparse has printed its line
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    debug = bool(args.debug or getattr(args, "debug_command", False))
    where = f"toyregimes {args.command}"
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print(f"{where}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, OSError) as exc:  # bad input, or a file that cannot be read or written
        if debug:
            import traceback

            traceback.print_exc()
        print(f"{where}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        print(f"{where}: error: out of memory; use smaller sizes (the size guard's estimate was too low: "
              f"please report it to {ISSUES})", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # anything else is a bug in toyregimes, not a mistake of the user
        if _caused_by_interrupt(exc):  # Ctrl-C inside C code (Numba's dispatcher) surfaces as SystemError
            print(f"{where}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        if debug:
            import traceback

            traceback.print_exc()
        print(f"{where}: internal error ({type(exc).__name__}: {_one_line(exc)[:300]}); this is a bug, please "
              f"report it with the command line to {ISSUES}" + ("" if debug else " (--debug shows the traceback)"),
              file=sys.stderr)
        return EXIT_BUG
