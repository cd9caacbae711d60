"""`musebench run SUITE`: generate what is not cached, compute the metrics, write the results."""

from __future__ import annotations

DESCRIPTION = """\
Run a suite: plan one image per (model, sweep point, prompt, image index), generate only the
cache misses, compute the suite's metrics and write RUN_DIR/results.jsonl and RUN_DIR/run.json.
Ends with the path of the run's report (or of the run directory).
"""
EPILOG = """examples:
  musebench run suites/quickstart.yaml --out runs/quickstart
  musebench run suites/quickstart.yaml --limit 8 --set seed=1 --set models.muse.params.guidance=3
  musebench run suites/quickstart.yaml --cache /data/musebench-cache      # or MUSEBENCH_CACHE=...
  musebench run suites/quickstart.yaml --no-report                        # results only (scripts, CI)
  musebench run suites/coco_fid.yaml --shard 0/2 & musebench run suites/coco_fid.yaml --shard 1/2
  musebench run suites/coco_fid.yaml                                       # then: metrics, all hits
  torchrun --nproc_per_node 4 -m musebench run suites/coco_fid.yaml        # rank 0 computes metrics

--set takes a dotted path through the suite (models and metrics by name, gates by index) and a
value typed by the suite's schema: prompts.limit=8, models.muse.sweep.grid.steps=[4,8],
metrics.fid.extractor=probe, gates.0.min=0.7. See docs/suites.md.
exit codes: 0 ok, 2 bad input (one line on stderr, nothing written).
"""


def add_arguments(parser) -> None:
    parser.add_argument("suite", help="the suite YAML file")
    parser.add_argument("--out", metavar="DIR", help="run directory (default runs/<suite name>)")
    parser.add_argument("--cache", metavar="DIR", help="generation cache (default $MUSEBENCH_CACHE, else ~/.cache/musebench)")
    parser.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                        help="override a suite value (repeatable)")
    parser.add_argument("--limit", type=int, metavar="N", help="use the first N prompts (same as --set prompts.limit=N)")
    parser.add_argument("--shard", metavar="I/N", help="generate only share I of N (0-based) into the cache; no metrics")
    parser.add_argument("--no-report", action="store_true", help="do not build the report; print the run directory")
    parser.add_argument("--recompute", action="store_true",
                        help="recompute every metric (and re-time latency) even when an identical run's results are in the cache")


def _report_path(out_dir, cache_flag):
    """The report module's page if that module is installed, else the run directory."""
    try:
        from musebench.report import build_report
    except ImportError:
        return out_dir
    from musebench.cache.figures import FigureCache
    from musebench.cache.location import resolve_cache_dir

    built = build_report([out_dir], out_dir / "report", figure_cache=FigureCache.in_cache(resolve_cache_dir(cache_flag)))
    return built if built is not None else out_dir / "report"


def run(args) -> int:
    from musebench.runner import RunOptions, run_suite

    outcome = run_suite(RunOptions(
        suite_path=args.suite, out=args.out, cache=args.cache, overrides=tuple(args.overrides),
        limit=args.limit, shard=args.shard, recompute=args.recompute,
    ))
    if outcome.out_dir is None:  # a --shard process or a non-zero torchrun rank
        hint = "; run again without --shard to compute the metrics" if args.shard else ""
        print(f"generated {outcome.misses} images ({outcome.hits} already cached){hint}")
        return 0
    if outcome.memo:
        print(f"{len(outcome.rows)} results from an identical earlier run (the cache's run memo; --recompute to recompute)")
    else:
        print(f"{len(outcome.rows)} results, cache {outcome.hits} hits / {outcome.misses} misses")
    print(outcome.out_dir if args.no_report else _report_path(outcome.out_dir, args.cache))
    return 0
