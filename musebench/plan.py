"""Suite + prompts -> sweep points and one request per (model, sweep point, prompt, image index).

Each image's seed derives from (suite seed, prompt text, image index) only: the same prompt gets
the same seeds in every model, sweep point, batch, shard and run, so images are comparable across
models and resumable from the cache (lm-evaluation-harness groups requests the same way; seeding per
image rather than per batch follows diffusers' `generator=[torch.Generator().manual_seed(s) ...]`).

A prompt text that occurs again in the list is a new draw, not a copy: its r-th repeat (r = 0 for the
first) takes image indices r*K .. r*K+K-1 (K = images_per_prompt), as `musebench generate` does for a
repeated line. The shapes val split repeats captions (10,000 prompts hold 3,680 texts): with one seed
per text, a set of N images held about a third as many distinct images, so per-image intervals were
too narrow and set metrics (FID, PRDC, Vendi) saw exact duplicates that the real renders never have.
Prompts that occur once keep the seeds they always had.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from musebench.models.base import ParamValue
from musebench.prompts.base import PromptRecord
from musebench.suite import Suite, sweep_points

SEED_MASK = (1 << 63) - 1  # torch.Generator.manual_seed takes a signed 64-bit int


def image_seed(suite_seed: int, prompt: str, image_index: int) -> int:
    """First 8 bytes of sha256(suite seed, prompt, image index), masked to 63 bits."""
    text = f"{suite_seed}\x00{prompt}\x00{image_index}".encode("utf-8")
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") & SEED_MASK


def first_image_indices(records: list[PromptRecord], k: int) -> list[int]:
    """Per record, the image index its first image takes: r * k for the r-th repeat of its prompt text."""
    seen: dict[str, int] = {}
    out = []
    for rec in records:
        r = seen.get(rec.prompt, 0)
        seen[rec.prompt] = r + 1
        out.append(r * k)
    return out


@dataclass(frozen=True)
class SweepPoint:
    model: str  # the suite's model name
    index: int  # position among this model's points
    params: dict[str, ParamValue]  # fixed + swept params, as the suite gives them


@dataclass(frozen=True)
class Request:
    """One image: a point of one model, a prompt and an image index (0..images_per_prompt-1)."""

    point: SweepPoint
    record: PromptRecord
    prompt_pos: int  # position in the suite's prompt list
    image_index: int
    seed: int


@dataclass(frozen=True)
class Plan:
    points: tuple[SweepPoint, ...]
    requests: tuple[Request, ...]  # grouped by point, then prompt, then image index

    def for_point(self, point: SweepPoint) -> list[Request]:
        return [r for r in self.requests if r.point is point]


def build_plan(suite: Suite, records: list[PromptRecord], canonical: Callable[[str, dict], dict] | None = None) -> Plan:
    """`canonical(model, params)` types the params by the adapter's defaults (runner.models)."""
    k = suite.prompts.images_per_prompt
    seeds = [[image_seed(suite.seed, rec.prompt, first + i) for i in range(k)]
             for rec, first in zip(records, first_image_indices(records, k))]
    points, requests = [], []
    for model in suite.models:
        for index, params in enumerate(sweep_points(model)):
            params = canonical(model.name, params) if canonical is not None else params
            point = SweepPoint(model=model.name, index=index, params=params)
            points.append(point)
            requests += [
                Request(point, rec, pos, i, seeds[pos][i]) for pos, rec in enumerate(records) for i in range(k)
            ]
    return Plan(points=tuple(points), requests=tuple(requests))


def shard_of(items: list, index: int, count: int) -> list:
    """Round-robin share `index` of `count` (0-based): every item in exactly one share."""
    return items[index::count]
