"""`musebench validate SUITE...`: check suite files without generating anything."""

from __future__ import annotations

import sys

DESCRIPTION = """\
Check suite files: YAML syntax, unknown keys (with 'did you mean'), types, includes, ${VAR}
expansion, adapter and metric names, metric options, gates, and the prompt source (read, not
generated). --deep also runs everything `musebench run` checks before its first image: each model
(checkpoint, sampler params and their bounds, every sweep point), each metric (extractor weights,
reference folder or statistics, the prompts' scenes for the oracle) and free disk for the cache.
"""
EPILOG = """examples:
  musebench validate suites/*.yaml
  musebench validate suites/quickstart.yaml --set prompts.limit=8
  musebench validate suites/quickstart.yaml --deep      # also load weights, check sampler params

Each max_drop gate on an oracle/* accuracy prints the smallest drop it detects with 80 % power at
the suite's N (for its expected_rate); one that cannot detect its own max_drop is an error unless
the gate sets low_power_ok: true (docs/ci.md, "Power").

exit codes: 0 all valid, 2 some file is not (one line per bad file on stderr).
"""


def add_arguments(parser) -> None:
    parser.add_argument("suites", nargs="+", help="suite YAML files")
    parser.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                        help="override a suite value, as in `musebench run`")
    parser.add_argument("--deep", action="store_true",
                        help="also run `musebench run`'s preflight: load models and extractor weights, check references and free disk")
    parser.add_argument("--cache", metavar="DIR", help="with --deep: the cache whose disk is checked (as in `musebench run`)")


def _check(path: str, overrides: list[str], deep: bool, cache: str | None) -> str:
    from musebench.plan import build_plan
    from musebench.preflight import preflight
    from musebench.prompts.registry import load_prompts
    from musebench.suite import load_suite

    suite = load_suite(path, overrides)
    records = load_prompts(suite.prompts, suite.seed)
    powers = preflight(suite, len(records) * suite.prompts.images_per_prompt)
    if deep:  # exactly what `musebench run` checks before its first image, the cache's disk included
        from musebench.runner.early import check_before_torch

        check_before_torch(suite, records, suite.device, cache, None)
        from musebench.cache import resolve_cache_dir
        from musebench.runner.prepare import prepare_run

        plan = prepare_run(suite, records, None, resolve_cache_dir(cache)).plan
    else:
        plan = build_plan(suite, records)
    metrics = ", ".join(m.key for m in suite.metrics)
    return (f"ok  {path}: {len(suite.models)} models, {len(plan.points)} sweep points, {len(records)} prompts "
            f"x {suite.prompts.images_per_prompt} = {len(plan.requests)} images; metrics {metrics}; {len(suite.gates)} gates"
            + "".join(f"\n    power: {p.describe()}" + (" (low_power_ok)" if p.underpowered else "") for p in powers))


def run(args) -> int:
    from musebench.errors import MusebenchError

    bad = 0
    for path in args.suites:
        try:
            print(_check(path, args.overrides, args.deep, args.cache))
        except MusebenchError as exc:
            if len(args.suites) == 1:
                raise
            print(f"musebench: error: {exc}", file=sys.stderr)
            bad += 1
    return 2 if bad else 0
