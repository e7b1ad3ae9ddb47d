"""The ``toyregimes`` command line.

Every subcommand validates its input through the library; a bad value prints one line on stderr
and exits with status 2.  Heavy imports happen inside the subcommands so that ``--help`` and the
start of a run stay fast.
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_USAGE = 2


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
    p.add_argument("--plot", help="draw loss, group norms and individual ELRs to this image file")
    p.add_argument(
        "--summary",
        action="store_true",
        help="print one JSON object: mean_loss, std_loss, mean_cos_angle, final_sq_norm, regime, ...",
    )
    p.set_defaults(handler=_cmd_run)


def _cmd_run(args) -> int:
    import numpy as np

    import toyregimes as tr

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
    )
    stats = tr.analysis.summary(run, args.tail)
    if args.out:
        tr.save(run, args.out)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from toyregimes.plot import plot_run, save_figure

        save_figure(plot_run(run), args.plot)
    if args.summary:
        print(json.dumps(stats))
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
    from derivations.report import verify

    return verify(args.claim, as_json=args.json)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="toyregimes",
        description="Training scale-invariant toy models on the sphere: simulate, sweep, plot, verify.",
        epilog="example: toyregimes run --alpha 1 2 3 --k 1.5 --summary",
    )
    from toyregimes import __version__

    parser.add_argument("--version", action="version", version=f"toyregimes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_run(sub)
    _add_verify(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``toyregimes`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ValueError as exc:
        message = " ".join(str(exc).split())  # one line, whatever the message looked like
        print(f"toyregimes {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
