"""Generate the cache misses: per (model, sweep point), in batches, with a tqdm bar in images/s.

Only misses reach the model. A batch is written to the cache as soon as it is done, so a killed
run loses at most the batch in flight. Under sharding, each process takes a round-robin share of
each point's distinct keys (musebench.distributed).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tqdm import tqdm

from musebench.cache import ImageCache, ImageMeta, canonical_json, image_key
from musebench.distributed import Shard
from musebench.errors import MusebenchError
from musebench.plan import Plan, Request, SweepPoint, shard_of
from musebench.runner.models import LoadedModel


@dataclass
class GenerationStats:
    hits: int = 0
    misses: int = 0


def request_key(model: LoadedModel, point: SweepPoint, request: Request) -> str:
    return image_key(
        model.fingerprint, model.spec.adapter, str(model.adapter.version), model.full_params(point.params),
        request.record.prompt, request.seed, model.resolution,
    )


def _distinct(model: LoadedModel, point: SweepPoint, requests: list[Request]) -> dict[str, Request]:
    """key -> first request with it (the same prompt twice has the same seeds: one image)."""
    out: dict[str, Request] = {}
    for request in requests:
        out.setdefault(request_key(model, point, request), request)
    return out


def _check_batch(model: LoadedModel, images: object, n: int) -> torch.Tensor:
    expected = (n, 3, model.resolution, model.resolution)
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or tuple(images.shape) != expected:
        got = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise MusebenchError(f"adapter {model.spec.adapter}: generate() must return uint8 {expected}, got {got}; fix the adapter")
    return images.cpu()


def _generate_point(cache: ImageCache, model: LoadedModel, point: SweepPoint, todo: list[tuple[str, Request]], bar: tqdm) -> None:
    params = model.full_params(point.params)
    meta_params = canonical_json(params)
    for start in range(0, len(todo), model.batch_size):
        batch = todo[start : start + model.batch_size]
        with torch.inference_mode():
            images = model.adapter.generate([r.record.prompt for _, r in batch], [r.seed for _, r in batch], params)
        images = _check_batch(model, images, len(batch))  # (B, 3, H, W) uint8
        cache.put_many([
            (key, images[i], ImageMeta(model.spec.adapter, str(model.adapter.version), model.fingerprint,
                                       meta_params, r.record.prompt, r.seed, model.resolution))
            for i, (key, r) in enumerate(batch)
        ])
        bar.update(len(batch))


def generate_misses(cache: ImageCache, models: dict[str, LoadedModel], plan: Plan, shard: Shard) -> GenerationStats:
    stats = GenerationStats()
    work: list[tuple[LoadedModel, SweepPoint, list[tuple[str, Request]]]] = []
    for point in plan.points:
        model = models[point.model]
        if not model.cacheable:
            continue
        distinct = _distinct(model, point, plan.for_point(point))
        mine = shard_of(sorted(distinct), shard.index, shard.count)
        present = cache.lookup(mine)
        stats.hits += len(present)
        todo = [(key, distinct[key]) for key in mine if key not in present]
        todo.sort(key=lambda item: (item[1].prompt_pos, item[1].image_index))  # plan order
        stats.misses += len(todo)
        if todo:
            work.append((model, point, todo))
    rank = f" [{shard.index}/{shard.count}]" if shard.count > 1 else ""
    for model, point, todo in work:
        label = ",".join(f"{k}={v}" for k, v in point.params.items())
        with tqdm(total=len(todo), unit="img", desc=f"generate {model.spec.name} {label}{rank}".rstrip(), leave=True) as bar:
            _generate_point(cache, model, point, todo, bar)
    return stats
