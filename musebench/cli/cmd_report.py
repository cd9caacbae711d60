"""`musebench report RUN_DIR [RUN_DIR ...] [--out DIR]`: tables, plots and an HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = """\
Build a report from finished runs: index.md and index.html with
  - tables as Markdown, LaTeX (booktabs) and CSV: value [95 % interval], best per column in bold;
  - plots as PNG and vector PDF: metric vs steps (with interval band), FID-CLIP trade-off over
    guidance, latency vs quality Pareto fronts with the speed-up at matched quality, per-category
    accuracy bars;
  - image grids: prompt x steps and prompt x guidance.
A plot appears only when the results hold its data. Several RUN_DIRs are compared side by side.
Reads only RUN_DIR/results.jsonl, RUN_DIR/run.json and the images run.json lists."""

EPILOG = """examples:
  musebench report runs/quickstart                      # writes runs/quickstart/report/index.html
  musebench report runs/steps_sweep --out /tmp/steps    # choose where the report goes
  musebench report runs/before runs/after --out reports/compare   # side-by-side comparison

exit codes: 0 written, 2 bad input (a missing or invalid results.jsonl / run.json, one line on stderr)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR",
                        help="run directories written by `musebench run` (results.jsonl + run.json)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="report directory (default: RUN_DIR/report for one run; required for several)")
    parser.add_argument("--cache", metavar="DIR", default=None,
                        help="keep rendered PDFs here, keyed by their figure, so unchanged figures are not rendered "
                             "again (default: the generation cache, $MUSEBENCH_CACHE or ~/.cache/musebench)")
    parser.add_argument("--no-cache", action="store_true", help="render every PDF; read and write no cache")


def run(args: argparse.Namespace) -> int:
    from musebench.errors import MusebenchError
    from musebench.results import load_run

    out = args.out
    if out is None:
        if len(args.run_dirs) > 1:
            raise MusebenchError("several RUN_DIRs need --out DIR (where the comparison report goes)")
        out = args.run_dirs[0] / "report"
    for run_dir in args.run_dirs:  # each run's files, before pandas, matplotlib and torch are imported
        load_run(run_dir)
    from musebench.report import build_report

    from musebench.cache.figures import FigureCache

    figure_cache = FigureCache(None)
    if not args.no_cache:
        from musebench.cache.location import resolve_cache_dir

        figure_cache = FigureCache.in_cache(resolve_cache_dir(args.cache))
    index = build_report(list(args.run_dirs), out, progress=True, figure_cache=figure_cache)
    print(index)
    return 0
