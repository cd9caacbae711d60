"""`musebench power`: images needed to detect a drop in accuracy, or the smallest drop N images detect."""

from __future__ import annotations

import argparse
import json

DESCRIPTION = (
    "Power analysis before a study or a gate (../shared/STATISTICS.md: a gate that cannot detect its own\n"
    "tolerance is not a gate). With --drop: the images needed to detect a drop of the share of correct\n"
    "images from --rate to --rate minus --drop. With --n: the smallest drop that many images detect.\n"
    "Independent samples: two-proportion z-test (Fleiss 2003). Paired (same prompts and seeds, exact\n"
    "McNemar): needs --discordance, the share of images on which the two systems disagree (Connor 1987,\n"
    "stepped up to the exact test's power). Methods and references: docs/statistics.md."
)

EPILOG = """examples:
  musebench power --rate 0.85 --drop 0.05                               # N, independent samples
  musebench power --rate 0.85 --drop 0.05 --paired --discordance 0.10   # also the McNemar N
  musebench power --rate 0.85 --n 300                                   # smallest detectable drop
  musebench power --rate 0.85 --n 300 --discordance 0.10 --json         # also paired; machine-readable
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", type=float, required=True, help="share of correct images of the baseline, in (0, 1)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--drop", type=float, help="the smallest drop that matters (0.05 = 5 points): prints N")
    target.add_argument("--n", type=int, help="images available: prints the smallest detectable drop")
    parser.add_argument("--paired", action="store_true", help="same prompts and seeds for both systems (needs --discordance)")
    parser.add_argument("--discordance", type=float, help="share of images on which the systems disagree (from a pilot run)")
    parser.add_argument("--power", type=float, default=0.8, help="probability of detecting the drop (default 0.8)")
    parser.add_argument("--alpha", type=float, default=0.05, help="false-alarm rate of the test (default 0.05)")
    parser.add_argument("--sides", type=int, default=1, choices=(1, 2),
                        help="1: only a drop matters (a gate; default); 2: either way")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def _compute(args: argparse.Namespace) -> dict:
    from musebench.stats import power as pw

    common = {"power": args.power, "alpha": args.alpha, "sides": args.sides}
    out = {"rate": args.rate, "drop": args.drop, "n": args.n, **common, "discordance": args.discordance}
    if args.drop is not None:
        out["independent"] = {"n": pw.n_for_drop(args.rate, args.drop, **common), "method": pw.INDEPENDENT_METHOD}
        paired = None if args.discordance is None else pw.n_for_drop_paired(args.rate, args.drop, args.discordance, **common)
        out["paired"] = None if paired is None else {"n": paired, "method": pw.PAIRED_METHOD}
    else:
        out["independent"] = {"drop": pw.minimum_detectable_drop(args.n, args.rate, **common), "method": pw.INDEPENDENT_METHOD}
        paired = None if args.discordance is None else pw.minimum_detectable_drop(
            args.n, args.rate, **common, paired=True, discordance=args.discordance)
        out["paired"] = None if paired is None else {"drop": paired, "method": pw.PAIRED_METHOD}
    return out


def _percent(share: float) -> str:
    return f"{100 * share:.1f} %"


def _render(out: dict) -> str:
    test = f"{'one' if out['sides'] == 1 else 'two'}-sided alpha {out['alpha']:g}, power {_percent(out['power'])}"
    rows = [("independent", out["independent"]), ("paired", out["paired"])]
    if out["drop"] is not None:
        head = f"detect a drop from {_percent(out['rate'])} to {_percent(out['rate'] - out['drop'])} ({test}):"
        lines = [f"  {name:<11} N = {row['n']} images{' per system' if name == 'independent' else ''}   [{row['method']}]"
                 for name, row in rows if row]
    else:
        head = f"N = {out['n']} images at {_percent(out['rate'])} correct ({test}):"
        lines = [f"  {name:<11} smallest detectable drop {100 * row['drop']:.1f} points   [{row['method']}]"
                 for name, row in rows if row]
    if out["paired"]:
        lines.append(f"  (paired assumes the systems disagree on {_percent(out['discordance'])} of images)")
    return "\n".join([head, *lines])


def run(args: argparse.Namespace) -> int:
    from musebench.errors import MusebenchError
    from musebench.stats._checks import BadParameter

    if args.paired and args.discordance is None:
        raise MusebenchError("--paired needs --discordance PSI: the share of images on which the two systems disagree "
                             "(measure it on a pilot run), e.g. --discordance 0.10")
    try:
        out = _compute(args)
    except BadParameter as exc:  # the library names its parameter; the flags carry the same names
        raise MusebenchError(f"--{exc.name} {exc.value}: {exc.fix}") from None
    print(json.dumps(out, indent=2) if args.json else _render(out))
    return 0
