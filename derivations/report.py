"""Output of the verification: a plain-text table, JSON, the README section, and the CLI core.

``toyregimes verify`` calls :func:`verify` (argument-free core) or :func:`main` (argv parsing);
``python -m toyregimes.derivations`` calls :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Iterable

from . import UnknownClaimError, all_claims, run_claim, select_claims

__all__ = ["format_table", "to_json", "readme_section", "verify", "main"]

JSON_KEYS = ("name", "family", "statement", "method", "status", "seconds")


def format_table(rows: list[dict], detail: bool = False) -> str:
    """Plain-text table with columns claim, statement, method, status, seconds.

    Long statements and method lists wrap inside their column.  With ``detail`` every claim is
    followed by its sub-checks (one line each).
    """
    widths = {"name": max([5, *(len(r["name"]) for r in rows)]), "statement": 58, "method": 40}
    head = (f"{'claim':<{widths['name']}}  {'statement':<{widths['statement']}}  "
            f"{'method':<{widths['method']}}  {'status':<6}  seconds")
    lines = [head, "-" * len(head)]
    for r in rows:
        st = textwrap.wrap(r["statement"], widths["statement"]) or [""]
        me = textwrap.wrap(r["method"], widths["method"]) or [""]
        status = "PASSED" if r["status"] == "passed" else "FAILED"
        for j in range(max(len(st), len(me))):
            first = j == 0
            lines.append(
                f"{r['name'] if first else '':<{widths['name']}}  "
                f"{st[j] if j < len(st) else '':<{widths['statement']}}  "
                f"{me[j] if j < len(me) else '':<{widths['method']}}  "
                f"{status if first else '':<6}  {format(r['seconds'], '7.2f') if first else ''}".rstrip()
            )
        if detail and r.get("detail"):
            lines.extend("    " + d for d in r["detail"].splitlines())
    passed = sum(r["status"] == "passed" for r in rows)
    total_s = sum(r["seconds"] for r in rows)
    lines.append("-" * len(head))
    lines.append(f"{passed}/{len(rows)} claims passed in {total_s:.1f} s")
    return "\n".join(lines)


def to_json(rows: list[dict]) -> str:
    """``{"claims": [{"name", "family", "statement", "method", "status", "seconds"}, ...]}``."""
    return json.dumps({"claims": [{k: r[k] for k in JSON_KEYS} for r in rows]}, indent=2)


def readme_section(rows: list[dict] | None = None) -> str:
    """The README's "Verified derivations" section, generated from the claim registry.

    Parameters
    ----------
    rows : list of dict, optional
        Results of :func:`toyregimes.derivations.run_claims`; when given, each claim also lists the method
        that decided it and its status.  Without it the section is built from the registry alone
        (no derivation is run).

    Examples
    --------
    The same text is printed by ``python -m toyregimes.derivations --readme``.

    >>> print(readme_section().splitlines()[0])
    ## Verified derivations
    """
    by_name = {r["name"]: r for r in rows or []}
    out = [
        "## Verified derivations",
        "",
        "Every closed form the toolkit relies on is re-derived with sympy in `derivations/` and",
        "cross-checked numerically against `toyregimes.theory` and, for claims about dynamics, short",
        "simulations. Equalities are decided by simplification when sympy can reduce the difference",
        "to zero, otherwise by evaluating it at random points with 40-digit mpmath arithmetic; the",
        "report says which. The folder installs as `toyregimes.derivations`. Run `toyregimes verify`",
        "(or `python -m toyregimes.derivations`), `--claim NAME` for one claim, `--json` for",
        "machine-readable output.",
        "",
    ]
    family = None
    for claim in all_claims():
        if claim.family != family:
            family = claim.family
            out += [f"### {family[0].upper() + family[1:]}", ""]
        line = f"- `{claim.name}`: {claim.statement}"
        if claim.name in by_name:
            r = by_name[claim.name]
            line += f" *({r['status']}; {r['method']})*"
        out.append(line)
    out.append("")
    return "\n".join(out)


def verify(names: Iterable[str] | None = None, as_json: bool = False, detail: bool = False,
           out=None, err=None) -> int:
    """Run claims and print the table (or JSON); argument-parsing-free core of the CLIs.

    Parameters
    ----------
    names : iterable of str, optional
        Claims to run (default: all).
    as_json : bool
        Print ``{"claims": [...]}`` instead of the table.
    detail : bool
        Also print every sub-check of every claim (table output only).
    out, err : text streams, optional
        Default ``sys.stdout`` / ``sys.stderr``.

    Returns
    -------
    int
        0 if every claim passed, 1 if any failed, 2 for an unknown claim name (one line on
        ``err``).

    Examples
    --------
    >>> verify(["elr_harmonic_sum"])  # doctest: +ELLIPSIS
    claim ...
    1/1 claims passed in ... s
    0
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        chosen = select_claims(names)
    except UnknownClaimError as exc:
        print(f"error: {exc.args[0]}", file=err)
        return 2
    rows = []
    show_progress = not as_json and hasattr(err, "isatty") and err.isatty()
    for j, claim in enumerate(chosen, start=1):
        if show_progress:
            print(f"\r[{j}/{len(chosen)}] {claim.name} ...".ljust(60), end="", file=err, flush=True)
        rows.append(run_claim(claim))
    if show_progress:
        print("\r" + " " * 60 + "\r", end="", file=err, flush=True)
    print(to_json(rows) if as_json else format_table(rows, detail=detail), file=out)
    return 0 if all(r["status"] == "passed" for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m toyregimes.derivations [--claim NAME ...] [--json] [--detail] [--readme]``; returns the exit code.

    Exit status 0 when every claim passes, 1 when any fails, 2 on an unknown claim or bad usage.
    """
    parser = argparse.ArgumentParser(
        prog="python -m toyregimes.derivations",
        description="Re-derive the threshold and regime theory with sympy and cross-check it "
                    "numerically. Example: python -m toyregimes.derivations --claim coupled_equilibrium",
    )
    parser.add_argument("--claim", action="append", metavar="NAME",
                        help="run only this claim (repeatable); default: all")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--detail", action="store_true", help="print every sub-check")
    parser.add_argument("--readme", action="store_true",
                        help="print the README 'Verified derivations' section and exit")
    parser.add_argument("--list", action="store_true", help="list claim names and exit")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): return, do not exit the caller
        return int(exc.code or 0)
    if args.readme:
        print(readme_section())
        return 0
    if args.list:
        print("\n".join(c.name for c in all_claims()))
        return 0
    return verify(args.claim, as_json=args.json, detail=args.detail)
