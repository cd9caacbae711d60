"""`musebench run`: suite -> plan -> generate misses -> metrics -> results.jsonl + run.json.

Everything that can be wrong with the input is checked before the first image is generated:
the suite (keys, types, names), the prompts, each adapter (checkpoint, sampler params), each
metric's options, the output directory and the cache. A bad suite therefore writes nothing.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from musebench import distributed
from musebench.errors import MusebenchError
from musebench.preflight import preflight
from musebench.prompts.registry import load_prompts
from musebench.results.provenance import code_state, portable_argv, portable_path
from musebench.runner.early import check_before_torch
from musebench.runner.memo import find as memo_find
from musebench.runner.memo import image_keys
from musebench.runner.memo import serve as memo_serve
from musebench.suite import load_suite, suite_hash, suite_to_dict


@dataclass(frozen=True)
class RunOptions:
    suite_path: str
    out: str | None = None  # default runs/<suite name>
    cache: str | None = None  # --cache; else $MUSEBENCH_CACHE; else ~/.cache/musebench
    overrides: tuple[str, ...] = ()  # --set key=value
    limit: int | None = None  # --limit N: prompts.limit
    shard: str | None = None  # --shard I/N
    recompute: bool = False  # --recompute: ignore the run memo (cache/run_memo.py) and refresh it


@dataclass
class RunOutcome:
    out_dir: Path | None  # None: this process only generated (a shard / a non-zero rank)
    hits: int = 0
    misses: int = 0
    rows: list[dict] = field(default_factory=list)  # results.jsonl lines
    memo: bool = False  # served from the run memo: nothing generated or computed


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class _Clock:
    def __init__(self):
        self.timings: dict[str, float] = {}
        self._start = self._origin = time.perf_counter()

    def total(self) -> None:
        self.timings["total"] = round(time.perf_counter() - self._origin, 4)

    def elapsed(self) -> float:
        return round(time.perf_counter() - self._origin, 4)

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self._start, 4)
        self._start = now


def model_info(models: dict) -> dict:
    """What each model was, exactly: adapter + version, the checkpoint as given and as resolved, its
    fingerprint (the hash of weights, config and adapter version that keys its cache entries) and the
    sampler defaults every sweep point starts from, and the native scale its `guidance` runs on
    (models/guidance.py). Two runs with equal fingerprints ran the same model."""
    info = {}
    for name, model in models.items():
        directory = getattr(model.adapter, "directory", None)
        info[name] = {"adapter": model.spec.adapter, "adapter_version": getattr(model.adapter, "version", None),
                      "checkpoint": model.spec.checkpoint,
                      "checkpoint_dir": portable_path(directory) if directory is not None else None,
                      "fingerprint": model.fingerprint, "resolution": model.resolution, "defaults": dict(model.defaults)}
        if model.declared.guidance is not None:
            info[name]["guidance"] = model.declared.guidance.info()
    return info


def run_suite(options: RunOptions) -> RunOutcome:
    shard = distributed.resolve_shard(options.shard)
    started, clock = _now(), _Clock()
    commit, dirty = code_state()  # now: a checkout edited while the run works must not be credited to it
    suite = load_suite(options.suite_path, options.overrides, options.limit)
    records = load_prompts(suite.prompts, suite.seed)
    quick_look = options.limit is not None
    device = distributed.rank_device(suite.device, shard)
    # a whole run whose every input is unchanged: its results come from the run memo (cache/run_memo.py)
    memo = memo_find(suite, records, device, quick_look, options.cache) if shard.count == 1 else None
    served = memo is not None and memo.hit is not None and not options.recompute
    if not served:
        # before any model, image or directory; --limit is a quick look: gate power is not enforced there
        preflight(suite, len(records) * suite.prompts.images_per_prompt, quick_look=quick_look)
    out_path = (Path(options.out) if options.out else Path("runs") / suite.name) if shard.computes_metrics else None
    # device, --out, --cache and what models and metrics can tell from their files, torch-free
    check_before_torch(suite, records, device, options.cache, out_path)
    clock.lap("load_suite_and_prompts")
    if served:
        provenance = {"suite_path": portable_path(options.suite_path), "started": started, "finished": _now(),
                      "argv": portable_argv(sys.argv), "timings": {**clock.timings, "total": clock.elapsed()}}
        out_dir, images, rows = memo_serve(memo.hit, memo.key, out_path, provenance)
        return RunOutcome(out_dir=out_dir, hits=images, misses=0, rows=rows, memo=True)
    # torch and the models only now: a bad suite or prompt file is refused without their import time
    # and memory (~0.5 GB resident for this torch build)
    from musebench.cache import ImageCache, resolve_cache_dir
    from musebench.cache.run_memo import store as memo_store
    from musebench.results import results_line, write_run
    from musebench.runner.evaluate import evaluate
    from musebench.runner.generate import generate_misses
    from musebench.runner.prepare import prepare_run
    from musebench.results.run_dir import prepare_out_dir
    from musebench.results.provenance import versions
    from musebench.runner.results import device_info, grid_images

    cache_dir = resolve_cache_dir(options.cache)
    # every model, sweep point, metric (weights, references) and the disk, all problems at once
    prepared = prepare_run(suite, records, device, cache_dir, with_metrics=shard.computes_metrics)
    models, plan, metrics = prepared.models, prepared.plan, prepared.metrics
    clock.lap("load_models_and_metrics")
    out_dir = None
    if shard.computes_metrics:
        out_dir = prepare_out_dir(out_path)
    cache = ImageCache(cache_dir)
    distributed.init(shard)
    try:
        stats, failed = None, True
        try:
            stats = generate_misses(cache, models, plan, shard)
            failed = False
        finally:  # the barrier: every rank reports, so none waits forever on a failed one
            any_failed, hits, misses = distributed.gather_counts(
                shard, failed, stats.hits if stats else 0, stats.misses if stats else 0)
        if any_failed:
            raise MusebenchError(f"another rank of this {shard.count}-process run failed while generating; see its error")
        clock.lap("generate")
        if not shard.computes_metrics:  # this process's own share
            return RunOutcome(out_dir=None, hits=stats.hits, misses=stats.misses)
        rows = evaluate(suite, plan, models, metrics, cache, clock.timings)
        clock.lap("metrics")
        clock.total()
        run_info = {
            "suite_name": suite.name,
            "suite_path": portable_path(options.suite_path),
            "suite_hash": suite_hash(suite),
            "suite": suite_to_dict(suite),
            "git_commit": commit,
            "git_dirty": dirty,
            "versions": versions(),
            "device": device_info(device),
            "models": model_info(models),
            "timings": clock.timings,
            "cache": {"hits": hits, "misses": misses, "dir": portable_path(cache.root)},
            "shards": shard.count,
            "started": started,
            "finished": _now(),
            "argv": portable_argv(sys.argv),
            "images": grid_images(suite, plan, models, cache, out_dir),
        }
        write_run(out_dir, rows, run_info)
        if memo is not None:  # the next identical run is served from these files
            memo_store(cache_dir, memo.key, out_dir, image_keys(models, plan), replace=options.recompute)
        return RunOutcome(out_dir=out_dir, hits=hits, misses=misses, rows=[results_line(r) for r in rows])
    finally:
        cache.close()
        distributed.finish(shard)
