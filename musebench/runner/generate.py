"""Generate the cache misses: per (model, sweep point), in batches, with a tqdm bar in images/s.

Only misses reach the model. A batch is written to the cache as soon as it is done, so a killed
run loses at most the batch in flight. Under sharding, each process takes a round-robin share of
each point's distinct keys (musebench.distributed).

Runs that share a cache divide the work (musebench.cache.claims): each batch is made of keys this
process could claim and that are still missing from the index; keys another live run holds are
skipped, and at the end this run waits for each of them (blocking on its claim, holding none of its
own, so no two runs wait on each other): it appears in the index, or its claimant died and this
run generates it. Every image is seeded on its own, so who generates it does not change it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from musebench.cache import ImageCache, ImageMeta, canonical_json, image_key
from musebench.cache.claims import Claim, claim, release, release_all
from musebench.distributed import Shard
from musebench.errors import MusebenchError
from musebench.plan import Plan, Request, SweepPoint, shard_of
from musebench.runner.models import LoadedModel


@dataclass
class GenerationStats:
    hits: int = 0
    misses: int = 0


@dataclass
class _Claimed:
    """One batch's claims: what to generate, what another run holds, what another run finished."""

    batch: list[tuple[Claim, Request]] = field(default_factory=list)
    skipped: list[tuple[str, Request]] = field(default_factory=list)  # claimed by another live run
    rest: list[tuple[str, Request]] = field(default_factory=list)  # not looked at yet
    done: int = 0  # claimed, but already in the index


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


def _generate_batch(cache: ImageCache, model: LoadedModel, params: dict, batch: list[tuple[Claim, Request]]) -> None:
    with torch.inference_mode():
        images = model.adapter.generate([r.record.prompt for _, r in batch], [r.seed for _, r in batch], params)
    images = _check_batch(model, images, len(batch))  # (B, 3, H, W) uint8
    meta_params = canonical_json(params)
    cache.put_many([
        (c.key, images[i], ImageMeta(model.spec.adapter, str(model.adapter.version), model.fingerprint,
                                     meta_params, r.record.prompt, r.seed, model.resolution))
        for i, (c, r) in enumerate(batch)
    ])


def _claim_batch(cache: ImageCache, pending: list[tuple[str, Request]], size: int, wait: bool) -> _Claimed:
    """Claim up to `size` keys of `pending`, in order, that are not in the index yet.

    With wait, the first claim blocks (this process holds none then); the others never block.
    """
    out, claimed = _Claimed(), []
    used = 0
    try:
        while used < len(pending) and len(out.batch) < size:
            chunk = pending[used : used + size - len(out.batch)]
            used += len(chunk)
            got = []
            for key, request in chunk:
                held = claim(cache.root, key, wait=wait and not out.batch and not got)
                if held is None:
                    out.skipped.append((key, request))
                else:
                    got.append((held, request))
                    claimed.append(held)
            present = cache.lookup([held.key for held, _ in got])
            for held, request in got:
                if held.key in present:  # another run generated it and released its claim
                    release(held)
                    out.done += 1
                else:
                    out.batch.append((held, request))
    except BaseException:  # an error or Ctrl-C between claiming and generating: free them now
        release_all(claimed)  # (releasing twice is a no-op)
        raise
    out.rest = pending[used:]
    return out


def _generate_point(cache: ImageCache, model: LoadedModel, point: SweepPoint, todo: list[tuple[str, Request]],
                    bar: tqdm, stats: GenerationStats, wait: bool) -> list[tuple[str, Request]]:
    """Generate the keys of `todo` this process can claim; returns those other runs hold (none if wait)."""
    params = model.full_params(point.params)
    pending, held_elsewhere = todo, []
    while pending:
        claimed = _claim_batch(cache, pending, model.batch_size, wait)
        try:
            if claimed.batch:
                _generate_batch(cache, model, params, claimed.batch)
        finally:  # after the index rows are in: a waiter then finds the images
            release_all([held for held, _ in claimed.batch])
        stats.misses += len(claimed.batch)
        stats.hits += claimed.done
        bar.update(len(claimed.batch) + claimed.done)
        if wait:
            pending = claimed.skipped + claimed.rest
        else:
            pending = claimed.rest
            held_elsewhere += claimed.skipped
    return held_elsewhere


def _misses(cache: ImageCache, models: dict[str, LoadedModel], plan: Plan, shard: Shard,
            stats: GenerationStats) -> list[tuple[LoadedModel, SweepPoint, list[tuple[str, Request]]]]:
    """Per cacheable sweep point, this shard's keys not in the cache, in plan order (hits counted)."""
    work = []
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
        if todo:
            work.append((model, point, todo))
    return work


def _bar(what: str, model: LoadedModel, point: SweepPoint, shard: Shard, total: int) -> tqdm:
    label = ",".join(f"{k}={v}" for k, v in point.params.items())
    rank = f" [{shard.index}/{shard.count}]" if shard.count > 1 else ""
    return tqdm(total=total, unit="img", desc=f"{what} {model.spec.name} {label}{rank}".rstrip(), leave=True)


def generate_misses(cache: ImageCache, models: dict[str, LoadedModel], plan: Plan, shard: Shard) -> GenerationStats:
    """hits: images found in the cache (at the start, or generated meanwhile by another run); misses:
    images this process generated."""
    stats = GenerationStats()
    waiting = []
    for model, point, todo in _misses(cache, models, plan, shard, stats):
        with _bar("generate", model, point, shard, len(todo)) as bar:
            elsewhere = _generate_point(cache, model, point, todo, bar, stats, wait=False)
        if elsewhere:
            waiting.append((model, point, elsewhere))
    for model, point, todo in waiting:  # other runs' claims: wait for them, take over a dead run's
        with _bar("another run generating", model, point, shard, len(todo)) as bar:
            _generate_point(cache, model, point, todo, bar, stats, wait=True)
    return stats
