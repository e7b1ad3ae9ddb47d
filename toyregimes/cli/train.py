"""``toyregimes train``: one weight-decay training run from the command line.

:func:`add_train_parser` registers the subcommand on the sub-parsers object of ``toyregimes.cli``;
its handler returns the exit status, and a ``ValueError`` from the library becomes one stderr line
with exit status 2 in ``cli.main``.
"""

from __future__ import annotations

from toyregimes.cli.checks import add_force, add_width, budget, image_file, json_line, output_file, width_of


def add_train_parser(sub) -> None:
    """Add the ``train`` subcommand to ``sub`` (an ``argparse`` sub-parsers object)."""
    p = sub.add_parser(
        "train",
        help="unconstrained training with weight decay (SGD, SGD+momentum, AdamW) on an SI toy",
        description="Train an SI toy without constraint, with learning rate lr and weight decay wd "
        "(PyTorch conventions), and report norm, sphere ELR and angular update against the "
        "equilibrium formulas.",
        epilog="example: toyregimes train --alpha 1 2 3 --lr 0.1 --wd 1e-3 --steps 20000 --noise tangent --summary",
    )
    toy = p.add_mutually_exclusive_group(required=True)
    toy.add_argument("--alpha", type=float, nargs="+", help="canonical toy coefficients alpha_i > 0")
    toy.add_argument(
        "--rotated",
        type=str,
        help="randomly rotated Rayleigh toy: group spectra as JSON, e.g. '[[0, 1, 2], [0, 3]]'",
    )
    p.add_argument("--toy-seed", type=int, default=0, help="seed of the rotations of --rotated (default 0)")
    p.add_argument("--samples", type=int, default=None,
                   help="make the toy stochastic with this many per-sample functions (for --noise minibatch)")
    p.add_argument("--spread", type=float, default=0.5, help="per-sample perturbation size (default 0.5)")
    p.add_argument("--lr", type=float, required=True, help="learning rate > 0")
    p.add_argument("--wd", type=float, required=True, help="weight decay >= 0 (lr * wd < 1)")
    p.add_argument("--steps", type=int, default=20_000, help="number of steps (default 20000)")
    p.add_argument("--optimizer", default="sgd", help="sgd, sgdm or adamw (default sgd)")
    p.add_argument("--momentum", type=float, default=0.9, help="heavy-ball coefficient (default 0.9)")
    p.add_argument("--betas", type=float, nargs=2, default=(0.9, 0.999), help="AdamW betas (default 0.9 0.999)")
    p.add_argument("--eps", type=float, default=0.0, help="AdamW epsilon (default 0)")
    p.add_argument("--schedule", default="constant", help="constant or wsd (default constant)")
    p.add_argument("--noise", default="none", help="none, tangent, minibatch or isotropic (default none)")
    p.add_argument("--noise-scale", type=float, default=1.0, help="RMS of tangent noise at unit norm (default 1)")
    p.add_argument("--batch", type=int, default=None, help="minibatch size (with --noise minibatch)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial direction and the noise (default 0)")
    p.add_argument("--init-norm", type=float, default=1.0, help="norm of the initial weights (default 1)")
    p.add_argument("--record-every", type=int, default=1, help="record every r-th step (default 1)")
    p.add_argument("--out", help="write the per-step Dataset to this NetCDF file")
    p.add_argument("--plot", help="draw loss, norm, sphere ELR and angle to this image file (png, pdf, svg)")
    add_width(p)
    p.add_argument("--summary", action="store_true",
                   help="print one JSON object of tail statistics (strict JSON: null for non-finite values)")
    add_force(p)
    p.set_defaults(handler=_cmd_train)


