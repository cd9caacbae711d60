"""The runner's side of the run memo (cache/run_memo.py): this run's key, and a hit served as a run.

A hit restores the memo's result files into --out and writes a run.json that is the memo's, with
this invocation's provenance (argv, times, cache) and `"memo"`: the key and when the results were
made. Nothing here imports torch: a fully cached run loads no model and no metric.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from musebench.cache.run_memo import lookup, memo_key, restore
from musebench.errors import MusebenchError
from musebench.results.provenance import portable_path
from musebench.results.run_dir import RESULTS_FILE, prepare_out_dir, write_run_json
from musebench.suite import Suite, suite_to_dict


def run_key(suite: Suite, records: list, device: str, quick_look: bool) -> str:
    """The memo key of a run of `suite` on `records`: every checkpoint folder a model names and
    every path its config.json names count with the suite's own paths."""
    extra = []
    for spec in suite.models:
        config = Path(spec.checkpoint).expanduser() / "config.json" if spec.checkpoint else None
        if config is not None and config.is_file():
            try:
                extra.append(json.loads(config.read_text()))
            except (OSError, ValueError):
                pass
    return memo_key({"suite": suite_to_dict(suite), "checkpoint_configs": extra}, records, device, quick_look)


@dataclass(frozen=True)
class Memo:
    key: str  # this run's memo key (cache/run_memo.py)
    hit: Path | None  # the memo folder holding this run's results; None: compute them


def find(suite: Suite, records: list, device: str, quick_look: bool, cache_flag: str | None) -> Memo | None:
    """This run's memo; None when the run cannot be keyed here (e.g. a bad --cache), which the normal
    path then reports in its own words."""
    from musebench.cache.location import resolve_cache_dir

    try:
        key = run_key(suite, records, device, quick_look)
        return Memo(key, lookup(resolve_cache_dir(cache_flag), key))
    except (MusebenchError, OSError):
        return None


def serve(memo: Path, key: str, out_path: Path, provenance: dict) -> tuple[Path, int, list[dict]]:
    """The memo restored into --out; (run dir, images the run used, results lines)."""
    out_dir = prepare_out_dir(out_path)
    made = restore(memo, out_dir)
    images = int(made.get("cache", {}).get("hits", 0)) + int(made.get("cache", {}).get("misses", 0))
    info = {**made, **provenance,
            "cache": {**made.get("cache", {}), "hits": images, "misses": 0, "dir": portable_path(memo.parent.parent)},
            "memo": {"key": key, "results_made": made.get("finished"), "timings_made": made.get("timings")}}
    info.pop("results_schema", None)  # write_run_json writes the current one
    write_run_json(out_dir, info)
    rows = [json.loads(line) for line in (out_dir / RESULTS_FILE).read_text().splitlines() if line.strip()]
    return out_dir, images, rows


def image_keys(models: dict, plan) -> list[str]:
    """The image cache keys of every generated image a run's results read (runner.generate.request_key)."""
    from musebench.runner.generate import request_key

    return [request_key(models[p.model], p, r) for p in plan.points if models[p.model].cacheable for r in plan.for_point(p)]
