"""Compute the suite's metrics for every (model, sweep point), from the cache (or the records).

Each metric gets an EvalContext with the point's images (uint8 (N, 3, H, W), prompt-major:
prompt 0 image 0..k-1, prompt 1 ...), the matching prompt records and per-item keys
("<prompt index>/<seed>"), the cache's features dir, the adapter (for latency), the full sampler
params and the suite seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from musebench.cache import ImageCache
from musebench.errors import MusebenchError
from musebench.metrics.base import EvalContext, MetricValue
from musebench.metrics.registry import build_metric
from musebench.plan import Plan, SweepPoint
from musebench.results import ResultRow, item_key
from musebench.results.items import check_items
from musebench.runner.generate import request_key
from musebench.runner.models import LoadedModel
from musebench.suite import MetricSpec, Suite


@dataclass(frozen=True)
class BuiltMetric:
    spec: MetricSpec
    metric: object  # musebench.metrics.base.Metric


def build_metrics(suite: Suite) -> list[BuiltMetric]:
    """Every metric built before generation starts, so a bad option fails before any work."""
    return [BuiltMetric(spec, build_metric(spec)) for spec in suite.metrics]


def point_images(cache: ImageCache, model: LoadedModel, point: SweepPoint, plan: Plan) -> torch.Tensor:
    requests = plan.for_point(point)
    if not model.cacheable:
        return model.adapter.images_for_records([r.record for r in requests], model.full_params(point.params))
    return torch.stack([cache.load(request_key(model, point, r)) for r in requests])  # (N, 3, H, W)


def row(suite: Suite, point: SweepPoint, value: MetricValue) -> ResultRow:
    """One results.jsonl row with its per-item outcomes (docs/results.md)."""
    return ResultRow(
        suite=suite.name,
        model=point.model,
        params=dict(point.params),
        metric=value.metric,
        value=float(value.value),
        n=int(value.n),
        ci95=(float(value.ci95[0]), float(value.ci95[1])) if value.ci95 is not None else None,
        higher_is_better=bool(value.higher_is_better),
        extra=dict(value.extra),
        items=check_items(value.items, f"metric {value.metric}") if value.items is not None else None,
        arrays=value.arrays,  # saved by write_run under RUN_DIR/features/
    )


def is_timed(built: BuiltMetric) -> bool:
    """Timed metrics (latency) measure the adapter, not the images: see evaluate()."""
    return bool(getattr(built.metric, "timed", False))


def evaluate(suite: Suite, plan: Plan, models: dict[str, LoadedModel], metrics: list[BuiltMetric],
             cache: ImageCache, timings: dict[str, float]) -> list[ResultRow]:
    """Rows in (point, metric) order. Image metrics run first, for every point; timed metrics run
    after them, back to back, so the clock never runs between two image metrics' allocations and
    every point's timing sees the same warmed-up process. A timed metric gets the point's prompts,
    params and adapter, and no images (an empty (0, 3, H, W))."""
    untimed = [b for b in metrics if not is_timed(b)]
    timed = [b for b in metrics if is_timed(b)]
    by_point: list[dict[str, list[ResultRow]]] = [{} for _ in plan.points]  # per point: metric key -> rows
    loaded = {str(Path(m.adapter.directory).resolve()): m.adapter  # for latency's reference_model
              for m in models.values() if getattr(m.adapter, "directory", None) is not None}

    def run(built: BuiltMetric, ctx: EvalContext, point: SweepPoint) -> list[ResultRow]:
        start = time.perf_counter()
        values = built.metric.compute(ctx)
        key = f"metric/{built.spec.key}"
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - start
        return [row(suite, point, v) for v in values]

    def context(point: SweepPoint, images: torch.Tensor) -> EvalContext:
        model, requests = models[point.model], plan.for_point(point)
        return EvalContext(images=images, prompts=tuple(r.record for r in requests),
                           feature_cache_dir=cache.features_dir, adapter=model.adapter,
                           params=model.full_params(point.params), seed=suite.seed,
                           item_keys=tuple(item_key(r.record.index, r.seed) for r in requests), loaded=loaded)

    if untimed:
        for i, point in enumerate(tqdm(plan.points, unit="point", desc="metrics")):
            ctx = context(point, point_images(cache, models[point.model], point, plan))
            by_point[i].update({b.spec.key: run(b, ctx, point) for b in untimed})
    if timed:
        for i, point in enumerate(tqdm(plan.points, unit="point", desc="timing")):
            res = models[point.model].resolution
            ctx = context(point, torch.empty((0, 3, res, res), dtype=torch.uint8))
            by_point[i].update({b.spec.key: run(b, ctx, point) for b in timed})
    return [r for rows in by_point for b in metrics for r in rows[b.spec.key]]
