"""``toyregimes explore``: the explorer in a matplotlib window, or drawn once to an image."""

from __future__ import annotations

from toyregimes.cli.checks import image_file
from toyregimes.explore import explore_window
from toyregimes.explore.model import K_RANGE, ExplorerModel, WeightDecayModel


def add_explore_parser(sub) -> None:
    """Add the ``explore`` subcommand to ``sub`` (an ``argparse`` sub-parsers object)."""
    p = sub.add_parser(
        "explore",
        help="open the interactive explorer in a matplotlib window (sliders for alpha, k, seed, ...)",
        description="The explorer of toyregimes.explore() outside Jupyter: a matplotlib window whose sliders and "
        "text boxes re-simulate and redraw the loss, group norms, individual ELRs, directions and the phase diagram.",
        epilog="example: toyregimes explore --alpha 1 2 3 --k 1.5 --steps 5000  (or --weight-decay --lr 0.1 --wd 0.01)",
    )
    p.add_argument("--alpha", type=float, nargs="+", default=[1.0, 2.0, 3.0], help="coefficients alpha_i > 0")
    p.add_argument("--k", type=float, default=1.5, help=f"dimensionless ELR k = elr * sum(alpha), in {list(K_RANGE)}")
    p.add_argument("--steps", type=int, default=5000, help="steps per run (default 5000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial point (default 0)")
    p.add_argument("--constraint", choices=["total", "individual"], default="total")
    p.add_argument("--weight-decay", action="store_true", help="open the weight-decay explorer (lr, wd, gamma)")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate of the weight-decay explorer (default 0.1)")
    p.add_argument("--wd", type=float, default=0.01, help="weight decay of the weight-decay explorer (default 0.01)")
    p.add_argument("--save", help="draw the window once to this image file instead of opening it")
    p.set_defaults(handler=_cmd_explore)


def _cmd_explore(args) -> int:
    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    tab = "weight_decay" if args.weight_decay else "sphere"
    settings = {"alpha": args.alpha, "k": args.k, "steps": args.steps, "seed": args.seed,
                "constraint": args.constraint, "lr": args.lr, "wd": args.wd}
    # Bad command-line values are errors (exit 2), not a message in a window that never opens.
    save_path = image_file(args.save, "--save") if args.save else None
    ExplorerModel(alpha=args.alpha, k=args.k, constraint=args.constraint, seed=args.seed, steps=args.steps)
    WeightDecayModel(lr=args.lr, wd=args.wd, steps=args.steps, seed=args.seed)
    if args.save:
        win = explore_window(None, tab=tab, show=False, **settings)
        import matplotlib.pyplot as plt

        win.fig.savefig(save_path, dpi=100)
        plt.close(win.fig)
        print(f"wrote {save_path}")
        return 0
    import matplotlib.pyplot as plt

    from toyregimes.explore.views import FAST_RC

    matplotlib.rcParams.update(FAST_RC)  # this process only draws the explorer: simplify long lines
    backend = matplotlib.get_backend().lower()
    if backend in ("agg", "pdf", "ps", "svg", "cairo", "template") or "inline" in backend:
        raise ValueError(f"no interactive matplotlib backend (got {backend!r}; no display?); "
                         "use --save FILE for a snapshot, or toyregimes.explore() in Jupyter")
    explore_window(None, tab=tab, show=False, **settings)
    plt.show()
    return 0