def summary(run, tail=None) -> dict:
    """Tail statistics of a train Dataset (last half by default) as a JSON-ready dict."""
    import numpy as np

    n = run.sizes["step"]
    tail = max(1, n // 2) if tail is None else min(int(tail), n)
    t = run.isel(step=slice(n - tail, n))
    return {
        "mean_loss": float(t.loss.mean()),
        "std_loss": float(t.loss.std()),
        "mean_norm": float(t.norm.mean()),
        "mean_sq_norm_group": [float(x) for x in t.sq_norm.mean("step").values],
        "mean_angle": float(t.angle.mean()),
        "mean_sphere_elr": float(t.sphere_elr.mean()),
        "mean_scale_free_grad_norm": float(t.scale_free_grad_norm.mean()),
        "mean_scale_free_noise_trace": float(t.scale_free_noise_trace.mean()),
        "gamma": float(run.attrs["lr"] * run.attrs["wd"]),
        "sqrt_2gamma": float(np.sqrt(2 * run.attrs["lr"] * run.attrs["wd"])),
        "status": run.attrs["status"],
    }


def _check_minibatch_options(args) -> None:
    """--samples and --batch belong to --noise minibatch: refused without it (never silently ignored), and
    required with it (in the CLI's terms, not the library's keyword names)."""
    if args.noise != "minibatch":
        given = [name for name, value in (("--samples", args.samples), ("--batch", args.batch)) if value is not None]
        if given:
            verb = "apply" if len(given) > 1 else "applies"
            raise ValueError(f"{' and '.join(given)} {verb} only with --noise minibatch (got --noise {args.noise})")
        return
    if args.samples is None or args.batch is None:
        raise ValueError("--noise minibatch needs --samples N (the number of per-sample functions) and --batch B "
                         "(the minibatch size, 1 <= B <= N)")


def _cmd_train(args) -> int:
    import json

    import toyregimes as tr
    from toyregimes.train import train

    _check_minibatch_options(args)
    out = output_file(args.out, "--out") if args.out else None  # before training, not after
    plot_path = image_file(args.plot, "--plot") if args.plot else None
    width = width_of(args)
    if args.alpha is not None:
        toy = tr.toys.canonical(args.alpha)
    else:
        try:
            spectra = json.loads(args.rotated)
        except json.JSONDecodeError:
            raise ValueError(f"--rotated must be JSON like '[[0, 1, 2], [0, 3]]', got {args.rotated!r}") from None
        toy = tr.toys.rayleigh(spectra, rotate=True, seed=args.toy_seed)
    if args.samples is not None:
        toy = tr.toys.stochastic(toy, n_samples=args.samples, spread=args.spread, seed=args.toy_seed,
                                 **{k: v for k, v in budget(args).items() if k == "max_memory"})
    noise = None if args.noise == "none" else args.noise
    run = train(
        toy, lr=args.lr, wd=args.wd, steps=args.steps, optimizer=args.optimizer, momentum=args.momentum,
        betas=tuple(args.betas), eps=args.eps, schedule=args.schedule, noise=noise, batch=args.batch,
        noise_scale=args.noise_scale, seed=args.seed, init_norm=args.init_norm, record_every=args.record_every,
        **budget(args),
    )
    stats = summary(run)
    if out:
        tr.save(run, out)
    if plot_path:
        import matplotlib

        matplotlib.use("Agg")
        from toyregimes.plot import paper_width
        from toyregimes.plot.training import plot_train_run, save

        with paper_width(width):
            save(plot_train_run(run), plot_path)
    if args.summary:
        print(json_line(stats))
    else:
        print(f"gamma = lr * wd = {stats['gamma']:.6g}; 1/gamma = {1 / max(stats['gamma'], 1e-300):.6g} steps")
        print(f"tail mean loss {stats['mean_loss']:.6g} +- {stats['std_loss']:.3g}; |w| {stats['mean_norm']:.6g}")
        print(f"sphere ELR {stats['mean_sphere_elr']:.6g}; angular update {stats['mean_angle']:.6g} "
              f"(sqrt(2 gamma) = {stats['sqrt_2gamma']:.6g}); status {stats['status']}")
    return 0
