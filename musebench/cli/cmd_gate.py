"""`musebench gate RUN_DIR --baseline FILE`: the suite's regression gates, exit 1 on a regression."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Check a finished run against the gates in its suite (run.json) and a baseline results file.\n"
    "A gate fails only when the worsening exceeds its tolerance AND the 95 % intervals (latency: the\n"
    "noise band of the timing repeats) do not explain it; see docs/ci.md.\n"
    "Exit codes: 0 all gates pass, 1 a regression, 2 bad input."
)

EPILOG = """examples:
  musebench gate runs/quickstart --baseline reports/baselines/quickstart.jsonl
  musebench gate runs/quickstart --baseline reports/baselines/quickstart.jsonl --junit gate.xml
  musebench gate runs/quickstart --write-baseline reports/baselines/quickstart.jsonl   # record
  musebench gate runs/nightly --baseline base.jsonl --write-baseline base.jsonl   # ratchet: only if it passes
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="output directory of `musebench run` (results.jsonl, run.json)")
    parser.add_argument("--baseline", metavar="FILE", help="baseline file (.jsonl) written by --write-baseline")
    parser.add_argument("--junit", metavar="OUT.xml", help="also write the checks as JUnit XML for CI systems")
    parser.add_argument(
        "--write-baseline",
        metavar="FILE",
        help="record this run as a baseline with its provenance; with --baseline, only if the gate passes",
    )


def run(args: argparse.Namespace) -> int:
    from musebench.errors import GateFailed, MusebenchError
    from musebench.gate import evaluate, load_baseline, load_run, render, write_baseline, write_junit
    from musebench.cache.atomic import check_writable

    for path, flag in ((args.junit, "--junit"), (args.write_baseline, "--write-baseline")):
        if path:
            check_writable(path, flag)  # before reading or judging anything
    run_data = load_run(args.run_dir)
    if args.write_baseline and not args.baseline:
        if args.junit:
            raise MusebenchError("--junit needs a gate to evaluate: give --baseline FILE too")
        path = write_baseline(run_data, args.write_baseline)
        print(f"wrote baseline {path}: suite {run_data.suite_name}, {len(run_data.rows)} rows, metrics {', '.join(run_data.metrics)}")
        return 0
    baseline = load_baseline(args.baseline) if args.baseline else None
    report = evaluate(run_data, baseline)
    print(render(report))
    if args.junit:
        print(f"wrote {write_junit(report, args.junit)}")
    if not report.passed:
        names = sorted({f"{c.row.metric} ({c.row.model})" for c in report.failed})
        message = f"{len(report.failed)} of {len(report.checks)} checks regressed: {', '.join(names)}"
        if args.write_baseline:
            message += f"; baseline {args.write_baseline} not written"
        raise GateFailed(message)
    if args.write_baseline:
        print(f"wrote baseline {write_baseline(run_data, args.write_baseline)}")
    return 0
