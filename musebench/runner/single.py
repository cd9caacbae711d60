"""`musebench generate` through the runner: one loaded model, one sweep point, a list of prompts.

It uses the run's plan (plan.image_seed: each image's seed from (seed, prompt, image index)), its cache
keys and its generation loop (runner/generate.py), so an image `generate` writes is byte-identical to
the one `musebench run` makes for the same (model, params, prompt, seed), and either command is served
from the other's cache. A prompt text that occurs k times in the file gets image indices 0..k-1, as a
run's plan does (plan.first_image_indices): repeated lines give distinct images, the same as a run's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from musebench.cache import ImageCache
from musebench.distributed import Shard
from musebench.models.base import ParamValue
from musebench.plan import Plan, Request, SweepPoint, first_image_indices, image_seed
from musebench.prompts.base import PromptRecord
from musebench.runner.generate import GenerationStats, generate_misses, request_key
from musebench.runner.models import LoadedModel


@dataclass(frozen=True)
class SingleOutcome:
    requests: tuple[Request, ...]  # one per prompt line, in file order
    files: tuple[Path, ...]  # each request's PNG in the cache
    stats: GenerationStats


def single_plan(model: str, records: list[PromptRecord], seed: int, params: dict[str, ParamValue]) -> Plan:
    """One point of `model` with `params`; request i is record i, its image index the number of
    earlier records with the same prompt text."""
    point = SweepPoint(model=model, index=0, params=dict(params))
    requests = [Request(point, record, pos, k, image_seed(seed, record.prompt, k))
                for pos, (record, k) in enumerate(zip(records, first_image_indices(records, 1)))]
    return Plan(points=(point,), requests=tuple(requests))


def generate_single(model: LoadedModel, plan: Plan, cache_dir: Path) -> SingleOutcome:
    """The plan's misses generated into the cache (claims shared with concurrent runs); every
    request's cached file."""
    cache = ImageCache(cache_dir)
    try:
        stats = generate_misses(cache, {model.spec.name: model}, plan, Shard(0, 1, False))
        point = plan.points[0]
        files = tuple(cache.path_for(request_key(model, point, r)) for r in plan.requests)
    finally:
        cache.close()
    return SingleOutcome(plan.requests, files, stats)
