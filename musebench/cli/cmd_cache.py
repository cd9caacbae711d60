"""`musebench cache stats|verify|prune`: inspect and maintain the generation cache."""

from __future__ import annotations

import json
import math

DESCRIPTION = """\
Inspect the generation cache (--cache DIR, else $MUSEBENCH_CACHE, else ~/.cache/musebench).
stats: entries and bytes per model; verify: re-read every entry (size, sha256, PNG, resolution)
and list interrupted writes; prune: remove bad entries, orphans, stale temp files and claim files
left by killed runs, and
optionally old entries, all entries or the features (under features/: metric features, reference
statistics, oracle verdicts, CLIP-score cosines, describe() results and the rendered report figures).
A directory without a cache index is an error (exit 2): these commands never create a cache.
"""
EPILOG = """examples:
  musebench cache stats
  musebench cache verify --cache /tmp/cache        # exit 1 if an entry is bad
  musebench cache prune                            # bad entries, orphans, stale temp files
  musebench cache prune --older-than 30            # also entries created over 30 days ago
  musebench cache prune --all --features           # empty it
"""


def add_arguments(parser) -> None:
    parser.add_argument("action", choices=("stats", "verify", "prune"))
    parser.add_argument("--cache", metavar="DIR", help="cache directory")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--older-than", type=float, metavar="DAYS", help="prune: entries older than DAYS")
    parser.add_argument("--all", action="store_true", help="prune: every image entry")
    parser.add_argument("--features", action="store_true", help="prune: the cached metric features too")


def _print(data: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if isinstance(value, list):
            print(f"{key}:")
            for item in value:
                print(f"  {item}")
        else:
            print(f"{key}: {value}")


def _check_flags(args) -> None:
    """Prune's options are for prune; a negative or NaN age would remove everything, or nothing."""
    from musebench.errors import MusebenchError

    given = [flag for flag, on in (("--older-than", args.older_than is not None), ("--all", args.all),
                                   ("--features", args.features)) if on]
    if args.action != "prune" and given:
        raise MusebenchError(f"{given[0]}: only `musebench cache prune` takes it, not `cache {args.action}`; drop it")
    if args.older_than is not None and not (math.isfinite(args.older_than) and args.older_than >= 0):
        raise MusebenchError(f"--older-than {args.older_than}: expected a finite number of days >= 0, e.g. --older-than 30")


def run(args) -> int:
    from musebench.cache.location import existing_cache_dir

    _check_flags(args)
    root = existing_cache_dir(args.cache)  # finds a cache, never makes one; before torch is imported
    from tqdm import tqdm

    from musebench.cache import ImageCache, maintenance

    cache = ImageCache(root, create=False)
    try:
        if args.action == "stats":
            _print(maintenance.stats(cache), args.json)
            return 0
        if args.action == "prune":
            _print({"removed": maintenance.prune(cache, args.older_than, args.all, args.features)}, args.json)
            return 0
        report = maintenance.verify(cache, progress=lambda rows: tqdm(rows, unit="entry", desc="verify"))
        _print({
            "entries": report.entries,
            "bad": report.bad,
            "orphans (complete files without an index row)": len(report.orphans),
            "temp files (interrupted writes, not entries)": len(report.temps),
            "status": "ok" if not report.bad else "BAD: run `musebench cache prune`",
        }, args.json)
        return 1 if report.bad else 0
    finally:
        cache.close()
