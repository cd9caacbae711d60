"""`musebench compare RUN_A RUN_B`: two runs on the same prompts and seeds, paired row by row."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Compare two runs of one suite row by row (model, sweep point, metric), paired on the same prompts\n"
    "and seeds: exact McNemar for oracle rows, paired bootstrap for CLIP score and latency (a ratio),\n"
    "Holm-adjusted p-values within each family of tests; see docs/results.md.\n"
    "Exit codes: 0 compared (whatever the verdicts), 2 bad input."
)

EPILOG = """examples:
  musebench compare runs/main runs/pr
  musebench compare runs/main runs/pr --metrics 'oracle/*' --json compare.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", metavar="RUN_A", help="the reference run (--out of `musebench run`)")
    parser.add_argument("run_b", metavar="RUN_B", help="the run compared with it: differences are B - A (latency B / A)")
    parser.add_argument("--json", metavar="OUT", help="also write every comparison, its test and the families as JSON")
    parser.add_argument("--metrics", metavar="PATTERN", help="only metrics matching this glob, e.g. 'oracle/*'")


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from musebench.cache.atomic import write_atomic
    from musebench.results import load_run
    from musebench.results.compare import compare_runs, render

    report = compare_runs(load_run(args.run_a), load_run(args.run_b), args.metrics)
    print(render(report))
    if args.json:
        text = json.dumps(report.to_json(), indent=2) + "\n"
        print(f"wrote {write_atomic(Path(args.json), text.encode('utf-8'), '--json')}")
    return 0
