"""Everything a run will need, checked before its first image: models, sweep points, metrics, disk.

`prepare_run` loads each model (weights open with their expected shapes, sampler params typed and
inside their bounds), builds the plan and checks every sweep point through its adapter, builds every
metric and calls its preflight (extractor weights, reference folder or statistics, the prompts'
scenes for the oracle), and checks that the cache's disk can hold the planned new images. It keeps
going after a problem and reports all of them at once (musebench.preflight.combine), so a user fixes
a suite in one round. `musebench run` and `validate --deep` both call it; nothing here writes a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from musebench.errors import MusebenchError
from musebench.metrics.registry import preflight_metric
from musebench.plan import Plan, build_plan
from musebench.preflight import check_disk, combine, problems_of
from musebench.prompts.base import PromptRecord
from musebench.runner.evaluate import BuiltMetric, build_metrics
from musebench.runner.generate import request_key
from musebench.runner.models import LoadedModel, canonical_params, check_points, load_models
from musebench.suite import Suite


@dataclass(frozen=True)
class Prepared:
    models: dict[str, LoadedModel]
    plan: Plan
    metrics: list[BuiltMetric]


class _Problems:
    def __init__(self) -> None:
        self.found: list[str] = []

    def attempt(self, step: Callable, *args):
        """step(*args), or None with its one-line error kept."""
        try:
            return step(*args)
        except MusebenchError as exc:
            self.found += problems_of(exc)
            return None


def _cached_keys(cache_dir: Path, keys: list[str]) -> set[str]:
    """The cache's own lookup on an existing cache, opened without creating anything (none yet: no keys)."""
    from musebench.cache import ImageCache
    from musebench.cache.location import INDEX_NAME

    if not (Path(cache_dir) / INDEX_NAME).is_file():
        return set()
    try:
        cache = ImageCache(Path(cache_dir), create=False)
    except MusebenchError:  # unreadable here: count everything as new (the run reports the cache itself)
        return set()
    try:
        return cache.lookup(keys)
    finally:
        cache.close()


def new_image_sides(models: dict[str, LoadedModel], plan: Plan, cache_dir: Path) -> list[int]:
    """The side of each planned image the cache does not hold yet."""
    keys: dict[str, int] = {}
    for point in plan.points:
        model = models[point.model]
        if model.cacheable:
            keys.update((request_key(model, point, r), model.resolution) for r in plan.for_point(point))
    present = _cached_keys(cache_dir, list(keys))
    return [side for key, side in keys.items() if key not in present]


def prepare_run(suite: Suite, records: list[PromptRecord], device: str | None, cache_dir: Path | None,
                with_metrics: bool = True) -> Prepared:
    """Load, plan and check everything; MusebenchError listing every problem found."""
    problems = _Problems()
    models = problems.attempt(load_models, suite, records, device)
    plan = None
    if models is not None:
        plan = problems.attempt(build_plan, suite, records, canonical_params(models))
        if plan is not None:
            problems.attempt(check_points, models, plan.points)
    metrics = problems.attempt(build_metrics, suite) if with_metrics else []
    for built in metrics or []:
        problems.attempt(preflight_metric, built.spec, built.metric, tuple(records))
    if models is not None and plan is not None and cache_dir is not None and not problems.found:
        problems.attempt(check_disk, cache_dir, new_image_sides(models, plan, cache_dir))
    if problems.found:
        raise combine(problems.found)
    return Prepared(models=models, plan=plan, metrics=metrics)

